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

use memlua_runtime::Backend;
use mlua::{Lua, LuaOptions, StdLib, Table};

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
    let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::default()) };
    state::complete(&lua)?;
    Ok(lua)
}

/// Puts the API into `lua` over `backend`, and the stdlib loader and
/// module path into `package`.
pub fn install(lua: &Lua, backend: Box<dyn Backend>) -> mlua::Result<()> {
    let api = api_table(lua, backend)?;
    let g = lua.globals();
    for name in [
        "mem", "kmem", "memrange", "backend", "sim", "qemu", "gdb", "uio", "hex", "trace",
    ] {
        g.set(name, api.get::<mlua::Value>(name)?)?;
    }
    lua.set_named_registry_value(FINISH, api.get::<mlua::Function>(FINISH)?)?;
    stdlib::install(lua)?;
    trace_api::install(lua)?;
    host::install(lua)
}

/// The API over `backend` as one table (`{mem=, kmem=, memrange=, backend=,
/// sim=, qemu=, gdb=, uio=, hex=, trace=}`) without touching globals: for hosts and tests that hold
/// several sessions in one state.
pub fn api_table(lua: &Lua, mut backend: Box<dyn Backend>) -> mlua::Result<Table> {
    errors::install(lua)?;
    window::install(lua)?;
    pages::install(lua)?;
    buffer::install(lua)?;
    backend.set_position(position::provider(lua)?);
    let session = session::Session::new(backend);
    let t = lua.create_table()?;
    t.set("mem", mem_api::mem_table(lua, &session)?)?;
    t.set("kmem", mem_api::kmem_table(lua, &session)?)?;
    t.set("memrange", memrange_api::table(lua, &session)?)?;
    t.set("backend", backend_table(lua, &session)?)?;
    t.set("sim", sim_api::sim_table(lua, &session)?)?;
    #[cfg(unix)]
    t.set("qemu", qemu_api::qemu_table(lua, &session)?)?;
    t.set("gdb", gdb_api::gdb_table(lua, &session)?)?;
    t.set("hex", hex::function(lua)?)?;
    t.set("trace", trace_api::table(lua)?)?;
    t.set("uio", uio_api::table(lua, &session)?)?;
    let s = session.clone();
    t.set(
        FINISH,
        lua.create_function(move |_, ()| {
            let _ = s.with("finish", |b| {
                b.finish();
                Ok(())
            });
            Ok(())
        })?,
    )?;
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
