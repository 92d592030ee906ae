//! Hand-written `lua_CFunction`s for the calls loops make millions of
//! times: `w:read8..64(off)`, `w:write8..64(off, v)`, `mem.read8..64(addr)`
//! and `mem.write8..64(addr, v)` (and kmem's), and a page list's
//! `pl:state(i)`, `pl:paddr(i)`, `pl:domain(i)`. mlua's callback machinery
//! costs several times a raw binding here (docs/DESIGN.md, "Fast paths"), so these read
//! their arguments straight off the Lua stack and call the backend
//! directly.
//!
//! They do only the common case. Anything unusual (a wrong self, a float or
//! string argument, an offset past the window's end) goes to the ordinary
//! mlua implementation of the same call, which words the error (or accepts
//! the argument) exactly as before. Objects are found through their tagged
//! blocks (objects.rs), so no metatable or user value a script sets can
//! make one be read as another. A backend error is parked in [`PENDING`]
//! and raised by an mlua function, so error values are built in one place.
//! Whenever Lua may raise (longjmp) through these frames they hold no value
//! with a destructor.

use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use memlua_runtime::{direct, ops, Cleared, Errno, Error as RtError, PageState, Space, Width};
use mlua::{ffi, Function, LightUserData, Lua};

use crate::calls::{api_function, call_api};
use crate::errors::Fail;
use crate::objects;
use crate::pages::PageList;
use crate::session::Session;
use crate::window::Window;

thread_local! {
    /// A backend error on its way to [`raiser`].
    static PENDING: Cell<Option<RtError>> = const { Cell::new(None) };
}

// Upvalues of the window methods and page list accessors.
/// The mlua implementation of the same call.
const UV_SLOW: c_int = 1;
/// The function that raises a parked error.
const UV_RAISE: c_int = 2;
/// Page list accessors: the state names, "invalid" at UV_STATES + 0.
const UV_STATES: c_int = 2;

// Upvalues of `mem.read32` and friends.
/// The session, as a light userdata: the slow function (another upvalue)
/// holds a reference, so it lives as long as the closure. Not checked per
/// call: the loop's budget has no room for it, and only
/// `debug.setupvalue` can change it, which can break C functions of Lua's
/// own library (`string.gmatch`'s iterator) the same way.
const UV_SESSION: c_int = 1;
const UV_SPACE_SLOW: c_int = 2;
const UV_SPACE_RAISE: c_int = 3;

const WIDTHS: [Width; 4] = [Width::W8, Width::W16, Width::W32, Width::W64];
const SPACES: [Space; 2] = [Space::Phys, Space::Kernel];

/// The function that raises the parked error as an error table; one per
/// Lua state, shared by every fast path.
fn raiser(lua: &Lua) -> mlua::Result<Function> {
    const KEY: &str = "memlua.fast.raiser";
    if let Some(f) = lua.named_registry_value::<Option<Function>>(KEY)? {
        return Ok(f);
    }
    let f = api_function(lua, |_, ()| -> Result<(), Fail> {
        Err(Fail::Rt(PENDING.take().unwrap_or_else(|| {
            RtError::new(Errno::EIO, "memlua", "an error was lost on its way to Lua")
        })))
    })?;
    lua.set_named_registry_value(KEY, &f)?;
    Ok(f)
}

/// The error of an access that panicked: a Rust panic must never unwind
/// into Lua's C frames, so every access runs under catch_unwind.
#[cold]
fn panicked() -> RtError {
    RtError::new(
        Errno::EIO,
        "memlua",
        "internal error: the access panicked; please report it",
    )
}

/// Calls the ordinary implementation (upvalue `slow`) with this call's
/// arguments and returns what it returns (or lets its error through).
unsafe fn fallback(l: *mut ffi::lua_State, slow: c_int) -> c_int {
    // SAFETY: the caller is a C function Lua is running; `slow` is one of
    // its upvalues, an API function (call_api copes with anything else).
    // Called in this frame, so a traceback shows no extra C frame.
    unsafe { call_api(l, ffi::lua_upvalueindex(slow), ffi::lua_gettop(l)) }
}

/// A backend error already parked in [`PENDING`]: the hot path's result
/// stays two words, the error's many bytes are moved only when it happens.
struct Parked;

#[cold]
fn park(e: RtError) -> Parked {
    PENDING.set(Some(e));
    Parked
}

/// Pushes a backend result: the value read (`write` false), or nothing
/// for a write; a parked error is raised.
#[inline(always)]
unsafe fn finish(
    l: *mut ffi::lua_State,
    uv_raise: c_int,
    write: bool,
    r: Result<u64, Parked>,
) -> c_int {
    // SAFETY: as in `fallback`; the raiser raises the parked error.
    unsafe {
        match r {
            Ok(_) if write => 0,
            Ok(v) => {
                ffi::lua_pushinteger(l, v as ffi::lua_Integer);
                1
            }
            Err(Parked) => call_api(l, ffi::lua_upvalueindex(uv_raise), 0),
        }
    }
}

/// An integer argument (an integral float or a numeric string converts as
/// Lua converts it, which is what docs/API.md, Numbers, accepts too), or None for
/// anything the slow path must judge.
#[inline(always)]
unsafe fn int_at(l: *mut ffi::lua_State, idx: c_int) -> Option<u64> {
    let mut isnum = 0;
    // SAFETY: reading a stack slot of the running function.
    let v = unsafe { ffi::lua_tointegerx(l, idx, &mut isnum) };
    (isnum != 0).then_some(v as u64)
}

/// A write's value argument at `idx` (`Some(None)` for a read), or None
/// for a value the slow path must judge.
#[inline(always)]
unsafe fn value_at(l: *mut ffi::lua_State, idx: c_int, write: bool) -> Option<Option<u64>> {
    if !write {
        return Some(None);
    }
    // SAFETY: the caller's stack slot, as in `int_at`.
    unsafe { int_at(l, idx) }.map(Some)
}

/// One access through the session, holding a reference of its own for the
/// call (a device callback could drop the object's), dropped before any
/// error is raised. `cleared`: the backend's layers cleared this access
/// when its window was made (`Backend::cleared`).
#[inline(always)]
fn access(
    session: &Rc<Session>,
    space: Space,
    addr: u64,
    w: Width,
    write: Option<u64>,
    cleared: Cleared,
) -> Result<u64, Parked> {
    let s = session.clone();
    access_raw(&s, space, addr, w, write, cleared)
}

/// One access through a session the caller keeps alive. `cleared`: what
/// the layers' checks cleared when the window was made, so they may skip
/// them now (an allow-list checks a window once, not every access).
#[inline(always)]
fn access_raw(
    s: &Session,
    space: Space,
    addr: u64,
    w: Width,
    write: Option<u64>,
    cleared: Cleared,
) -> Result<u64, Parked> {
    catch_unwind(AssertUnwindSafe(|| match write {
        None => s
            .run(space, addr, w, false, |b| {
                if cleared.read {
                    b.read_cleared(space, addr, w)
                } else {
                    b.read(space, addr, w)
                }
            })
            .map_err(park),
        Some(v) => s
            .run(space, addr, w, true, |b| {
                if cleared.write {
                    b.write_cleared(space, addr, w, v)
                } else {
                    b.write(space, addr, w, v)
                }
            })
            .map(|()| 0)
            .map_err(park),
    }))
    .unwrap_or_else(|_| Err(park(panicked())))
}

/// A window access at argument 2 (and a value at 3 for writes): the
/// common case, or the slow path for everything else.
#[inline(always)]
unsafe fn window_access(l: *mut ffi::lua_State, w: Width, write: bool) -> c_int {
    // SAFETY: Lua calls this with a valid state; the window at index 1
    // stays alive for the call (it is an argument), and only fields copied
    // out of it are used once the backend may run Lua code.
    unsafe {
        let (Some(winp), Some(off)) = (objects::at::<Window>(l, 1), int_at(l, 2)) else {
            return fallback(l, UV_SLOW);
        };
        let Some(value) = value_at(l, 3, write) else {
            return fallback(l, UV_SLOW);
        };
        let win = &*winp;
        let Some(addr) = win.address(off, w.bytes()) else {
            return fallback(l, UV_SLOW);
        };
        if !win.ptr.is_null() {
            // A direct mapping: `off + w <= len` was checked and the window
            // keeps the mapping alive. A misaligned offset, a read-only
            // mapping or a value too wide goes to the slow path, which
            // words the EINVAL or EROFS.
            let p = win.ptr.wrapping_add(off as usize);
            if !w.is_aligned(p as u64) {
                return fallback(l, UV_SLOW);
            }
            // A fault (a file shrunk under the mapping, a device that
            // faults) is caught by the runtime's guard and becomes an
            // error for this access; the window then stops using the
            // mapping (the backend maps afresh and sees the new size).
            let r = match value {
                None => direct::load_checked(p, w),
                Some(v) if win.direct_write && w.fits(v) => {
                    direct::store_checked(p, w, v & w.mask()).map(|()| 0)
                }
                Some(_) => return fallback(l, UV_SLOW),
            };
            return match r {
                Ok(v) => finish(l, UV_RAISE, write, Ok(v)),
                Err(f) => {
                    let space = win.space;
                    (*winp).ptr = std::ptr::null_mut();
                    if f.earlier {
                        // Only an earlier fault's poison: nothing reached
                        // memory, so the backend may do it again.
                        return fallback(l, UV_SLOW);
                    }
                    let e = park(f.error().with_op(ops::access(space, w, write)).at(addr));
                    finish(l, UV_RAISE, write, Err(e))
                }
            };
        }
        let r = access(&win.session, win.space, addr, w, value, win.cleared);
        finish(l, UV_RAISE, write, r)
    }
}

unsafe extern "C-unwind" fn window_read<const W: usize>(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: see `window_access`.
    unsafe { window_access(l, WIDTHS[W], false) }
}

unsafe extern "C-unwind" fn window_write<const W: usize>(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: see `window_access`.
    unsafe { window_access(l, WIDTHS[W], true) }
}

#[inline(always)]
unsafe fn space_access(l: *mut ffi::lua_State, space: Space, w: Width, write: bool) -> c_int {
    // SAFETY: as in `window_access`; the session behind the light
    // userdata upvalue is kept alive by the slow function, another upvalue
    // of this closure (UV_SESSION).
    unsafe {
        let Some(addr) = int_at(l, 1) else {
            return fallback(l, UV_SPACE_SLOW);
        };
        let Some(value) = value_at(l, 2, write) else {
            return fallback(l, UV_SPACE_SLOW);
        };
        let s = ffi::lua_touserdata(l, ffi::lua_upvalueindex(UV_SESSION)) as *const Session;
        if s.is_null() {
            return fallback(l, UV_SPACE_SLOW);
        }
        let r = access_raw(&*s, space, addr, w, value, Cleared::NONE);
        finish(l, UV_SPACE_RAISE, write, r)
    }
}

unsafe extern "C-unwind" fn space_read<const S: usize, const W: usize>(
    l: *mut ffi::lua_State,
) -> c_int {
    // SAFETY: see `space_access`.
    unsafe { space_access(l, SPACES[S], WIDTHS[W], false) }
}

unsafe extern "C-unwind" fn space_write<const S: usize, const W: usize>(
    l: *mut ffi::lua_State,
) -> c_int {
    // SAFETY: see `space_access`.
    unsafe { space_access(l, SPACES[S], WIDTHS[W], true) }
}

type CFn = unsafe extern "C-unwind" fn(*mut ffi::lua_State) -> c_int;

fn width_index(w: Width) -> usize {
    WIDTHS.iter().position(|x| *x == w).unwrap_or(0)
}

fn window_fn(w: Width, write: bool) -> CFn {
    match (write, width_index(w)) {
        (false, 0) => window_read::<0>,
        (false, 1) => window_read::<1>,
        (false, 2) => window_read::<2>,
        (false, _) => window_read::<3>,
        (true, 0) => window_write::<0>,
        (true, 1) => window_write::<1>,
        (true, 2) => window_write::<2>,
        (true, _) => window_write::<3>,
    }
}

/// The C function of `mem.read32` and friends; `kernel` picks kmem's.
fn space_fn(kernel: bool, w: Width, write: bool) -> CFn {
    macro_rules! pick {
        ($f:ident, $s:literal) => {
            match width_index(w) {
                0 => $f::<$s, 0>,
                1 => $f::<$s, 1>,
                2 => $f::<$s, 2>,
                _ => $f::<$s, 3>,
            }
        };
    }
    match (kernel, write) {
        (false, false) => pick!(space_read, 0),
        (true, false) => pick!(space_read, 1),
        (false, true) => pick!(space_write, 0),
        (true, true) => pick!(space_write, 1),
    }
}

/// A window method whose common case runs in C; `slow` is the mlua
/// implementation it falls back on.
pub fn window_method(lua: &Lua, w: Width, write: bool, slow: Function) -> mlua::Result<Function> {
    let f = window_fn(w, write);
    // SAFETY: two upvalues (UV_SLOW, UV_RAISE) pushed by exec_raw;
    // lua_pushcclosure pops them.
    unsafe {
        lua.exec_raw::<Function>((slow, raiser(lua)?), |state| {
            ffi::lua_pushcclosure(state, f, 2)
        })
    }
}

/// `mem.read32` and friends over `space` (mem's or kmem's), with `slow` as
/// the fallback.
pub fn space_function(
    lua: &Lua,
    session: &Rc<Session>,
    space: Space,
    w: Width,
    write: bool,
    slow: Function,
) -> mlua::Result<Function> {
    let f = space_fn(space == Space::Kernel, w, write);
    let session = LightUserData(Rc::as_ptr(session) as *mut std::ffi::c_void);
    // SAFETY: three upvalues (UV_SESSION, UV_SPACE_SLOW, UV_SPACE_RAISE)
    // pushed in order; lua_pushcclosure pops them. `slow` holds the
    // session (an Rc in its closure), so the pointer stays valid.
    unsafe {
        lua.exec_raw::<Function>((session, slow, raiser(lua)?), |state| {
            ffi::lua_pushcclosure(state, f, 3)
        })
    }
}

// ---- page lists --------------------------------------------------------

/// What a page list accessor answers.
#[derive(Clone, Copy)]
enum PageField {
    State,
    Paddr,
    Domain,
}

unsafe extern "C-unwind" fn page_field<const F: usize>(l: *mut ffi::lua_State) -> c_int {
    const FIELDS: [PageField; 3] = [PageField::State, PageField::Paddr, PageField::Domain];
    // SAFETY: as in `window_access`; nothing here can raise but the
    // fallback, and the entry is copied out of the live list.
    unsafe {
        let (Some(pl), Some(i)) = (objects::at::<PageList>(l, 1), int_at(l, 2)) else {
            return fallback(l, UV_SLOW);
        };
        let pl = &*pl;
        let Some(e) = i
            .checked_sub(1)
            .and_then(|k| pl.entries.get(k as usize))
            .copied()
        else {
            return fallback(l, UV_SLOW);
        };
        let mapped = e.state == PageState::Mapped;
        match (FIELDS[F], e.paddr, e.domain) {
            (PageField::State, ..) => {
                ffi::lua_pushvalue(l, ffi::lua_upvalueindex(UV_STATES + e.state as c_int))
            }
            (PageField::Paddr, Some(pa), _) if mapped && !e.hidden => {
                ffi::lua_pushinteger(l, pa as ffi::lua_Integer)
            }
            (PageField::Domain, _, Some(d)) if mapped => {
                ffi::lua_pushinteger(l, d as ffi::lua_Integer)
            }
            _ => ffi::lua_pushnil(l),
        }
        1
    }
}

/// `pl:state(i)`, `pl:paddr(i)` or `pl:domain(i)` (`field` is one of those
/// names) with `slow` as the fallback.
pub fn page_method(lua: &Lua, field: &str, slow: Function) -> mlua::Result<Function> {
    let f: CFn = match field {
        "state" => page_field::<0>,
        "paddr" => page_field::<1>,
        _ => page_field::<2>,
    };
    // The state names in PageState's order, after UV_SLOW.
    let upvalues = (slow, "invalid", "valid", "mapped");
    // SAFETY: four upvalues pushed in order; lua_pushcclosure pops them.
    unsafe { lua.exec_raw::<Function>(upvalues, |state| ffi::lua_pushcclosure(state, f, 4)) }
}
