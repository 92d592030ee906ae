//! `memlua --map` and `--list-boards` on the real binary.

mod support;

use support::memlua;

fn stdout_of(args: &[&str]) -> String {
    let out = memlua()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn map_shows_the_pc_layout_and_ranges() {
    let out = stdout_of(&["--board", "pc", "--map"]);
    for want in [
        "board pc:",
        "0x0000000000-0x000009ffff  ram          lowmem",
        "uart16550    uart0",
        "0x0100000000-0x027fffffff  ram          ram-above-4g      6 GiB  domain 1",
        "96 descriptors, 4 variable slots free",
        "0xfe000000/0x4000 acpi uncacheable set-by-firmware active (busy)",
        "symbols: hz=0xffffffff81200000 kernbase=0xffffffff80000000",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn map_says_why_there_are_no_ranges() {
    assert!(stdout_of(&["--board", "pc-nomtrr", "--map"]).contains("(ENXIO)"));
    assert!(stdout_of(&["--board", "arm64-virt", "--map"]).contains("(EOPNOTSUPP)"));
}

#[test]
fn list_boards_names_every_built_in() {
    let out = stdout_of(&["--list-boards"]);
    for name in ["pc ", "pc-nomtrr ", "arm64-virt ", "q35 "] {
        assert!(out.contains(name), "{out}");
    }
}

#[test]
fn a_board_that_cannot_be_loaded_is_a_usage_error_said_once() {
    for (args, env) in [
        (&["--board", "nosuch", "-e", "print('ran')"][..], None),
        (&["--board", "nosuch", "--map"], None),
        (&["-e", "print('ran')"], Some("nosuch")),
    ] {
        let mut c = memlua();
        if let Some(board) = env {
            c.env("MEMLUA_BOARD", board);
        }
        let out = c.args(args).assert().code(2).get_output().clone();
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("memlua: ") && err.contains("nosuch"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn a_bad_board_file_fails_with_its_place() {
    let dir = std::env::temp_dir().join(format!("memlua-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\nmaxphyaddr = 36\n[[ram]]\nbase = 0\nsize = 0x1000000\n[[device]]\nname = \"u\"\nkind = \"uart16550\"\nbase = 0x800\n",
    )
    .unwrap();
    let out = memlua()
        .args(["--board", file.to_str().unwrap(), "--map"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("bad.toml:6:1: "), "{err}");
    assert!(err.contains("not aligned to 4 KiB"), "{err}");
}

#[test]
fn unknown_option_is_a_usage_error() {
    memlua().arg("--no-such-option").assert().code(2);
}

#[test]
fn map_on_the_native_backend_shows_the_machine_never_the_pc_board() {
    let dir = std::env::temp_dir().join(format!("memlua-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("dump.bin");
    std::fs::write(&file, vec![0u8; 0x20000]).unwrap();
    let path = file.to_str().unwrap();
    let out = stdout_of(&["--mem", path, "--map"]);
    assert_eq!(
        out,
        format!(
            "native backend: physical memory is the file {path}\n  \
             0x0000000000-0x000001ffff   128 KiB  the file; past its end is EFAULT\n"
        )
    );
    // /dev/mem: what /proc/iomem shows, or why it shows nothing.
    let out = stdout_of(&["-b", "native", "--map"]);
    assert!(!out.contains("board pc"), "{out}");
    assert!(
        out.starts_with("native backend: physical memory through /dev/mem"),
        "{out}"
    );
    assert!(
        out.contains("physical memory map (/proc/iomem):\n") || out.contains("no map: "),
        "{out}"
    );
}
