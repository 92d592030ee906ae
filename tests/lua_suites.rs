//! Runs tests/lua/*.lua, one #[test] per file, each in a fresh Lua state
//! with a fresh simulated `pc` board installed. Suites assert with
//! `check`/`eq`/`raises`/`argerr`, which record each failure with its file
//! and line instead of stopping, so one run reports every failure.
//!
//! Besides the API, suites get `new_session(board [, {nosim=true}])`: the
//! API of another simulator as a table (`s.memrange.count()`), `nosim`
//! hiding the simulator behind a backend whose `as_sim()` is None, as the
//! native backend's is.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::{
    Backend, Buffer, MemExtract, MemRangeDesc, RangeOp, Result as RtResult, Space, Width,
};
use mlua::{Lua, Table};

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

/// The assertion helpers, on top of `__fail(msg, level)`.
const PRELUDE: &str = include_str!("support/prelude.lua");

fn new_backend(board: &str, nosim: bool) -> mlua::Result<Box<dyn Backend>> {
    let sim = Sim::from_board_name(board).map_err(mlua::Error::external)?;
    Ok(if nosim {
        Box::new(NotSim(sim))
    } else {
        Box::new(sim)
    })
}

/// Runs one suite; the failures, each `file:line: message`.
fn run(file: &str) -> Vec<String> {
    let failures = Rc::new(RefCell::new(Vec::<String>::new()));
    let outcome = (|| -> mlua::Result<()> {
        let lua = Lua::new();
        memlua_bindings::install(&lua, new_backend("pc", false)?)?;
        let f = failures.clone();
        let fail = lua.create_function(move |lua, (msg, level): (String, usize)| {
            let place = lua
                .inspect_stack(level, |d| {
                    let src = d.source().short_src.map(|s| s.into_owned());
                    format!(
                        "{}:{}",
                        src.unwrap_or_else(|| "?".into()),
                        d.current_line().unwrap_or(0)
                    )
                })
                .unwrap_or_else(|| "?".into());
            f.borrow_mut().push(format!("{place}: {msg}"));
            Ok(())
        })?;
        lua.load(PRELUDE).set_name("=prelude").call::<()>(fail)?;
        lua.globals().set(
            "new_session",
            lua.create_function(|lua, (board, opts): (String, Option<Table>)| {
                let nosim = match &opts {
                    Some(o) => o.get::<Option<bool>>("nosim")?.unwrap_or(false),
                    None => false,
                };
                memlua_bindings::api_table(lua, new_backend(&board, nosim)?)
            })?,
        )?;
        lua.globals().set(
            "add_stdlib_module",
            lua.create_function(|lua, (name, src): (String, String)| {
                memlua_bindings::stdlib::add_module(lua, &name, &src)
            })?,
        )?;
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/lua")
            .join(file);
        let src = std::fs::read_to_string(&path).map_err(mlua::Error::external)?;
        lua.load(src)
            .set_name(format!("@tests/lua/{file}"))
            .exec()?;
        // A suite ends with a full collection, so __gc paths run too.
        lua.gc_collect()?;
        Ok(())
    })();
    let mut out = failures.borrow().clone();
    if let Err(e) = outcome {
        out.push(format!("tests/lua/{file}: the suite stopped: {e}"));
    }
    out
}

fn suite(file: &str) {
    let failures = run(file);
    if !failures.is_empty() {
        panic!(
            "{} failed assertion(s) in {file}:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
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
