//! The gdb backend against QEMU's gdbstub (q35 and arm `virt`, started
//! halted by tests/support/qemu_gdb.rs): known device registers, RAM of
//! every width, bulk reads across packets, the stub's refusals, a stub
//! that goes away, and a target left running after memlua exits. Without
//! QEMU each test prints `skipped: ...` and returns.

mod support;

#[path = "support/skip.rs"]
mod skip;

#[path = "support/qemu_gdb.rs"]
mod qemu_gdb;

// Only run and report are used here.
#[allow(dead_code)]
#[path = "support/suite.rs"]
mod suite;

use std::time::{Duration, Instant};

use memlua_bindings::memlua_runtime::gdb::{Gdb, Options, Target};
use memlua_bindings::memlua_runtime::Backend;
use qemu_gdb::{Qemu, ARM, X86};
use support::memlua;

/// QEMU, or the reason to skip.
fn qemu(which: (&str, &[&str])) -> Option<Qemu> {
    match Qemu::start(which) {
        Ok(q) => Some(q),
        Err(why) => {
            skip::skip(&why);
            None
        }
    }
}

/// memlua on `q`'s gdbstub, writable, running `chunk`: its stdout.
fn run(q: &Qemu, extra: &[&str], chunk: &str) -> String {
    let out = memlua()
        .args(["-w", "--target", &q.target])
        .args(extra)
        .args(["-e", chunk])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{chunk}\nstatus {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn q35_in_physical_mode_has_the_hpet_and_the_reset_vector() {
    let Some(q) = qemu(X86) else { return };
    let out = run(
        &q,
        &[],
        "print(hex(mem.read32(0xfed00000)), hex(mem.read8(0xffff0)), backend.name)
         -- Physical addressing: memory above 4 GiB is unassigned, not a
         -- guest address the CPU (in real mode) cannot reach.
         print(pcall(mem.read32, 0x100000000))",
    );
    assert_eq!(out, "0x8086a201\t0xea\tgdb\ntrue\t0\n");
}

#[test]
fn the_same_over_a_unix_socket() {
    let q = match Qemu::start_unix(X86) {
        Ok(q) => q,
        Err(why) => return skip::skip(&why),
    };
    assert!(q.target.starts_with("unix:"));
    assert_eq!(
        run(&q, &[], "print(hex(mem.read32(0xfed00000)))"),
        "0x8086a201\n"
    );
}

#[test]
fn ram_round_trips_every_width() {
    let Some(q) = qemu(X86) else { return };
    let out = run(
        &q,
        &[],
        "local B = 0x200000
         for _, w in ipairs{8, 16, 32, 64} do
           local v = w == 64 and 0x0123456789abcdef or (1 << w) - 2
           mem['write' .. w](B + 8, v)
           assert(mem['read' .. w](B + 8) == v, 'width ' .. w)
         end
         mem.write8(B, -1); assert(mem.read8(B) == 0xff)
         mem.write32(B, 0x11223344)
         assert(mem.read16(B + 2) == 0x1122, 'little-endian')
         assert(mem.read8(B + 1) == 0x33)
         mem.write(B + 0x101, 'bytes over gdb')
         assert(mem.read(B + 0x101, 14) == 'bytes over gdb')
         local w = mem.map(B, 0x1000)
         w:write64(0x800, -2); assert(w:read64(0x800) == -2)
         print('ok')",
    );
    assert_eq!(out, "ok\n");
}

#[test]
fn a_64k_bulk_read_across_packets_equals_byte_reads() {
    let Some(q) = qemu(X86) else { return };
    // The BIOS at 0xf0000: 64 KiB that are not all alike. QEMU's
    // PacketSize is 0x1000, so 32 `m` packets of 0x800 bytes.
    let out = run(
        &q,
        &[],
        "local s = mem.read(0xf0000, 0x10000)
         assert(#s == 0x10000)
         local bytes = {}
         for i = 0, 0xffff do bytes[i + 1] = string.char(mem.read8(0xf0000 + i)) end
         assert(table.concat(bytes) == s, 'bulk and byte reads differ')
         assert(s:byte(0xfff1) == 0xea)
         local distinct = {}
         for i = 1, #s, 97 do distinct[s:byte(i)] = true end
         local n = 0 for _ in pairs(distinct) do n = n + 1 end
         print(n > 10)",
    );
    assert_eq!(out, "true\n");
}

#[test]
fn arm_virt_has_the_pl011_and_the_device_tree() {
    let Some(q) = qemu(ARM) else { return };
    let out = run(
        &q,
        &[],
        "local id = {}
         for i = 0, 3 do id[#id + 1] = hex(mem.read32(0x09000fe0 + 4 * i) & 0xff, 8) end
         print(table.concat(id, ' '), hex(mem.read32(0x40000000)))",
    );
    assert_eq!(out, "0x11 0x10 0x14 0x00\t0xedfe0dd0\n");
}

#[test]
fn registers_monitor_halt_and_resume() {
    let Some(q) = qemu(X86) else { return };
    let out = run(
        &q,
        &[],
        "local r = gdb.registers()
         print(hex(r.rip), hex(r.cs), r.xmm0, r.st0)
         print((gdb.monitor('info status')))
         -- HPET: counting enabled; its counter runs only while the guest does.
         mem.write32(0xfed00010, 1)
         local function counter() return mem.read64(0xfed000f0) end
         local a = counter(); local b = counter()
         print('halted', a == b)
         gdb.resume()
         local t = os.clock() repeat until os.clock() - t > 0.05
         local c = counter()
         t = os.clock() repeat until os.clock() - t > 0.05
         print('running', c > b, counter() > c)
         gdb.halt()
         print((gdb.monitor('info status')))",
    );
    assert_eq!(
        out,
        "0xfff0\t0xf000\tnil\tnil\nVM status: paused (prelaunch)\n\nhalted\ttrue\n\
         running\ttrue\ttrue\nVM status: paused\n\n"
    );
}

#[test]
fn an_address_the_stub_refuses_is_efault_with_its_code() {
    let Some(q) = qemu(X86) else { return };
    // Guest addresses (--gdb-virt): in real mode nothing is above 4 GiB,
    // and QEMU answers E14.
    let out = run(
        &q,
        &["--gdb-virt"],
        "local ok, e = pcall(mem.read32, 0x100000000)
         print(e.errno, e.addr == 0x100000000, e.op)
         print(e.message)
         ok, e = pcall(mem.read, 0xffffe000, 0x4000)
         print(e.errno, e.done)",
    );
    assert_eq!(
        out,
        "EFAULT\ttrue\tmem.read32\n\
         the stub refused to read 4 bytes at 0x100000000 (E14)\n\
         EFAULT\t8192\n"
    );
}

#[test]
fn the_stub_going_away_mid_script_is_eio_without_a_hang() {
    let Some(q) = qemu(X86) else { return };
    let start = Instant::now();
    let out = memlua()
        .args(["--target", &q.target, "-e"])
        .arg(format!(
            "print(hex(mem.read32(0xfed00000)))
             os.execute('kill -9 {}')
             local ok, e = pcall(mem.read32, 0xfed00000)
             print(e.errno, e.message)
             ok, e = pcall(mem.read32, 0xfed00000)
             print(e.errno)",
            q.pid()
        ))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "0x8086a201");
    assert!(lines[1].starts_with("EIO\t"), "{stdout}");
    assert!(
        lines[1].contains("the connection to the GDB stub is lost"),
        "{stdout}"
    );
    assert_eq!(lines[2], "EIO");
    // Within the reply timeout (5 s), with room for a loaded machine.
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn the_target_runs_on_after_memlua_exits() {
    let Some(q) = qemu(X86) else { return };
    let first = run(
        &q,
        &[],
        "mem.write32(0xfed00010, 1) -- HPET counting on
         print(mem.read64(0xfed000f0))",
    );
    std::thread::sleep(Duration::from_millis(300));
    // A second connection: the counter moved on while nobody was attached,
    // so the guest ran; it stands still while this one is.
    let second = run(
        &q,
        &[],
        "local a = mem.read64(0xfed000f0)
         print(a, a == mem.read64(0xfed000f0))",
    );
    let c1: u64 = first.trim().parse().unwrap();
    let (c2, still) = second.trim().split_once('\t').unwrap();
    let c2: u64 = c2.parse().unwrap();
    // The HPET counts at 100 MHz: 300 ms is 30 M ticks; ask for 1 M.
    assert!(c2 > c1 + 1_000_000, "{c1} then {c2}");
    assert_eq!(still, "true");
}

#[test]
fn os_exit_detaches_too() {
    let Some(q) = qemu(X86) else { return };
    // os.exit runs C's exit, not Rust's destructors: the exit hook sends
    // the detach.
    let first = run(
        &q,
        &[],
        "mem.write32(0xfed00010, 1) print(mem.read64(0xfed000f0)) os.exit(0)",
    );
    std::thread::sleep(Duration::from_millis(300));
    let second = run(&q, &[], "print(mem.read64(0xfed000f0))");
    let (c1, c2): (u64, u64) = (
        first.trim().parse().unwrap(),
        second.trim().parse().unwrap(),
    );
    assert!(c2 > c1 + 1_000_000, "{c1} then {c2}");
}

#[test]
fn kernel_memory_buffers_ranges_and_maps_are_not_the_stubs() {
    let Some(q) = qemu(X86) else { return };
    let out = run(
        &q,
        &[],
        "for _, f in ipairs{
           function() return kmem.read32(0xffffffff81000000) end,
           function() return mem.alloc(4096) end,
           function() return mem.extract(0x1000) end,
           function() return memrange.get() end,
           function() return kmem.symbol('jiffies') end,
         } do
           local ok, e = pcall(f)
           print(e.errno, (e.message:find(\"'gdb' backend\", 1, true)))
         end",
    );
    assert_eq!(out, "EOPNOTSUPP\t5\n".repeat(5));
}

#[test]
fn the_portable_suite_passes_on_the_gdb_backend() {
    let Some(q) = qemu(X86) else { return };
    let opts = Options {
        target: Target::parse(&q.target).unwrap(),
        phys: None,
        write: true,
        timeout: Duration::from_secs(30),
    };
    let gdb = Gdb::connect(&opts).map(|g| Box::new(g) as Box<dyn Backend>);
    let failures = suite::run(
        "portable.lua",
        gdb.map_err(mlua::Error::external),
        |_, _, _| Err(mlua::Error::runtime("no other sessions on the gdb backend")),
    );
    suite::report("portable.lua", " on the gdb backend", failures);
}

#[test]
fn usage_and_connection_errors() {
    // No QEMU needed: nothing listens on a port just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = memlua()
        .args(["--target", &format!("127.0.0.1:{port}"), "-e", "print(1)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("EIO: cannot connect to the GDB stub at 127.0.0.1:"),
        "{err}"
    );
    for args in [
        &["-b", "gdb", "-e", "1"][..],
        &["--target", "nowhere", "-e", "1"],
        &["-b", "sim", "--gdb-phys", "-e", "1"],
    ] {
        let out = memlua().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
