//! Runs the tests/lua suites that apply off the simulator on the native
//! backend, over a 64 MiB file on tmpfs standing in for /dev/mem (with
//! -w), so one script is proven on both backends. Suites that need the
//! simulator's board (its RAM map, holes, devices, kernel map, MTRRs or
//! `sim.*`) stay with tests/lua_suites.rs; a suite knows where it runs
//! from `backend.name`.

#[path = "support/suite.rs"]
mod suite;

#[path = "support/layers.rs"]
mod layers;

#[path = "support/skip.rs"]
mod skip;

use std::path::{Path, PathBuf};

use memlua_bindings::memlua_runtime::native::{Native, Options};
use memlua_bindings::memlua_runtime::sim::Sim;
use memlua_bindings::memlua_runtime::Backend;

/// A 64 MiB tmpfs file, removed when dropped.
struct Fixture(PathBuf);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A fresh one on /dev/shm; a tmpfs that cannot hold it is a failure.
fn fixture(name: &str) -> Fixture {
    let p = PathBuf::from(format!("/dev/shm/memlua-lua-{name}-{}", std::process::id()));
    let f = std::fs::File::create(&p).expect("a file on /dev/shm");
    f.set_len(64 << 20).expect("64 MiB on /dev/shm");
    Fixture(p)
}

/// Runs `file` on the native backend over a fresh fixture, then again with
/// a counting layer around it (direct maps pass through the layer).
fn suite(file: &str) {
    if !Path::new("/dev/shm").is_dir() {
        skip::skip("no tmpfs at /dev/shm");
        return;
    }
    run(file, false);
    run(file, true);
}

fn run(file: &str, counted: bool) {
    let fx = fixture(file);
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    let native = Native::open(&Options {
        mem: Some(fx.0.clone()),
        write: true,
        ..Default::default()
    })
    .map(|n| {
        if counted {
            Box::new(layers::Counting {
                inner: Box::new(n),
                count: count.clone(),
            }) as Box<dyn Backend>
        } else {
            Box::new(n) as Box<dyn Backend>
        }
    })
    .map_err(mlua::Error::external);
    // Other sessions are simulators, as in the sim harness.
    let failures = suite::run(file, native, |lua, board, opts| {
        if suite::nosim(&opts)? {
            return Err(mlua::Error::runtime(
                "nosim sessions: see tests/lua_suites.rs",
            ));
        }
        let sim = Sim::from_board_name(&board).map_err(mlua::Error::external)?;
        memlua_bindings::api_table(lua, Box::new(sim))
    });
    let place = if counted {
        " on the native backend behind a counting layer"
    } else {
        " on the native backend"
    };
    suite::report(file, place, failures);
    // Windows on a file take the direct map the layer passed through, so
    // the layer may count nothing here: that is the point.
    let _ = count;
}

// stdlib.lua and portable.lua run unchanged here. The other suites assert
// the `pc` board itself (RAM above 4 GiB, holes at 0x80000000, devices at
// 0xFE000000, a kernel map with `kernbase`, the board's MTRRs, `sim.*`),
// which a file standing in for /dev/mem does not have.

#[test]
fn stdlib() {
    suite("stdlib.lua");
}

#[test]
fn portable() {
    suite("portable.lua");
}
