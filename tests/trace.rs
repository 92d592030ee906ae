//! Access traces through the real binary (issue 13): `--record` on the
//! simulator and the native backend, `--replay` strict and relaxed, the
//! ways a recording ends (its end, an error, Ctrl-C, os.exit, a crash),
//! damaged traces, `trace.mark`, and the `memlua trace` tool down to a
//! QEMU qtest run of an export.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod support;

#[path = "support/skip.rs"]
mod skip;

use support::memlua;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A scratch folder for one test, removed when the test ends.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("memlua-trace-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.0.join(name), text).unwrap();
        self.path(name)
    }

    /// memlua with `args`, run in this folder: (status, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run_in(&self.0, args)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = memlua().current_dir(dir).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The trace's lines as JSON values (the header first).
fn lines(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Records `script` in `dir`, then replays it: both outputs, which must
/// be the same, both runs succeeding.
fn record_and_replay(dir: &Path, trace: &str, script: &[&str]) -> String {
    record_and_replay_on(dir, trace, &[], script)
}

/// `record_and_replay` with options choosing the machine for the
/// recording (the replay takes its machine from the trace).
fn record_and_replay_on(dir: &Path, trace: &str, machine: &[&str], script: &[&str]) -> String {
    let mut rec = vec!["--record", trace];
    rec.extend_from_slice(machine);
    rec.extend_from_slice(script);
    let (code, out, err) = run_in(dir, &rec);
    assert_eq!(code, 0, "recording {script:?}: {err}");
    let mut rep = vec!["--replay", trace];
    rep.extend_from_slice(script);
    let (code, out2, err) = run_in(dir, &rep);
    assert_eq!(code, 0, "replaying {script:?}: {err}");
    assert_eq!(out, out2, "{script:?}: the replay printed something else");
    out
}

#[test]
fn every_example_replays_with_the_same_output() {
    let d = Dir::new("examples");
    let mut n = 0;
    for e in std::fs::read_dir(Path::new(ROOT).join("examples")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "lua") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let trace = d.path(&format!("{name}.jsonl"));
        let script = format!("examples/{name}.lua");
        // The HPET recipe is for the q35 board (and QEMU's q35).
        let machine: &[&str] = if name == "hpet" {
            &["--board", "q35"]
        } else {
            &[]
        };
        let out = record_and_replay_on(Path::new(ROOT), &trace, machine, &[&script]);
        assert!(out.ends_with(&format!("{name}: OK\n")), "{name}: {out}");
        let t = lines(&trace);
        assert!(t.len() > 2, "{name}: no access recorded");
        n += 1;
    }
    assert!(n >= 5, "only {n} examples");
}

/// The tests/lua suites that use no simulator control (`sim.*`, another
/// session, an added stdlib module) run under the binary
/// (tests/support/cli_suite.lua), recorded and replayed. (The suites in
/// `memlua test`'s form, `*_test.lua`, run a fresh backend per file, which
/// one trace does not hold.)
#[test]
fn suites_without_simulator_controls_replay_with_the_same_output() {
    let d = Dir::new("suites");
    for suite in ["debug_forge", "stdlib_svd", "portable"] {
        let trace = d.path(&format!("{suite}.jsonl"));
        let file = format!("tests/lua/{suite}.lua");
        let out = record_and_replay(
            Path::new(ROOT),
            &trace,
            &["tests/support/cli_suite.lua", &file],
        );
        assert_eq!(out, format!("{file}: 0 failure(s)\n"));
    }
    // mem.lua checks that it runs on the simulator: the replay says
    // otherwise, and that is the only difference.
    let trace = d.path("mem.jsonl");
    let args = ["tests/support/cli_suite.lua", "tests/lua/mem.lua"];
    let (code, out, err) = run_in(
        Path::new(ROOT),
        &[&["--record", &trace][..], &args].concat(),
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "tests/lua/mem.lua: 0 failure(s)\n"),
        "{err}"
    );
    let (code, out, err) = run_in(
        Path::new(ROOT),
        &[&["--replay", &trace][..], &args].concat(),
    );
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "tests/lua/mem.lua:7: expected \"sim\", got \"replay\"\ntests/lua/mem.lua: 1 failure(s)\n"
        ),
        "{err}"
    );
}

/// Buffers, page lookups, memory ranges, kernel symbols, bulk transfers,
/// windows and failures: everything a script can ask replays.
#[test]
fn every_kind_of_operation_replays() {
    let d = Dir::new("kinds");
    d.write(
        "all.lua",
        r#"
local b = mem.alloc(8192)
b:write64(8, 0x1122334455667788)
b:lock()
local pl = b:pages()
print(#pl, pl:state(1), pl:paddr(1) ~= nil, b:read64(8) == 0x1122334455667788)
local e = mem.extract(b.addr)
print(e.state, e.paddr == pl:paddr(1))
b:unlock()
b:free()
print(memrange.count())
for _, r in ipairs(memrange.get()) do
  if r.flags & memrange.flags("active") ~= 0 then print(hex(r.base), hex(r.len), memrange.names(r.flags)) end
end
memrange.set { base = 0xa0000000, len = 0x100000, flags = "write-combine", owner = "fb" }
local ok, err = pcall(memrange.set, { base = 0xa0000001, len = 0x1000, flags = "write-combine" })
print(ok, err.errno)
memrange.remove { base = 0xa0000000, len = 0x100000 }
local hz = kmem.symbol("hz")
print(hex(hz), kmem.read32(hz))
print(pcall(kmem.symbol, "nosuch"))
mem.write(0x200000, "hello, trace")
print(mem.read(0x200000, 12))
local w = mem.map(0x200000, 4096)
w:write16(2, 0xbeef)
print(hex(w:read32(0)), w:read(0, 5))
local ok, err = pcall(mem.read32, 0x200002)
print(ok, err.errno, err.op, err.message)
print(pcall(mem.read8, 1 << 50))
trace.mark("the end")
"#,
    );
    let trace = d.path("all.jsonl");
    let out = record_and_replay(&d.0, &trace, &["all.lua"]);
    assert!(out.contains("hello, trace"), "{out}");
    let ops: Vec<String> = lines(&trace)[1..]
        .iter()
        .map(|l| l["op"].as_str().unwrap().to_string())
        .collect();
    for op in [
        "process_map",
        "process_lock",
        "process_unlock",
        "process_unmap",
        "extract",
        "range_count",
        "range_get",
        "range_set",
        "symbol",
        "read_bytes",
        "write_bytes",
        "mark",
        "end",
    ] {
        assert!(ops.iter().any(|o| o == op), "no {op} in {ops:?}");
    }
    // A failure is recorded with its errno and replayed with it.
    assert!(lines(&trace)
        .iter()
        .any(|l| l["errno"] == "EINVAL" && l["op"] == "read"));
}

const PROBE: &str = "local uart = 0xFE000000
mem.write8(uart + 3, 0x80)
mem.write8(uart, 1)
mem.write32(0x100000, 0x1234)
print(mem.read32(0x100000))
mem.write32(0x100004, 7)
";

#[test]
fn a_changed_script_fails_its_strict_replay_naming_the_step_and_both_places() {
    let d = Dir::new("changed");
    d.write("probe.lua", PROBE);
    let trace = d.path("probe.jsonl");
    record_and_replay(&d.0, &trace, &["probe.lua"]);
    let cases: [(&str, &str, &str, &[&str]); 4] = [
        (
            "one write value",
            "mem.write8(uart, 1)",
            "mem.write8(uart, 2)",
            &[
                "seq 2",
                "mem.write8(0xfe000000, 0x1) at probe.lua:3",
                "mem.write8(0xfe000000, 0x2) at changed.lua:3",
            ],
        ),
        (
            "one address",
            "mem.write32(0x100000, 0x1234)",
            "mem.write32(0x100008, 0x1234)",
            &[
                "seq 3",
                "mem.write32(0x100000, 0x1234) at probe.lua:4",
                "mem.write32(0x100008, 0x1234) at changed.lua:4",
            ],
        ),
        (
            "one width",
            "mem.write32(0x100000, 0x1234)",
            "mem.write16(0x100000, 0x1234)",
            &[
                "seq 3",
                "mem.write32(0x100000, 0x1234) at probe.lua:4",
                "mem.write16(0x100000, 0x1234) at changed.lua:4",
            ],
        ),
        (
            "one extra access",
            "mem.write32(0x100000, 0x1234)",
            "mem.read8(uart + 5)\nmem.write32(0x100000, 0x1234)",
            &[
                "seq 3",
                "mem.write32(0x100000, 0x1234) at probe.lua:4",
                "mem.read8(0xfe000005) at changed.lua:4",
            ],
        ),
    ];
    for (what, from, to, says) in cases {
        d.write("changed.lua", &PROBE.replace(from, to));
        let (code, _, err) = d.run(&["--replay", &trace, "changed.lua"]);
        assert_eq!(code, 1, "{what}: {err}");
        assert!(err.contains("replay diverged"), "{what}: {err}");
        for s in says {
            assert!(err.contains(s), "{what}: no {s:?} in {err}");
        }
    }
    // One access fewer: the recorded one is left over at the end.
    d.write(
        "changed.lua",
        &PROBE.replace("mem.write32(0x100004, 7)\n", ""),
    );
    let (code, _, err) = d.run(&["--replay", &trace, "changed.lua"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("1 recorded operation left over, the first at seq 5")
            && err.contains("mem.write32(0x100004, 0x7) at probe.lua:6"),
        "{err}"
    );
    // Relaxed mode compares the same things, only the order differs.
    d.write(
        "changed.lua",
        &PROBE.replace("mem.write8(uart, 1)", "mem.write8(uart, 2)"),
    );
    let (code, _, err) = d.run(&[
        "--replay",
        &trace,
        "--replay-mode",
        "relaxed",
        "changed.lua",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("mem.write8(0xfe000000, 0x2) at changed.lua:3"),
        "{err}"
    );
}

#[test]
fn a_script_that_catches_the_difference_still_fails() {
    let d = Dir::new("caught");
    d.write("probe.lua", PROBE);
    let trace = d.path("probe.jsonl");
    record_and_replay(&d.0, &trace, &["probe.lua"]);
    d.write(
        "changed.lua",
        &PROBE.replace("mem.write8(uart, 1)", "print(pcall(mem.write8, uart, 2))"),
    );
    let (code, out, err) = d.run(&["--replay", &trace, "changed.lua"]);
    assert!(out.starts_with("false"), "{out}");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("replay diverged at seq 2"), "{err}");
}

#[test]
fn relaxed_mode_takes_reordered_writes_and_longer_or_shorter_polls() {
    let d = Dir::new("relaxed");
    d.write(
        "a.lua",
        "mem.write32(0x100000, 1)\nmem.write32(0x200000, 2)\n\
         for i = 1, 3 do mem.read32(0xfe003000) end\nprint(mem.read32(0x100000))\n",
    );
    let trace = d.path("a.jsonl");
    record_and_replay(&d.0, &trace, &["a.lua"]);
    // The poll is one line read three times.
    assert!(lines(&trace).iter().any(|l| l["repeat"] == 3));
    for (changed, polls) in [
        (
            "mem.write32(0x200000, 2)\nmem.write32(0x100000, 1)\n",
            "for i = 1, 3 do",
        ),
        (
            "mem.write32(0x100000, 1)\nmem.write32(0x200000, 2)\n",
            "for i = 1, 5 do",
        ),
        (
            "mem.write32(0x100000, 1)\nmem.write32(0x200000, 2)\n",
            "for i = 1, 1 do",
        ),
    ] {
        d.write(
            "b.lua",
            &format!("{changed}{polls} mem.read32(0xfe003000) end\nprint(mem.read32(0x100000))\n"),
        );
        let (code, _, err) = d.run(&["--replay", &trace, "b.lua"]);
        assert_eq!(code, 1, "strict takes {changed:?} {polls}: {err}");
        let (code, out, err) = d.run(&["--replay", &trace, "--replay-mode", "relaxed", "b.lua"]);
        assert_eq!(
            (code, out.as_str()),
            (0, "1\n"),
            "{changed:?} {polls}: {err}"
        );
    }
}

/// The memlua binary, for runs that need signals.
fn binary() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin!("memlua"));
    for v in [
        "MEMLUA_INIT",
        "MEMLUA_PATH",
        "MEMLUA_BACKEND",
        "MEMLUA_BOARD",
    ] {
        c.env_remove(v);
    }
    c
}

const LOOP: &str =
    "local i = 0\nwhile true do\n  mem.write32(0x100000 + (i % 1024) * 4, i)\n  i = i + 1\nend\n";

/// Starts recording the endless LOOP and waits until more than a block
/// of it is in the file.
fn endless_recording(d: &Dir) -> (std::process::Child, String) {
    d.write("loop.lua", LOOP);
    let trace = d.path("loop.jsonl");
    let child = binary()
        .current_dir(&d.0)
        .args(["--record", &trace, "loop.lua"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::fs::metadata(&trace).map_or(0, |m| m.len()) < 200_000 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the recording does not grow"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, trace)
}

#[test]
fn a_recording_stopped_by_ctrl_c_replays_to_the_same_point() {
    let d = Dir::new("sigint");
    let (child, trace) = endless_recording(&d);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted!"));
    let t = lines(&trace);
    let end = t.last().unwrap();
    assert_eq!(end["op"], "end", "{end}");
    assert_eq!(end["how"], "error");
    assert!(end["message"].as_str().unwrap().contains("interrupted!"));
    let seq = end["seq"].as_u64().unwrap();
    assert_eq!(seq as usize, t.len() - 1);
    let (code, _, err) = d.run(&["--replay", &trace, "loop.lua"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("replay diverged at seq {seq} "))
            && err
                .contains("the recording ended there (error, status 1: loop.lua:3: interrupted!)")
            && err.contains("at loop.lua:3"),
        "{err}"
    );
}

#[test]
fn a_crash_loses_at_most_the_last_block_and_never_the_structure() {
    let d = Dir::new("sigkill");
    let (mut child, trace) = endless_recording(&d);
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(text.ends_with('\n'));
    let t = lines(&trace);
    assert_ne!(t.last().unwrap()["op"], "end");
    let (code, out, err) = d.run(&["trace", "stats", &trace]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no end line"), "{out}");
    let (code, _, err) = d.run(&["--replay", &trace, "loop.lua"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ends there without an end line"), "{err}");
}

#[test]
fn a_recording_ended_by_os_exit_replays_to_the_same_point() {
    let d = Dir::new("exit");
    for (name, exit) in [("plain", "os.exit(3)"), ("closing", "os.exit(3, true)")] {
        let script = format!(
            "local b = mem.alloc(4096)\nmem.write32(0x100000, 5)\nprint(mem.read32(0x100000))\n\
             {exit}\nmem.write32(0x100000, 6)\n"
        );
        let file = format!("{name}.lua");
        d.write(&file, &script);
        let trace = d.path(&format!("{name}.jsonl"));
        let (code, out, err) = d.run(&["--record", &trace, &file]);
        assert_eq!((code, out.as_str()), (3, "5\n"), "{name}: {err}");
        let t = lines(&trace);
        let end = t.last().unwrap();
        assert_eq!(
            (&end["op"], &end["how"], &end["status"]),
            (&"end".into(), &"os.exit".into(), &3.into()),
            "{name}: {end}"
        );
        assert_eq!(end["src"], format!("{name}.lua:4"));
        let (code, out, err) = d.run(&["--replay", &trace, &file]);
        assert_eq!((code, out.as_str()), (3, "5\n"), "{name}: {err}");
        // A replay that exits earlier leaves the rest over.
        d.write("early.lua", &script.replace("print(", "os.exit(3) print("));
        let (code, _, err) = d.run(&["--replay", &trace, "early.lua"]);
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("left over"), "{err}");
    }
}

#[test]
fn a_damaged_trace_is_refused_with_its_line() {
    let d = Dir::new("damaged");
    d.write("probe.lua", PROBE);
    let trace = d.path("probe.jsonl");
    record_and_replay(&d.0, &trace, &["probe.lua"]);
    let text = std::fs::read_to_string(&trace).unwrap();
    let keep: Vec<&str> = text.lines().take(3).collect();
    let fourth = text.lines().nth(3).unwrap();
    let cut = format!("{}\n{}", keep.join("\n"), &fourth[..fourth.len() / 2]);
    let cut_path = d.write("cut.jsonl", &cut);
    let (code, _, err) = d.run(&["--replay", &cut_path, "probe.lua"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{cut_path}:4: the line is cut short")) && err.contains("truncated"),
        "{err}"
    );
    let (code, _, err) = d.run(&["trace", "show", &cut_path]);
    assert_eq!(code, 1);
    assert!(err.contains("cut.jsonl:4:"), "{err}");
    // A line taken out: the numbering shows the gap.
    let gap: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| l)
        .collect();
    let gap_path = d.write("gap.jsonl", &(gap.join("\n") + "\n"));
    let (code, _, err) = d.run(&["--replay", &gap_path, "probe.lua"]);
    assert_eq!(code, 1);
    assert!(err.contains("gap.jsonl:3: seq 3 where 2 was due"), "{err}");
    // Not a trace at all.
    let not = d.write("not.jsonl", "hello\n");
    let (code, _, err) = d.run(&["--replay", &not, "probe.lua"]);
    assert_eq!(code, 1);
    assert!(err.contains("not.jsonl:1: not a memlua trace"), "{err}");
    let (code, _, err) = d.run(&["--replay", &d.path("missing.jsonl"), "probe.lua"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read the trace"), "{err}");
}

#[test]
fn a_native_recording_replays_without_its_file() {
    let d = Dir::new("native");
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    let file = d.path("dump.bin");
    std::fs::write(&file, &data).unwrap();
    d.write(
        "peek.lua",
        "print(backend.writable, hex(mem.read32(0x100)), hex(mem.read64(0x1000)))\n\
         local w = mem.map(0x2000, 4096)\nw:write32(8, 0xcafe)\nprint(hex(w:read32(8)), #w:read(0, 100))\n\
         print(pcall(mem.read8, 0x10000))\nprint(mem.read(0x10, 8):byte(1, -1))\n",
    );
    let trace = d.path("peek.jsonl");
    let (code, out, err) = d.run(&[
        "-b", "native", "--mem", &file, "-w", "--record", &trace, "peek.lua",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("true\t0x"), "{out}");
    assert!(out.contains("EFAULT"), "{out}");
    let header = &lines(&trace)[0];
    assert_eq!(header["backend"], "native");
    assert_eq!(header["regions"][0]["name"], "dump.bin");
    std::fs::remove_file(&file).unwrap();
    let (code, out2, err) = d.run(&["--replay", &trace, "peek.lua"]);
    assert_eq!((code, out2), (0, out), "{err}");
}

/// Issue 17: `--dry-run --record` over a --mem file leaves it as it was,
/// and the trace has every write the dry run swallowed, marked not
/// performed; the trace replays the same run.
#[test]
fn a_dry_run_recording_marks_its_writes_not_performed_and_replays() {
    let d = Dir::new("dry");
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 13 + 5) as u8).collect();
    let file = d.path("mem.bin");
    std::fs::write(&file, &data).unwrap();
    d.write(
        "plan.lua",
        "mem.write32(0x100, 0xdeadbeef)\n\
         print(hex(mem.read32(0x100)))\n\
         local w = mem.map(0, 0x1000)\n\
         w:write8(3, 2)\n\
         w:write(16, 'xyz')\n\
         mem.write(0x200, string.rep('A', 100))\n\
         local b = mem.alloc(4096)\n\
         b:write32(0, 7)\n\
         print(b:read32(0), w:read(16, 3) == 'xyz')\n",
    );
    let trace = d.path("plan.jsonl");
    let (code, out, err) = d.run(&[
        "--dry-run",
        "-b",
        "native",
        "--mem",
        &file,
        "-w",
        "--record",
        &trace,
        "plan.lua",
    ]);
    assert_eq!(code, 0, "{err}");
    // What the file holds: the write was not made.
    let at_100 = u32::from_le_bytes(data[0x100..0x104].try_into().unwrap());
    assert_eq!(out, format!("{at_100:#x}\n0\tfalse\n"), "{err}");
    assert!(
        err.contains("memlua: dry run: 5 writes not performed (2 bulk, 103 bytes)"),
        "{err}"
    );
    assert!(std::fs::read(&file).unwrap() == data, "the file changed");
    let t = lines(&trace);
    let writes: Vec<(String, String, String)> = t[1..]
        .iter()
        .filter(|l| l["op"] == "write" || l["op"] == "write_bytes")
        .map(|l| {
            assert_eq!(l["performed"], false, "{l}");
            let at = l["src"].as_str().unwrap().to_string();
            (
                l["space"].as_str().unwrap().into(),
                l["addr"].as_str().unwrap().into(),
                at,
            )
        })
        .collect();
    let want = [
        ("phys", "0x100", "plan.lua:1"),
        ("phys", "0x3", "plan.lua:4"),
        ("phys", "0x10", "plan.lua:5"),
        ("phys", "0x200", "plan.lua:6"),
        ("process", "", "plan.lua:8"),
    ];
    assert_eq!(writes.len(), want.len(), "{writes:?}");
    for ((space, addr, at), (ws, wa, wat)) in writes.iter().zip(want) {
        assert_eq!((space.as_str(), at.as_str()), (ws, wat));
        assert!(wa.is_empty() || addr == wa, "{addr} for {wa}");
    }
    // Nothing else is marked: the reads and the buffer calls were made.
    let marked = t.iter().filter(|l| l.get("performed").is_some()).count();
    assert_eq!(marked, 5);
    let (code, shown, err) = d.run(&["trace", "show", &trace]);
    assert_eq!(code, 0, "{err}");
    assert!(shown.contains("5 not performed (a dry run)"), "{shown}");
    let rows = shown
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" not performed "))
        .count();
    assert_eq!(rows, 5, "{shown}");
    assert!(shown.contains("0xdeadbeef not performed"), "{shown}");
    // The replay is the same run: the writes succeed without effect, the
    // reads give what the dry run read, with no file and no dry run.
    std::fs::remove_file(&file).unwrap();
    let (code, out2, err) = d.run(&["--replay", &trace, "plan.lua"]);
    assert_eq!((code, out2), (0, out), "{err}");
    let (code, _, err) = d.run(&["--dry-run", "--replay", &trace, "plan.lua"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'--dry-run' does not apply to --replay"),
        "{err}"
    );
}

/// A dry run's memory-range change is in its trace too, not performed.
#[test]
fn a_dry_run_recording_marks_range_changes_not_performed() {
    let d = Dir::new("dry-ranges");
    d.write(
        "wc.lua",
        "memrange.set{base=0xA0000, len=0x20000, flags='write-combine', owner='fb'}\n\
         print(#memrange.get())\n",
    );
    let trace = d.path("wc.jsonl");
    let (code, out, err) = d.run(&["--dry-run", "--record", &trace, "wc.lua"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 memory range change not made"), "{err}");
    let set: Vec<_> = lines(&trace)
        .into_iter()
        .filter(|l| l["op"] == "range_set")
        .collect();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0]["performed"], false);
    assert_eq!(set[0]["src"], "wc.lua:1");
    let (code, shown, _) = d.run(&["trace", "show", &trace]);
    assert_eq!(code, 0);
    assert!(shown.contains("-> not performed  wc.lua:1"), "{shown}");
    let (code, out2, err) = d.run(&["--replay", &trace, "wc.lua"]);
    assert_eq!((code, out2), (0, out), "{err}");
}

/// One place says where the script is: a dry run's messages and a
/// trace's lines name the same line for a write through `memlua.regs`
/// (the script's, not the module's), a bulk write from a coroutine (where
/// it was resumed) and a window's write.
#[test]
fn a_dry_run_and_a_trace_name_the_same_script_lines() {
    let d = Dir::new("positions");
    d.write(
        "where.lua",
        "local regs = require 'memlua.regs'\n\
         local dev = regs.device{name='x', base=0x100000, registers={{name='A', offset=0, width=32}}}\n\
         dev.A = 5\n\
         local co = coroutine.wrap(function()\n\
           mem.write(0x100010, 'abc')\n\
           coroutine.yield()\n\
         end)\n\
         co()\n\
         mem.map(0x100000, 4096):write32(8, 1)\n",
    );
    let trace = d.path("where.jsonl");
    let (code, _, err) = d.run(&["--dry-run", "--record", &trace, "where.lua"]);
    assert_eq!(code, 0, "{err}");
    let said: Vec<String> = err
        .lines()
        .filter_map(|l| l.strip_prefix("would "))
        .map(|l| {
            l.rsplit_once(" (")
                .unwrap()
                .1
                .trim_end_matches(')')
                .to_string()
        })
        .collect();
    let recorded: Vec<String> = lines(&trace)[1..]
        .iter()
        .filter(|l| l["op"] == "write" || l["op"] == "write_bytes")
        .map(|l| l["src"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(said, ["where.lua:3", "where.lua:8", "where.lua:9"], "{err}");
    assert_eq!(recorded, said);
}

/// What `trace export --qtest` must write for a trace: the physical
/// accesses that succeeded, one command per access.
fn expected_qtest(trace: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in &lines(trace)[1..] {
        if l["space"] != "phys" || l.get("errno").is_some() {
            continue;
        }
        let addr = l["addr"].as_str().unwrap();
        let suffix = |w: u64| match w {
            8 => 'b',
            16 => 'w',
            32 => 'l',
            _ => 'q',
        };
        match l["op"].as_str().unwrap() {
            "read" => {
                let w = l["width"].as_u64().unwrap();
                for _ in 0..l.get("repeat").and_then(|r| r.as_u64()).unwrap_or(1) {
                    out.push(format!("read{} {addr}", suffix(w)));
                }
            }
            "write" => out.push(format!(
                "write{} {addr} {}",
                suffix(l["width"].as_u64().unwrap()),
                l["value"].as_str().unwrap()
            )),
            "read_bytes" => out.push(format!("b64read {addr} {}", l["len"].as_str().unwrap())),
            "write_bytes" => out.push(format!(
                "b64write {addr} {} {}",
                l["len"].as_str().unwrap(),
                l["data"].as_str().unwrap()
            )),
            other => panic!("unexpected phys op {other}"),
        }
    }
    out
}

#[test]
fn a_qtest_export_is_the_recorded_accesses_and_qemu_takes_it() {
    let d = Dir::new("qtest");
    d.write(
        "dev.lua",
        "mem.write8(0x100000, 0x12)\nmem.write16(0x100002, 0x3456)\nmem.write32(0x100004, 0x789abcde)\n\
         mem.write64(0x100008, 0x1122334455667788)\nfor i = 1, 4 do mem.read32(0x100004) end\n\
         print(hex(mem.read64(0x100008)), mem.read8(0x100000), mem.read16(0x100002))\n\
         mem.write(0x101000, ('abc'):rep(100))\nprint(#mem.read(0x101000, 300))\n\
         local b = mem.alloc(4096) b:write32(0, 1)\nprint(pcall(mem.read32, 0x100001))\n",
    );
    let trace = d.path("dev.jsonl");
    record_and_replay(&d.0, &trace, &["dev.lua"]);
    let script = d.path("dev.qtest");
    let (code, out, err) = d.run(&["trace", "export", "--qtest", &trace, "-o", &script]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("1 failed on the recorded machine, 1 not physical memory"),
        "{err}"
    );
    let text = std::fs::read_to_string(&script).unwrap();
    let got: Vec<String> = text.lines().map(str::to_string).collect();
    let want = expected_qtest(&trace);
    assert_eq!(got, want);
    assert_eq!(got.len(), 13);
    // To stdout without -o.
    let (code, out, _) = d.run(&["trace", "export", "--qtest", &trace]);
    assert_eq!((code, out), (0, text.clone()));

    let qemu = "qemu-system-x86_64";
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(qemu).is_file()))
        .unwrap_or(false);
    if !found {
        skip::skip(&format!(
            "{qemu} is not installed; the export was checked, not run"
        ));
        return;
    }
    let mut child = Command::new(qemu)
        .args(["-machine", "q35", "-accel", "tcg", "-S", "-display", "none"])
        .args(["-qtest", "stdio", "-qtest-log", "/dev/null", "-nodefaults"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let mut answers = BufReader::new(child.stdout.take().unwrap()).lines();
    // qemu keeps running after its input ends: read one answer a line,
    // then stop it.
    let mut got = Vec::new();
    for _ in 0..want.len() {
        match answers.next() {
            Some(Ok(a)) => got.push(a),
            _ => break,
        }
    }
    let _ = child.kill();
    let status = child.wait_with_output().unwrap();
    assert_eq!(
        got.len(),
        want.len(),
        "qemu answered {got:?}; stderr: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (cmd, answer) in want.iter().zip(&got) {
        assert!(answer.starts_with("OK"), "{cmd} -> {answer}");
    }
    // What qemu read back is what the recording wrote.
    assert!(got.iter().any(|a| a == "OK 0x1122334455667788"), "{got:?}");
}

#[test]
fn the_trace_tool_shows_counts_and_compares() {
    let d = Dir::new("tool");
    d.write("probe.lua", PROBE);
    d.write("poll.lua", "for i = 1, 3 do mem.read8(0xFE000005) end\n");
    let trace = d.path("probe.jsonl");
    record_and_replay(&d.0, &trace, &["probe.lua"]);
    let poll = d.path("poll.jsonl");
    record_and_replay(&d.0, &poll, &["poll.lua"]);
    let (code, out, err) = d.run(&["trace", "show", &poll]);
    assert_eq!(code, 0, "{err}");
    let row = out
        .lines()
        .find(|l| l.contains("read x3"))
        .unwrap_or_default();
    for part in ["0xfe000005", "uart0", " 8 ", "0x60", "poll.lua:1"] {
        assert!(row.contains(part), "{part}: {out}");
    }
    assert!(out.starts_with("# backend sim (board pc)"), "{out}");
    let (code, out, _) = d.run(&["trace", "stats", &trace]);
    assert_eq!(code, 0);
    assert!(out.contains("5 accesses"), "{out}");
    let uart = out
        .lines()
        .find(|l| l.trim_start().starts_with("uart0"))
        .unwrap();
    assert_eq!(
        uart.split_whitespace().collect::<Vec<_>>(),
        ["uart0", "2", "0", "2", "0", "0"]
    );
    let (code, out, _) = d.run(&["trace", "diff", &trace, &trace]);
    assert_eq!(
        (code, out.as_str()),
        (0, "the traces agree: 5 operations\n")
    );
    d.write("changed.lua", &PROBE.replace("0x1234", "0x1235"));
    let other = d.path("changed.jsonl");
    record_and_replay(&d.0, &other, &["changed.lua"]);
    let (code, out, _) = d.run(&["trace", "diff", &trace, &other]);
    assert_eq!(code, 1);
    assert!(out.contains("at their operation 3"), "{out}");
    assert!(
        out.contains("mem.write32(0x100000, 0x1234) at probe.lua:4"),
        "{out}"
    );
    assert!(
        out.contains("mem.write32(0x100000, 0x1235) at changed.lua:4"),
        "{out}"
    );
    let (code, _, err) = d.run(&["trace", "frobnicate", &trace]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command 'frobnicate'"), "{err}");
    let (code, _, _) = d.run(&["trace", "--help"]);
    assert_eq!(code, 0);
    // --map with a replay: the recorded machine's map.
    let (code, out, _) = d.run(&["--replay", &trace, "--map"]);
    assert_eq!(code, 0);
    assert!(out.contains("uart0 (uart16550)"), "{out}");
}

#[test]
fn trace_mark_and_backend_name() {
    let d = Dir::new("mark");
    let (code, out, err) = d.run(&[
        "-e",
        "trace.mark('nothing records this') print(backend.name)",
    ]);
    assert_eq!((code, out.as_str()), (0, "sim\n"), "{err}");
    let (code, _, err) = d.run(&["-e", "trace.mark({})"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("bad argument #1 to 'trace.mark' (string expected, got table)"),
        "{err}"
    );
    d.write(
        "m.lua",
        "trace.mark('start')\nmem.write8(0x1000, 1)\ntrace.mark('phase \"2\"')\nprint(backend.name, backend.board, backend.writable)\n",
    );
    let trace = d.path("m.jsonl");
    let (code, out, _) = d.run(&["--record", &trace, "m.lua"]);
    assert_eq!((code, out.as_str()), (0, "sim\tpc\ttrue\n"));
    let marks: Vec<_> = lines(&trace)
        .into_iter()
        .filter(|l| l["op"] == "mark")
        .map(|l| (l["text"].clone(), l["src"].clone()))
        .collect();
    assert_eq!(
        marks,
        [
            ("start".into(), "m.lua:1".into()),
            ("phase \"2\"".into(), "m.lua:3".into())
        ]
    );
    let (code, out, err) = d.run(&["--replay", &trace, "m.lua"]);
    assert_eq!((code, out.as_str()), (0, "replay\tpc\ttrue\n"), "{err}");
}

#[test]
fn options_that_do_not_apply_to_a_replay_are_usage_errors() {
    let d = Dir::new("usage");
    for (args, says) in [
        (
            &["--replay", "t.jsonl", "--board", "pc", "-e", ""][..],
            "'--board' does not apply to --replay",
        ),
        (
            &["--replay", "t.jsonl", "--mem", "x", "-e", ""],
            "'--mem' does not apply to --replay",
        ),
        (
            &["--replay", "t.jsonl", "--record", "u.jsonl", "-e", ""],
            "cannot be combined",
        ),
        (
            &["--replay-mode", "relaxed", "-e", ""],
            "'--replay-mode' is for --replay",
        ),
        (
            &["--replay-mode", "loose", "-e", ""],
            "unknown replay mode 'loose'",
        ),
    ] {
        let (code, _, err) = d.run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (code, _, err) = d.run(&["--record", &d.path("no/such/dir/t.jsonl"), "-e", ""]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot create the trace"), "{err}");
}

/// README.md's recipe ("Recording and replaying"), as it is printed there.
#[test]
fn the_readme_recipe() {
    let d = Dir::new("readme");
    std::fs::create_dir_all(d.0.join("examples")).unwrap();
    let recipe = std::fs::read_to_string(Path::new(ROOT).join("examples/uart-hello.lua")).unwrap();
    d.write("examples/uart-hello.lua", &recipe);
    let ok = "LCR = 0x03 (WLS=3 8BITS, STB=0, PEN=0, DLAB=0)\nuart-hello: OK\n";
    let (code, out, _) = d.run(&["--record", "uart.jsonl", "examples/uart-hello.lua"]);
    assert_eq!((code, out.as_str()), (0, ok));
    let (code, out, _) = d.run(&["--replay", "uart.jsonl", "examples/uart-hello.lua"]);
    assert_eq!((code, out.as_str()), (0, ok));
    d.write(
        "uart-2.lua",
        &recipe.replace("uart.DLL = 1", "uart.DLL = 2"),
    );
    let (code, _, err) = d.run(&["--replay", "uart.jsonl", "uart-2.lua"]);
    assert_eq!(code, 1);
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let first = err.lines().next().unwrap();
    assert!(readme.contains(first), "README.md does not show: {first}");
}
