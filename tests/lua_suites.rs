//! Runs tests/lua/*.lua, one #[test] per file, each in a fresh Lua state
//! with a fresh simulated `pc` board installed. Suites assert with
//! `check`/`eq`/`raises`/`argerr`, which record each failure with its file
//! and line instead of stopping, so one run reports every failure; the
//! `*_test.lua` suites are in `memlua test`'s form (tests/test_runner.rs
//! also runs them through the binary).
//!
//! Besides the API, suites get `new_session(board [, {nosim=true}])`: the
//! API of another simulator as a table (`s.memrange.count()`), `nosim`
//! hiding the simulator behind a backend whose `as_sim()` is None, as the
//! native backend's is.

#[path = "support/suite.rs"]
mod suite;

#[path = "support/layers.rs"]
mod layers;

use std::cell::Cell;
use std::rc::Rc;

use layers::{Counting, NotSim, VecBackend};
use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::Backend;

fn new_backend(board: &str, nosim: bool) -> mlua::Result<Box<dyn Backend>> {
    let sim = Sim::from_board_name(board).map_err(mlua::Error::external)?;
    Ok(if nosim {
        Box::new(NotSim(Box::new(sim)))
    } else {
        Box::new(sim)
    })
}

/// Runs `file` on the `pc` board, then again with a counting layer around
/// it: a layer must pass everything through, `sim.*` included.
fn suite(file: &str) {
    let failures = suite::run(file, new_backend("pc", false), |lua, board, opts| {
        memlua_bindings::api_table(lua, new_backend(&board, suite::nosim(&opts)?)?)
    });
    suite::report(file, "", failures);

    let count = Rc::new(Cell::new(0));
    let counted = new_backend("pc", false).map(|inner| {
        Box::new(Counting {
            inner,
            count: count.clone(),
        }) as Box<dyn Backend>
    });
    let failures = suite::run(file, counted, |lua, board, opts| {
        memlua_bindings::api_table(lua, new_backend(&board, suite::nosim(&opts)?)?)
    });
    suite::report(file, " behind a counting layer", failures);
    // Suites of pure functions (bits, flag names) make no access at all.
    if ["mem.lua", "portable.lua", "windows.lua"].contains(&file) {
        assert!(count.get() > 0, "{file}: no access went through the layer");
    }
}

/// The portable suite on a backend of a few lines that only moves bytes:
/// everything else answers EOPNOTSUPP.
#[test]
fn portable_on_a_minimal_backend() {
    let vec = Box::new(VecBackend(vec![0; 4 << 20])) as Box<dyn Backend>;
    let failures = suite::run("portable.lua", Ok(vec), |_, _, _| {
        Err(mlua::Error::runtime("no other sessions on the vec backend"))
    });
    suite::report("portable.lua", " on a minimal backend", failures);
}

#[test]
fn scoped() {
    suite("scoped.lua");
}

#[test]
fn numbers() {
    suite("numbers_test.lua");
}

#[test]
fn mem() {
    suite("mem.lua");
}

#[test]
fn kmem() {
    suite("kmem_test.lua");
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
    suite("stdlib_bits_test.lua");
}

#[test]
fn stdlib_hexdump() {
    suite("stdlib_hexdump_test.lua");
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
fn debug_forge() {
    suite("debug_forge.lua");
}

#[test]
fn portable() {
    suite("portable.lua");
}
