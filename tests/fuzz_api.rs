//! A seeded random-operation fuzzer for the Lua API, on the real binary:
//! `mem.*`, `kmem.*`, windows, buffers, page lists, `memrange.*`, `sim.*`
//! (devices modelled in Lua whose callbacks misbehave included) and
//! `hex`, called with edge values (huge, negative, float, string, nil and
//! table arguments, every width, unaligned and past-the-end addresses,
//! descriptor tables whose `__index` raises), each call in its own
//! `pcall`, some inside coroutines.
//!
//! Each run is one memlua process on a generated script, on the simulator
//! (the `pc` board without its DMA engine, which random writes could make
//! copy gigabytes) and on the native backend over two small files (`-w
//! --mem FILE --kmem FILE`, on tmpfs where there is one). A run must exit
//! 0 with no signal, panic or hang; every error a call raises must be
//! memlua's error value (errno, code, op, message) or Lua's "bad argument"
//! / "bad self" string. On the native backend the script logs every
//! successful write and every read; the test replays the writes on its own
//! copy of the files, checks each read against that copy, and at the end
//! compares the files byte for byte, so a refused call that changed
//! something, or a call that touched the wrong bytes, is caught.
//!
//! CI runs fixed seeds in well under a minute. For a release, run longer:
//! `MEMLUA_FUZZ_ITERS=200000 MEMLUA_FUZZ_SEED=$RANDOM cargo test --test
//! fuzz_api -- --nocapture` (ITERS calls per seed, split into processes
//! of 4000; three seeds from SEED on). A failing run's script is kept in
//! the target folder, and the message says how to run it again.
//!
//! Not fuzzed on the native backend: `memrange.set`/`remove`, which would
//! change this machine's real MTRRs (the CLI has no way to point them at
//! a file); `memrange.get`/`count` are.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod support;

use support::memlua;

/// Calls per process.
const CHUNK_OPS: usize = 4000;
/// Calls per seed in CI.
const DEFAULT_ITERS: usize = 4000;
const DEFAULT_SEED: u64 = 1;
const SEEDS: u64 = 3;

/// The native files: an odd size, so the end is not page-aligned.
const MEM_SIZE: u64 = 0x10000 + 0x7b;
const KMEM_SIZE: u64 = 0x2000;

fn mem_byte(i: u64) -> u8 {
    ((i * 131 + 7) % 251) as u8
}

fn kmem_byte(i: u64) -> u8 {
    ((i * 17 + 3) % 256) as u8
}

/// The bytes `S(k, n)` makes in the script.
fn data(k: u64, n: u64) -> Vec<u8> {
    (0..n)
        .map(|i| ((k * 31 + i * 7 + (i >> 8)) & 0xff) as u8)
        .collect()
}

/// splitmix64: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
}

/// A Lua expression and the u64 memlua must read it as (None: refused).
#[derive(Clone)]
struct Lit {
    lua: String,
    v: Option<u64>,
}

fn lit(lua: impl Into<String>, v: Option<u64>) -> Lit {
    Lit { lua: lua.into(), v }
}

fn int(v: u64) -> Lit {
    lit(format!("{}", v as i64), Some(v))
}

/// Spellings that are not plain integers, and values that are no number.
fn odd_numbers() -> Vec<Lit> {
    vec![
        lit("4096.0", Some(4096)),
        lit("'0x1000'", Some(4096)),
        lit("' 4096\\t'", Some(4096)),
        lit("'0x1p12'", Some(4096)),
        lit("-0.0", Some(0)),
        lit("2^63", Some(1 << 63)),
        lit("2^53", Some(1 << 53)),
        lit("2^64", None),
        lit("1.5", None),
        lit("0/0", None),
        lit("math.huge", None),
        lit("'\\u{a0}4096'", None),
        lit("'4096\\0'", None),
        lit("'abc'", None),
        lit("nil", None),
        lit("{}", None),
        lit("true", None),
        lit("print", None),
        lit("math.mininteger", Some(1 << 63)),
        lit("math.maxinteger", Some(i64::MAX as u64)),
    ]
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Space {
    Mem,
    Kmem,
}

impl Space {
    fn api(self) -> &'static str {
        match self {
            Space::Mem => "mem",
            Space::Kmem => "kmem",
        }
    }
}

/// Where a logged access went: an address, or an offset into a window
/// slot (resolved with the slot's window at that moment).
#[derive(Clone, Copy, Debug)]
enum At {
    Addr(Space, Option<u64>),
    Win(usize, Option<u64>),
}

/// What a call does to the native files when the log says it succeeded.
#[derive(Debug)]
enum Effect {
    Map {
        slot: usize,
        space: Space,
        base: Option<u64>,
        len: Option<u64>,
    },
    Write {
        at: At,
        w: u64,
        v: Option<u64>,
    },
    WriteBytes {
        at: At,
        data: Vec<u8>,
    },
    Read {
        at: At,
        w: u64,
    },
    ReadBytes {
        at: At,
        len: Option<u64>,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sim,
    Native,
}

const WIDTHS: [u64; 4] = [8, 16, 32, 64];
const SLOTS: usize = 4;

struct Gen {
    rng: Rng,
    backend: Backend,
    addrs: Vec<Lit>,
    kaddrs: Vec<Lit>,
    values: Vec<Lit>,
    lens: Vec<Lit>,
    map_lens: Vec<Lit>,
    offs: Vec<Lit>,
    effects: HashMap<usize, Effect>,
    out: String,
}

impl Gen {
    fn new(seed: u64, backend: Backend) -> Gen {
        let odd = odd_numbers();
        let mut addrs: Vec<Lit> = match backend {
            Backend::Native => [
                0,
                1,
                2,
                3,
                4,
                7,
                8,
                4095,
                4096,
                0x2000,
                0xfff8,
                MEM_SIZE - 1,
                MEM_SIZE - 2,
                MEM_SIZE - 4,
                MEM_SIZE - 8,
                MEM_SIZE,
                MEM_SIZE + 1,
                1 << 32,
                1 << 62,
                u64::MAX,
                u64::MAX - 7,
                0xffff_ffff_8000_0000,
            ]
            .into_iter()
            .map(int)
            .collect(),
            Backend::Sim => [
                0,
                1,
                0x1000,
                0x1001,
                0x1002,
                0x1004,
                0x1ffc,
                0xa0000,
                0xbfff8,
                0xf0000,
                0xffff0,
                0xfffff,
                0xfe00_0000,
                0xfe00_0005,
                0xfe00_1000,
                0xfe00_1008,
                0xfe00_3000,
                0xfe00_3ffc,
                0xfe00_4000,
                0xfe10_0000,
                0xfe10_1000,
                0xfe10_2008,
                0xfe10_3ffc,
                0x1_0000_0000,
                (1 << 39) - 1,
                1 << 39,
                1 << 40,
                u64::MAX,
                u64::MAX - 7,
            ]
            .into_iter()
            .map(int)
            .collect(),
        };
        addrs.extend(odd.iter().cloned());
        let mut kaddrs: Vec<Lit> = match backend {
            Backend::Native => [0, 1, 8, 0x1000, KMEM_SIZE - 8, KMEM_SIZE - 1, KMEM_SIZE]
                .into_iter()
                .map(int)
                .collect(),
            Backend::Sim => vec![
                int(0xffff_ffff_8000_0000),
                int(0xffff_ffff_8000_1000),
                int(0xffff_ffff_8000_0ffc),
                int(0xffff_f800_0000_0000),
                int(0xffff_f800_0000_1000),
                int(0xffff_f800_0010_0000),
                lit("kmem.symbol('hz')", None),
                lit("kmem.symbol('version')", None),
            ],
        };
        kaddrs.extend([int(0), int(u64::MAX), lit("1.5", None), lit("nil", None)]);
        let mut values: Vec<Lit> = [
            0,
            1,
            u64::MAX,
            0x7f,
            0x80,
            0xff,
            0x100,
            (-128i64) as u64,
            (-129i64) as u64,
            0xffff,
            0x1_0000,
            0xffff_ffff,
            0x1_0000_0000,
            0x1234_5678_90ab_cdef,
        ]
        .into_iter()
        .map(int)
        .collect();
        values.extend(odd.iter().cloned());
        let mut lens: Vec<Lit> = [0, 1, 2, 3, 4, 8, 15, 16, 17, 64, 100, 4095, 4096, 4097]
            .into_iter()
            .map(int)
            .collect();
        lens.extend([
            int((1 << 30) + 1),
            int(1 << 62),
            int(u64::MAX),
            lit("'16'", Some(16)),
            lit("16.0", Some(16)),
            lit("1.5", None),
            lit("nil", None),
            lit("{}", None),
            lit("math.maxinteger", Some(i64::MAX as u64)),
        ]);
        let mut map_lens: Vec<Lit> = [0, 1, 8, 16, 4096, 0x2000, MEM_SIZE, MEM_SIZE + 1]
            .into_iter()
            .map(int)
            .collect();
        map_lens.extend([
            int(1 << 62),
            int(u64::MAX),
            lit("math.maxinteger", Some(i64::MAX as u64)),
            lit("1.5", None),
            lit("nil", None),
            lit("'4096'", Some(4096)),
        ]);
        let mut offs: Vec<Lit> = [0, 1, 2, 3, 4, 8, 15, 16, 4088, 4092, 4095, 4096, 8184]
            .into_iter()
            .map(int)
            .collect();
        offs.extend([
            int(u64::MAX),
            int(u64::MAX - 7),
            lit("math.maxinteger", Some(i64::MAX as u64)),
            lit("math.mininteger", Some(1 << 63)),
            lit("1.5", None),
            lit("'8'", Some(8)),
            lit("8.0", Some(8)),
            lit("nil", None),
            lit("{}", None),
        ]);
        Gen {
            rng: Rng(seed),
            backend,
            addrs,
            kaddrs,
            values,
            lens,
            map_lens,
            offs,
            effects: HashMap::new(),
            out: String::new(),
        }
    }

    fn pick(&mut self, which: fn(&Gen) -> &Vec<Lit>) -> Lit {
        let n = which(self).len();
        let i = self.rng.below(n);
        which(self)[i].clone()
    }

    fn addr(&mut self, space: Space) -> Lit {
        match space {
            Space::Mem => self.pick(|g| &g.addrs),
            Space::Kmem => self.pick(|g| &g.kaddrs),
        }
    }

    fn space(&mut self) -> Space {
        if self.rng.one_in(3) {
            Space::Kmem
        } else {
            Space::Mem
        }
    }

    /// A bulk write's data: `S(k, n)`, or something that is no string.
    fn bytes(&mut self) -> (String, Option<Vec<u8>>) {
        if self.rng.one_in(12) {
            let bad = *self.rng.pick(&["nil", "5", "{}", "true"]);
            return (bad.to_string(), None);
        }
        let k = self.rng.next() % 1000;
        let n = *self.rng.pick(&[0u64, 1, 2, 3, 7, 8, 16, 100, 4096]);
        (format!("S({k}, {n})"), Some(data(k, n)))
    }

    fn width(&mut self) -> u64 {
        *self.rng.pick(&WIDTHS)
    }

    fn slot(&mut self) -> usize {
        1 + self.rng.below(SLOTS)
    }

    fn emit(&mut self, i: usize, body: &str) {
        if self.rng.one_in(25) {
            // The same call from inside a coroutine.
            let _ = writeln!(
                self.out,
                "T({i}, function() return coroutine.wrap(function() {body} end)() end)"
            );
        } else {
            let _ = writeln!(self.out, "T({i}, function() {body} end)");
        }
    }

    /// One random call, as Lua source, with its effect for the model.
    fn op(&mut self, i: usize) {
        let native = self.backend == Backend::Native;
        let kind = self.rng.below(34);
        match kind {
            // Width accesses on mem/kmem.
            0..=4 => {
                let sp = self.space();
                let a = self.addr(sp);
                let w = self.width();
                let api = sp.api();
                if self.rng.one_in(2) {
                    let v = self.pick(|g| &g.values);
                    self.emit(i, &format!("{api}.write{w}({}, {}); L({i})", a.lua, v.lua));
                    self.effects.insert(
                        i,
                        Effect::Write {
                            at: At::Addr(sp, a.v),
                            w: w / 8,
                            v: v.v,
                        },
                    );
                } else {
                    self.emit(
                        i,
                        &format!("local v = {api}.read{w}({}); RW({i}, v, {w})", a.lua),
                    );
                    self.effects.insert(
                        i,
                        Effect::Read {
                            at: At::Addr(sp, a.v),
                            w: w / 8,
                        },
                    );
                }
            }
            // Bulk accesses on mem/kmem.
            5..=7 => {
                let sp = self.space();
                let a = self.addr(sp);
                let api = sp.api();
                if self.rng.one_in(2) {
                    let (src, bytes) = self.bytes();
                    self.emit(i, &format!("BW({i}, {api}.write, {}, {src})", a.lua));
                    if let Some(data) = bytes {
                        self.effects.insert(
                            i,
                            Effect::WriteBytes {
                                at: At::Addr(sp, a.v),
                                data,
                            },
                        );
                    }
                } else {
                    let n = self.pick(|g| &g.lens);
                    self.emit(
                        i,
                        &format!("local s = {api}.read({}, {}); BR({i}, s)", a.lua, n.lua),
                    );
                    self.effects.insert(
                        i,
                        Effect::ReadBytes {
                            at: At::Addr(sp, a.v),
                            len: n.v,
                        },
                    );
                }
            }
            // A new window in a slot.
            8 => {
                let sp = self.space();
                let a = self.addr(sp);
                let n = self.pick(|g| &g.map_lens);
                let slot = self.slot();
                self.emit(
                    i,
                    &format!(
                        "local w = {}.map({}, {}); CHECKW(w, {}, {}); W[{slot}] = w; L({i})",
                        sp.api(),
                        a.lua,
                        n.lua,
                        a.lua,
                        n.lua
                    ),
                );
                self.effects.insert(
                    i,
                    Effect::Map {
                        slot,
                        space: sp,
                        base: a.v,
                        len: n.v,
                    },
                );
            }
            // Window accesses.
            9..=13 => {
                let slot = self.slot();
                let off = self.pick(|g| &g.offs);
                let w = self.width();
                match self.rng.below(4) {
                    0 => {
                        let v = self.pick(|g| &g.values);
                        self.emit(
                            i,
                            &format!("W[{slot}]:write{w}({}, {}); L({i})", off.lua, v.lua),
                        );
                        self.effects.insert(
                            i,
                            Effect::Write {
                                at: At::Win(slot, off.v),
                                w: w / 8,
                                v: v.v,
                            },
                        );
                    }
                    1 => {
                        self.emit(
                            i,
                            &format!("local v = W[{slot}]:read{w}({}); RW({i}, v, {w})", off.lua),
                        );
                        self.effects.insert(
                            i,
                            Effect::Read {
                                at: At::Win(slot, off.v),
                                w: w / 8,
                            },
                        );
                    }
                    2 => {
                        let (src, bytes) = self.bytes();
                        self.emit(
                            i,
                            &format!(
                                "BW({i}, function(o, s) return W[{slot}]:write(o, s) end, {}, {src})",
                                off.lua
                            ),
                        );
                        if let Some(data) = bytes {
                            self.effects.insert(
                                i,
                                Effect::WriteBytes {
                                    at: At::Win(slot, off.v),
                                    data,
                                },
                            );
                        }
                    }
                    _ => {
                        let n = self.pick(|g| &g.lens);
                        self.emit(
                            i,
                            &format!(
                                "local s = W[{slot}]:read({}, {}); BR({i}, s)",
                                off.lua, n.lua
                            ),
                        );
                        self.effects.insert(
                            i,
                            Effect::ReadBytes {
                                at: At::Win(slot, off.v),
                                len: n.v,
                            },
                        );
                    }
                }
            }
            // Methods on the wrong object, fields, tostring.
            14 => {
                let w = self.width();
                let off = self.pick(|g| &g.offs);
                let body = match self.rng.below(6) {
                    0 => format!("W[1].read{w}(5, {})", off.lua),
                    1 => format!("W[1].read{w}(BUF(1), {})", off.lua),
                    2 => format!("BUF(1).read{w}(W[1], {})", off.lua),
                    3 => format!("W[1].write(nil, {}, 'x')", off.lua),
                    4 => "local w = W[2]; assert(math.type(w.base) == 'integer' and math.type(w.len) == 'integer'); assert(type(tostring(w)) == 'string'); local _ = w.nosuch".to_string(),
                    _ => format!("PL[1].state(W[1], {})", off.lua),
                };
                self.emit(i, &body);
            }
            // Buffers.
            15..=18 => {
                let slot = 1 + self.rng.below(3);
                let off = self.pick(|g| &g.offs);
                let w = self.width();
                let body = match self.rng.below(12) {
                    0 | 1 => {
                        let n = *self.rng.pick(&[
                            "0",
                            "1",
                            "100",
                            "4095",
                            "4096",
                            "4097",
                            "65536",
                            "-1",
                            "1 << 62",
                            "1.5",
                            "nil",
                            "'4096'",
                            "math.maxinteger",
                            "{}",
                        ]);
                        format!("local b = mem.alloc({n}); CHECKB(b, {n}); B[{slot}] = b")
                    }
                    2 => {
                        let v = self.pick(|g| &g.values);
                        format!("BUF({slot}):write{w}({}, {})", off.lua, v.lua)
                    }
                    3 => format!(
                        "local v = BUF({slot}):read{w}({}); RW(nil, v, {w})",
                        off.lua
                    ),
                    4 => {
                        let (src, _) = self.bytes();
                        format!("BUF({slot}):write({}, {src})", off.lua)
                    }
                    5 => {
                        let n = self.pick(|g| &g.lens);
                        format!("BUF({slot}):read({}, {})", off.lua, n.lua)
                    }
                    6 => format!("BUF({slot}):lock()"),
                    7 => format!("BUF({slot}):unlock()"),
                    8 => format!("BUF({slot}):free()"),
                    9 => format!("PL[{}] = BUF({slot}):pages()", 1 + self.rng.below(2)),
                    10 => format!("B[{slot}] = nil; collectgarbage()"),
                    _ => format!(
                        "local b = BUF({slot}); assert(mem.extract(b.addr).vaddr == b.addr)"
                    ),
                };
                self.emit(i, &body);
            }
            // Page lookups.
            19 | 20 => {
                let a = self.pick(|g| &g.addrs);
                let idx = *self.rng.pick(&[
                    "0",
                    "1",
                    "2",
                    "-1",
                    "1.5",
                    "'1'",
                    "nil",
                    "math.maxinteger",
                    "1 << 40",
                ]);
                let slot = 1 + self.rng.below(2);
                let body = match self.rng.below(5) {
                    0 => format!("CHECKX(mem.extract({}))", a.lua),
                    1 => {
                        let n = *self.rng.pick(&[
                            "0", "1", "4096", "4097", "1 << 20", "(1 << 34) + 1", "1 << 62", "-1",
                            "nil", "1.5",
                        ]);
                        format!("PL[{slot}] = mem.extract_range({}, {n})", a.lua)
                    }
                    2 => format!("local pl = PL[{slot}]; local _ = #pl, pl[{idx}]"),
                    3 => format!(
                        "local pl = PL[{slot}]; local _ = pl:state({idx}), pl:paddr({idx}), pl:domain({idx})"
                    ),
                    _ => format!("local pl = PL[{slot}]; local e = pl[1]; if e then CHECKX(e) end"),
                };
                self.emit(i, &body);
            }
            // kmem.symbol.
            21 => {
                let name = *self.rng.pick(&[
                    "'hz'",
                    "'_hz'",
                    "'version'",
                    "'kernbase'",
                    "'nope'",
                    "''",
                    "'hz\\xff'",
                    "'h\\0z'",
                    "('x'):rep(1 << 16)",
                    "'jiffies'",
                    "5",
                    "nil",
                    "{}",
                ]);
                self.emit(
                    i,
                    &format!("local a = kmem.symbol({name}); assert(math.type(a) == 'integer')"),
                );
            }
            // memrange.
            22 | 23 => {
                let body = match self.rng.below(6) {
                    0 => "assert(math.type(memrange.count()) == 'integer')".to_string(),
                    1 => {
                        let n = *self.rng.pick(&["nil", "0", "1", "5", "-1", "1.5", "{}"]);
                        format!("CHECKR(memrange.get({n}))")
                    }
                    2 => {
                        let f = *self.rng.pick(&[
                            "'write-combine'",
                            "'uncacheable,active'",
                            "'bogus'",
                            "''",
                            "0x80000000",
                            "-1",
                            "1.5",
                            "nil",
                            "('w'):rep(1 << 16)",
                        ]);
                        format!("memrange.flags({f})")
                    }
                    3 => {
                        let f = *self
                            .rng
                            .pick(&["0", "1", "0x1f", "-1", "1 << 40", "'x'", "nil"]);
                        format!("memrange.names({f})")
                    }
                    _ if native => "memrange.get()".to_string(),
                    k => {
                        let d = self.desc();
                        let f = if k == 4 { "set" } else { "remove" };
                        format!("memrange.{f}({d})")
                    }
                };
                self.emit(i, &body);
            }
            // sim.* (EOPNOTSUPP on the native backend).
            24..=27 => {
                let body = match self.rng.below(9) {
                    0 => "CHECKR(sim.regions())".to_string(),
                    1 => "CHECKR(sim.devices())".to_string(),
                    2 => "assert(math.type(sim.clock()) == 'integer')".to_string(),
                    3 => {
                        let ns = *self.rng.pick(&[
                            "0",
                            "1",
                            "1000",
                            "math.maxinteger",
                            "-1",
                            "1.5",
                            "nil",
                            "'10'",
                        ]);
                        format!("sim.advance({ns})")
                    }
                    4 => "sim.reclaim()".to_string(),
                    5 => {
                        let n = *self.rng.pick(&[
                            "'uart0'",
                            "'timer0'",
                            "'nope'",
                            "''",
                            "'\\xff'",
                            "5",
                            "nil",
                            "('u'):rep(1 << 16)",
                        ]);
                        format!("assert(type(sim.output({n})) == 'string')")
                    }
                    6 => {
                        let d = self.desc();
                        format!("sim.claim({d})")
                    }
                    _ => self.device(),
                };
                self.emit(i, &body);
            }
            // Lua devices' registers: callbacks that misbehave.
            28 | 29 => {
                let base = 0xfe10_0000u64 + 0x1000 * self.rng.below(8) as u64;
                let off = *self.rng.pick(&[0u64, 1, 2, 4, 8, 0xffc, 0xff8]);
                let w = self.width();
                let body = match self.rng.below(3) {
                    0 => format!("mem.write{w}({}, 0x5a)", base + off),
                    1 => format!("RW(nil, mem.read{w}({}), {w})", base + off),
                    _ => format!("mem.read({}, 16)", base + off),
                };
                self.emit(i, &body);
            }
            // hex.
            30 => {
                let v = self.pick(|g| &g.values);
                let w = *self.rng.pick(&[
                    "nil", "1", "4", "8", "32", "64", "0", "65", "-1", "1.5", "'16'", "{}",
                ]);
                self.emit(i, &format!("CHECKH({}, {w})", v.lua));
            }
            // The collector, at any moment.
            31 => self.emit(i, "collectgarbage()"),
            // Descriptor and name arguments of every kind to the table calls.
            _ => {
                let f =
                    *self
                        .rng
                        .pick(&["memrange.set", "memrange.remove", "sim.device", "sim.claim"]);
                if native && f.starts_with("memrange") {
                    self.emit(i, "memrange.count()");
                    return;
                }
                let arg = *self
                    .rng
                    .pick(&["RAISING", "RAISING_STR", "nil", "5", "'x'", "{}"]);
                self.emit(i, &format!("{f}({arg})"));
            }
        }
    }

    /// A descriptor for memrange.set/remove and sim.claim.
    fn desc(&mut self) -> String {
        if self.rng.one_in(8) {
            return (*self.rng.pick(&["RAISING", "RAISING_STR", "nil", "{}"])).to_string();
        }
        let base = *self.rng.pick(&[
            "0",
            "0xa0000",
            "0xc0000",
            "0x90000000",
            "0xc0000000",
            "0x100000000",
            "0x1000",
            "0xa0001",
            "-4096",
            "1 << 40",
            "1.5",
            "nil",
            "'0xc0000000'",
        ]);
        let len = *self.rng.pick(&[
            "0x1000",
            "0x10000",
            "0x20000",
            "0x1000000",
            "0x10000000",
            "0",
            "0x1001",
            "-1",
            "1 << 62",
            "nil",
            "2.5",
        ]);
        let flags = *self.rng.pick(&[
            "'write-combine'",
            "'uncacheable'",
            "'write-back,force'",
            "'write-protect'",
            "memrange.WRITECOMBINE",
            "0",
            "0x80000000",
            "-1",
            "'bogus'",
            "nil",
            "1.5",
        ]);
        let owner = *self.rng.pick(&[
            "'fuzz'",
            "'fz2'",
            "''",
            "'12345678'",
            "'a\\0b'",
            "'\\xff'",
            "nil",
            "5",
        ]);
        format!("{{base = {base}, len = {len}, flags = {flags}, owner = {owner}}}")
    }

    /// A `sim.device{...}` call.
    fn device(&mut self) -> String {
        let name = *self.rng.pick(&[
            "'fz1'",
            "'fz2'",
            "'fz3'",
            "'fz4'",
            "''",
            "'\\xff'",
            "('n'):rep(1 << 16)",
            "nil",
        ]);
        let base = *self.rng.pick(&[
            "0xfe100000",
            "0xfe101000",
            "0xfe102000",
            "0xfe103000",
            "0xfe104000",
            "0xfe105000",
            "0xfe106000",
            "0xfe107000",
            "0x1000",
            "0xfe100001",
            "0",
            "-4096",
            "nil",
        ]);
        let len = *self.rng.pick(&[
            "0x1000", "0x1000", "0x2000", "0", "0x1001", "1 << 40", "-1", "1.5", "nil",
        ]);
        let read = *self.rng.pick(&["DEVREAD", "DEVREAD", "nil", "5"]);
        let write = *self.rng.pick(&["DEVWRITE", "DEVWRITE", "nil", "{}"]);
        format!("sim.device {{name = {name}, base = {base}, len = {len}, read = {read}, write = {write}}}")
    }
}

/// The script's frame: helpers that check every error and log accesses.
fn prelude(backend: Backend) -> String {
    let model = backend == Backend::Native;
    let windows = match backend {
        Backend::Native => format!(
            "W[1] = mem.map(0, 4096); W[2] = kmem.map(0, {KMEM_SIZE}); \
             W[3] = mem.map({}, 16); W[4] = mem.map(0, {MEM_SIZE})",
            MEM_SIZE - 16
        ),
        Backend::Sim => {
            "W[1] = mem.map(0x1000, 0x1000); W[2] = mem.map(0xfe003000, 0x100); \
                         W[3] = kmem.map(0xffffffff80000000, 0x1000); W[4] = mem.map(0xfe000000, 8)"
                .to_string()
        }
    };
    format!(
        r#"io.stdout:setvbuf("line")
local MODEL = {model}
local EMT = getmetatable(select(2, pcall(mem.map, 0, 0)))
assert(EMT, "no error metatable")
local MARK = setmetatable({{}}, {{__name = "fuzz.mark"}})
RAISING = setmetatable({{}}, {{__index = function() error(MARK) end}})
RAISING_STR = setmetatable({{}}, {{__index = function() error("fuzz-index", 0) end}})
local function good(e)
  -- The raising __index's own errors (coroutine.wrap puts a position
  -- in front of a string).
  if rawequal(e, MARK) or (type(e) == "string" and e:find("fuzz%-index$")) then return true end
  if type(e) == "table" then
    return getmetatable(e) == EMT and type(e.errno) == "string" and e.errno:match("^E[A-Z]+$") ~= nil
      and math.type(e.code) == "integer" and type(e.op) == "string" and #e.op <= 64
      and type(e.message) == "string" and #e.message <= 1024
      and (e.addr == nil or math.type(e.addr) == "integer")
      and (e.done == nil or math.type(e.done) == "integer")
      and type(tostring(e)) == "string"
  end
  return type(e) == "string" and #e <= 1400
    and (e:find("bad argument #%d+ to '") or e:find("calling '[%w_]+' on bad self")) ~= nil
end
local VIOL, OKS = 0, 0
function T(i, f)
  io.write("@", i, "\n")
  local ok, e = pcall(f)
  if ok then OKS = OKS + 1 end
  if not ok and not good(e) then
    VIOL = VIOL + 1
    local shown = type(e) == "table" and getmetatable(e) == EMT and ("error value " .. tostring(e)) or tostring(e)
    io.write("VIOLATION @", i, ": ", type(e), ": ", shown:sub(1, 300):gsub("\n", " | "), "\n")
  end
end
function L(i) if MODEL then io.write("L ", i, "\n") end end
function P(i, d) if MODEL then io.write("P ", i, " ", d, "\n") end end
-- A width read: an integer that fits the width (64 bits: any).
function RW(i, v, w)
  if math.type(v) ~= "integer" or (w < 64 and (v < 0 or v >= 1 << w)) then
    error("INVARIANT: read" .. w .. " gave " .. tostring(v))
  end
  if MODEL and i then io.write("R ", i, " ", v, "\n") end
end
function BR(i, s)
  if type(s) ~= "string" then error("INVARIANT: a bulk read gave " .. type(s)) end
  if MODEL then io.write("B ", i, " ", (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)), "\n") end
end
-- A bulk write: logged when it succeeds, and by e.done when it fails.
function BW(i, f, a, s)
  local ok, e = pcall(f, a, s)
  if ok then L(i) elseif type(e) == "table" and math.type(e.done) == "integer" and e.done > 0 then P(i, e.done) end
  if not ok then error(e, 0) end
end
function S(k, n)
  local t = {{}}
  for i = 0, n - 1 do t[#t + 1] = string.char((k * 31 + i * 7 + (i >> 8)) & 0xff) end
  return table.concat(t)
end
local function tou64(v)
  if math.type(v) == "integer" then return v end
  local n = tonumber(v)
  return n and math.tointeger(n)
end
function CHECKW(w, a, n)
  if tou64(a) and (w.base ~= tou64(a) or w.len ~= tou64(n)) then
    error("INVARIANT: window " .. tostring(w) .. " for " .. tostring(a) .. ", " .. tostring(n))
  end
end
function CHECKB(b, n)
  if b.addr % 4096 ~= 0 or (tou64(n) and b.len ~= tou64(n)) then error("INVARIANT: buffer " .. tostring(b)) end
end
function CHECKX(e)
  local ok = ({{invalid = true, valid = true, mapped = true}})[e.state]
  if not ok or math.type(e.vaddr) ~= "integer" then error("INVARIANT: extract gave state " .. tostring(e.state)) end
end
function CHECKR(list)
  for _, d in ipairs(list) do if type(d) ~= "table" then error("INVARIANT: a list of " .. type(d)) end end
end
function CHECKH(v, w)
  local s = hex(v, w)
  if type(s) ~= "string" or not s:match("^0x%x+$") then error("INVARIANT: hex gave " .. tostring(s)) end
  if math.type(v) == "integer" and w == nil and s ~= ("0x%x"):format(v) then error("INVARIANT: hex(" .. v .. ") = " .. s) end
end
local DEVN = 0
local function misbehave()
  DEVN = DEVN + 1
  local k = DEVN % 12
  if k == 0 then error("fuzz device", 0)
  elseif k == 1 then error(MARK)
  elseif k == 2 then return "x"
  elseif k == 3 then return 1.5
  elseif k == 4 then return 1 << 40
  elseif k == 5 then return mem.read32(0x1000)
  elseif k == 6 then collectgarbage(); return 3
  elseif k == 7 then return nil
  elseif k == 8 then return coroutine.yield(1)
  elseif k == 9 then pcall(mem.alloc, 4096); pcall(sim.device, {{name = "inner", base = 0xfe200000, len = 0x1000}}); return 0
  elseif k == 10 then return -1
  else return DEVN & 0xff end
end
DEVREAD = function(off, width) return misbehave() end
DEVWRITE = function(off, width, v) misbehave() end
W, B, PL = {{}}, {{}}, {{}}
{windows}
B[1], B[2], B[3] = mem.alloc(4096), mem.alloc(8192), mem.alloc(1)
-- A slot the collector emptied falls back on a buffer kept for good.
local B0 = mem.alloc(4096)
function BUF(i) return B[i] or B0 end
PL[1], PL[2] = B[1]:pages(), mem.extract_range(B[2].addr, 8192)
function FUZZ_END(n)
  collectgarbage()
  -- Still usable afterwards.
  assert(math.type(mem.read8(0)) == "integer")
  assert(mem.alloc(4096).len == 4096)
  io.write("FUZZ-DONE ops=", n, " violations=", VIOL, " succeeded=", OKS, "\n")
end
"#
    )
}

/// The native files as the replayed log says they must be.
struct Model {
    mem: Vec<u8>,
    kmem: Vec<u8>,
    slots: [(Space, u64, u64); SLOTS],
}

impl Model {
    fn new() -> Model {
        Model {
            mem: (0..MEM_SIZE).map(mem_byte).collect(),
            kmem: (0..KMEM_SIZE).map(kmem_byte).collect(),
            slots: [
                (Space::Mem, 0, 4096),
                (Space::Kmem, 0, KMEM_SIZE),
                (Space::Mem, MEM_SIZE - 16, 16),
                (Space::Mem, 0, MEM_SIZE),
            ],
        }
    }

    /// The file bytes `[at, at + n)` of a call that succeeded, or why it
    /// should not have.
    fn span(&mut self, at: At, n: u64) -> Result<&mut [u8], String> {
        let (space, addr) = match at {
            At::Addr(space, Some(a)) => (space, a),
            At::Win(slot, Some(off)) => {
                let (space, base, len) = self.slots[slot - 1];
                if off > len || n > len - off {
                    return Err(format!(
                        "an access of {n} bytes at offset {off:#x} succeeded in a window of {len:#x} bytes"
                    ));
                }
                (space, base.wrapping_add(off))
            }
            _ => return Err("a call succeeded with an argument memlua must refuse".into()),
        };
        let file = match space {
            Space::Mem => &mut self.mem,
            Space::Kmem => &mut self.kmem,
        };
        // Moving no bytes succeeds anywhere, as a read(2) of 0 does.
        if n == 0 {
            return Ok(&mut file[..0]);
        }
        let size = file.len() as u64;
        if addr > size || n > size - addr {
            return Err(format!(
                "an access of {n} bytes at {addr:#x} succeeded past the end of the {space:?} file ({size:#x} bytes)"
            ));
        }
        Ok(&mut file[addr as usize..(addr + n) as usize])
    }

    /// Replays one log line; Err says what was wrong.
    fn apply(&mut self, line: &str, effects: &HashMap<usize, Effect>) -> Result<(), String> {
        let mut parts = line.splitn(3, ' ');
        let tag = parts.next().unwrap_or("");
        let idx: usize = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or("a log line without a call number")?;
        let rest = parts.next().unwrap_or("");
        let effect = effects.get(&idx);
        match (tag, effect) {
            (
                "L",
                Some(Effect::Map {
                    slot,
                    space,
                    base,
                    len,
                }),
            ) => {
                let (Some(base), Some(len)) = (base, len) else {
                    return Err("mem.map succeeded with an argument it must refuse".into());
                };
                self.slots[slot - 1] = (*space, *base, *len);
            }
            ("L", Some(Effect::Write { at, w, v })) => {
                let Some(v) = v else {
                    return Err("a write succeeded with a value it must refuse".into());
                };
                let bits = w * 8;
                let fits = bits == 64 || *v < (1 << bits) || (*v as i64) >= -(1i64 << (bits - 1));
                if !fits {
                    return Err(format!("a {bits}-bit write of {v:#x} succeeded"));
                }
                let bytes = v.to_le_bytes();
                self.span(*at, *w)?.copy_from_slice(&bytes[..*w as usize]);
            }
            ("L", Some(Effect::WriteBytes { at, data })) => {
                self.span(*at, data.len() as u64)?.copy_from_slice(data);
            }
            ("P", Some(Effect::WriteBytes { at, data })) => {
                let done: usize = rest.parse().map_err(|_| "a bad e.done")?;
                if done > data.len() {
                    return Err(format!(
                        "e.done {done} is more than the {} bytes",
                        data.len()
                    ));
                }
                self.span(*at, done as u64)?.copy_from_slice(&data[..done]);
            }
            ("R", Some(Effect::Read { at, w })) => {
                let got: i64 = rest.parse().map_err(|_| format!("read gave '{rest}'"))?;
                let span = self.span(*at, *w)?;
                let mut bytes = [0u8; 8];
                bytes[..*w as usize].copy_from_slice(span);
                let want = u64::from_le_bytes(bytes);
                if got as u64 != want {
                    return Err(format!("read {:#x}, the file holds {want:#x}", got as u64));
                }
            }
            ("B", Some(Effect::ReadBytes { at, len })) => {
                let got: Vec<u8> = (0..rest.len() / 2)
                    .map(|k| u8::from_str_radix(&rest[2 * k..2 * k + 2], 16).unwrap_or(0))
                    .collect();
                if Some(got.len() as u64) != *len {
                    return Err(format!("read {} bytes, asked for {len:?}", got.len()));
                }
                let span = self.span(*at, got.len() as u64)?;
                if span != &got[..] {
                    return Err("a bulk read does not match the file".into());
                }
            }
            (tag, effect) => return Err(format!("log line '{tag}' for {effect:?}")),
        }
        Ok(())
    }
}

/// A folder on tmpfs if there is one.
fn scratch_dir(tag: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let name = format!("memlua-fuzz-{tag}-{}", std::process::id());
    let dir = if shm.is_dir() {
        shm.join(name)
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The pc board without its DMA engine.
fn board_file(dir: &Path) -> PathBuf {
    let pc = include_str!("../runtime/boards/pc.toml");
    let dma = "[[device]]\nname = \"dma0\"\nkind = \"dma\"\nbase = 0xFE002000\n";
    assert!(
        pc.contains(dma),
        "the pc board's DMA entry moved; update fuzz_api.rs"
    );
    let path = dir.join("pc-nodma.toml");
    std::fs::write(&path, pc.replace(dma, "")).unwrap();
    path
}

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, not '{v}'"))
    })
}

/// Runs every seed's calls on `backend`; panics with every failure.
fn fuzz(backend: Backend) {
    let iters = env_num("MEMLUA_FUZZ_ITERS").map_or(DEFAULT_ITERS, |n| n as usize);
    let first = env_num("MEMLUA_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let tag = match backend {
        Backend::Sim => "sim",
        Backend::Native => "native",
    };
    let dir = scratch_dir(tag);
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz_api");
    std::fs::create_dir_all(&keep).unwrap();
    let board = board_file(&dir);
    let mut failures = Vec::new();
    for seed in first..first + SEEDS {
        let chunks = iters.div_ceil(CHUNK_OPS).max(1);
        for chunk in 0..chunks {
            let ops = CHUNK_OPS.min(iters - chunk * CHUNK_OPS);
            if let Err(why) = run_chunk(backend, seed, chunk, ops, &dir, &board) {
                let kept = keep.join(format!("{tag}-seed{seed}-chunk{chunk}.lua"));
                let _ = std::fs::copy(dir.join(format!("{tag}-{seed}-{chunk}.lua")), &kept);
                failures.push(format!(
                    "{tag} seed {seed} chunk {chunk}: {why}\n  script kept: {} \
                     (again: MEMLUA_FUZZ_SEED={seed} MEMLUA_FUZZ_ITERS={iters} cargo test --test fuzz_api)",
                    kept.display()
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn run_chunk(
    backend: Backend,
    seed: u64,
    chunk: usize,
    ops: usize,
    dir: &Path,
    board: &Path,
) -> Result<(), String> {
    let tag = match backend {
        Backend::Sim => "sim",
        Backend::Native => "native",
    };
    let mut g = Gen::new(
        seed.wrapping_mul(0x1000_0000_01b3) ^ (chunk as u64) ^ (backend as u64) << 40,
        backend,
    );
    g.out.push_str(&prelude(backend));
    for i in 1..=ops {
        g.op(i);
    }
    let _ = writeln!(g.out, "FUZZ_END({ops})");
    let script = dir.join(format!("{tag}-{seed}-{chunk}.lua"));
    std::fs::write(&script, &g.out).unwrap();

    let mut cmd = memlua();
    let (memf, kmemf) = (
        dir.join(format!("{tag}-{seed}-{chunk}.mem")),
        dir.join(format!("{tag}-{seed}-{chunk}.kmem")),
    );
    match backend {
        Backend::Sim => {
            cmd.arg("--board").arg(board);
        }
        Backend::Native => {
            std::fs::write(&memf, (0..MEM_SIZE).map(mem_byte).collect::<Vec<_>>()).unwrap();
            std::fs::write(&kmemf, (0..KMEM_SIZE).map(kmem_byte).collect::<Vec<_>>()).unwrap();
            cmd.arg("-w")
                .arg("--mem")
                .arg(&memf)
                .arg("--kmem")
                .arg(&kmemf);
        }
    }
    let out = cmd
        .arg(&script)
        .timeout(Duration::from_secs(300))
        .output()
        .map_err(|e| format!("memlua did not run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last_op = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix('@'))
        .unwrap_or("none");
    let tail: String = stderr.chars().take(2000).collect();
    match out.status.code() {
        Some(0) => {}
        Some(code) => {
            return Err(format!(
                "exit {code} during call {last_op}{}; stderr: {tail}",
                match code {
                    101 => " (a Rust panic)",
                    134 => " (abort)",
                    _ => "",
                }
            ))
        }
        None => {
            return Err(format!(
                "killed by a signal or the 300 s timeout (a hang) during call {last_op}; stderr: {tail}"
            ))
        }
    }
    let mut problems: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("VIOLATION"))
        .take(20)
        .map(str::to_string)
        .collect();
    match stdout.lines().find(|l| l.starts_with("FUZZ-DONE ")) {
        // Shown with --nocapture: how many calls got through.
        Some(done) => eprintln!("{tag} seed {seed} chunk {chunk}: {done}"),
        None => problems.push(format!("the script did not finish (last call {last_op})")),
    }
    if !stderr.is_empty() {
        problems.push(format!("stderr: {tail}"));
    }
    if backend == Backend::Native {
        let mut model = Model::new();
        for line in stdout.lines() {
            if line.starts_with(['L', 'P', 'R', 'B']) {
                if let Err(why) = model.apply(line, &g.effects) {
                    let idx = line.split(' ').nth(1).unwrap_or("?");
                    problems.push(format!("call {idx}: {why}"));
                    if problems.len() > 20 {
                        break;
                    }
                }
            }
        }
        for (name, path, want) in [("mem", &memf, &model.mem), ("kmem", &kmemf, &model.kmem)] {
            let got = std::fs::read(path).unwrap();
            if &got != want {
                let at = got.iter().zip(want.iter()).position(|(a, b)| a != b);
                problems.push(format!(
                    "the {name} file differs from the successful writes replayed: size {} (want {}), first difference at {at:?}",
                    got.len(),
                    want.len()
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n  "))
    }
}

#[test]
fn the_api_survives_random_calls_on_the_simulator() {
    fuzz(Backend::Sim);
}

#[test]
fn the_api_survives_random_calls_on_a_native_file() {
    fuzz(Backend::Native);
}
