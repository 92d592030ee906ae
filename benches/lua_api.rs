//! Runs the Lua benchmarks in benches/lua/ (issue 3's figures; results in
//! benches/RESULTS.md). Each script gets a fresh state on the simulated
//! `pc` board plus a `bench` table holding the baselines it compares
//! against in the same run:
//!
//! - `bench.buffer`: a userdata whose `read32(off)` method is a raw
//!   `lua_CFunction` reading a u32 from a plain 4 KiB buffer, the fastest
//!   method binding Lua 5.4 allows;
//! - `bench.read32(addr)`: the same as a plain function;
//! - `bench.now()`: a monotonic clock in seconds;
//! - `bench.session(kind)`: the API of another simulated `pc` board in the
//!   same state, `"through"` behind the pass-through layer, `"allow16"`
//!   behind an allow-list of 16 ranges (issue 17);
//! - `bench.layered`: whether this run's own session is behind a layer.
//!
//! Run: `cargo bench --bench lua_api` (optionally a script name to filter).

use std::ffi::c_int;
use std::time::Instant;

use memlua_runtime::layer::Through;
use memlua_runtime::layers::allow::{Allow, ListSpec};
use memlua_runtime::sim::Sim;
use memlua_runtime::Backend;
use mlua::{ffi, Function, Lua, Table};

/// Where the baselines pretend their buffer sits, so a script can use the
/// same addresses for memlua and the baseline.
const BASE: i64 = 0x100000;
const LEN: i64 = 4096;

/// `buf:read32(off)`: check the userdata and the offset, load, push.
unsafe extern "C-unwind" fn buffer_read32(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua with a valid state; luaL_checkudata raises a
    // Lua error (longjmp) before any Rust value needing a drop exists.
    unsafe {
        let p = ffi::luaL_checkudata(l, 1, c"bench.buffer".as_ptr()) as *const u8;
        let off = ffi::luaL_checkinteger(l, 2);
        if !(0..=LEN - 4).contains(&off) || off & 3 != 0 {
            return ffi::luaL_error(l, c"offset out of range".as_ptr());
        }
        let v = std::ptr::read_volatile(p.add(off as usize) as *const u32);
        ffi::lua_pushinteger(l, v as ffi::lua_Integer);
        1
    }
}

static PLAIN: [u32; (LEN / 4) as usize] = [0; (LEN / 4) as usize];

/// `bench.read32(addr)`: check the integer and the bounds, load, push.
unsafe extern "C-unwind" fn plain_read32(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: as above; PLAIN is a static that lives forever.
    unsafe {
        let addr = ffi::luaL_checkinteger(l, 1);
        let off = addr.wrapping_sub(BASE);
        if !(0..=LEN - 4).contains(&off) || off & 3 != 0 {
            return ffi::luaL_error(l, c"address out of range".as_ptr());
        }
        let p = PLAIN.as_ptr() as *const u8;
        let v = std::ptr::read_volatile(p.add(off as usize) as *const u32);
        ffi::lua_pushinteger(l, v as ffi::lua_Integer);
        1
    }
}

/// Pushes a new `bench.buffer` userdata with its metatable.
unsafe extern "C-unwind" fn new_buffer(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: valid state; the block is zeroed before use.
    unsafe {
        let p = ffi::lua_newuserdatauv(l, LEN as usize, 0) as *mut u8;
        std::ptr::write_bytes(p, 0, LEN as usize);
        if ffi::luaL_newmetatable(l, c"bench.buffer".as_ptr()) != 0 {
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushcfunction(l, buffer_read32);
            ffi::lua_setfield(l, -2, c"read32".as_ptr());
            ffi::lua_setfield(l, -2, c"__index".as_ptr());
        }
        ffi::lua_setmetatable(l, -2);
        1
    }
}

/// 16 ranges of 64 KiB, 256 MiB apart; the first holds `BASE`.
fn sixteen_ranges() -> String {
    (0..16u64)
        .map(|i| format!("{:#x}+0x10000", BASE as u64 + i * 0x1000_0000))
        .collect::<Vec<_>>()
        .join(",")
}

fn bench_table(lua: &Lua, layered: bool) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("layered", layered)?;
    t.set(
        "session",
        lua.create_function(|lua, kind: String| {
            let sim = Sim::from_board_name("pc").map_err(mlua::Error::external)?;
            let backend: Box<dyn Backend> = match kind.as_str() {
                "through" => Box::new(Through(Box::new(sim))),
                "allow16" => {
                    let spec = ListSpec::parse("--allow", &sixteen_ranges(), false)
                        .map_err(mlua::Error::runtime)?;
                    Box::new(Allow::new(Box::new(sim), &[spec]).map_err(mlua::Error::runtime)?)
                }
                _ => Box::new(sim),
            };
            memlua_bindings::api_table(lua, backend)
        })?,
    )?;
    let start = Instant::now();
    t.set(
        "now",
        lua.create_function(move |_, ()| Ok(start.elapsed().as_secs_f64()))?,
    )?;
    // SAFETY: the functions follow the lua_CFunction protocol above.
    let (new, read) = unsafe {
        (
            lua.create_c_function(new_buffer)?,
            lua.create_c_function(plain_read32)?,
        )
    };
    t.set("buffer", new.call::<mlua::Value>(())?)?;
    t.set("read32", read)?;
    t.set("base", BASE)?;
    Ok(t)
}

fn main() -> mlua::Result<()> {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/lua");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .map_err(mlua::Error::external)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();
    for path in scripts {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let code = std::fs::read_to_string(&path).map_err(mlua::Error::external)?;
        // Each script on the simulator, then behind a layer that changes
        // nothing: what one layer costs.
        for layered in [false, true] {
            let lua = memlua_bindings::new_state()?;
            let sim = Sim::from_board_name("pc").map_err(mlua::Error::external)?;
            let backend: Box<dyn Backend> = if layered {
                Box::new(Through(Box::new(sim)))
            } else {
                Box::new(sim)
            };
            memlua_bindings::install(&lua, backend)?;
            lua.globals().set("bench", bench_table(&lua, layered)?)?;
            let label = if layered {
                ", behind a pass-through layer"
            } else {
                ""
            };
            println!("== {name}{label}");
            let f: Function = lua
                .load(&code)
                .set_name(format!("@{}", path.display()))
                .into_function()?;
            f.call::<()>(())?;
        }
    }
    Ok(())
}
