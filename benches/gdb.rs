//! The gdb backend against a raw GDB remote protocol client, in the same
//! run on the same QEMU (q35, halted, its gdbstub on loopback TCP; results
//! in benches/RESULTS.md, issue 15):
//!
//! - one `mem.read32` of the HPET's ID register from a Lua loop, beside
//!   the raw client's round trip for the same `m` packet;
//! - a 1 MiB `mem.read` (of the BIOS ROM) beside the raw client reading
//!   the same MiB in `m` packets of the same size (QEMU's PacketSize / 2
//!   = 2 KiB).
//!
//! QEMU takes one debugger at a time, so the two take turns on the
//! connection, 15 short rounds each, so that other work on the machine
//! falls on both alike; the medians are compared, and the best rounds
//! shown beside them. Without QEMU it says so and exits. Run:
//! `cargo bench --bench gdb`.

#[path = "../tests/support/qemu_gdb.rs"]
mod qemu_gdb;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use memlua_runtime::gdb::{Gdb, Options, Target, DEFAULT_TIMEOUT};

const HPET_ID: u64 = 0xfed00000;
const READS: u32 = 5_000;
const BULK: usize = 1 << 20;
/// The top MiB below 4 GiB: the BIOS ROM, which the guest cannot change
/// while it runs between the turns.
const BULK_AT: u64 = 0xfff0_0000;
const ROUNDS: usize = 15;
/// QEMU's PacketSize (0x1000) / 2: the data of one `m` reply.
const CHUNK: usize = 0x800;

/// The least a client can do: frame a request, send it, take the stub's
/// acknowledgement and reply, acknowledge the reply (QEMU has no no-ack
/// mode). No checksum checks, no error handling beyond panicking.
struct Raw {
    s: TcpStream,
    buf: Vec<u8>,
    req: Vec<u8>,
}

impl Raw {
    fn connect(target: &str) -> Raw {
        let s = TcpStream::connect(target).unwrap();
        s.set_nodelay(true).unwrap();
        let mut r = Raw {
            s,
            buf: Vec::with_capacity(1 << 16),
            req: Vec::with_capacity(64),
        };
        // (QEMU stops a guest that runs when a debugger attaches, and
        // says so with a stop reply, which `cmd` passes over.)
        assert_eq!(r.cmd(b"Qqemu.PhyMemMode:1"), b"OK");
        r
    }

    /// Sends `body`, returns the reply's data (stop replies passed over).
    fn cmd(&mut self, body: &[u8]) -> &[u8] {
        self.req.clear();
        self.req.push(b'$');
        self.req.extend_from_slice(body);
        let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
        self.req.extend_from_slice(format!("#{sum:02x}").as_bytes());
        self.s.write_all(&self.req).unwrap();
        self.buf.clear();
        let mut from = 0;
        loop {
            if let Some(st) = self.buf[from..].iter().position(|&b| b == b'$') {
                let st = from + st;
                if let Some(h) = self.buf[st..].iter().position(|&b| b == b'#') {
                    let end = st + h;
                    if self.buf.len() >= end + 3 {
                        self.s.write_all(b"+").unwrap();
                        if self.buf[st + 1] == b'T' {
                            from = end + 3;
                            continue;
                        }
                        return &self.buf[st + 1..end];
                    }
                }
            }
            let mut chunk = [0u8; 16384];
            let got = self.s.read(&mut chunk).unwrap();
            assert!(got > 0, "the stub closed the connection");
            self.buf.extend_from_slice(&chunk[..got]);
        }
    }

    fn m(&mut self, addr: u64, len: usize, out: &mut [u8]) {
        let req = format!("m{addr:x},{len:x}");
        let hex = self.cmd(req.as_bytes());
        assert_eq!(hex.len(), len * 2);
        for (o, p) in out.iter_mut().zip(hex.chunks_exact(2)) {
            let d = |c: u8| (c as char).to_digit(16).unwrap() as u8;
            *o = d(p[0]) << 4 | d(p[1]);
        }
    }

    fn detach(mut self) {
        self.cmd(b"Qqemu.PhyMemMode:0");
        self.cmd(b"D");
    }
}

fn raw_reads(target: &str) -> Duration {
    let mut r = Raw::connect(target);
    let mut b = [0u8; 4];
    let t = Instant::now();
    for _ in 0..READS {
        r.m(HPET_ID, 4, &mut b);
    }
    let d = t.elapsed();
    assert_eq!(u32::from_le_bytes(b), 0x8086a201);
    r.detach();
    d
}

fn raw_bulk(target: &str) -> (Duration, Vec<u8>) {
    let mut r = Raw::connect(target);
    let mut out = vec![0u8; BULK];
    let t = Instant::now();
    for (i, part) in out.chunks_mut(CHUNK).enumerate() {
        r.m(BULK_AT + (i * CHUNK) as u64, part.len(), part);
    }
    let d = t.elapsed();
    r.detach();
    (d, out)
}

fn memlua_lua(target: &str) -> mlua::Lua {
    let opts = Options {
        target: Target::parse(target).unwrap(),
        phys: None,
        write: false,
        timeout: DEFAULT_TIMEOUT,
    };
    let gdb = Gdb::connect(&opts).unwrap();
    let lua = memlua_bindings::new_state().unwrap();
    memlua_bindings::install(&lua, Box::new(gdb)).unwrap();
    lua
}

fn memlua_reads(target: &str) -> Duration {
    let lua = memlua_lua(target);
    let f: mlua::Function = lua
        .load(
            "local read32, n, v = mem.read32, ...
             for _ = 1, n do v = read32(0xfed00000) end
             assert(v == 0x8086a201)",
        )
        .into_function()
        .unwrap();
    let t = Instant::now();
    f.call::<()>(READS).unwrap();
    t.elapsed()
}

fn memlua_bulk(target: &str) -> (Duration, Vec<u8>) {
    let lua = memlua_lua(target);
    let f: mlua::Function = lua.load("return mem.read(...)").into_function().unwrap();
    let t = Instant::now();
    let s: mlua::LuaString = f.call((BULK_AT, BULK)).unwrap();
    let d = t.elapsed();
    (d, s.as_bytes().to_vec())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn best(v: &[Duration]) -> Duration {
    v.iter().copied().min().unwrap()
}

fn main() {
    let q = match qemu_gdb::Qemu::start(qemu_gdb::X86) {
        Ok(q) => q,
        Err(why) => {
            println!("gdb bench skipped: {why}");
            return;
        }
    };
    let target = q.target.clone();

    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        raw.push(raw_reads(&target));
        ours.push(memlua_reads(&target));
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(READS);
    let (r, o) = (us(median(raw.clone())), us(median(ours.clone())));
    let (rb, ob) = (us(best(&raw)), us(best(&ours)));
    println!(
        "read32 of the HPET ID, {READS} a round, median of {ROUNDS}:\n  \
         raw RSP round trip {r:.1} us, memlua mem.read32 from Lua {o:.1} us: {:.3}x\n  \
         best rounds: raw {rb:.1} us, memlua {ob:.1} us: {:.3}x",
        o / r,
        ob / rb
    );
    println!(
        "  rounds (us): raw {:?}\n               memlua {:?}",
        raw.iter().map(|&d| us(d).round()).collect::<Vec<_>>(),
        ours.iter().map(|&d| us(d).round()).collect::<Vec<_>>()
    );

    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    let mut same = true;
    for _ in 0..ROUNDS {
        let (d, a) = raw_bulk(&target);
        raw.push(d);
        let (d, b) = memlua_bulk(&target);
        ours.push(d);
        same &= a == b;
    }
    assert!(same, "memlua's bulk read differs from the raw client's");
    let mbs = |d: Duration| BULK as f64 / d.as_secs_f64() / 1e6;
    let (r, o) = (mbs(median(raw.clone())), mbs(median(ours.clone())));
    let (rb, ob) = (mbs(best(&raw)), mbs(best(&ours)));
    println!(
        "1 MiB bulk read in m packets of {CHUNK:#x} bytes, median of {ROUNDS}:\n  \
         raw client {r:.1} MB/s, memlua mem.read {o:.1} MB/s: {:.0}% of raw\n  \
         best rounds: raw {rb:.1} MB/s, memlua {ob:.1} MB/s: {:.0}% of raw",
        o / r * 100.0,
        ob / rb * 100.0
    );
    println!(
        "  rounds (MB/s): raw {:?}\n                memlua {:?}",
        raw.iter().map(|&d| mbs(d).round()).collect::<Vec<_>>(),
        ours.iter().map(|&d| mbs(d).round()).collect::<Vec<_>>()
    );
}
