//! Boards: the built-in ones build, and every malformed board is refused
//! with the file, line and column of the entry at fault and what was
//! expected there.

use memlua_runtime::sim::board::{Board, BUILTIN};
use memlua_runtime::sim::space::HolePolicy;
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno};

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
    assert!(msg.starts_with("bad.toml:8:1: "), "{msg}");
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
    assert!(e.message.contains("pc, pc-nomtrr, arm64-virt"), "{e}");
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
