//! Runs tests/lua/*.lua, one #[test] per file, each in a fresh Lua state
//! with a fresh simulated `pc` board installed. Suites assert with
//! `check`/`eq`/`raises`/`argerr`, which record each failure with its file
//! and line instead of stopping, so one run reports every failure.
//!
//! Besides the API, suites get `new_session(board [, {nosim=true}])`: the
//! API of another simulator as a table (`s.memrange.count()`), `nosim`
//! hiding the simulator behind a backend whose `as_sim()` is None, as the
//! native backend's is.

#[path = "support/suite.rs"]
mod suite;

use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::{
    Backend, Buffer, MemExtract, MemRangeDesc, RangeOp, Result as RtResult, Space, Width,
};

/// A simulator that does not admit being one: `sim.*` must fail with
/// EOPNOTSUPP on it.
struct NotSim(Sim);

impl Backend for NotSim {
    fn name(&self) -> &str {
        "native"
    }
    fn writable(&self) -> bool {
        true
    }
    fn read(&mut self, s: Space, a: u64, w: Width) -> RtResult<u64> {
        self.0.read(s, a, w)
    }
    fn write(&mut self, s: Space, a: u64, w: Width, v: u64) -> RtResult<()> {
        self.0.write(s, a, w, v)
    }
    fn read_bytes(&mut self, s: Space, a: u64, b: &mut [u8]) -> RtResult<()> {
        self.0.read_bytes(s, a, b)
    }
    fn write_bytes(&mut self, s: Space, a: u64, b: &[u8]) -> RtResult<()> {
        self.0.write_bytes(s, a, b)
    }
    fn extract(&mut self, v: &[u64], o: &mut [MemExtract]) -> RtResult<()> {
        self.0.extract(v, o)
    }
    fn range_count(&mut self) -> RtResult<usize> {
        self.0.range_count()
    }
    fn ranges(&mut self) -> RtResult<Vec<MemRangeDesc>> {
        self.0.ranges()
    }
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> RtResult<()> {
        self.0.range_set(d, op)
    }
    fn symbol(&mut self, n: &str) -> RtResult<u64> {
        self.0.symbol(n)
    }
    fn alloc(&mut self, l: u64) -> RtResult<Buffer> {
        self.0.alloc(l)
    }
    fn buffer_read(&mut self, b: u64, o: u64, w: Width) -> RtResult<u64> {
        self.0.buffer_read(b, o, w)
    }
    fn buffer_write(&mut self, b: u64, o: u64, w: Width, v: u64) -> RtResult<()> {
        self.0.buffer_write(b, o, w, v)
    }
    fn buffer_read_bytes(&mut self, b: u64, o: u64, out: &mut [u8]) -> RtResult<()> {
        self.0.buffer_read_bytes(b, o, out)
    }
    fn buffer_write_bytes(&mut self, b: u64, o: u64, d: &[u8]) -> RtResult<()> {
        self.0.buffer_write_bytes(b, o, d)
    }
    fn buffer_lock(&mut self, b: u64) -> RtResult<()> {
        self.0.buffer_lock(b)
    }
    fn buffer_unlock(&mut self, b: u64) -> RtResult<()> {
        self.0.buffer_unlock(b)
    }
    fn buffer_free(&mut self, b: u64) -> RtResult<()> {
        self.0.buffer_free(b)
    }
}

fn new_backend(board: &str, nosim: bool) -> mlua::Result<Box<dyn Backend>> {
    let sim = Sim::from_board_name(board).map_err(mlua::Error::external)?;
    Ok(if nosim {
        Box::new(NotSim(sim))
    } else {
        Box::new(sim)
    })
}

fn suite(file: &str) {
    let failures = suite::run(file, new_backend("pc", false), |lua, board, opts| {
        memlua_bindings::api_table(lua, new_backend(&board, suite::nosim(&opts)?)?)
    });
    suite::report(file, "", failures);
}

#[test]
fn numbers() {
    suite("numbers.lua");
}

#[test]
fn mem() {
    suite("mem.lua");
}

#[test]
fn kmem() {
    suite("kmem.lua");
}

#[test]
fn windows() {
    suite("windows.lua");
}

#[test]
fn extract_buffers() {
    suite("extract_buffers.lua");
}

#[test]
fn memrange() {
    suite("memrange.lua");
}

#[test]
fn errors() {
    suite("errors.lua");
}

#[test]
fn sim() {
    suite("sim.lua");
}

#[test]
fn stdlib() {
    suite("stdlib.lua");
}

#[test]
fn stdlib_bits() {
    suite("stdlib_bits.lua");
}

#[test]
fn stdlib_hexdump() {
    suite("stdlib_hexdump.lua");
}

#[test]
fn stdlib_regs() {
    suite("stdlib_regs.lua");
}

#[test]
fn stdlib_poll() {
    suite("stdlib_poll.lua");
}

#[test]
fn stdlib_memtest() {
    suite("stdlib_memtest.lua");
}

#[test]
fn stdlib_svd() {
    suite("stdlib_svd.lua");
}

#[test]
fn portable() {
    suite("portable.lua");
}
