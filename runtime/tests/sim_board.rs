//! Boards: the built-in ones build, and every malformed board is refused
//! with the file, line and column of the entry at fault and what was
//! expected there.

use memlua_runtime::sim::board::{Board, BUILTIN};
use memlua_runtime::sim::space::HolePolicy;
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno, Space, Width};

const HEAD: &str = r#"name = "t"
maxphyaddr = 36

[[ram]]
base = 0x0
size = 0x10000000
"#;

fn refuse(extra: &str) -> String {
    let text = format!("{HEAD}{extra}");
    let e = Board::parse(&text, "bad.toml").expect_err("board should be refused");
    e.to_string()
}

#[test]
fn built_in_boards_build() {
    for (name, _) in BUILTIN {
        let s = Sim::from_board_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.board(), Some(name));
    }
}

/// The q35 board answers what QEMU's q35 answers (tests/qemu.rs reads the
/// same addresses from QEMU itself).
#[test]
fn q35_board_has_qemus_reset_vector_and_hpet() {
    let mut s = Sim::from_board_name("q35").unwrap();
    let mut top = [0u8; 16];
    s.read_bytes(Space::Phys, 0xffff0, &mut top).unwrap();
    assert_eq!(top, *b"\xea\x5b\xe0\x00\xf006/23/99\x00\xfc\x00");
    let mut high = [0u8; 16];
    s.read_bytes(Space::Phys, 0xfffffff0, &mut high).unwrap();
    assert_eq!(
        high, top,
        "the BIOS at 0xe0000 is the top of the one below 4 GiB"
    );
    assert_eq!(
        s.read(Space::Phys, 0xfed00000, Width::W32).unwrap(),
        0x8086a201
    );
    assert_eq!(
        s.read(Space::Phys, 0xfed00004, Width::W32).unwrap(),
        0x00989680
    );
    // The counter stands until enabled, then follows the clock: 10 ns a tick.
    assert_eq!(s.read(Space::Phys, 0xfed000f0, Width::W64).unwrap(), 0);
    s.write(Space::Phys, 0xfed00010, Width::W32, 1).unwrap();
    let c0 = s.read(Space::Phys, 0xfed000f0, Width::W64).unwrap();
    s.advance(1_000_000);
    let c1 = s.read(Space::Phys, 0xfed000f0, Width::W64).unwrap();
    assert!((100_000..100_100).contains(&(c1 - c0)), "{c0} {c1}");
    assert_eq!(
        s.read(Space::Phys, 0x7ffffffc, Width::W32).unwrap(),
        0,
        "RAM to 2 GiB"
    );
    assert_eq!(
        s.read(Space::Phys, 0xfed00000, Width::W8)
            .unwrap_err()
            .errno,
        Errno::EINVAL,
        "the HPET takes 32- and 64-bit accesses only"
    );
}

#[test]
fn pc_board_is_as_documented() {
    let b = Board::load("pc").unwrap();
    assert_eq!(b.maxphyaddr, 39);
    assert_eq!(b.holes, HolePolicy::Ones);
    let map: Vec<(&str, u64, u64)> = b
        .regions
        .iter()
        .map(|r| (r.name.as_str(), r.base, r.base + r.size - 1))
        .collect();
    assert_eq!(
        map,
        vec![
            ("lowmem", 0x0, 0x9FFFF),
            ("vga", 0xA0000, 0xBFFFF),
            ("option-rom", 0xC0000, 0xC7FFF),
            ("bios", 0xF0000, 0xFFFFF),
            ("ram-below-4g", 0x100000, 0x7FFFFFFF),
            ("uart0", 0xFE000000, 0xFE000FFF),
            ("timer0", 0xFE001000, 0xFE001FFF),
            ("dma0", 0xFE002000, 0xFE002FFF),
            ("scratch0", 0xFE003000, 0xFE003FFF),
            ("ram-above-4g", 0x100000000, 0x27FFFFFFF),
        ]
    );
}

#[test]
fn example_board_is_the_built_in_pc() {
    let example = Board::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/boards/pc.toml"
    ))
    .unwrap();
    assert_eq!(example, Board::load("pc").unwrap());
}

#[test]
fn memrange_support_follows_the_board() {
    let mut pc = Sim::from_board_name("pc").unwrap();
    assert_eq!(pc.range_count().unwrap(), 96);
    let mut nomtrr = Sim::from_board_name("pc-nomtrr").unwrap();
    assert_eq!(nomtrr.range_count().unwrap_err().errno, Errno::ENXIO);
    assert_eq!(nomtrr.ranges().unwrap_err().errno, Errno::ENXIO);
    let mut arm = Sim::from_board_name("arm64-virt").unwrap();
    assert_eq!(arm.range_count().unwrap_err().errno, Errno::EOPNOTSUPP);
    assert_eq!(
        arm.claim(0, 0x1000, "x", None).unwrap_err().errno,
        Errno::EOPNOTSUPP
    );
}

#[test]
fn overlapping_regions_are_refused_with_their_place() {
    let msg = refuse("\n[[device]]\nname = \"s\"\nkind = \"scratch\"\nbase = 0x8000\n");
    assert!(
        msg.starts_with("bad.toml:8:1: overlapping regions:"),
        "{msg}"
    );
    assert!(
        msg.contains("scratch 's'") && msg.contains("ram 'ram0'"),
        "{msg}"
    );
}

#[test]
fn region_above_maxphyaddr_is_refused() {
    let msg = refuse("\n[[ram]]\nbase = 0xF00000000\nsize = 0x200000000\n");
    assert!(msg.starts_with("bad.toml:8:1: "), "{msg}");
    assert!(msg.contains("above maxphyaddr (36 bits)"), "{msg}");
}

#[test]
fn unknown_device_kind_is_refused_naming_the_kinds() {
    let msg = refuse("\n[[device]]\nname = \"x\"\nkind = \"ne2000\"\nbase = 0x20000000\n");
    assert!(msg.starts_with("bad.toml:10:8: "), "{msg}");
    assert!(msg.contains("unknown device kind 'ne2000'"), "{msg}");
    assert!(msg.contains("uart16550"), "{msg}");
}

#[test]
fn misaligned_device_is_refused() {
    let msg = refuse("\n[[device]]\nname = \"u\"\nkind = \"uart16550\"\nbase = 0x20000800\n");
    assert!(msg.starts_with("bad.toml:8:1: "), "{msg}");
    assert!(msg.contains("not aligned to 4 KiB"), "{msg}");
}

#[test]
fn firmware_range_breaking_mtrr_rules_is_refused() {
    let msg = refuse(
        "\n[mtrr]\nvariable_slots = 2\n\n[[mtrr.variable]]\nbase = 0x1000\nlen = 0x3000\ntype = \"write-back\"\n",
    );
    assert!(msg.starts_with("bad.toml:11:1: "), "{msg}");
    assert!(msg.contains("breaks the MTRR rules"), "{msg}");
    let msg = refuse(
        "\n[mtrr]\nvariable_slots = 2\n\n[[mtrr.variable]]\nbase = 0x0\nlen = 0x1000\ntype = \"fast\"\n",
    );
    assert!(msg.contains("type \"fast\" is unknown"), "{msg}");
}

#[test]
fn syntax_and_schema_errors_name_line_and_column() {
    let msg = refuse("\n[[ram]]\nbase = 0x10000000\nsize = \n");
    assert!(msg.starts_with("bad.toml:10:"), "{msg}");
    let msg = refuse("\n[[ram]]\nbase = 0x10000000\nsize = 0x1000\ncolour = \"red\"\n");
    assert!(msg.starts_with("bad.toml:11:1: "), "{msg}");
    assert!(msg.contains("colour"), "{msg}");
    let e = Board::parse("maxphyaddr = 39\n", "x.toml").unwrap_err();
    assert!(e.to_string().contains("name"), "{e}");
}

#[test]
fn bad_maxphyaddr_holes_and_missing_ram_are_refused() {
    let e = Board::parse(
        "name = \"t\"\nmaxphyaddr = 70\n[[ram]]\nbase=0\nsize=0x10000000\n",
        "b.toml",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 14));
    let msg = Board::parse(&format!("holes = \"maybe\"\n{HEAD}"), "b.toml")
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("b.toml:1:9: "), "{msg}");
    assert!(msg.contains("expected \"ones\" or \"fault\""), "{msg}");
    let e = Board::parse("name = \"t\"\nmaxphyaddr = 39\n", "b.toml").unwrap_err();
    assert!(e.message.contains("no RAM"), "{e}");
}

#[test]
fn missing_board_file_names_the_built_ins() {
    let e = Board::load("/nonexistent/board.toml").unwrap_err();
    assert!(e.message.contains("pc, pc-nomtrr, arm64-virt, q35"), "{e}");
}

#[test]
fn an_unknown_board_name_has_no_bogus_position() {
    let e = Board::load("nosuch").unwrap_err();
    assert_eq!((e.line, e.column), (0, 0));
    assert_eq!(
        e.to_string(),
        "no built-in board or file named 'nosuch' (built-in: pc, pc-nomtrr, arm64-virt, q35)"
    );
    let e = Board::load("/").unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read board file '/': "),
        "{e}"
    );
    // Still EINVAL from the board layer, for the CLI to map.
    let err = memlua_runtime::Error::from(Board::load("nosuch").unwrap_err());
    assert_eq!(err.errno, Errno::EINVAL);
    assert!(!err.to_string().contains("nosuch:0:0"), "{err}");
}

#[test]
fn a_board_that_is_not_utf8_is_refused_where_it_stops_being_text() {
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"# caf\xe9\n");
    let msg = Board::parse_bytes(&bytes, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("bad.toml:7:6: byte 0xe9 is not UTF-8"),
        "{msg}"
    );
    assert!(Board::parse_bytes(HEAD.as_bytes(), "ok.toml").is_ok());
}

#[test]
fn a_mistyped_device_kind_is_named_before_anything_else() {
    // Its frequency, its overlap with RAM and the bad maxphyaddr come later.
    let text = "name = \"t\"\nmaxphyaddr = 99\n[[ram]]\nbase = 0\nsize = 0x1000\n\
                [[device]]\nname = \"t0\"\nkind = \"timr\"\nbase = 0\nfrequency = 1000\n";
    let msg = Board::parse(text, "bad.toml").unwrap_err().to_string();
    assert!(
        msg.starts_with(
            "bad.toml:8:8: device 't0': unknown device kind 'timr' (did you mean 'timer'? "
        ),
        "{msg}"
    );
}

#[test]
fn timer_frequencies_kernel_sizes_and_tick_rates_that_cannot_work_are_refused() {
    let timer = |f: &str| {
        refuse(&format!(
            "[[device]]\nname = \"t0\"\nkind = \"timer\"\nbase = 0x10000000\nfrequency = {f}\n"
        ))
    };
    let e = timer("0");
    assert!(
        e.starts_with("bad.toml:7:1: ") && e.contains("frequency 0 is out of range"),
        "{e}"
    );
    assert!(timer("0x100000000").contains("32-bit register"));
    let e = refuse(
        "[[device]]\nname = \"u\"\nkind = \"uart16550\"\nbase = 0x10000000\nfrequency = 9600\n",
    );
    assert!(e.contains("a uart16550 has no frequency"), "{e}");
    let e = refuse("[kernel]\nsize = 0x100000000\n");
    assert!(
        e.contains("kernel image size 0x100000000 is too big"),
        "{e}"
    );
    assert!(refuse("[kernel]\nhz = 0\n").contains("hz = 0"));
}

#[test]
fn the_direct_map_stops_at_4_tib_as_on_amd64() {
    use memlua_runtime::sim::kernel::{DMAP_MAX_SIZE, DMAP_MIN};
    use memlua_runtime::{Space, Width};
    let text = "name = \"big\"\nmaxphyaddr = 52\n[[ram]]\nbase = 0x0\nsize = 0x10000000\n\
                [[ram]]\nname = \"high\"\nbase = 0xFFFFFFFFF000\nsize = 0x1000\n";
    let mut s = Sim::new(Board::parse(text, "big.toml").unwrap()).unwrap();
    s.write(Space::Phys, 0x1000, Width::W32, 7).unwrap();
    assert_eq!(
        s.read(Space::Kernel, DMAP_MIN + 0x1000, Width::W32)
            .unwrap(),
        7
    );
    // Never past 2^64 into KERNBASE: the last direct-map byte is below it.
    let e = s
        .read(Space::Kernel, DMAP_MIN + DMAP_MAX_SIZE, Width::W32)
        .unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
}

// ---- boards that used to kill the process ---------------------------------

/// Parses and builds in-process: a board the checks let through must build.
fn refuse_whole(text: &str) -> String {
    match Board::parse(text, "bad.toml") {
        Ok(b) => panic!(
            "board should be refused, but it parsed (and Sim::new gave {:?})",
            Sim::new(b).err()
        ),
        Err(e) => e.to_string(),
    }
}

fn pc_with(from: &str, to: &str) -> String {
    let (_, pc) = BUILTIN[0];
    assert!(pc.contains(from), "pc.toml has no {from:?}");
    pc.replacen(from, to, 1)
}

#[test]
fn variable_slots_beyond_mtrrcap_are_refused_before_allocating() {
    for n in ["9223372036854775807", "1000000000", "256"] {
        let msg = refuse_whole(&pc_with(
            "variable_slots = 8",
            &format!("variable_slots = {n}"),
        ));
        assert!(msg.starts_with("bad.toml:97:18: "), "{msg}");
        assert!(msg.contains("expected 0 to 255"), "{msg}");
    }
    let b = Board::parse(
        &pc_with("variable_slots = 8", "variable_slots = 255"),
        "ok.toml",
    )
    .unwrap();
    let mut s = Sim::new(b).unwrap();
    assert_eq!(s.range_count().unwrap(), 88 + 255);
}

#[test]
fn absurd_framebuffer_is_refused_before_allocating() {
    let fb = "kind = \"framebuffer\"\nbase = 0xA0000\nsize = 0x20000";
    for size in [
        "0xFFFFFFFFFFFFFFFF",
        "0xFFFFFFFFFFFFF000",
        "0x8000000000000000",
    ] {
        let msg = refuse_whole(&pc_with(
            fb,
            &format!("kind = \"framebuffer\"\nbase = 0xA0000\nsize = {size}"),
        ));
        assert!(msg.starts_with("bad.toml:"), "{msg}");
        assert!(msg.contains("framebuffer 'vga'"), "{msg}");
    }
}

#[test]
fn kernel_image_that_wraps_is_refused() {
    for phys in ["0xFFFFFFFFFFFFF000", "0x7FFFFFFFFFFFF000", "0x8000000000"] {
        let msg = refuse_whole(&pc_with("phys = 0x0", &format!("phys = {phys}")));
        assert!(msg.starts_with("bad.toml:21:8: "), "{msg}");
        assert!(msg.contains("kernel image"), "{msg}");
    }
}

#[test]
fn huge_regions_are_refused_for_the_backing_they_would_need() {
    // 2^51 bytes of RAM fits a 52-bit space, but its page directory alone
    // would be 8 GiB.
    let text = "name = \"t\"\nmaxphyaddr = 52\n[[ram]]\nbase = 0\nsize = 0x8000000000000\n";
    let msg = refuse_whole(text);
    assert!(msg.starts_with("bad.toml:3:1: "), "{msg}");
    assert!(
        msg.contains("expected at most 0x100000000000 (16 TiB) in all"),
        "{msg}"
    );
    let text = "name = \"t\"\nmaxphyaddr = 52\n[[ram]]\nbase = 0\nsize = 0x100000000000\n";
    assert!(Board::parse(text, "ok.toml").is_ok());
}

#[test]
fn every_value_is_range_checked_with_its_place() {
    let cases: [(&str, &str, &str); 10] = [
        (
            "clock_step_ns = 100",
            "clock_step_ns = 0",
            "14:17: clock_step_ns = 0 is out of range",
        ),
        (
            "clock_step_ns = 100",
            "clock_step_ns = 0xFFFFFFFFFFFFFFFF",
            "14:17: clock_step_ns = 18446744073709551615 is out of range",
        ),
        (
            "hz = 1000",
            "hz = 0x80000000",
            "24:6: hz = 2147483648 is out of range",
        ),
        (
            "domain = 1",
            "domain = -1",
            "40:1: ram domain -1 is out of range",
        ),
        (
            "{ offset = 0xFFF0, bytes = [0xEA] }",
            "{ offset = 0xFFFFFFFFFFFFFFFF, bytes = [0xEA] }",
            "58:5: rom 'bios': 1 bytes of data at offset 0xffffffffffffffff run past",
        ),
        (
            "size = 0x2000000",
            "size = 0x1000",
            "22:8: kernel image size 0x1000 does not fit",
        ),
        (
            "size = 0x2000000",
            "size = 0xFFFFFFFFFFFFF000",
            "22:8: kernel image size 0xfffffffffffff000 is too big",
        ),
        (
            "phys = 0x0",
            "phys = 0x100",
            "21:8: kernel image at 0x100 size 0x2000000 does not fit",
        ),
        (
            "phys = 0x0",
            "phys = 0x7F000000",
            "21:8: kernel image at 0x7f000000 has its data page",
        ),
        (
            "owner = \"acpi\"",
            "owner = \"a\\u0000b\"",
            "120:1: owner holds a NUL byte",
        ),
    ];
    for (from, to, want) in cases {
        let msg = refuse_whole(&pc_with(from, to));
        assert!(msg.starts_with(&format!("bad.toml:{want}")), "{to}: {msg}");
        assert!(msg.contains("expected"), "{to}: {msg}");
    }
    let long = "v".repeat(5000);
    let msg = refuse_whole(&pc_with(
        "version = \"FreeBSD 15.0-RELEASE memlua-sim pc\"",
        &format!("version = \"{long}\""),
    ));
    assert!(
        msg.starts_with("bad.toml:23:11: version is 5000 bytes long"),
        "{msg}"
    );
}

#[test]
fn a_board_that_parses_builds() {
    // The extremes the checks allow: the largest everything, in the largest
    // address space.
    let text = "name = \"big\"\nmaxphyaddr = 52\nclock_step_ns = 1000000000\n\
                [kernel]\nphys = 0xFFFFFFE000000\nsize = 0x2000000\nhz = 0x7FFFFFFF\n\
                [[ram]]\nbase = 0xFFFFFFE000000\nsize = 0x2000000\ndomain = 255\n\
                [[ram]]\nname = \"bulk\"\nbase = 0\nsize = 0xFFF0000000\n\
                [[device]]\nname = \"fb\"\nkind = \"framebuffer\"\nbase = 0x100000000000\nsize = 0xF000000000\n\
                [[device]]\nname = \"t\"\nkind = \"timer\"\nbase = 0x200000000000\nfrequency = 0xFFFFFFFF\n\
                [mtrr]\nvariable_slots = 255\n";
    let b = Board::parse(text, "big.toml").unwrap();
    let mut s = Sim::new(b).unwrap();
    assert_eq!(s.range_count().unwrap(), 88 + 255);
}

#[test]
fn a_board_of_many_regions_is_checked_quickly() {
    // 50,000 pages of ROM, the last one overlapping the first: a pairwise
    // check takes over a billion comparisons.
    let mut text =
        String::from("name = \"t\"\nmaxphyaddr = 52\n[[ram]]\nbase = 0\nsize = 0x2000000\n");
    for i in 0..50_000u64 {
        let base = 0x1_0000_0000 + i * 0x1000;
        text.push_str(&format!(
            "[[rom]]\nname = \"r{i}\"\nbase = {base:#x}\nsize = 0x1000\n"
        ));
    }
    let start = std::time::Instant::now();
    assert!(Board::parse(&text, "many.toml").is_ok());
    text.push_str("[[rom]]\nname = \"last\"\nbase = 0x100000000\nsize = 0x1000\n");
    let msg = refuse_whole(&text);
    assert!(
        msg.contains(
            "overlapping regions: rom 'last' at 0x100000000-0x100000fff overlaps rom 'r0'"
        ),
        "{msg}"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}
