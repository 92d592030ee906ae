//! memlua's Lua API (docs/API.md) in an mlua Lua 5.4 state: `mem`,
//! `kmem`, `memrange`, `backend`, `sim`, `qemu`, `gdb`, `uio`, `hex` and `trace`, over any
//! [`memlua_runtime::Backend`], plus the loader of the stdlib.
//!
//! Modules, bottom to top (each uses only those above it): `errors` (what a
//! failure is), `calls` (how an API function raises), `numbers` and `args`
//! (argument readers), `session` (the shared backend and buffer table),
//! `fast` (the C fast paths), `window`, `pages`, `buffer`, then the API
//! tables `mem_api`, `memrange_api`, `sim_api`, `qemu_api`, `gdb_api`, `uio_api`,
//! `hex` and `trace_api` (which also connects a recording or replay);
//! `stdlib`, `host`, `hexfmt`, `progress` and `svd` load the Lua modules;
//! `position` says where the script is, for layers that report accesses.

pub use memlua_runtime;

mod args;
mod buffer;
mod calls;
pub mod errors;
mod fast;
mod gdb_api;
mod hex;
mod hexfmt;
mod host;
mod lazy;
mod mem_api;
mod memrange_api;
pub mod numbers;
mod objects;
mod pages;
mod position;
mod progress;
#[cfg(unix)]
mod qemu_api;
mod session;
mod sim_api;
pub mod state;
pub mod stdlib;
mod svd;
mod trace_api;
mod uio_api;
mod window;

use std::ffi::CStr;
use std::rc::Rc;

use memlua_runtime::Backend;
use mlua::{Lua, LuaOptions, StdLib, Table};
use objects::Object;

pub use errors::is_error_value;
pub use position::{position, provider as position_provider};
pub use trace_api::attach as attach_trace;

/// A Lua state as lua.c opens one: every standard library, `debug`
/// included (scripts and lua.c's message handler use `debug.traceback`),
/// C modules loadable through `package.cpath`, and luaL_newstate's
/// allocator and warning function (`state`).
pub fn new_state() -> mlua::Result<Lua> {
    // SAFETY: mlua calls this "unsafe" because `debug` and C modules let a
    // script reach past mlua's invariants (e.g. `debug.setmetatable` on
    // mlua's internal userdata). That takes deliberate tampering; lua.c
    // gives scripts the same power and memlua's users expect it.
    let lua = unsafe { Lua::unsafe_new_with(StdLib::NONE, LuaOptions::default()) };
    state::without_gc(&lua, || {
        lua.load_std_libs(StdLib::ALL)?;
        state::complete(&lua)
    })?;
    Ok(lua)
}

/// Puts the API into `lua` over `backend`, and the stdlib loader and
/// module path into `package`. The calls of `mem` are made one by one as
/// first used, `kmem`, `memrange` and `sim` whole on first use (`lazy`).
pub fn install(lua: &Lua, backend: Box<dyn Backend>) -> mlua::Result<()> {
    state::without_gc(lua, || {
        let g = lua.globals();
        for (name, value) in api_entries(lua, backend)? {
            if name == FINISH {
                lua.set_named_registry_value(FINISH, value)?;
            } else {
                g.set(name, value)?;
            }
        }
        stdlib::install(lua)?;
        trace_api::install(lua)?;
        host::install(lua)
    })
}

/// The API's tables over a new session on `backend`, each built on first
/// use (a run that uses mem alone does not make the rest:
/// benches/RESULTS.md, issue 11), and the session's [`FINISH`] function.
fn api_entries(
    lua: &Lua,
    backend: Box<dyn Backend>,
) -> mlua::Result<Vec<(&'static str, mlua::Value)>> {
    let session = open_session(lua, backend)?;
    let s = session.clone();
    let mem = lazy::keyed(lua, &mem_api::MEM_CALLS, move |lua, name| {
        mem_api::mem_call(lua, &s, name)
    })?;
    let s = session.clone();
    let kmem = lazy::table(lua, move |lua| mem_api::kmem_table(lua, &s))?;
    let s = session.clone();
    let memrange = lazy::table(lua, move |lua| memrange_api::table(lua, &s))?;
    let s = session.clone();
    let sim = lazy::table(lua, move |lua| sim_api::sim_table(lua, &s))?;
    let s = session.clone();
    let gdb = lazy::table(lua, move |lua| gdb_api::gdb_table(lua, &s))?;
    let s = session.clone();
    let uio = lazy::table(lua, move |lua| uio_api::table(lua, &s))?;
    let mut entries = vec![
        ("mem", mlua::Value::Table(mem)),
        ("kmem", mlua::Value::Table(kmem)),
        ("memrange", mlua::Value::Table(memrange)),
        ("backend", mlua::Value::Table(backend_table(lua, &session)?)),
        ("sim", mlua::Value::Table(sim)),
        ("gdb", mlua::Value::Table(gdb)),
        ("uio", mlua::Value::Table(uio)),
        ("hex", mlua::Value::Function(hex::function(lua)?)),
        ("trace", mlua::Value::Table(trace_api::table(lua)?)),
    ];
    #[cfg(unix)]
    {
        let s = session.clone();
        let qemu = lazy::table(lua, move |lua| qemu_api::qemu_table(lua, &s))?;
        entries.push(("qemu", mlua::Value::Table(qemu)));
    }
    entries.push((
        FINISH,
        mlua::Value::Function(finish_function(lua, session)?),
    ));
    Ok(entries)
}

/// Builds the API tables `install` left to be built on first use, for a
/// caller about to read them raw (the REPL's completion).
pub fn build_api(lua: &Lua) -> mlua::Result<()> {
    lazy::build_all(lua)
}

/// The API over `backend` as one table (`{mem=, kmem=, memrange=, backend=,
/// sim=, qemu=, gdb=, uio=, hex=, trace=}`) without touching globals: for hosts and tests that hold
/// several sessions in one state.
pub fn api_table(lua: &Lua, backend: Box<dyn Backend>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, value) in api_entries(lua, backend)? {
        t.set(name, value)?;
    }
    Ok(t)
}

/// The registry key (and the api table's key) of the function that ends
/// the session's backend.
const FINISH: &str = "memlua.finish";

/// The run is ending: the installed backend's layers give back what they
/// hold and say what they did (`Backend::finish`). Call once, after the
/// script (also when it failed or was interrupted).
pub fn finish(lua: &Lua) {
    if let Ok(Some(f)) = lua.named_registry_value::<Option<mlua::Function>>(FINISH) {
        let _ = f.call::<()>(());
    }
}

/// Makes `os.exit` run [`finish`] first, so a script that exits early
/// still has its layers finished (memory ranges put back, a dry run's
/// count said). The original `os.exit` then does what it always does.
pub fn finish_on_exit(lua: &Lua) -> mlua::Result<()> {
    let Ok(os) = lua.globals().get::<Table>("os") else {
        return Ok(());
    };
    let exit: mlua::Function = os.get("exit")?;
    let wrapped = lua.create_function(move |lua, args: mlua::MultiValue| {
        finish(lua);
        exit.call::<mlua::MultiValue>(args)
    })?;
    os.set("exit", wrapped)
}

/// The error metatable, and a session over `backend`.
fn open_session(lua: &Lua, mut backend: Box<dyn Backend>) -> mlua::Result<Rc<session::Session>> {
    errors::install(lua)?;
    backend.set_position(position::provider(lua)?);
    Ok(session::Session::new(backend))
}

/// The function that ends the session's backend (`Backend::finish`).
fn finish_function(lua: &Lua, session: Rc<session::Session>) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, ()| {
        let _ = session.with("finish", |b| {
            b.finish();
            Ok(())
        });
        Ok(())
    })
}

/// Makes the metatables of windows, page lists and buffers (every
/// session's share them), before the first such object: with their
/// methods they were an eighth of what `memlua devmem` ran, which makes
/// none (benches/RESULTS.md, issue 11). `mem.map`, `kmem.map`,
/// `mem.extract_range` and `mem.alloc` call this; buffers make page lists.
pub(crate) fn object_types(lua: &Lua, session: &session::Session) -> mlua::Result<()> {
    if session.object_types.get() {
        return Ok(());
    }
    type Install = fn(&Lua) -> mlua::Result<()>;
    let installs: [(&CStr, Install); 3] = [
        (<window::Window as Object>::NAME, window::install),
        (<pages::PageList as Object>::NAME, pages::install),
        (<buffer::Buffer as Object>::NAME, buffer::install),
    ];
    for (name, install) in installs {
        let name = name.to_str().unwrap_or_default();
        if lua.named_registry_value::<Option<Table>>(name)?.is_none() {
            install(lua)?;
        }
    }
    session.object_types.set(true);
    Ok(())
}

/// `backend.name`, `backend.writable`, `backend.board`: fixed for the
/// session, so plain fields.
fn backend_table(lua: &Lua, session: &session::Session) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let (name, writable, board) = session
        .with("backend", |b| {
            Ok((
                b.name().to_string(),
                b.writable(),
                b.board().map(str::to_string),
            ))
        })
        .map_err(|_| mlua::Error::runtime("backend busy during install"))?;
    t.set("name", name)?;
    t.set("writable", writable)?;
    t.set("board", board)?;
    Ok(t)
}
