//! The bundled tools on the real binary and the `pc` board: devmem's and
//! memcontrol's exact output and exit statuses, and each tool's --json.

mod support;

use support::memlua;

fn run(args: &[&str], code: i32) -> (String, String) {
    let o = memlua().args(args).assert().code(code).get_output().clone();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

const BUSYBOX_USAGE: &str = "Usage: devmem ADDRESS [WIDTH [VALUE]]\n\nRead/write from physical address\n\n\tADDRESS\tAddress to act upon\n\tWIDTH\tWidth (8/16/...)\n\tVALUE\tData to be written\n";

#[test]
fn devmem_reads_like_busybox() {
    assert_eq!(run(&["devmem", "0xFE001008"], 0).0, "0x00989680\n");
    assert_eq!(run(&["devmem", "0xFFFF0", "8"], 0).0, "0xEA\n");
    assert_eq!(run(&["devmem", "0xFFFF0", "16"], 0).0, "0x00EA\n");
    assert_eq!(run(&["devmem", "0xFFFF0", "h"], 0).0, "0x00EA\n");
    assert_eq!(
        run(&["devmem", "0xFFFF0", "64"], 0).0,
        "0x2F313100000000EA\n"
    );
    assert_eq!(run(&["devmem", "1048560", "b"], 0).0, "0xEA\n");
    assert_eq!(
        run(&["devmem", "0xFFFFFFFF0", "64"], 0).0,
        "0xFFFFFFFFFFFFFFFF\n"
    );
}

#[test]
fn devmem_writes_and_reads_back_in_one_run() {
    let (o, _) = run(
        &[
            "-e",
            "mem.write32(0xFE003000, 0xdeadbeef)",
            "devmem",
            "0xFE003000",
        ],
        0,
    );
    assert_eq!(o, "0xDEADBEEF\n");
    let (o, _) = run(&["devmem", "0xFE003000", "32", "0x12345678"], 0);
    assert_eq!(o, "");
    let (o, _) = run(&["devmem", "--json", "0xFE003000", "8", "0x1ff"], 0);
    assert_eq!(
        o,
        "{\"address\":4261425152,\"hex\":\"0xFF\",\"width\":8,\"written\":255}\n"
    );
}

#[test]
fn devmem_bad_input_prints_busybox_usage_and_exits_1() {
    for args in [
        vec!["devmem"],
        vec!["devmem", "zz"],
        vec!["devmem", "0x1000", "12"],
        vec!["devmem", "0x1000", "x"],
        vec!["devmem", "0x1000", "32", "-1"],
        vec!["devmem", "-5"],
    ] {
        let (o, e) = run(&args, 1);
        assert_eq!(o, "", "{args:?}");
        assert_eq!(e, BUSYBOX_USAGE, "{args:?}");
    }
    let (_, e) = run(&["devmem", "0x8000000000"], 1);
    assert!(e.starts_with("devmem: mem.read32: EFAULT:"), "{e}");
    let (o, _) = run(&["devmem", "--help"], 0);
    assert_eq!(o, BUSYBOX_USAGE);
}

#[test]
fn memcontrol_list_is_byte_for_byte() {
    let (o, _) = run(&["memcontrol", "list"], 0);
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines.len(), 92);
    assert_eq!(
        lines[0],
        "0x0/0x10000 BIOS write-back fixed-base fixed-length set-by-firmware active "
    );
    assert_eq!(
        lines[24],
        "0xc0000/0x1000 BIOS write-protect fixed-base fixed-length set-by-firmware active "
    );
    assert_eq!(
        lines[91],
        "0xfe000000/0x4000 acpi uncacheable set-by-firmware active "
    );
    let (o, _) = run(&["memcontrol", "list", "-a"], 0);
    assert_eq!(o.lines().count(), 96);
    assert!(o.ends_with("0x0/0x8000000000 - uncacheable \n"), "{o}");
    let (o, _) = run(&["memcontrol", "list", "-o", "acpi"], 0);
    assert_eq!(
        o,
        "0xfe000000/0x4000 acpi uncacheable set-by-firmware active \n"
    );
    let (o, _) = run(
        &[
            "-e",
            "memrange.set{base=0x10000000, len=0x1000000, flags='uncacheable', owner='vga'}",
            "memcontrol",
            "list",
            "-o",
            "vga",
        ],
        0,
    );
    assert_eq!(o, "0x10000000/0x1000000 vga uncacheable active \n");
}

const SET_HELP: &str = "Set memory range attributes\n    set -b <base> -l <length> -o <owner> <attribute>\n        <base>      memory range base address\n        <length>    length of memory range in bytes, power of 2\n        <owner>     text identifier for this setting (7 char max)\n        <attribute> attribute(s) to be applied to this range:\n                        uncacheable\n                        write-combine\n                        write-through\n                        write-back\n                        write-protect\n";
const GENERAL: &str = "Valid commands are :\n    list\n    set\n    clear\nUse help <command> for command-specific help\n";

#[test]
fn memcontrol_help_texts_are_verbatim() {
    assert_eq!(run(&["memcontrol"], 0).1, GENERAL);
    assert_eq!(run(&["memcontrol", "help"], 0).1, GENERAL);
    assert_eq!(run(&["memcontrol", "help", "set"], 0).1, SET_HELP);
    assert_eq!(
        run(&["memcontrol", "help", "list"], 0).1,
        "List current memory range attributes\n    list [-a]\n        -a    list all range slots, even those that are inactive\n"
    );
    assert_eq!(
        run(&["memcontrol", "help", "bar"], 0).1,
        format!("Unknown command 'bar'\n{GENERAL}")
    );
    assert_eq!(
        run(&["memcontrol", "foo"], 2).1,
        format!("Unknown command 'foo'\n{GENERAL}")
    );
}

#[test]
fn memcontrol_set_and_clear() {
    let (o, _) = run(
        &[
            "memcontrol",
            "--json",
            "set",
            "-b",
            "0x10000000",
            "-l",
            "0x1000000",
            "-o",
            "fb",
            "uncacheable",
        ],
        0,
    );
    assert!(o.contains("\"owner\":\"fb\""), "{o}");
    // an unknown attribute: exit 2 naming it, then set's help
    let (_, e) = run(
        &[
            "memcontrol",
            "set",
            "-b",
            "0xA0000",
            "-l",
            "0x20000",
            "-o",
            "v",
            "fast",
        ],
        2,
    );
    assert_eq!(
        e,
        format!("memcontrol: unknown attribute 'fast'\n{SET_HELP}")
    );
    let (_, e) = run(
        &[
            "memcontrol",
            "set",
            "-b",
            "0xA0000",
            "-l",
            "0x20000",
            "-o",
            "vga",
            "fixed-base",
        ],
        2,
    );
    assert!(
        e.starts_with("memcontrol: attribute 'fixed-base' cannot be set\n"),
        "{e}"
    );
    // an owner over 7 bytes is refused before anything runs
    let (_, e) = run(
        &[
            "memcontrol",
            "set",
            "-b",
            "0xA0000",
            "-l",
            "0x20000",
            "-o",
            "12345678",
            "uncacheable",
        ],
        2,
    );
    assert!(
        e.starts_with("memcontrol: owner '12345678' must be 1 to 7 bytes long\n"),
        "{e}"
    );
    run(
        &[
            "memcontrol",
            "set",
            "-b",
            "0xA0000",
            "-o",
            "v",
            "uncacheable",
        ],
        2,
    );
    run(
        &["memcontrol", "set", "-b", "0xzz", "-l", "1", "uncacheable"],
        2,
    );
    run(&["memcontrol", "list", "-x"], 2);
    // kernel errors are err(3)'s words, exit 1
    let (_, e) = run(
        &[
            "memcontrol",
            "set",
            "-b",
            "0x10000000",
            "-l",
            "0x1000000",
            "-o",
            "x",
            "write-combine",
        ],
        1,
    );
    assert_eq!(e, "memcontrol: can't set range: Invalid argument\n");
    let (_, e) = run(&["memcontrol", "clear", "-o", "acpi"], 1);
    assert_eq!(
        e,
        "memcontrol: couldn't clear range owned by 'acpi': Device busy\n"
    );
    let (_, e) = run(&["memcontrol", "clear", "-b", "0x1000", "-l", "0x1000"], 1);
    assert_eq!(
        e,
        "memcontrol: couldn't clear range: No such file or directory\n"
    );
    run(&["memcontrol", "clear"], 2);
    let (_, e) = run(&["--board", "pc-nomtrr", "memcontrol", "list"], 1);
    assert_eq!(
        e,
        "memcontrol: can't size range descriptor array: Device not configured\n"
    );
}

#[test]
fn memtest_dump_v2p_regs_tools() {
    let (o, _) = run(&["memtest", "0x1000000", "0x10000"], 0);
    assert!(o.contains("PASS: 81920 word operations, 0 failures"), "{o}");
    let (o, _) = run(
        &[
            "memtest",
            "--json",
            "-a",
            "address,march",
            "0x1000000",
            "4096",
        ],
        0,
    );
    assert!(
        o.contains("\"ok\":true") && o.contains("\"ops\":7168"),
        "{o}"
    );
    run(&["memtest", "-a", "nope", "0", "4096"], 2);
    let (o, _) = run(&["dump", "0xFFFF0", "16"], 0);
    assert_eq!(o, "000ffff0  ea 00 00 00 00 31 31 2f  32 36 2f 32 36 00 00 00  |.....11/26/26...|\n00100000\n");
    let (o, _) = run(&["dump", "--json", "0xFFFF5", "8"], 0);
    assert!(o.contains("\"hex\":\"31312f32362f3236\""), "{o}");
    let (o, _) = run(&["v2p", "--json", "8192"], 0);
    assert_eq!(o.matches("\"state\":\"mapped\"").count(), 2, "{o}");
    let svd = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/svd/memlua-pc.svd");
    let (o, _) = run(&["regs", svd, "TIMER0"], 0);
    assert!(o.contains("FREQ") && o.contains("0x00989680"), "{o}");
    let (o, _) = run(&["regs", "--json", svd, "DMA0"], 0);
    assert!(o.starts_with("[{\"base\":4261421056"), "{o}");
    let (_, e) = run(&["regs", svd, "NOPE"], 1);
    assert!(e.contains("no device 'NOPE'"), "{e}");
    // -b: the same registers at another base (the scratch RAM here).
    let (o, _) = run(&["regs", "-b", "0xfe003000", svd, "TIMER0"], 0);
    assert!(o.starts_with("TIMER0 at 0xfe003000 (phys)\n"), "{o}");
    for t in ["devmem", "memcontrol", "v2p", "dump", "memtest", "regs"] {
        run(&[t, "--help"], 0);
    }
}

/// `v2p -p PID`: another process's pages through /proc/PID/pagemap.
#[cfg(target_os = "linux")]
#[test]
fn v2p_looks_up_another_process() {
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep runs");
    let pid = child.id().to_string();
    // The first executable mapping of the child: its text, resident. The
    // child may still be on its way into exec: look until it is there.
    let mut text = None;
    for _ in 0..200 {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        text = maps
            .lines()
            .find(|l| l.contains(" r-xp ") && l.ends_with("/sleep"))
            .and_then(|l| l.split('-').next())
            .map(|a| format!("0x{a}"));
        if text.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let text = text.expect("sleep's text mapping");
    // The lowest page of its stack mapping: inside a mapping, never
    // touched (the stack grows down from the top): valid, not invalid.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let stack = maps
        .lines()
        .find(|l| l.ends_with("[stack]"))
        .and_then(|l| l.split('-').next())
        .map(|a| format!("0x{a}"))
        .expect("a stack mapping");
    let (json, _) = run(&["v2p", "--json", "-p", &pid, &text, "4096"], 0);
    let (unmapped, _) = run(&["v2p", "-p", &pid, "0x1000"], 0);
    let (untouched, _) = run(&["v2p", "--json", "-p", &pid, &stack, "4096"], 0);
    run(&["v2p", "-p", &pid, "0x1000", "0"], 2);
    let _ = child.kill();
    let _ = child.wait();
    assert!(json.contains("\"state\":\"mapped\""), "{json}");
    let text_addr = u64::from_str_radix(text.trim_start_matches("0x"), 16).unwrap();
    assert!(json.contains(&format!("\"vaddr\":{text_addr}")), "{json}");
    if json.contains("\"paddr\":") {
        assert!(
            !json.contains("\"paddr\":0,"),
            "a hidden frame is not a 0: {json}"
        );
    } else {
        println!("skipped: frame numbers hidden (needs CAP_SYS_ADMIN); state checked only");
    }
    assert!(
        unmapped.contains("0x0000000000001000 invalid"),
        "{unmapped}"
    );
    assert!(untouched.contains("\"state\":\"valid\""), "{untouched}");
}

#[test]
fn dump_refuses_what_it_cannot_do_as_a_usage_error() {
    for (args, says) in [
        (
            &["dump", "0", "16", "extra"][..],
            "unexpected argument 'extra'",
        ),
        (
            &["dump", "-x", "-g", "2", "1", "16"],
            "must be multiples of 2",
        ),
        (&["dump", "-g", "4", "0", "6"], "must be multiples of 4"),
        (&["dump", "0", "-1"], "bad LENGTH '-1'"),
        (&["dump", "version", "16"], "a kernel symbol needs -k"),
    ] {
        let (_, e) = run(args, 2);
        assert!(e.contains(says), "{args:?}: {e}");
    }
    let (_, e) = run(&["dump", "-k", "nosuchsym", "8"], 1);
    assert!(e.contains("no kernel symbol 'nosuchsym'"), "{e}");
}

#[test]
fn dump_streams_so_a_reader_that_stops_early_stops_it() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // 4 GiB of RAM dumped -x (nothing to squeeze): only streaming can
    // answer the first line at once, and a closed pipe ends the run.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_memlua"))
        .args([
            "-e",
            "for a = 0x100000, 0x100000 + 4096, 8 do mem.write64(a, a) end",
        ])
        .args(["dump", "-x", "0x100000", "0x100000000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("00100000: 00 00 10 00"), "{first}");
    drop(out);
    let start = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

/// `memlua dump -o dump ...` leaves a file named like the tool: `-t` runs
/// the tool whatever files there are, and the bare name says which ran.
#[test]
fn t_runs_the_tool_and_a_file_that_shadows_one_is_named() {
    let dir = std::env::temp_dir().join(format!("memlua-shadow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dump"), "print('the file', ...)\n").unwrap();
    let in_dir = |args: &[&str], code: i32| {
        let o = memlua()
            .current_dir(&dir)
            .args(args)
            .assert()
            .code(code)
            .get_output()
            .clone();
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    let line = "000ffff0  ea 00 00 00 00 31 31 2f  32 36 2f 32 36 00 00 00  |.....11/26/26...|\n00100000\n";
    for args in [
        &["-t", "dump", "0xFFFF0", "16"][..],
        &["--tool", "dump", "0xFFFF0", "16"],
        &["--tool=dump.lua", "0xFFFF0", "16"],
    ] {
        assert_eq!(
            in_dir(args, 0),
            (line.to_string(), String::new()),
            "{args:?}"
        );
    }
    let (o, e) = in_dir(&["dump", "0xFFFF0", "16"], 0);
    assert_eq!(o, "the file\t0xFFFF0\t16\n");
    assert!(
        e.starts_with("memlua: warning: running the file 'dump' in the current folder")
            && e.contains("'memlua -t dump ...' runs the tool"),
        "{e}"
    );
    assert_eq!(
        in_dir(&["./dump"], 0),
        ("the file\n".to_string(), String::new())
    );
    let (_, e) = in_dir(&["-t", "nosuch"], 2);
    assert!(e.starts_with("memlua: no bundled tool 'nosuch'"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn memtest_and_v2p_say_what_is_wrong_with_their_numbers() {
    for (args, says) in [
        (&["memtest", "0x1000", "0"][..], "memtest: LENGTH is zero"),
        (
            &["memtest", "0x1000"],
            "memtest: ADDRESS and LENGTH are needed",
        ),
        (&["memtest", "0x1000", "zz"], "memtest: bad LENGTH 'zz'"),
        (&["v2p", "0"], "v2p: LENGTH is zero"),
        (&["v2p", "-p", "1.5", "0x1000"], "v2p: bad pid '1.5'"),
    ] {
        let (_, e) = run(args, 2);
        assert!(e.starts_with(says), "{args:?}: {e}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn v2p_p_errors_on_linux_are_about_the_process_not_the_system() {
    // Above the kernel's largest PID (4194304): never a process.
    let (_, e) = run(&["v2p", "-p", "2147483647", "0x1000"], 1);
    assert!(e.starts_with("v2p: no process 2147483647"), "{e}");
    assert!(!e.contains("Linux only"), "{e}");
}

/// `dump -o` output can hold secrets: the file is created 0600, and a
/// symbolic link planted at its path is refused, its target untouched.
#[test]
fn dump_o_creates_its_file_0600_and_refuses_a_symbolic_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("memlua-dump-o-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.bin");
    run(&["dump", "-o", out.to_str().unwrap(), "0xFFFF0", "16"], 0);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!((bytes.len(), bytes[0]), (16, 0xEA));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");

    let target = dir.join("target");
    let link = dir.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (_, e) = run(&["dump", "-o", link.to_str().unwrap(), "0xFFFF0", "16"], 1);
    assert!(e.contains("symbolic link"), "{e}");
    assert!(!target.exists(), "the link was followed");
    let _ = std::fs::remove_dir_all(&dir);
}
