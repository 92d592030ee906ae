//! Safe on silicon (issue 17), through the real binary: `--dry-run` on
//! every write path, allow-lists at their edges, memory ranges put back
//! (`--restore-ranges` at normal exit, error, Ctrl-C and os.exit), and
//! `--pci`/`--uio` over a directory shaped like sysfs with a regular file
//! as the BAR. The dry run of every example on the simulator runs in
//! process, so the simulator can be looked at afterwards.

use std::cell::{Cell, RefCell};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::rc::Rc;

#[path = "support/skip.rs"]
mod skip;
mod support;

use memlua_bindings::memlua_runtime::layers::DryRun;
use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::{
    Backend, Layer, MemRangeDesc, RangeOp, Result, Say, Space, Width,
};
use skip::skip;
use support::memlua;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memlua-safety-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Bytes that are not all alike, so a write anywhere would show.
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = memlua().args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

// ---- --dry-run --------------------------------------------------------------

#[test]
fn a_dry_run_leaves_a_mem_file_byte_identical_on_every_write_path() {
    let dir = scratch("dry-mem");
    let f = dir.join("mem.bin");
    std::fs::write(&f, noise(0x10000)).unwrap();
    let before = std::fs::read(&f).unwrap();
    let script = dir.join("writes.lua");
    std::fs::write(
        &script,
        "mem.write32(0x100, 0xdeadbeef)\n\
         local w = mem.map(0, 0x1000)\n\
         w:write32(8, 1)\n\
         w:write8(3, 2)\n\
         w:write(16, 'xyz')\n\
         mem.write(0x200, string.rep('A', 100))\n",
    )
    .unwrap();
    let (f, s) = (f.to_str().unwrap(), script.to_str().unwrap());
    let at = |line| format!("({s}:{line})");
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (
            vec![s],
            vec![
                format!("would write32 0x100 <- 0xdeadbeef {}", at(1)),
                format!("would write32 0x8 <- 0x1 {}", at(3)),
                format!("would write8 0x3 <- 0x2 {}", at(4)),
                format!("would write 0x10 <- 3 bytes {}", at(5)),
                format!("would write 0x200 <- 100 bytes {}", at(6)),
                "memlua: dry run: 5 writes not performed (2 bulk, 103 bytes)".into(),
            ],
        ),
        (
            vec!["devmem", "0x40", "32", "0x1234"],
            vec!["would write32 0x40 <- 0x1234 (devmem:".into()],
        ),
        (
            vec!["memtest", "-w", "32", "0x1000", "0x40"],
            vec!["would write32 0x1000 <- ".into(), "(memtest:".into()],
        ),
        (
            vec![
                "memcontrol",
                "set",
                "-b",
                "0xa0000",
                "-l",
                "0x20000",
                "-o",
                "fb",
                "write-combine",
            ],
            vec!["memlua: dry run: 0 writes not performed".into()],
        ),
    ];
    for (tail, want) in cases {
        let mut args = vec!["--dry-run", "--mem", f, "-w"];
        args.extend(&tail);
        let (_, _, err) = run(&args);
        for w in &want {
            assert!(err.contains(w.as_str()), "{tail:?}: no '{w}' in:\n{err}");
        }
        assert!(err.contains("memlua: dry run: "), "{tail:?}: {err}");
        assert!(
            std::fs::read(f).unwrap() == before,
            "{tail:?} changed the file"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dry_run_of_memcontrol_set_on_the_simulator_reports_the_range() {
    let (code, _, err) = run(&[
        "--dry-run",
        "memcontrol",
        "set",
        "-b",
        "0xa0000",
        "-l",
        "0x20000",
        "-o",
        "fb",
        "write-combine",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("would memrange.set 0xa0000/0x20000 write-combine owner \"fb\" (memcontrol:"),
        "{err}"
    );
    assert!(err.contains("1 memory range change not made"), "{err}");
}

/// Counts what reaches the simulator that could change it.
struct Changes {
    inner: Box<dyn Backend>,
    n: Rc<Cell<u64>>,
}

impl Layer for Changes {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.n.set(self.n.get() + 1);
        self.inner.write(space, addr, w, v)
    }
    fn write_bytes(&mut self, space: Space, addr: u64, data: &[u8]) -> Result<()> {
        self.n.set(self.n.get() + 1);
        self.inner.write_bytes(space, addr, data)
    }
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        self.n.set(self.n.get() + 1);
        self.inner.range_set(d, op)
    }
}

/// What a script can see of the simulator's state without changing it:
/// the memory range table, each region's resident pages and ignored ROM
/// writes, what the UART sent, and a checksum of the memory the examples
/// write (the DMA source, the framebuffer).
const SNAPSHOT: &str = r#"
local t = {}
local has_ranges, ranges = pcall(memrange.get)
for _, d in ipairs(has_ranges and ranges or {}) do
  t[#t + 1] = ("%x %x %x %s"):format(d.base, d.len, d.flags, d.owner)
end
for _, r in ipairs(sim.regions()) do
  t[#t + 1] = ("%s %s %s"):format(r.name, tostring(r.resident_pages), tostring(r.ignored_writes))
end
t[#t + 1] = backend.board == "pc" and sim.output("uart0") or ""
for _, span in ipairs { { 0x01000000, 0x1000 }, { 0xA0000, 0x20000 } } do
  local s, sum = mem.read(span[1], span[2]), 0
  for i = 1, #s, 8 do sum = (sum * 31 + string.unpack("<i8", s, i)) & 0xffffffffffff end
  t[#t + 1] = ("%x"):format(sum)
end
return table.concat(t, "\n")
"#;

/// Every example, dry: no write or range change reaches the simulator,
/// and all a script can see of it is as before; each write the example
/// meant is reported at its line.
#[test]
fn a_dry_run_of_every_example_leaves_the_simulator_as_it_was() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 5);
    for path in examples {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let changes = Rc::new(Cell::new(0));
        let said = Rc::new(RefCell::new(Vec::<String>::new()));
        let s = said.clone();
        let say: Say = Rc::new(move |l: &str| s.borrow_mut().push(l.to_string()));
        // The HPET recipe is for the q35 board; the others for pc.
        let board = if name == "hpet.lua" { "q35" } else { "pc" };
        let sim = Sim::from_board_name(board).unwrap();
        let probe = Box::new(Changes {
            inner: Box::new(sim),
            n: changes.clone(),
        });
        let lua = memlua_bindings::new_state().unwrap();
        memlua_bindings::install(&lua, Box::new(DryRun::new(probe, say))).unwrap();
        let snapshot = lua.load(SNAPSHOT).into_function().unwrap();
        let before: String = snapshot.call(()).unwrap();
        let code = std::fs::read_to_string(&path).unwrap();
        // Run to the end or to the error a missing write causes (a DMA
        // that never starts times out): either way nothing was written.
        let _ = lua
            .load(&code)
            .set_name(format!("@{}", path.display()))
            .exec();
        memlua_bindings::finish(&lua);
        let after: String = snapshot.call(()).unwrap();
        assert_eq!(changes.get(), 0, "{name}: a write reached the simulator");
        assert_eq!(after, before, "{name}: the simulator changed");
        let said = said.borrow();
        assert!(
            said.last()
                .is_some_and(|l| l.starts_with("memlua: dry run: ")),
            "{name}: {said:?}"
        );
        let writes = said.iter().filter(|l| l.starts_with("would ")).count();
        if name != "kernel-peek.lua" && name != "mtrr-audit.lua" {
            assert!(writes > 0, "{name} wrote nothing: {said:?}");
        }
        for l in said.iter().filter(|l| l.starts_with("would ")) {
            assert!(l.contains(&format!("{name}:")), "{name}: {l}");
        }
    }
}

// ---- --allow --------------------------------------------------------------

/// One byte outside either edge is EACCES for every width, through
/// `mem.*`, windows (one inside the list, one across its edge) and bulk
/// transfers; inside passes. `--allow-write` lets every read through.
#[test]
fn allow_lists_refuse_one_byte_outside_each_edge() {
    let script = r#"
local BASE, LAST = 0x10000, 0x10fff
local function errno(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return "ok" end
  return type(e) == "table" and e.errno or tostring(e)
end
local out = {}
local function say(what, got, want)
  if got ~= want then out[#out + 1] = ("%s: %s, expected %s"):format(what, got, want) end
end
local inside = mem.map(BASE, 0x1000)
local across = mem.map(BASE - 8, 0x1010)
for _, n in ipairs { 8, 16, 32, 64 } do
  local b = n // 8
  local r, w = mem["read" .. n], mem["write" .. n]
  say("read" .. n .. " first", errno(r, BASE), "ok")
  say("read" .. n .. " last", errno(r, LAST + 1 - b), "ok")
  say("read" .. n .. " below", errno(r, BASE - b), "EACCES")
  say("read" .. n .. " above", errno(r, LAST + 1), "EACCES")
  say("write" .. n .. " below", errno(w, BASE - b, 0), "EACCES")
  say("write" .. n .. " above", errno(w, LAST + 1, 0), "EACCES")
  say("write" .. n .. " inside", errno(w, BASE, 0), "ok")
  say("window read" .. n, errno(inside["read" .. n], inside, 0x1000 - b), "ok")
  say("window write" .. n, errno(inside["write" .. n], inside, 0, 0), "ok")
  say("across read" .. n .. " below", errno(across["read" .. n], across, 8 - b), "EACCES")
  say("across read" .. n .. " first", errno(across["read" .. n], across, 8), "ok")
  say("across write" .. n .. " above", errno(across["write" .. n], across, 0x1008, 0), "EACCES")
end
say("bulk read all", errno(mem.read, BASE, 0x1000), "ok")
say("bulk read one more", errno(mem.read, BASE, 0x1001), "EACCES")
say("bulk read one before", errno(mem.read, BASE - 1, 2), "EACCES")
say("bulk write all", errno(mem.write, BASE, string.rep("x", 0x1000)), "ok")
say("bulk write past", errno(mem.write, LAST, "xy"), "EACCES")
say("window bulk", errno(across.read, across, 0, 16), "EACCES")
say("kmem", errno(kmem.read32, kmem.symbol("hz")), "EACCES")
say("buffer", errno(function() local b = mem.alloc(4096); b:write32(0, 1); return b:read32(0) end), "ok")
local ok, e = pcall(mem.read8, LAST + 1)
say("message", e.message:match("outside %-%-allow %(0x10000%-0x10fff%)") and "named" or e.message, "named")
print(#out == 0 and "all good" or table.concat(out, "\n"))
"#;
    let (code, out, err) = run(&["--allow", "0x10000-0x10fff", "-e", script]);
    assert_eq!((code, out.as_str()), (0, "all good\n"), "{err}");

    let reads = r#"
print(mem.read32(0), #mem.read(0, 0x10000), mem.map(0, 64):read64(8))
local ok, e = pcall(mem.write32, 0, 1)
print(e.errno, e.message)
mem.write8(0xfe003fff, 1)
local ok2, e2 = pcall(mem.map(0xfe003000, 0x2000).write8, mem.map(0xfe003000, 0x2000), 0x1000, 1)
print(e2.errno)
"#;
    let (code, out, err) = run(&["--allow-write", "scratch0", "-e", reads]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "0\t65536\t0\nEACCES\t0x0..0x3 is outside --allow-write (scratch0); nothing was written\nEACCES\n"
    );
}

#[test]
fn a_policy_file_holds_the_same_lists() {
    let dir = scratch("policy");
    let p = dir.join("lab.toml");
    std::fs::write(
        &p,
        "# what recipes here may touch\nallow = [\"uart0\", \"0x1000+0x1000\"]\nallow-write = [\"uart0\"]\n",
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let (code, out, err) = run(&[
        "--policy",
        p,
        "-e",
        "print(mem.read8(0x1fff)); mem.write8(0xfe000000, 0x41); print(pcall(mem.write8, 0x1000, 1))",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0\nfalse\t"), "{out}");
    let (code, _, err) = run(&["--policy", p, "-e", "mem.read8(0x2000)"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("EACCES: 0x2000 is outside allow in ")
            && err.contains("lab.toml (uart0,0x1000+0x1000)"),
        "{err}"
    );
    // The command line narrows a policy, never widens it.
    let (code, _, err) = run(&[
        "--policy",
        p,
        "--allow",
        "0x2000+0x1000",
        "-e",
        "mem.read8(0x2000)",
    ]);
    assert_eq!(code, 1, "{err}");
    std::fs::write(dir.join("bad.toml"), "deny = [\"0x0+1\"]\n").unwrap();
    let (code, _, err) = run(&["--policy", dir.join("bad.toml").to_str().unwrap(), "-e", ""]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown key 'deny'"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_range_that_cannot_be_read_or_named_is_a_usage_error() {
    for (args, says) in [
        (&["--allow", "0x2000-0x1000"][..], "LAST is below BASE"),
        (&["--allow", "0x1000+0"], "the length is 0"),
        (
            &["--allow-write", "uart9"],
            "--allow-write: 'uart9': the 'pc' board has no region named 'uart9'",
        ),
        (&["--allow", "0x1000+1,,uart0"], "an empty range"),
    ] {
        let mut a = args.to_vec();
        a.extend(["-e", ""]);
        let (code, _, err) = run(&a);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

// ---- memrange.scoped and --restore-ranges ----------------------------------

/// Sets, removes and overwrites ranges (new ones, firmware ones, fixed
/// ones). Defines `before`, a snapshot of memrange.get() taken first, and
/// a finalizer that compares the table with it when the state closes,
/// which memlua does after putting the ranges back.
const CHANGES: &str = r#"
local function snap()
  local t = {}
  -- MDF_FIRMWARE is set only at boot: no MEMRANGE_SET gives it back.
  for i, d in ipairs(memrange.get()) do
    t[i] = ("%d %x/%x %x %s"):format(i, d.base, d.len, d.flags & ~memrange.FIRMWARE, d.owner)
  end
  return table.concat(t, "\n")
end
local before = snap()
keep = setmetatable({}, { __gc = function()
  print(snap() == before and "ranges: as before" or "ranges: CHANGED\n" .. snap())
end })
memrange.set { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "fb" }
memrange.set { base = 0xD0000000, len = 0x1000, flags = "uncacheable", owner = "mmio" }
memrange.remove { base = 0xD0000000, len = 0x1000 }
memrange.set { base = 0xC0000000, len = 0x10000000, flags = "uncacheable", owner = "fb2" }
memrange.remove { base = 0x100000000, len = 0x100000000 }
memrange.set { base = 0x200000000, len = 0x80000000, flags = "write-through", owner = "wt" }
memrange.set { base = 0xA0000, len = 0x20000, flags = "write-combine", owner = "vga" }
assert(snap() ~= before)
"#;

#[test]
fn restore_ranges_puts_back_at_exit_after_an_error_and_at_os_exit() {
    for (tail, code, note) in [
        ("print('end')", 0, "end\n"),
        ("error('midway')", 1, ""),
        ("os.exit(0, true)", 0, ""),
        ("os.exit(7)", 7, ""),
    ] {
        let script = format!("{CHANGES}\n{tail}\n");
        let (got, out, err) = run(&["--restore-ranges", "-e", &script]);
        assert_eq!(got, code, "{tail}: {err}");
        assert!(
            err.contains("memlua: --restore-ranges: put back 11 memory range descriptors"),
            "{tail}: {err}"
        );
        // os.exit(7) skips the finalizers (Lua's os.exit without close).
        if tail != "os.exit(7)" {
            assert_eq!(out, format!("{note}ranges: as before\n"), "{tail}: {err}");
        }
    }
    // Without the option the changes stay.
    let (_, out, _) = run(&["-e", CHANGES]);
    assert!(out.starts_with("ranges: CHANGED"), "{out}");
}

#[test]
fn restore_ranges_puts_back_after_ctrl_c() {
    let script = format!("{CHANGES}\nprint('ready') io.stdout:flush()\nwhile true do end\n");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("memlua"))
        .args(["--restore-ranges", "-e", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted!"), "{err}");
    assert!(
        err.contains("put back 11 memory range descriptors"),
        "{err}"
    );
    assert_eq!(rest, "ranges: as before\n", "{err}");
}

/// CHANGES inside memrange.scoped: given back when the function returns,
/// when it raises midway, and when Ctrl-C interrupts it; the error comes
/// out of scoped unchanged.
#[test]
fn memrange_scoped_puts_back_on_return_error_and_ctrl_c() {
    let inside = |tail: &str| {
        format!(
            "local ok, e = pcall(memrange.scoped, function(...)\n{CHANGES}\n{tail}\nend)\nprint(ok, e)\n"
        )
    };
    let (code, out, err) = run(&["-e", &inside("return 'done'")]);
    assert_eq!(
        (code, out.as_str()),
        (0, "true\tdone\nranges: as before\n"),
        "{err}"
    );
    let (code, out, err) = run(&["-e", &inside("error('midway', 0)")]);
    assert_eq!(
        (code, out.as_str()),
        (0, "false\tmidway\nranges: as before\n"),
        "{err}"
    );
    let (code, out, err) = run(&["-e", &inside("error({ errno = 'EX' })")]);
    assert!(code == 0 && out.starts_with("false\ttable: "), "{out}{err}");

    let script = inside("print('ready') io.stdout:flush() while true do end");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("memlua"))
        .args(["-e", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        rest.starts_with("false\t") && rest.contains("interrupted!"),
        "{rest}"
    );
    assert!(rest.ends_with("ranges: as before\n"), "{rest}");
}

#[test]
fn a_range_another_owner_took_meanwhile_is_left_alone_with_a_warning() {
    let script = "memrange.set { base = 0xC0000000, len = 0x10000000, flags = 'write-combine', owner = 'fb' }
                  sim.claim { base = 0xC0000000, len = 0x10000000, owner = 'drm' }";
    let (code, _, err) = run(&["--restore-ranges", "-e", script]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("memlua: warning: --restore-ranges: slot 92 left alone: another owner changed it after this run did (it holds 0xc0000000/0x10000000 write-combine owner \"drm\""),
        "{err}"
    );
    assert!(!err.contains("put back"), "{err}");
}

// ---- --pci and --uio over a sysfs-shaped fixture ---------------------------

const BDF: &str = "0000:00:02.0";

/// sysfs as Linux lays it out for one PCI device with a 64 KiB memory BAR
/// 0 at 0xfe000000 and a 32-port I/O BAR 2 at 0xc000, and one UIO device
/// with two maps; the BAR and /dev/uio0 are regular files.
fn fixture(name: &str, command: u16) -> PathBuf {
    let root = scratch(name);
    let dev = root.join("sys/bus/pci/devices").join(BDF);
    std::fs::create_dir_all(&dev).unwrap();
    let line = |s: u64, e: u64, f: u64| format!("0x{s:016x} 0x{e:016x} 0x{f:016x}\n");
    let mut resource = String::new();
    resource += &line(0xfe00_0000, 0xfe00_ffff, 0x40200);
    resource += &line(0, 0, 0);
    resource += &line(0xc000, 0xc01f, 0x40101);
    for _ in 3..7 {
        resource += &line(0, 0, 0);
    }
    std::fs::write(dev.join("resource"), resource).unwrap();
    let mut bar = noise(0x10000);
    bar[0x10..0x14].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    std::fs::write(dev.join("resource0"), bar).unwrap();
    let mut ports = vec![0u8; 0x20];
    ports[4..6].copy_from_slice(&0xbeefu16.to_le_bytes());
    std::fs::write(dev.join("resource2"), ports).unwrap();
    let mut config = vec![0u8; 256];
    config[0..4].copy_from_slice(&[0x34, 0x12, 0x11, 0x11]);
    config[4..6].copy_from_slice(&command.to_le_bytes());
    std::fs::write(dev.join("config"), config).unwrap();
    let sec = root.join("sys/kernel/security");
    std::fs::create_dir_all(&sec).unwrap();
    std::fs::write(sec.join("lockdown"), "none [integrity] confidentiality\n").unwrap();

    let uio = root.join("sys/class/uio/uio0");
    for (m, addr, size, off) in [
        (0, "0xfe100000", "0x1000", "0x0"),
        (1, "0xfe200100", "0x800", "0x100"),
    ] {
        let d = uio.join(format!("maps/map{m}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("addr"), format!("{addr}\n")).unwrap();
        std::fs::write(d.join("size"), format!("{size}\n")).unwrap();
        std::fs::write(d.join("offset"), format!("{off}\n")).unwrap();
    }
    std::fs::write(uio.join("name"), "fixture-irq\n").unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    let mut node = vec![0u8; 0x2000];
    node[0..4].copy_from_slice(&7u32.to_le_bytes());
    node[0x1100..0x1104].copy_from_slice(&0xcafe_f00du32.to_le_bytes());
    std::fs::write(root.join("dev/uio0"), node).unwrap();
    root
}

fn run_in(root: &Path, args: &[&str]) -> (i32, String, String) {
    let o = memlua()
        .env("MEMLUA_SYSFS", root.join("sys"))
        .env("MEMLUA_DEV", root.join("dev"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn pci_bars_are_reached_at_their_physical_addresses() {
    let root = fixture("pci", 0x0007);
    let bar0 = format!("{BDF}:0");
    let script = r#"
print(hex(mem.read32(0xfe000010)), hex(mem.map(0xfe000000, 0x100):read32(0x10)))
mem.write32(0xfe000020, 0xabcd)
for _, a in ipairs { 0xfe010000, 0xfdfffffc, 0xfe00fffe } do
  local ok, e = pcall(mem.read32, a)
  print(e.errno)
end
local ok, e = pcall(mem.read, 0xfe00ff00, 0x200)
print(e.errno, e.message)
"#;
    let (code, out, err) = run_in(&root, &["--pci", &bar0, "-w", "-e", script]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "0x12345678\t0x12345678\nEFAULT\nEFAULT\nEINVAL\nEFAULT\tthe address is outside BAR 0 of {BDF} (0xfe000000-0xfe00ffff), the only memory this session reaches\n"
        )
    );
    let bar = std::fs::read(root.join("sys/bus/pci/devices").join(BDF).join("resource0")).unwrap();
    assert_eq!(&bar[0x20..0x24], &0xabcdu32.to_le_bytes());
    // The first memory BAR when none is named; an allow-list by address.
    let (code, out, err) = run_in(
        &root,
        &[
            "--pci",
            BDF,
            "--allow",
            BDF,
            "-e",
            "print(hex(mem.read32(0xfe000010)))",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "0x12345678\n"), "{err}");
    // Read-only without -w.
    let (code, _, err) = run_in(&root, &["--pci", BDF, "-e", "mem.write8(0xfe000000, 1)"]);
    assert_eq!(code, 1);
    assert!(err.contains("EROFS"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_io_port_bar_goes_through_pread_and_is_not_memory() {
    let root = fixture("pci-io", 0x0007);
    let bar2 = format!("{BDF}:2");
    let script = "print(hex(mem.read16(0xc004)))
                  local ok, e = pcall(mem.read64, 0xc008) print(e.errno, e.message)
                  print(mem.map(0xc000, 0x20):read16(4))";
    let (code, out, err) = run_in(&root, &["--pci", &bar2, "-e", script]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("0xbeef\nEINVAL\tBAR 2 of {BDF} is an I/O-port BAR, not memory: ports are 8, 16 or 32 bits wide\n48879\n")
    );
    let (code, _, err) = run_in(&root, &["--pci", &bar2, "--wc", "-e", ""]);
    assert_eq!(code, 1);
    assert!(
        err.contains("is an I/O-port BAR, not memory: it cannot be write-combined"),
        "{err}"
    );
    let (code, _, err) = run_in(&root, &["--pci", &format!("{BDF}:0"), "--wc", "-e", ""]);
    assert_eq!(code, 1);
    assert!(err.contains("is not prefetchable"), "{err}");
    let (code, _, err) = run_in(&root, &["--pci", &format!("{BDF}:1"), "-e", ""]);
    assert_eq!(code, 1);
    assert!(
        err.contains("BAR 1 of 0000:00:02.0 is not implemented"),
        "{err}"
    );
    let (code, _, err) = run_in(&root, &["--pci", "0000:00:09.0", "-e", ""]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no PCI device 0000:00:09.0 on this machine (there are 0000:00:02.0)"),
        "{err}"
    );
    let (code, _, err) = run_in(&root, &["--pci", "00:02", "-e", ""]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a PCI address"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_device_that_does_not_decode_its_bars_is_warned_of() {
    let root = fixture("pci-off", 0x0000);
    let (code, _, err) = run_in(&root, &["--pci", BDF, "-e", ""]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("memlua: warning: {BDF} does not decode its BARs: memory space is off in its command register")),
        "{err}"
    );
    assert!(err.contains("reads as all ones"), "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}

/// The kernel refusing a BAR with EPERM, as lockdown does: here the BAR
/// file is immutable (chattr +i), which refuses a read-write open with
/// EPERM even to root; the fixture's lockdown file says integrity.
#[test]
fn a_lockdown_shaped_eperm_is_explained() {
    let root = fixture("pci-eperm", 0x0007);
    let bar = root.join("sys/bus/pci/devices").join(BDF).join("resource0");
    let chattr = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&bar)
        .output();
    if !chattr.is_ok_and(|o| o.status.success()) {
        skip("chattr +i is not available here (needs root and a file system with attributes)");
        let _ = std::fs::remove_dir_all(&root);
        return;
    }
    let (code, _, err) = run_in(&root, &["--pci", BDF, "-w", "-e", ""]);
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(&bar)
        .status();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("EPERM: cannot open"), "{err}");
    assert!(
        err.contains("the kernel is locked down (integrity mode") && err.contains("root included"),
        "{err}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn uio_maps_and_interrupts() {
    let root = fixture("uio", 0x0007);
    let script = r#"
print(hex(mem.read32(0xfe200100)), hex(mem.map(0xfe200100, 0x800):read32(0)))
local ok, e = pcall(mem.read8, 0xfe200900) print(e.errno)
local ok, e = pcall(mem.read8, 0xfe2000ff) print(e.errno)
print(uio.wait_irq(0.5))
"#;
    let (code, out, err) = run_in(&root, &["--uio", "uio0:map1", "-e", script]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "0xcafef00d\t0xcafef00d\nEFAULT\nEFAULT\n7\n");
    let (code, out, err) = run_in(
        &root,
        &["--uio", "uio0", "-e", "print(hex(mem.read32(0xfe100000)))"],
    );
    assert_eq!((code, out.as_str()), (0, "0x7\n"), "{err}");
    let (code, _, err) = run_in(&root, &["--uio", "uio0:map2", "-e", ""]);
    assert_eq!(code, 1);
    assert!(
        err.contains("uio0 has no map2 (its maps: map0, map1)"),
        "{err}"
    );
    // Off a UIO device, uio.* is EOPNOTSUPP.
    let (code, out, _) = run(&["-e", "local ok, e = pcall(uio.wait_irq, 1) print(e.errno)"]);
    assert_eq!((code, out.as_str()), (0, "EOPNOTSUPP\n"));
    // Options of the native backend on the simulator are usage errors.
    let (code, _, err) = run(&["-b", "sim", "--pci", BDF, "-e", ""]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&root).unwrap();
}
