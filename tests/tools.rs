//! The bundled tools on the real binary and the `pc` board: devmem's and
//! memcontrol's exact output and exit statuses, and each tool's --json.

mod support;

#[cfg(target_os = "linux")]
#[path = "support/skip.rs"]
mod skip;

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
    let (o, _) = run(&["devmem", "--json", "0xFE003000", "8", "0xff"], 0);
    assert_eq!(
        o,
        "{\"addr\":\"0xfe003000\",\"value\":\"0xff\",\"width\":8,\"written\":true}\n"
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
    // --help is memlua's, with every operand and flag (tests/cli.rs).
    let (o, _) = run(&["devmem", "--help"], 0);
    assert!(
        o.contains("usage: memlua devmem [--json] ADDRESS [WIDTH [VALUE]]\n"),
        "{o}"
    );
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
    // FreeBSD's line, then the conflict memrange.set explains.
    assert_eq!(
        e,
        "memcontrol: can't set range: Invalid argument\n\
         memcontrol: 'write-combine' would overlap variable slot 0 0x0/0x80000000 (write-back, owner \"BIOS\"), \
         and the two attributes conflict; only equal attributes, or write-back with uncacheable, may overlap\n"
    );
    let (_, e) = run(&["memcontrol", "clear", "-o", "acpi"], 1);
    assert!(
        e.starts_with(
            "memcontrol: couldn't clear range owned by 'acpi': Device busy\n\
             memcontrol: cannot remove variable slot 3 0xfe000000/0x4000: it is busy, owned by \"acpi\""
        ),
        "{e}"
    );
    let (_, e) = run(&["memcontrol", "clear", "-b", "0x1000", "-l", "0x1000"], 1);
    assert!(
        e.starts_with(
            "memcontrol: couldn't clear range: No such file or directory\n\
             memcontrol: no range has base 0x1000 and length 0x1000"
        ),
        "{e}"
    );
    run(&["memcontrol", "clear"], 2);
    let (_, e) = run(&["--board", "pc-nomtrr", "memcontrol", "list"], 1);
    assert_eq!(
        e,
        "memcontrol: can't size range descriptor array: Device not configured\n\
         memcontrol: there are no memory range descriptors: the firmware left the MTRRs disabled (MTRRdefType.E clear)\n"
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
    assert_eq!(
        o,
        "{\"addr\":\"0xffff5\",\"len\":\"0x8\",\"space\":\"phys\",\"hex\":\"31312f32362f3236\"}\n"
    );
    let (o, _) = run(&["v2p", "--json", "8192"], 0);
    assert_eq!(o.matches("\"state\":\"mapped\"").count(), 2, "{o}");
    let svd = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/svd/memlua-pc.svd");
    let (o, _) = run(&["regs", svd, "TIMER0"], 0);
    assert!(o.contains("FREQ") && o.contains("0x00989680"), "{o}");
    let (o, _) = run(&["regs", "--json", svd, "DMA0"], 0);
    assert!(o.starts_with("[{\"base\":\"0xfe002000\""), "{o}");
    let (_, e) = run(&["regs", svd, "NOPE"], 1);
    assert!(e.contains("no device 'NOPE'"), "{e}");
    // -b: the same registers at another base (the scratch RAM here).
    let (o, _) = run(&["regs", "-b", "0xfe003000", svd, "TIMER0"], 0);
    assert!(o.starts_with("TIMER0 at 0xfe003000 (phys)\n"), "{o}");
    for t in ["devmem", "memcontrol", "v2p", "dump", "memtest", "regs"] {
        run(&[t, "--help"], 0);
    }
}

/// A `sleep 30` to look at, killed when dropped, with the address of its
/// text (executable, resident) mapping.
#[cfg(target_os = "linux")]
struct Sleeper {
    child: std::process::Child,
    pid: String,
    text: String,
}

#[cfg(target_os = "linux")]
impl Sleeper {
    fn new() -> Sleeper {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep runs");
        let pid = child.id().to_string();
        // The first executable mapping of the child: its text, resident.
        // The child may still be on its way into exec: look until it is
        // there.
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
        // Until it sleeps, it may not have run far enough to touch its text.
        for _ in 0..200 {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat
                .rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('S'))
            {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Sleeper { child, pid, text }
    }
}

#[cfg(target_os = "linux")]
impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `v2p -p PID`: another process's pages through /proc/PID/pagemap.
#[cfg(target_os = "linux")]
#[test]
fn v2p_looks_up_another_process() {
    let s = Sleeper::new();
    let pid = &s.pid;
    // The lowest page of its stack mapping: inside a mapping, never
    // touched (the stack grows down from the top): valid, not invalid.
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let stack = maps
        .lines()
        .find(|l| l.ends_with("[stack]"))
        .and_then(|l| l.split('-').next())
        .map(|a| format!("0x{a}"))
        .expect("a stack mapping");
    // 64 KiB of its text: a process just started has not necessarily
    // touched the first page, but it ran some of these.
    let (json, _) = run(&["v2p", "--json", "-p", pid, &s.text, "65536"], 0);
    let (unmapped, _) = run(&["v2p", "-p", pid, "0x1000"], 0);
    let (untouched, _) = run(&["v2p", "--json", "-p", pid, &stack, "4096"], 0);
    run(&["v2p", "-p", pid, "0x1000", "0"], 2);
    assert!(json.contains("\"state\":\"mapped\""), "{json}");
    let text_addr = u64::from_str_radix(s.text.trim_start_matches("0x"), 16).unwrap();
    assert!(
        json.contains(&format!("\"vaddr\":\"0x{text_addr:x}\"")),
        "{json}"
    );
    assert!(
        unmapped.contains("0x0000000000001000 invalid"),
        "{unmapped}"
    );
    assert!(untouched.contains("\"state\":\"valid\""), "{untouched}");
}

/// `v2p -p PID` gives a resident page's frame, never a 0 for a frame the
/// kernel hides.
#[cfg(target_os = "linux")]
#[test]
fn v2p_gives_another_process_a_frame_never_a_0() {
    let s = Sleeper::new();
    // The whole first 64 KiB of its text: a process just started has not
    // necessarily touched the first page, but it ran some of these.
    let (json, _) = run(&["v2p", "--json", "-p", &s.pid, &s.text, "65536"], 0);
    assert!(json.contains("\"state\":\"mapped\""), "{json}");
    if !json.contains("\"paddr\":") {
        assert!(json.contains("needs CAP_SYS_ADMIN"), "{json}");
        skip::skip("frame numbers hidden (needs CAP_SYS_ADMIN)");
        return;
    }
    assert!(
        !json.contains("\"paddr\":\"0x0\""),
        "a hidden frame is not a 0: {json}"
    );
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

/// A JSON value's numbers and strings, checked as it is parsed: the text
/// must be exactly one JSON value. Just enough JSON for the tools' output.
#[derive(Default)]
struct JsonScan {
    numbers: Vec<String>,
    strings: Vec<String>,
}

fn scan_json(text: &str) -> Result<JsonScan, String> {
    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b" \t\r\n".contains(&b[*i]) {
            *i += 1;
        }
    }
    fn string(b: &[u8], i: &mut usize) -> Result<String, String> {
        *i += 1;
        let start = *i;
        while *i < b.len() && b[*i] != b'"' {
            *i += if b[*i] == b'\\' { 2 } else { 1 };
        }
        if *i >= b.len() {
            return Err("unterminated string".into());
        }
        *i += 1;
        Ok(String::from_utf8_lossy(&b[start..*i - 1]).into_owned())
    }
    fn value(b: &[u8], i: &mut usize, out: &mut JsonScan) -> Result<(), String> {
        ws(b, i);
        match b.get(*i) {
            Some(b'{') | Some(b'[') => {
                let close = if b[*i] == b'{' { b'}' } else { b']' };
                *i += 1;
                ws(b, i);
                if b.get(*i) == Some(&close) {
                    *i += 1;
                    return Ok(());
                }
                loop {
                    if close == b'}' {
                        ws(b, i);
                        if b.get(*i) != Some(&b'"') {
                            return Err(format!("a key expected at {i}"));
                        }
                        string(b, i)?;
                        ws(b, i);
                        if b.get(*i) != Some(&b':') {
                            return Err(format!("':' expected at {i}"));
                        }
                        *i += 1;
                    }
                    value(b, i, out)?;
                    ws(b, i);
                    match b.get(*i) {
                        Some(b',') => *i += 1,
                        Some(c) if *c == close => {
                            *i += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("',' or close expected at {i}")),
                    }
                }
            }
            Some(b'"') => {
                let s = string(b, i)?;
                out.strings.push(s);
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = *i;
                while *i < b.len() && (b[*i].is_ascii_digit() || b"-+.eE".contains(&b[*i])) {
                    *i += 1;
                }
                out.numbers
                    .push(String::from_utf8_lossy(&b[start..*i]).into_owned());
                Ok(())
            }
            _ => {
                for word in ["true", "false", "null"] {
                    if b[*i..].starts_with(word.as_bytes()) {
                        *i += word.len();
                        return Ok(());
                    }
                }
                Err(format!("a value expected at {i}"))
            }
        }
    }
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = JsonScan::default();
    value(b, &mut i, &mut out)?;
    ws(b, &mut i);
    if i != b.len() {
        return Err(format!("text after the value at {i}"));
    }
    Ok(out)
}

/// Every tool's --json output, success or failure, is one JSON value whose
/// numbers a double holds exactly: addresses and values are "0x..."
/// strings, and a failure is {"error":{"errno":..,"message":..}} on stdout
/// beside the exit status.
#[test]
fn every_tools_json_is_exact_and_errors_are_json() {
    let svd = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/svd/memlua-pc.svd");
    let cases: Vec<(Vec<&str>, i32, &[&str])> = vec![
        (
            vec!["devmem", "--json", "0xFE001008"],
            0,
            &["\"addr\":\"0xfe001008\"", "\"value\":\"0x989680\""],
        ),
        (
            vec!["devmem", "--json", "0xFFFFFFFF0", "64"],
            0,
            &["\"value\":\"0xffffffffffffffff\""],
        ),
        (
            vec!["dump", "--json", "-k", "version", "16"],
            0,
            &["\"addr\":\"0xffffffff8", "\"space\":\"kernel\""],
        ),
        (
            vec!["memtest", "--json", "0x1000000", "4096"],
            0,
            &[
                "\"addr\":\"0x1000000\"",
                "\"len\":\"0x1000\"",
                "\"ok\":true",
            ],
        ),
        (
            vec!["memcontrol", "--json", "list", "-a"],
            0,
            &["\"base\":\"0x0\"", "\"len\":\"0x8000000000\""],
        ),
        (
            vec!["v2p", "--json", "4096"],
            0,
            &["\"vaddr\":\"0x", "\"paddr\":\"0x"],
        ),
        (
            vec!["regs", "--json", svd, "TIMER0"],
            0,
            &["\"base\":\"0xfe001000\"", "\"value\":\"0x989680\""],
        ),
        // Failures: the error as JSON on stdout, and the exit status.
        (
            vec!["devmem", "--json", "0x8000000000"],
            1,
            &[
                "{\"error\":{",
                "\"errno\":\"EFAULT\"",
                "\"addr\":\"0x8000000000\"",
            ],
        ),
        (
            vec!["devmem", "--json", "zz"],
            1,
            &["{\"error\":{", "\"errno\":\"EINVAL\"", "bad ADDRESS 'zz'"],
        ),
        (
            vec!["dump", "--json", "0", "zz"],
            2,
            &["{\"error\":{", "\"errno\":\"EINVAL\"", "bad LENGTH 'zz'"],
        ),
        (
            vec!["dump", "--json", "0x10000000000", "16"],
            1,
            &["\"hex\":\"\"", "\"error\":{", "\"errno\":\"EFAULT\""],
        ),
        (
            vec!["memtest", "--json", "-w", "16", "0", "8"],
            2,
            &["{\"error\":{", "\"errno\":\"EINVAL\""],
        ),
        (
            vec!["memtest", "--json", "0xF0000", "4096"],
            1,
            &["\"error\":{", "\"errno\":\"EIO\"", "region 'bios'"],
        ),
        (
            vec![
                "memcontrol",
                "--json",
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
            &[
                "{\"error\":{",
                "\"errno\":\"EINVAL\"",
                "\"op\":\"memrange.set\"",
            ],
        ),
        (
            vec!["memcontrol", "--json", "clear", "-o", "acpi"],
            1,
            &["\"cleared\":[]", "\"errno\":\"EBUSY\""],
        ),
        (
            vec!["memcontrol", "--json", "list", "-x"],
            2,
            &["{\"error\":{", "illegal option -- x"],
        ),
        (
            vec!["v2p", "--json", "0"],
            2,
            &["{\"error\":{", "LENGTH is zero"],
        ),
        (
            vec!["regs", "--json", svd, "NOPE"],
            1,
            &["{\"error\":{", "\"errno\":\"ENOENT\"", "no device 'NOPE'"],
        ),
    ];
    for (args, code, wants) in cases {
        let (o, _) = run(&args, code);
        let scan = scan_json(o.trim_end()).unwrap_or_else(|e| panic!("{args:?}: {e}\n{o}"));
        for n in &scan.numbers {
            let v: f64 = n.parse().unwrap();
            assert!(
                v.abs() < 9007199254740992.0,
                "{args:?}: {n} is not exact as a double\n{o}"
            );
        }
        for w in wants {
            assert!(o.contains(w), "{args:?}: no {w}\n{o}");
        }
        assert!(
            o.ends_with('\n') && o.matches('\n').count() == 1,
            "{args:?}: {o}"
        );
    }
}

/// A --mem file shorter than the range: dump prints what the file holds,
/// exactly as hexdump -C shows it, then the error; -o writes those bytes.
#[test]
fn dump_past_the_end_of_a_mem_file_prints_what_exists_then_the_error() {
    let dir = std::env::temp_dir().join(format!("memlua-dump-end-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mem.bin");
    let bytes: Vec<u8> = (0..100u32).map(|i| (i * 37 % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let f = file.to_str().unwrap();
    let (o, e) = run(&["-b", "native", "--mem", f, "dump", "0", "200"], 1);
    assert!(o.starts_with("00000000  00 25 4a 6f"), "{o}");
    assert!(o.ends_with("00000064\n"), "{o}");
    assert_eq!(o.lines().count(), 8, "{o}");
    assert!(
        e.starts_with("dump: mem.read: EFAULT: the address is past the end of")
            && e.contains("(addr=0x64)"),
        "{e}"
    );
    if let Ok(h) = std::process::Command::new("hexdump")
        .arg("-C")
        .arg(&file)
        .output()
    {
        assert_eq!(o.as_bytes(), &h.stdout[..]);
    } else {
        println!("skipped: no hexdump to compare with");
    }
    // -g 4: 32-bit reads stop at the same place.
    let (o, _) = run(
        &["-b", "native", "--mem", f, "dump", "-g", "4", "0", "200"],
        1,
    );
    assert!(o.ends_with("00000064\n"), "{o}");
    let out = dir.join("copy.bin");
    let (_, e) = run(
        &[
            "-b",
            "native",
            "--mem",
            f,
            "dump",
            "-o",
            out.to_str().unwrap(),
            "0",
            "200",
        ],
        1,
    );
    assert!(e.contains("EFAULT"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    let (o, _) = run(
        &["-b", "native", "--mem", f, "dump", "--json", "0", "200"],
        1,
    );
    assert!(o.contains("\"hex\":\"00254a6f"), "{o}");
    assert!(o.contains("\",\"error\":{\"addr\":\"0x64\""), "{o}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn devmem_refuses_a_value_wider_than_the_width() {
    let (o, e) = run(&["devmem", "0xFE003000", "8", "0x1ff"], 1);
    assert_eq!(o, "");
    assert_eq!(
        e,
        "devmem: VALUE 0x1ff does not fit in 8 bits (busybox would write 0xff)\n"
    );
    run(&["devmem", "0xFE003000", "16", "0x10000"], 1);
    // nothing was written
    let (o, _) = run(
        &[
            "-e",
            "mem.write8(0xFE003000, 0x5a)",
            "devmem",
            "0xFE003000",
            "8",
            "0x15a",
        ],
        1,
    );
    assert_eq!(o, "");
    run(&["devmem", "0xFE003000", "64", "0xffffffffffffffff"], 0);
    run(&["devmem", "0xFE003000", "8", "0xff"], 0);
}

/// The same bytes through `memlua dump` and through hexdump -C and xxd -g N:
/// identical output, squeezed runs and a short last line included.
#[test]
fn dump_output_is_byte_identical_to_hexdump_and_xxd() {
    let have = |tool: &str| {
        std::process::Command::new(tool)
            .arg("-h")
            .output()
            .map(|_| true)
            .unwrap_or(false)
    };
    if !have("hexdump") || !have("xxd") {
        println!("skipped: hexdump or xxd is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("memlua-dump-same-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mem.bin");
    // Pseudo-random bytes, a run of zeros to squeeze, text, a short end.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let mut bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    bytes[70_000..75_000].fill(0);
    bytes[90_000..90_100].copy_from_slice(&[b'm'; 100]);
    bytes.truncate(196_648); // a multiple of 8, not of 16
    std::fs::write(&file, &bytes).unwrap();
    let f = file.to_str().unwrap();
    let len = bytes.len().to_string();
    let ours = |extra: &[&str]| {
        let mut args = vec!["-b", "native", "--mem", f, "dump"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["0", &len]);
        run(&args, 0).0
    };
    let theirs = |tool: &str, args: &[&str]| {
        let o = std::process::Command::new(tool)
            .args(args)
            .arg(&file)
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(ours(&[]), theirs("hexdump", &["-C"]), "hexdump -C");
    for g in ["1", "2", "4", "8"] {
        assert_eq!(
            ours(&["-x", "-g", g]),
            theirs("xxd", &["-g", g]),
            "xxd -g {g}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// memtest says it overwrites the range, prints its header before it
/// writes anything, stops at ROM naming the simulator's region, and shows
/// at most 20 failures (with the count) where --json lists every one.
#[test]
fn memtest_is_honest_about_what_it_does() {
    let (o, _) = run(&["memtest", "--help"], 0);
    assert!(o.contains("overwrites the range"), "{o}");
    let (o, e) = run(&["memtest", "0xF0000", "0x2000"], 1);
    assert_eq!(
        o,
        "memtest 0xf0000-0xf1fff (8192 bytes, 64-bit words): march\n"
    );
    assert_eq!(
        e,
        "memtest: 0xf0000 does not keep what is written (wrote 0xffffffffffffffff, read 0x0): ROM, a device \
         or no memory there (on the simulator: region 'bios', kind rom); nothing was tested\n"
    );
    // A device with one bit stuck at 1 keeps most of what is written: it
    // is tested, and its failures are reported, 20 of them and a count.
    let flaky = "local m = {} sim.device{name='flaky', base=0x90000000, len=4096, \
                 read=function(off) return (m[off] or 0) | 8 end, write=function(off, w, v) m[off] = v end}";
    let (o, _) = run(
        &["-e", flaky, "memtest", "-w", "32", "0x90000000", "4096"],
        1,
    );
    let lines: Vec<&str> = o.lines().collect();
    assert_eq!(lines.len(), 1 + 20 + 2, "{o}");
    assert_eq!(
        lines[1],
        "  FAIL 0x90000000 expected 0x0 got 0x8 (march, up r0,w1)"
    );
    assert_eq!(
        lines[21],
        "  ... and 3052 more failures (--json lists every one)"
    );
    assert!(
        lines[22].starts_with("FAIL: 10240 word operations, 3072 failures, "),
        "{o}"
    );
    let (o, _) = run(
        &[
            "-e",
            flaky,
            "memtest",
            "--json",
            "-w",
            "32",
            "0x90000000",
            "4096",
        ],
        1,
    );
    scan_json(o.trim_end()).unwrap();
    assert_eq!(o.matches("\"algorithm\":\"march\"").count(), 3072);
    assert!(o.contains("\"failure_count\":3072,\"ok\":false"), "{o}");
}

/// A poll.wait timeout names the line that called poll.wait.
#[test]
fn a_poll_timeout_is_reported_at_the_callers_line() {
    let dir = std::env::temp_dir().join(format!("memlua-poll-line-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("wait.lua");
    std::fs::write(
        &script,
        "local poll = require 'memlua.poll'\n\nlocal function f()\n  poll.wait(0xFE003000, 1, 1, {timeout_ns = 1000})\nend\nf()\n",
    )
    .unwrap();
    let (_, e) = run(&[script.to_str().unwrap()], 1);
    assert!(
        e.starts_with(&format!(
            "memlua: {}:4: poll: ETIMEDOUT: 0xfe003000",
            script.display()
        )),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An API error's traceback: the function's own frame, then the script,
/// with no unnamed `[C]: in ?` frame of the fast path's fallback between.
#[test]
fn api_error_tracebacks_have_no_extra_c_frame() {
    for (code, frame) in [
        ("mem.read32(1 << 40)", "[C]: in field 'read32'"),
        ("mem.read32('x')", "[C]: in field 'read32'"),
        (
            "local w = mem.map(0x1000000, 4096)\nw:read32(8192)",
            "[C]: in method 'read32'",
        ),
    ] {
        let (_, e) = run(&["-e", code], 1);
        let trace: Vec<&str> = e.lines().skip(1).collect();
        assert_eq!(trace[0], "stack traceback:", "{e}");
        assert_eq!(trace[1].trim(), frame, "{e}");
        assert!(!e.contains("[C]: in ?"), "{e}");
    }
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
