//! The qemu backend's figures (issue 14; results in benches/RESULTS.md),
//! each beside a baseline taken in the same run:
//!
//! - a single `mem.read32` from Lua against a minimal raw qtest client in
//!   this file (`readl`, one line each way over the same kind of socket, a
//!   unix socket, to a second QEMU of the same machine): target 1.3x;
//! - a 1 MiB `mem.read` from Lua (b64read in chunks): target 50 MB/s;
//!   beside it the raw client's single 1 MiB `b64read`;
//! - start-up to first access: `memlua -b qemu --machine q35` from spawn
//!   until the script has its first read (it prints then): target 100 ms;
//!   beside it the raw client's spawn-to-first-reply.
//!
//! Runs alternate between memlua and the baseline; medians are reported.
//! Needs qemu-system-x86_64. Run: `cargo bench --bench qemu`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memlua_runtime::qemu::{Qemu, StartOptions, DEFAULT_TIMEOUT};
use mlua::Function;

const READS: usize = 20_000;
const RUNS: usize = 7;
const HPET: u64 = 0xfed0_0000;

/// A QEMU q35 with a qtest socket, spoken to directly: what any qtest
/// client does, with nothing of memlua's.
struct Raw {
    child: Child,
    w: UnixStream,
    r: BufReader<UnixStream>,
    line: String,
    dir: PathBuf,
}

impl Raw {
    fn start() -> Raw {
        let dir = std::env::temp_dir().join(format!("memlua-bench-qemu-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("qtest.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let child = Command::new("qemu-system-x86_64")
            .args(["-machine", "q35", "-accel", "tcg", "-S", "-display", "none"])
            .args(["-nodefaults", "-m", "2G", "-qtest-log", "/dev/null"])
            .arg("-qtest")
            .arg(format!("unix:{}", sock.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("qemu-system-x86_64 (apt-get install qemu-system-x86)");
        let (w, _) = l.accept().unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        let mut raw = Raw {
            child,
            w,
            r,
            line: String::new(),
            dir,
        };
        raw.ask("endianness\n");
        raw
    }

    /// One command, one reply line.
    fn ask(&mut self, cmd: &str) -> &str {
        self.w.write_all(cmd.as_bytes()).unwrap();
        self.line.clear();
        self.r.read_line(&mut self.line).unwrap();
        assert!(self.line.starts_with("OK"), "{cmd}: {}", self.line);
        &self.line
    }

    fn readl(&mut self, addr: u64) -> u64 {
        let reply = self.ask(&format!("readl {addr:#x}\n"));
        u64::from_str_radix(reply[3..].trim().trim_start_matches("0x"), 16).unwrap()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> mlua::Result<()> {
    let have = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("qemu-system-x86_64").is_file()));
    if !have {
        println!("qemu-system-x86_64 is not installed: nothing to measure");
        return Ok(());
    }

    // memlua in Lua over one QEMU, the raw client over another.
    let qemu = Qemu::start(&StartOptions {
        machine: "q35".into(),
        program: None,
        args: vec![],
        timeout: DEFAULT_TIMEOUT,
    })
    .map_err(mlua::Error::external)?;
    let lua = memlua_bindings::new_state()?;
    memlua_bindings::install(&lua, Box::new(qemu))?;
    let start = Instant::now();
    lua.globals().set(
        "now",
        lua.create_function(move |_, ()| Ok(start.elapsed().as_secs_f64()))?,
    )?;
    let loop_read32: Function = lua
        .load(format!(
            "return function(n) local r = mem.read32 local t = now() \
             for _ = 1, n do r({HPET:#x}) end return now() - t end"
        ))
        .eval()?;
    let bulk: Function = lua
        .load("return function() local t = now() local s = mem.read(0, 1 << 20) assert(#s == 1 << 20) return now() - t end")
        .eval()?;
    let mut raw = Raw::start();
    assert_eq!(raw.readl(HPET), 0x8086_a201);

    // Single read32.
    let (mut lua_ns, mut raw_ns) = (Vec::new(), Vec::new());
    loop_read32.call::<f64>(1000)?;
    for _ in 0..RUNS {
        lua_ns.push(loop_read32.call::<f64>(READS)? / READS as f64 * 1e9);
        let t = Instant::now();
        for _ in 0..READS {
            std::hint::black_box(raw.readl(HPET));
        }
        raw_ns.push(t.elapsed().as_secs_f64() / READS as f64 * 1e9);
    }
    let (l, r) = (median(lua_ns), median(raw_ns));
    println!("== single read32 ({READS} reads x {RUNS} runs, medians)");
    println!("mem.read32 from Lua      {:8.2} us", l / 1e3);
    println!("raw qtest readl          {:8.2} us", r / 1e3);
    println!(
        "ratio {:.2} (target <= 1.30) {}",
        l / r,
        if l / r <= 1.3 { "ok" } else { "MISSED" }
    );

    // 1 MiB bulk read.
    let (mut lua_s, mut raw_s) = (Vec::new(), Vec::new());
    bulk.call::<f64>(())?;
    for _ in 0..RUNS * 3 {
        lua_s.push(bulk.call::<f64>(())?);
        let t = Instant::now();
        let n = raw.ask("b64read 0x0 0x100000\n").len();
        assert!(n > 1 << 20);
        raw_s.push(t.elapsed().as_secs_f64());
    }
    let (l, r) = (median(lua_s), median(raw_s));
    let mbs = |s: f64| (1 << 20) as f64 / s / 1e6;
    println!("== 1 MiB read ({} runs, medians)", RUNS * 3);
    println!(
        "mem.read(0, 1 MiB)       {:8.2} ms  {:6.1} MB/s (target >= 50) {}",
        l * 1e3,
        mbs(l),
        if mbs(l) >= 50.0 { "ok" } else { "MISSED" }
    );
    println!(
        "raw b64read 1 MiB        {:8.2} ms  {:6.1} MB/s (one request, reply not decoded)",
        r * 1e3,
        mbs(r)
    );
    drop(lua);
    drop(raw);

    // Start-up to first access.
    let memlua = env!("CARGO_BIN_EXE_memlua");
    let (mut m_ms, mut r_ms) = (Vec::new(), Vec::new());
    for _ in 0..RUNS * 2 {
        let t = Instant::now();
        let mut child = Command::new(memlua)
            .args(["-b", "qemu", "--machine", "q35", "-e"])
            .arg(format!(
                "print(mem.read32({HPET:#x})) io.stdout:flush() io.read()"
            ))
            .env_remove("MEMLUA_BACKEND")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        m_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(line.trim(), 0x8086_a201u64.to_string(), "{line}");
        drop(child.stdin.take());
        child.wait().unwrap();

        let t = Instant::now();
        let mut raw = Raw::start();
        raw.readl(HPET);
        r_ms.push(t.elapsed().as_secs_f64() * 1e3);
        drop(raw);
        std::thread::sleep(Duration::from_millis(20));
    }
    let (m, r) = (median(m_ms), median(r_ms));
    println!("== start-up to first access ({} runs, medians)", RUNS * 2);
    println!(
        "memlua -b qemu --machine q35  {m:6.1} ms (target < 100) {}",
        if m < 100.0 { "ok" } else { "MISSED" }
    );
    println!("raw: spawn QEMU, first readl  {r:6.1} ms");
    Ok(())
}
