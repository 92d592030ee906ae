//! The qemu backend against real QEMU (Debian's qemu-system-x86 and
//! qemu-system-arm; .ci/run installs them): the values QEMU's q35 and virt
//! machines give, the same recipe on the simulated board, bad input kept
//! from QEMU, QEMU dying or stalling, and no QEMU outliving memlua. A test
//! whose QEMU program is missing prints `skipped: TEST: WHY`.
//!
//! Every QEMU a test starts carries a marker in its command line (`-name
//! memlua-test-PID-TEST`); each test ends by checking that no live process
//! with its marker is left.

mod support;

#[path = "support/layers.rs"]
mod layers;
#[path = "support/skip.rs"]
mod skip;
#[path = "support/suite.rs"]
mod suite;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use memlua_bindings::memlua_runtime::qemu::{Qemu, StartOptions, DEFAULT_TIMEOUT};
use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::Backend;
use support::memlua;

const X86: &str = "qemu-system-x86_64";
const ARM: &str = "qemu-system-aarch64";

/// Whether `program` is on PATH; if not, the test says it is skipped.
fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    if !found {
        skip::skip(&format!(
            "{program} is not installed (apt-get install qemu-system-x86 qemu-system-arm)"
        ));
    }
    found
}

/// The marker of one test's QEMUs.
fn marker(test: &str) -> String {
    format!("memlua-test-{}-{test}", std::process::id())
}

/// Live (not zombie) processes whose command line holds `marker`.
fn alive_with(marker: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let p = e.path();
        let Ok(cmd) = std::fs::read(p.join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if !cmd.contains(marker) || !cmd.contains("qemu-system") {
            continue;
        }
        // Field 3 of stat is the state; a zombie has ended (this
        // container's init may never reap it).
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        if !matches!(state, Some("Z") | Some("X") | None) {
            out.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
        }
    }
    out
}

/// Fails unless every QEMU with `marker` is gone within a few seconds.
fn assert_none_left(marker: &str) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let left = alive_with(marker);
        if left.is_empty() {
            return;
        }
        if Instant::now() > end {
            panic!("QEMU outlived memlua: {left:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// memlua on a QEMU `machine` carrying `marker`.
fn on_qemu(machine: &str, marker: &str) -> Command {
    let mut c = memlua();
    c.args(["-b", "qemu", "--machine", machine])
        .arg("--qemu-arg=-name")
        .arg(format!("--qemu-arg={marker}"))
        .timeout(Duration::from_secs(120));
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `chunk`, which must end by printing "OK".
fn script_ok(c: &mut Command, chunk: &str) -> String {
    let (code, out, err) = run(c.args(["-e", chunk]));
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.ends_with("OK\n"), "stdout:\n{out}\nstderr:\n{err}");
    out
}

/// A QEMU started in this process (for the Lua suites).
fn start_q35(marker: &str) -> Qemu {
    Qemu::start(&StartOptions {
        machine: "q35".into(),
        program: None,
        args: vec!["-name".into(), marker.into()],
        timeout: DEFAULT_TIMEOUT,
    })
    .unwrap_or_else(|e| panic!("QEMU did not start: {e}"))
}

// ---- what QEMU's machines answer ------------------------------------------

/// Reads that the simulated q35 board and QEMU's q35 must answer alike.
const Q35_COMMON: &str = r#"
print(("hpet id %08x period %08x"):format(mem.read32(0xfed00000), mem.read32(0xfed00004)))
print(("reset vector %02x"):format(mem.read8(0xffff0)))
print(("top 16 bytes %q"):format(mem.read(0xffff0, 16)))
print(("bios top %q"):format(mem.read(0xfffffff0, 16)))
print(("hpet timer0 %016x cmp %016x"):format(mem.read64(0xfed00100), mem.read64(0xfed00108)))
print(backend.board, pcall(memrange.count) and "ranges" or "no ranges")
print("OK")
"#;

#[test]
fn q35_hpet_bios_ram_and_ports_as_qemu_gives_them() {
    if !have(X86) {
        return;
    }
    let m = marker("q35");
    let on_sim = script_ok(memlua().args(["--board", "q35"]), Q35_COMMON);
    let on_q = script_ok(&mut on_qemu("q35", &m), Q35_COMMON);
    assert_eq!(on_sim, on_q, "the q35 board and QEMU's q35 differ");
    assert!(on_q.contains("hpet id 8086a201 period 00989680"), "{on_q}");
    assert!(on_q.contains("reset vector ea"), "{on_q}");

    script_ok(
        &mut on_qemu("q35", &m),
        r#"
        -- RAM: every width, one access each, little-endian.
        for _, w in ipairs{8, 16, 32, 64} do
          local v = w == 64 and 0x0123456789abcdef or (1 << w) - 3
          mem["write" .. w](0x10000, v)
          assert(mem["read" .. w](0x10000) == v, "width " .. w)
        end
        mem.write64(0x20000, 0x1122334455667788)
        assert(mem.read32(0x20004) == 0x11223344 and mem.read16(0x20002) == 0x5566)
        assert(mem.read8(0x20007) == 0x11)
        mem.write(0x30001, "bulk bytes")
        assert(mem.read(0x30001, 10) == "bulk bytes")
        local w = mem.map(0x40000, 0x1000)
        w:write32(0x10, 0xfeedface)
        assert(mem.read32(0x40010) == 0xfeedface and w:read16(0x12) == 0xfeed)
        -- Port I/O: the q35 host bridge through 0xcf8/0xcfc, the RTC's
        -- register A through 0x70/0x71.
        qemu.io_write32(0xcf8, 0x80000000)
        local id = qemu.io_read32(0xcfc)
        print(("host bridge %04x:%04x"):format(id & 0xffff, id >> 16))
        assert(id == 0x29c08086)
        assert(qemu.io_read16(0xcfc) == 0x8086 and qemu.io_read16(0xcfe) == 0x29c0)
        qemu.io_write8(0x70, 0x0a)
        assert(qemu.io_read8(0x71) == 0x26, "RTC register A")
        -- The monitors.
        assert(qemu.qmp("query-status").status == "prelaunch")
        assert(qemu.hmp("info mtree -f"):find("hpet", 1, true))
        assert(math.type(qemu.pid()) == "integer")
        print("OK")
        "#,
    );
    assert_none_left(&m);
}

#[test]
fn q35_one_mib_bulk_read_equals_one_mib_of_byte_reads() {
    if !have(X86) {
        return;
    }
    let m = marker("bulk");
    // Low RAM filled with a pattern, then ROM: 1 MiB across chunks and
    // region boundaries, read once in bulk and once a byte at a time.
    let out = script_ok(
        &mut on_qemu("q35", &m),
        r#"
        local n = 1 << 20
        local t = {}
        for i = 0, 0xbffff // 4096 do t[#t + 1] = string.pack("<I4", i * 2654435761 & 0xffffffff):rep(1024) end
        mem.write(0, table.concat(t))
        local bulk = mem.read(0, n)
        assert(#bulk == n)
        local differ = 0
        for a = 0, n - 1 do
          if mem.read8(a) ~= bulk:byte(a + 1) then differ = differ + 1 end
        end
        print("bytes that differ:", differ)
        assert(differ == 0)
        assert(bulk:sub(0xffff0 + 1, 0xffff0 + 5) == "\xea\x5b\xe0\x00\xf0")
        print("OK")
        "#,
    );
    assert!(out.contains("bytes that differ:\t0"), "{out}");
    assert_none_left(&m);
}

/// PL011 and device-tree reads the arm64-virt board and QEMU's virt share.
const VIRT_COMMON: &str = r#"
local id = {}
for off = 0xfe0, 0xffc, 4 do id[#id + 1] = ("%02x"):format(mem.read32(0x09000000 + off)) end
print("pl011 ids " .. table.concat(id, " "))
print(("pl011 fr %02x cr %04x ifls %02x"):format(mem.read32(0x09000018), mem.read32(0x09000030), mem.read32(0x09000034)))
print("OK")
"#;

#[test]
fn virt_pl011_ids_and_device_tree_as_qemu_gives_them() {
    if !have(ARM) {
        return;
    }
    let m = marker("virt");
    let on_sim = script_ok(memlua().args(["--board", "arm64-virt"]), VIRT_COMMON);
    let on_q = script_ok(&mut on_qemu("virt", &m), VIRT_COMMON);
    assert_eq!(
        on_sim, on_q,
        "the arm64-virt board's PL011 and QEMU's differ"
    );
    assert!(on_q.contains("pl011 ids 11 10 14 00 0d f0 05 b1"), "{on_q}");
    assert!(on_q.contains("pl011 fr 90"), "{on_q}");
    script_ok(
        &mut on_qemu("virt", &m),
        r#"
        assert(mem.read32(0x40000000) == 0xedfe0dd0, "device-tree magic (big-endian d00dfeed)")
        local e = select(2, pcall(qemu.io_read8, 0x70))
        assert(e.errno == "EOPNOTSUPP" and e.message:find("aarch64", 1, true), tostring(e))
        print("OK")
        "#,
    );
    assert_none_left(&m);
}

// ---- bad input, QEMU failing ----------------------------------------------

#[test]
fn bad_input_is_refused_before_it_reaches_qemu() {
    if !have(X86) {
        return;
    }
    let m = marker("badinput");
    // QEMU aborts on a command it cannot parse: that it still answers,
    // with RAM unchanged, shows none of these reached it.
    script_ok(
        &mut on_qemu("q35", &m),
        r#"
        mem.write32(0x1000, 0x01020304)
        local function err(errno, f, ...)
          local ok, e = pcall(f, ...)
          assert(not ok and type(e) == "table" and e.errno == errno,
            ("expected %s, got %s"):format(errno, tostring(e)))
          return e
        end
        err("EINVAL", mem.read32, 0x1002)
        err("EINVAL", mem.write64, 0x1004, 0)
        err("EFAULT", mem.read32, 1 << 40)
        err("EFAULT", mem.read64, -8)
        err("EFAULT", mem.read, (1 << 40) - 2, 4)
        err("EFAULT", mem.write, -2, "abcd")
        err("EINVAL", mem.write8, 0x1000, 0x100)
        err("EINVAL", mem.write16, 0x1000, 0x10000)
        err("EINVAL", mem.write32, 0x1000, 0x100000000)
        err("EFAULT", qemu.io_read8, 0x10000)
        err("EFAULT", qemu.io_read32, 0xfffe)
        err("EINVAL", qemu.io_write8, 0x80, 0x100)
        err("EINVAL", qemu.hmp, "")
        err("EINVAL", qemu.hmp, "info version\nquit")
        err("EINVAL", qemu.hmp, "info\0mtree")
        err("ENOENT", qemu.hmp, "no_such_command")
        err("EINVAL", qemu.qmp, "query status")
        err("EINVAL", qemu.qmp, "")
        err("EINVAL", qemu.irq_intercept, "io apic")
        err("EINVAL", qemu.irq_intercept, "ioapic\nreadl 0")
        err("ENOENT", qemu.irq_intercept, "/machine")
        err("ENOENT", qemu.irq_intercept, "/no/such/device")
        assert(not pcall(qemu.qmp, "query-status", {1, 2}), "arguments must be an object")
        assert(not pcall(qemu.irq_intercept, "ioapic", "sideways"))
        assert(mem.read32(0x1000) == 0x01020304, "nothing was written")
        assert(qemu.qmp("query-status").status == "prelaunch", "QEMU is still there")
        assert(os.execute("kill -0 " .. qemu.pid()), "the same QEMU")
        print("OK")
        "#,
    );
    assert_none_left(&m);
}

#[test]
fn qemu_killed_mid_script_is_eio_and_a_stall_times_out() {
    if !have(X86) {
        return;
    }
    let m = marker("killed");
    let t = Instant::now();
    let out = script_ok(
        &mut on_qemu("q35", &m),
        r#"
        -- A stalled QEMU: ETIMEDOUT within the timeout; its late reply is
        -- dropped, never taken for the next command's.
        mem.write32(0x1000, 0x1111)
        mem.write32(0x2000, 0x2222)
        local pid = qemu.pid()
        assert(qemu.timeout(0.3) == 5)
        os.execute("kill -STOP " .. pid)
        local ok, e = pcall(mem.read32, 0x2000)
        assert(not ok and e.errno == "ETIMEDOUT" and e.op == "mem.read32", tostring(e))
        print(e)
        os.execute("kill -CONT " .. pid)
        qemu.timeout(5)
        assert(mem.read32(0x1000) == 0x1111, "the late reply was not taken")
        -- Killed: EIO, saying so, on this access and every later one.
        os.execute("kill -KILL " .. pid)
        ok, e = pcall(mem.read32, 0x1000)
        assert(not ok and e.errno == "EIO" and e.message:find("SIGKILL", 1, true), tostring(e))
        print(e)
        ok, e = pcall(mem.read, 0, 4096)
        assert(not ok and e.errno == "EIO" and e.done == 0, tostring(e))
        ok, e = pcall(qemu.hmp, "info version")
        assert(not ok and e.errno == "EIO", tostring(e))
        print("OK")
        "#,
    );
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert!(out.contains("mem.read32: ETIMEDOUT: "), "{out}");
    assert!(out.contains("mem.read32: EIO: "), "{out}");
    assert_none_left(&m);
}

#[test]
fn qemu_that_cannot_start_is_a_failure_naming_why() {
    if !have(X86) {
        return;
    }
    let m = marker("nostart");
    let (code, _, err) = run(memlua().args([
        "-b",
        "qemu",
        "--qemu",
        "/nonexistent/qemu-system-x86_64",
        "-e",
        "print(1)",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("EIO") && err.contains("no program '/nonexistent/qemu-system-x86_64'"),
        "{err}"
    );
    let (code, _, err) =
        run(on_qemu("q35", &m).args(["--qemu-arg=-no-such-option", "-e", "print(1)"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("EIO") && err.contains("QEMU said:"), "{err}");
    assert!(err.contains("no-such-option"), "QEMU's own words: {err}");
    assert_none_left(&m);
}

// ---- no QEMU outlives memlua ----------------------------------------------

#[test]
fn no_qemu_outlives_memlua_however_it_ends() {
    if !have(X86) {
        return;
    }
    // A normal exit, a script error, os.exit (C's exit: no destructor runs).
    for (what, chunk, code) in [
        ("exit", "mem.read32(0)", 0),
        ("error", "mem.read32(0); error('boom')", 1),
        ("osexit", "mem.read32(0); os.exit(3)", 3),
        ("osexit-close", "mem.read32(0); os.exit(true, true)", 0),
    ] {
        let m = marker(what);
        let (got, _, err) = run(on_qemu("q35", &m).args(["-e", chunk]));
        assert_eq!(got, code, "{what}: {err}");
        assert_none_left(&m);
    }

    // memlua killed, and Ctrl-C (SIGINT to memlua's whole process group,
    // as a terminal sends it).
    for (what, signal) in [("sigkill", "KILL"), ("ctrl-c", "INT")] {
        let m = marker(what);
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("memlua"))
            .args(["-b", "qemu", "--machine", "q35", "--qemu-arg=-name"])
            .arg(format!("--qemu-arg={m}"))
            .args([
                "-e",
                "print(qemu.pid()); io.stdout:flush(); while true do mem.read32(0) end",
            ])
            .env_remove("MEMLUA_BACKEND")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let qemu_pid: i32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{what}: {line:?}"));
        assert!(Path::new(&format!("/proc/{qemu_pid}")).exists());
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg("--")
            .arg(format!("-{}", child.id()))
            .status()
            .unwrap();
        assert!(status.success(), "{what}: kill");
        let status = child.wait().unwrap();
        if signal == "INT" {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert_eq!(status.code(), Some(1), "{err}");
            assert!(err.contains("interrupted!"), "{err}");
        }
        assert_none_left(&m);
    }
}

// ---- attaching, IRQs, the map, the recipe ---------------------------------

#[test]
fn attach_to_a_qemu_someone_else_started() {
    if !have(X86) {
        return;
    }
    let m = marker("attach");
    let dir = std::env::temp_dir().join(format!("memlua-attach-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let qt = dir.join("qtest.sock");
    let qmp = dir.join("qmp.sock");
    let mut qemu = std::process::Command::new(X86)
        .args([
            "-machine",
            "q35",
            "-accel",
            "tcg",
            "-S",
            "-display",
            "none",
            "-nodefaults",
        ])
        .args(["-name", &m, "-qtest-log", "/dev/null"])
        .arg("-qtest")
        .arg(format!("unix:{},server=on,wait=off", qt.display()))
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while !(qt.exists() && qmp.exists()) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    let qt_arg = format!("unix:{}", qt.display());
    let qmp_arg = format!("unix:{}", qmp.display());
    let outcome = std::panic::catch_unwind(|| {
        script_ok(
            memlua().args(["--qtest", &qt_arg, "--qmp", &qmp_arg]),
            r#"
            assert(backend.name == "qemu" and backend.board == nil)
            assert(mem.read32(0xfed00000) == 0x8086a201)
            assert(qemu.pid() == nil, "not memlua's QEMU")
            assert(qemu.qmp("query-status").status == "prelaunch")
            mem.write32(0x5000, 0xabcd)
            print("OK")
            "#,
        );
        // memlua leaves a QEMU it did not start running; without --qmp,
        // what needs QMP says so.
        script_ok(
            memlua().args(["--qtest", &qt_arg]),
            r#"
            assert(mem.read32(0x5000) == 0xabcd, "the same machine")
            local ok, e = pcall(qemu.hmp, "info version")
            assert(not ok and e.errno == "EOPNOTSUPP" and e.message:find("--qmp", 1, true), tostring(e))
            print("OK")
            "#,
        );
    });
    let _ = qemu.kill();
    let _ = qemu.wait();
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
    assert_none_left(&m);
}

#[test]
fn intercepted_irqs_show_their_levels() {
    if !have(X86) {
        return;
    }
    let m = marker("irqs");
    script_ok(
        &mut on_qemu("q35", &m),
        r#"
        qemu.irq_intercept("ioapic")
        -- The i8042 raises IRQ 1 when its output buffer fills (command
        -- 0xd2 writes a byte into it) and lowers it once the byte is read.
        qemu.io_write8(0x64, 0xd2)
        qemu.io_write8(0x60, 0x41)
        assert(qemu.irqs()[1] == true, "IRQ 1 raised")
        assert(qemu.io_read8(0x60) == 0x41)
        assert(qemu.irqs()[1] == false, "IRQ 1 lowered")
        local ok, e = pcall(qemu.irq_intercept, "/machine/unattached/device[0]")
        assert(not ok and e.errno == "EBUSY", tostring(e))
        -- Time passes by cont/stop on a TCG machine.
        qemu.run(1000000)
        assert(qemu.qmp("query-status").status == "paused")
        print("OK")
        "#,
    );
    assert_none_left(&m);
}

#[test]
fn map_prints_qemus_regions() {
    if !have(X86) {
        return;
    }
    let m = marker("map");
    let (code, out, err) = run(on_qemu("q35", &m).arg("--map"));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("machine q35 on QEMU "), "{out}");
    for want in [
        "  0x00fed00000-0x00fed003ff  i/o   hpet",
        "pc.bios",
        "\nI/O ports",
        "rtc",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    assert_none_left(&m);
}

#[test]
fn hpet_example_runs_on_qemu() {
    if !have(X86) {
        return;
    }
    let m = marker("hpet");
    let path = format!("{}/examples/hpet.lua", env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = run(on_qemu("q35", &m).arg(&path));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.ends_with("hpet: OK\n"), "{out}");
    assert_none_left(&m);
}

// ---- the Lua suites ---------------------------------------------------------

/// Runs a tests/lua suite on a QEMU q35 machine; other sessions it makes
/// are simulators.
fn qemu_suite(file: &str, counted: bool) {
    if !have(X86) {
        return;
    }
    let m = marker(&format!("suite-{file}-{counted}"));
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let q = Box::new(start_q35(&m)) as Box<dyn Backend>;
    let backend = if counted {
        Box::new(layers::Counting {
            inner: q,
            count: count.clone(),
        }) as Box<dyn Backend>
    } else {
        q
    };
    let failures = suite::run(file, Ok(backend), |lua, board, opts| {
        if suite::nosim(&opts)? {
            return Err(mlua::Error::runtime(
                "nosim sessions: see tests/lua_suites.rs",
            ));
        }
        let sim = Sim::from_board_name(&board).map_err(mlua::Error::external)?;
        memlua_bindings::api_table(lua, Box::new(sim))
    });
    let place = if counted {
        " on QEMU q35 behind a counting layer"
    } else {
        " on QEMU q35"
    };
    suite::report(file, place, failures);
    if counted {
        assert!(count.get() > 0, "no access went through the layer");
    }
    assert_none_left(&m);
}

#[test]
fn portable_suite() {
    qemu_suite("portable.lua", false);
}

#[test]
fn portable_suite_behind_a_layer() {
    qemu_suite("portable.lua", true);
}

#[test]
fn mem_suite() {
    qemu_suite("mem.lua", false);
}

#[test]
fn windows_suite() {
    qemu_suite("windows.lua", false);
}

#[test]
fn errors_suite() {
    qemu_suite("errors.lua", false);
}
