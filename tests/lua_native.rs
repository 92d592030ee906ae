//! Runs the tests/lua suites that apply off the simulator on the native
//! backend, over a 64 MiB file on tmpfs standing in for /dev/mem (with
//! -w), so one script is proven on both backends. Suites that need the
//! simulator's board (its RAM map, holes, devices, kernel map, MTRRs or
//! `sim.*`) stay with tests/lua_suites.rs; a suite knows where it runs
//! from `backend.name`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use memlua_bindings::memlua_runtime::native::{Native, Options};
use memlua_bindings::memlua_runtime::sim::Sim;
use mlua::Lua;

/// The assertion helpers, the same as tests/lua_suites.rs's.
const PRELUDE: &str = include_str!("support/prelude.lua");

/// A 64 MiB tmpfs file, removed when dropped.
struct Fixture(PathBuf);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fixture(name: &str) -> Option<Fixture> {
    if !Path::new("/dev/shm").is_dir() {
        println!("skipped: no tmpfs at /dev/shm");
        return None;
    }
    let p = PathBuf::from(format!("/dev/shm/memlua-lua-{name}-{}", std::process::id()));
    let f = std::fs::File::create(&p).ok()?;
    f.set_len(64 << 20).ok()?;
    Some(Fixture(p))
}

fn run(file: &str) -> Vec<String> {
    let Some(fx) = fixture(file) else {
        return Vec::new();
    };
    let failures = Rc::new(RefCell::new(Vec::<String>::new()));
    let outcome = (|| -> mlua::Result<()> {
        let lua = Lua::new();
        let native = Native::open(&Options {
            mem: Some(fx.0.to_string_lossy().into_owned()),
            write: true,
            ..Default::default()
        })
        .map_err(mlua::Error::external)?;
        memlua_bindings::install(&lua, Box::new(native))?;
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
        // The sim harness's helpers: other sessions are simulators, as there.
        lua.globals().set(
            "new_session",
            lua.create_function(|lua, (board, opts): (String, Option<mlua::Table>)| {
                let nosim = match &opts {
                    Some(o) => o.get::<Option<bool>>("nosim")?.unwrap_or(false),
                    None => false,
                };
                if nosim {
                    return Err(mlua::Error::runtime(
                        "nosim sessions: see tests/lua_suites.rs",
                    ));
                }
                let sim = Sim::from_board_name(&board).map_err(mlua::Error::external)?;
                memlua_bindings::api_table(lua, Box::new(sim))
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
            "{} failed assertion(s) in {file} on the native backend:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

// Of today's suites only stdlib.lua runs unchanged here. The others assert
// the `pc` board itself from their first lines (RAM above 4 GiB, holes at
// 0x80000000, devices at 0xFE000000, a kernel map with `kernbase`, the
// board's MTRRs, `sim.*`), which a file standing in for /dev/mem does not
// have; they join this list once they branch on `backend.name`.

#[test]
fn stdlib() {
    suite("stdlib.lua");
}

#[test]
fn portable() {
    suite("portable.lua");
}
