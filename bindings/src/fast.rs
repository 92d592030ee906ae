//! Hand-written `lua_CFunction`s for the calls loops make millions of
//! times: `w:read8..64(off)`, `w:write8..64(off, v)`, `mem.read8..64(addr)`
//! and `mem.write8..64(addr, v)` (and kmem's). mlua's callback machinery
//! costs several times a raw binding here (DESIGN.md), so these read their
//! arguments straight off the Lua stack and call the backend directly.
//!
//! They do only the common case. Anything unusual (a wrong self, a float or
//! string argument, an offset past the window's end) goes to the ordinary
//! mlua implementation of the same call, which words the error (or accepts
//! the argument) exactly as before. A backend error is parked in
//! [`PENDING`] and raised by an mlua function, so error values are built in
//! one place. Whenever Lua may raise (longjmp) through these frames they
//! hold no value with a destructor.

use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use memlua_runtime::{direct, Errno, Error as RtError, Space, Width};
use mlua::{ffi, Function, LightUserData, Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::Fail;
use crate::session::Session;

thread_local! {
    /// A backend error on its way to [`raiser`].
    static PENDING: Cell<Option<RtError>> = const { Cell::new(None) };
}

/// The metatable name of a window's state block (its user value 1).
const STATE_MT: &std::ffi::CStr = c"memlua.window.state";
/// The metatable name of a page list's entry block (its user value 1).
const PAGES_MT: &std::ffi::CStr = c"memlua.pagelist.entries";

/// What a window's fast methods need, in a Lua-owned block with no
/// destructor: Lua's collector frees it, so it can never dangle. The
/// block's own user value holds a strong reference to the session, so
/// `session` stays valid as long as the block exists, and to the window's
/// direct mapping (`Backend::map_direct`), so `ptr` does too.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WindowState {
    pub base: u64,
    pub len: u64,
    pub space: Space,
    pub session: *const Session,
    /// The window's first byte in a direct mapping, or null: accesses then
    /// go through the backend.
    pub ptr: *mut u8,
    /// Whether `ptr` may be written through.
    pub direct_write: bool,
}

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

/// Runs a backend access, turning a panic into an error: a Rust panic must
/// never unwind into Lua's C frames.
#[inline(always)]
fn guarded<T>(f: impl FnOnce() -> Result<T, RtError>) -> Result<T, RtError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(RtError::new(
            Errno::EIO,
            "memlua",
            "internal error: the access panicked; please report it",
        ))
    })
}

/// Calls the ordinary implementation (upvalue `slow`) with this call's
/// arguments and returns what it returns (or lets its error through).
unsafe fn fallback(l: *mut ffi::lua_State, slow: c_int) -> c_int {
    // SAFETY: the caller is a C function Lua is running; `slow` is one of
    // its upvalues holding a function.
    unsafe {
        let n = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(slow));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, n, ffi::LUA_MULTRET);
        ffi::lua_gettop(l)
    }
}

/// Parks `e` and calls the raiser (upvalue `raise`), which does not return.
unsafe fn raise(l: *mut ffi::lua_State, raise: c_int, e: RtError) -> c_int {
    PENDING.set(Some(e));
    // SAFETY: as in `fallback`; nothing in this frame needs dropping now
    // (`e` was moved into PENDING).
    unsafe {
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(raise));
        ffi::lua_call(l, 0, 0);
    }
    0
}

/// The state of the window at stack index 1, if it is one with a state
/// block (upvalue 1 is the block's metatable).
#[inline(always)]
unsafe fn window_state(l: *mut ffi::lua_State) -> Option<WindowState> {
    // SAFETY: stack operations on a running C function's own frame; the
    // block is only read after its metatable proved what it is.
    unsafe {
        if ffi::lua_type(l, 1) != ffi::LUA_TUSERDATA {
            return None;
        }
        if ffi::lua_getiuservalue(l, 1, 1) != ffi::LUA_TUSERDATA {
            ffi::lua_pop(l, 1);
            return None;
        }
        let mut state = None;
        if ffi::lua_getmetatable(l, -1) != 0 {
            if ffi::lua_rawequal(l, -1, ffi::lua_upvalueindex(1)) != 0 {
                let p = ffi::lua_touserdata(l, -2) as *const WindowState;
                state = Some(std::ptr::read(p));
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        state
    }
}

/// An integer argument (an integral float or a numeric string converts as
/// Lua converts it, which is what API.md accepts too), or None for
/// anything the slow path must judge.
#[inline(always)]
unsafe fn int_at(l: *mut ffi::lua_State, idx: c_int) -> Option<u64> {
    let mut isnum = 0;
    // SAFETY: reading a stack slot of the running function.
    let v = unsafe { ffi::lua_tointegerx(l, idx, &mut isnum) };
    (isnum != 0).then_some(v as u64)
}

/// The session behind upvalue `idx`.
#[inline(always)]
unsafe fn session<'a>(l: *mut ffi::lua_State, idx: c_int) -> &'a Session {
    // SAFETY: the upvalue is a light userdata pointing at the Session that
    // the slow function (another upvalue of the same closure) keeps alive.
    unsafe { &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(idx)) as *const Session) }
}

/// The session of a window state block.
#[inline(always)]
unsafe fn window_session<'a>(st: &WindowState) -> &'a Session {
    // SAFETY: the block's user value keeps this session alive (WindowState).
    unsafe { &*st.session }
}

/// The address of `[off, off + n)` inside the window, if it is inside.
#[inline(always)]
fn inside(st: &WindowState, off: u64, n: u64) -> Option<u64> {
    (off <= st.len && n <= st.len - off).then(|| st.base.wrapping_add(off))
}

/// The state of the window at index 1, through a one-entry cache: loops
/// call a method on the same window again and again, and a pointer compare
/// is cheaper than finding and checking the state block each time.
/// Upvalue 4 is the window last seen, upvalue 5 a block holding a copy of
/// its state (windows never change after mapping).
#[inline(always)]
unsafe fn cached_window_state(l: *mut ffi::lua_State) -> Option<WindowState> {
    // SAFETY: stack and upvalue operations of the running C closure;
    // upvalue 5 is a block of WindowState's size written before any window
    // is cached in upvalue 4, and a cached window keeps its session alive.
    unsafe {
        let cache = ffi::lua_touserdata(l, ffi::lua_upvalueindex(5)) as *mut WindowState;
        if ffi::lua_type(l, 1) == ffi::LUA_TUSERDATA
            && ffi::lua_rawequal(l, 1, ffi::lua_upvalueindex(4)) != 0
        {
            return Some(std::ptr::read(cache));
        }
        let st = window_state(l)?;
        std::ptr::write(cache, st);
        ffi::lua_pushvalue(l, 1);
        ffi::lua_replace(l, ffi::lua_upvalueindex(4));
        Some(st)
    }
}

// Upvalues of the window methods: 1 state metatable, 2 slow method,
// 3 raiser, 4 and 5 the cache of `cached_window_state`.
unsafe extern "C-unwind" fn window_read<const W: usize>(l: *mut ffi::lua_State) -> c_int {
    let w = WIDTHS[W];
    // SAFETY: Lua calls this with a valid state (see the module comment for
    // what may longjmp through here).
    unsafe {
        let (Some(st), Some(off)) = (cached_window_state(l), int_at(l, 2)) else {
            return fallback(l, 2);
        };
        let Some(addr) = inside(&st, off, w.bytes()) else {
            return fallback(l, 2);
        };
        if !st.ptr.is_null() {
            // A direct mapping: `off + w <= len` was checked, the block's
            // user value keeps the mapping alive, and a misaligned offset
            // goes to the slow path, which words the EINVAL.
            let p = st.ptr.wrapping_add(off as usize);
            if !w.is_aligned(p as u64) {
                return fallback(l, 2);
            }
            ffi::lua_pushinteger(l, direct::load(p, w) as ffi::lua_Integer);
            return 1;
        }
        let s = window_session(&st);
        match guarded(|| s.run(st.space, addr, w, false, |b| b.read(st.space, addr, w))) {
            Ok(v) => {
                ffi::lua_pushinteger(l, v as ffi::lua_Integer);
                1
            }
            Err(e) => raise(l, 3, e),
        }
    }
}

unsafe extern "C-unwind" fn window_write<const W: usize>(l: *mut ffi::lua_State) -> c_int {
    let w = WIDTHS[W];
    // SAFETY: as in `window_read`.
    unsafe {
        let (Some(st), Some(off), Some(v)) = (cached_window_state(l), int_at(l, 2), int_at(l, 3))
        else {
            return fallback(l, 2);
        };
        let Some(addr) = inside(&st, off, w.bytes()) else {
            return fallback(l, 2);
        };
        if !st.ptr.is_null() {
            // As in `window_read`; a read-only mapping or a value too wide
            // goes to the slow path, which words the EROFS or EINVAL.
            let p = st.ptr.wrapping_add(off as usize);
            if !st.direct_write || !w.is_aligned(p as u64) || !w.fits(v) {
                return fallback(l, 2);
            }
            direct::store(p, w, v & w.mask());
            return 0;
        }
        let s = window_session(&st);
        match guarded(|| s.run(st.space, addr, w, true, |b| b.write(st.space, addr, w, v))) {
            Ok(()) => 0,
            Err(e) => raise(l, 3, e),
        }
    }
}

// Upvalues of `mem.read32` and friends: 1 session, 2 slow function,
// 3 raiser.
unsafe extern "C-unwind" fn space_read<const S: usize, const W: usize>(
    l: *mut ffi::lua_State,
) -> c_int {
    let (space, w) = (SPACES[S], WIDTHS[W]);
    // SAFETY: as in `window_read`.
    unsafe {
        let Some(addr) = int_at(l, 1) else {
            return fallback(l, 2);
        };
        let s = session(l, 1);
        match guarded(|| s.run(space, addr, w, false, |b| b.read(space, addr, w))) {
            Ok(v) => {
                ffi::lua_pushinteger(l, v as ffi::lua_Integer);
                1
            }
            Err(e) => raise(l, 3, e),
        }
    }
}

unsafe extern "C-unwind" fn space_write<const S: usize, const W: usize>(
    l: *mut ffi::lua_State,
) -> c_int {
    let (space, w) = (SPACES[S], WIDTHS[W]);
    // SAFETY: as in `window_read`.
    unsafe {
        let (Some(addr), Some(v)) = (int_at(l, 1), int_at(l, 2)) else {
            return fallback(l, 2);
        };
        let s = session(l, 1);
        match guarded(|| s.run(space, addr, w, true, |b| b.write(space, addr, w, v))) {
            Ok(()) => 0,
            Err(e) => raise(l, 3, e),
        }
    }
}

fn index_of(w: Width) -> usize {
    WIDTHS.iter().position(|x| *x == w).unwrap_or(0)
}

type CFn = unsafe extern "C-unwind" fn(*mut ffi::lua_State) -> c_int;

fn window_fn(w: Width, write: bool) -> CFn {
    match (write, index_of(w)) {
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

fn space_fn(space: Space, w: Width, write: bool) -> CFn {
    macro_rules! pick {
        ($f:ident, $s:literal) => {
            match index_of(w) {
                0 => $f::<$s, 0>,
                1 => $f::<$s, 1>,
                2 => $f::<$s, 2>,
                _ => $f::<$s, 3>,
            }
        };
    }
    match (space, write) {
        (Space::Phys, false) => pick!(space_read, 0),
        (Space::Kernel, false) => pick!(space_read, 1),
        (Space::Phys, true) => pick!(space_write, 0),
        (Space::Kernel, true) => pick!(space_write, 1),
        // Buffers have no `mem.read32`-style function of their own.
        (Space::Process, false) => pick!(space_read, 0),
        (Space::Process, true) => pick!(space_write, 0),
    }
}

/// The metatable of window state blocks (created once per Lua state).
fn state_metatable(lua: &Lua) -> mlua::Result<Table> {
    // SAFETY: luaL_newmetatable leaves the (new or existing) table on top,
    // which exec_raw returns.
    unsafe {
        lua.exec_raw::<Table>((), |state| {
            ffi::luaL_newmetatable(state, STATE_MT.as_ptr());
        })
    }
}

/// A window method whose common case runs in C; `slow` is the mlua
/// implementation it falls back on.
pub fn window_method(lua: &Lua, w: Width, write: bool, slow: Function) -> mlua::Result<Function> {
    let upvalues = (state_metatable(lua)?, slow, raiser(lua)?, Value::Nil);
    let f = window_fn(w, write);
    // SAFETY: four upvalues are pushed by exec_raw; the fifth, the cache
    // block, is created here with no window cached yet (upvalue 4 nil, and
    // `cached_window_state` only trusts the cache for a userdata at index
    // 1), and lua_pushcclosure pops all five.
    unsafe {
        lua.exec_raw::<Function>(upvalues, |state| {
            let p = ffi::lua_newuserdatauv(state, std::mem::size_of::<WindowState>(), 0)
                as *mut WindowState;
            std::ptr::write(
                p,
                WindowState {
                    base: 0,
                    len: 0,
                    space: Space::Phys,
                    session: std::ptr::null(),
                    ptr: std::ptr::null_mut(),
                    direct_write: false,
                },
            );
            ffi::lua_pushcclosure(state, f, 5)
        })
    }
}

/// `mem.read32` and friends, with `slow` as the fallback.
pub fn space_function(
    lua: &Lua,
    session: &Session,
    space: Space,
    w: Width,
    write: bool,
    slow: Function,
) -> mlua::Result<Function> {
    let upvalues = (
        LightUserData(session as *const Session as *mut _),
        slow,
        raiser(lua)?,
    );
    let f = space_fn(space, w, write);
    // SAFETY: as in `window_method`, with three upvalues.
    unsafe { lua.exec_raw::<Function>(upvalues, |state| ffi::lua_pushcclosure(state, f, 3)) }
}

/// Gives a window userdata its state block (user value 1), which the fast
/// methods read. `keep` is any Lua value holding the session (`st.session`)
/// and the direct mapping behind `st.ptr` alive: the block keeps it as its
/// own user value.
pub fn attach_state(lua: &Lua, window: &Value, st: WindowState, keep: Value) -> mlua::Result<()> {
    let mt = state_metatable(lua)?;
    // SAFETY: exec_raw pushes the window, the metatable and `keep` (at -3,
    // -2, -1). A block of exactly WindowState's size with one user value is
    // created, fully written, given `keep` as user value and the metatable,
    // and stored as the window's user value 1 (mlua creates userdata with
    // one user value slot and uses it only for its own user-value API, which
    // windows do not use).
    unsafe {
        lua.exec_raw::<()>((window, mt, keep), |state| {
            let p = ffi::lua_newuserdatauv(state, std::mem::size_of::<WindowState>(), 1)
                as *mut WindowState;
            std::ptr::write(p, st);
            ffi::lua_pushvalue(state, -2);
            ffi::lua_setiuservalue(state, -2, 1);
            ffi::lua_pushvalue(state, -3);
            ffi::lua_setmetatable(state, -2);
            ffi::lua_setiuservalue(state, -4, 1);
            ffi::lua_pop(state, 3);
        })
    }
}

// ---- page lists --------------------------------------------------------

/// One page of a page list, as the fast accessors read it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PageEntry {
    pub paddr: u64,
    pub domain: i32,
    /// 0 invalid, 1 valid, 2 mapped (ME_STATE_*).
    pub state: u8,
    /// Mapped, but the frame is hidden: `paddr` is not to be shown.
    pub hidden: u8,
}

/// The block's header: the entries follow it.
#[repr(C)]
struct PagesHeader {
    count: u64,
}

fn pages_metatable(lua: &Lua) -> mlua::Result<Table> {
    // SAFETY: as in `state_metatable`.
    unsafe {
        lua.exec_raw::<Table>((), |state| {
            ffi::luaL_newmetatable(state, PAGES_MT.as_ptr());
        })
    }
}

/// Gives a page list userdata its entry block (user value 1), which the
/// fast accessors read. The block is plain data owned by Lua's collector.
pub fn attach_pages(lua: &Lua, list: &Value, entries: &[PageEntry]) -> mlua::Result<()> {
    let mt = pages_metatable(lua)?;
    let bytes = std::mem::size_of::<PagesHeader>() + std::mem::size_of_val(entries);
    // SAFETY: exec_raw pushes the list and the metatable (-2, -1). A block
    // of exactly header + entries bytes is created and fully written (the
    // header's 8-byte alignment holds: Lua aligns userdata blocks for any
    // C type), given the metatable and stored as the list's user value 1
    // (mlua's userdata have one user value slot, used only by its own
    // user-value API, which page lists do not use).
    unsafe {
        lua.exec_raw::<()>((list, mt), |state| {
            let p = ffi::lua_newuserdatauv(state, bytes, 0) as *mut PagesHeader;
            std::ptr::write(
                p,
                PagesHeader {
                    count: entries.len() as u64,
                },
            );
            let first = p.add(1) as *mut PageEntry;
            std::ptr::copy_nonoverlapping(entries.as_ptr(), first, entries.len());
            ffi::lua_pushvalue(state, -2);
            ffi::lua_setmetatable(state, -2);
            ffi::lua_setiuservalue(state, -3, 1);
            ffi::lua_pop(state, 2);
        })
    }
}

/// The entry block of the page list at index 1, through a one-entry cache
/// as for windows: upvalue 1 is the block metatable, 3 the list last seen,
/// 4 a light userdata pointing at its block (kept alive by that list).
#[inline(always)]
unsafe fn cached_pages(l: *mut ffi::lua_State) -> Option<*const PagesHeader> {
    // SAFETY: stack and upvalue operations of the running C closure; a
    // block is only used after its metatable proved what it is, and the
    // cached pointer only while the list holding it is cached too.
    unsafe {
        if ffi::lua_type(l, 1) != ffi::LUA_TUSERDATA {
            return None;
        }
        if ffi::lua_rawequal(l, 1, ffi::lua_upvalueindex(3)) != 0 {
            return Some(ffi::lua_touserdata(l, ffi::lua_upvalueindex(4)) as *const PagesHeader);
        }
        if ffi::lua_getiuservalue(l, 1, 1) != ffi::LUA_TUSERDATA {
            ffi::lua_pop(l, 1);
            return None;
        }
        let mut block = None;
        if ffi::lua_getmetatable(l, -1) != 0 {
            if ffi::lua_rawequal(l, -1, ffi::lua_upvalueindex(1)) != 0 {
                block = Some(ffi::lua_touserdata(l, -2) as *const PagesHeader);
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pop(l, 1);
        let block = block?;
        ffi::lua_pushvalue(l, 1);
        ffi::lua_replace(l, ffi::lua_upvalueindex(3));
        ffi::lua_pushlightuserdata(l, block as *mut std::ffi::c_void);
        ffi::lua_replace(l, ffi::lua_upvalueindex(4));
        Some(block)
    }
}

/// Page `i` (1-based) of the list at index 1, or None for the slow path.
#[inline(always)]
unsafe fn page_at(l: *mut ffi::lua_State) -> Option<PageEntry> {
    // SAFETY: the block holds `count` entries right after its header.
    unsafe {
        let block = cached_pages(l)?;
        let i = int_at(l, 2)?;
        let k = i.checked_sub(1)?;
        if k >= (*block).count {
            return None;
        }
        Some(std::ptr::read(
            (block.add(1) as *const PageEntry).add(k as usize),
        ))
    }
}

/// What a page list accessor answers.
#[derive(Clone, Copy)]
enum PageField {
    State,
    Paddr,
    Domain,
}

// Upvalues of the page list accessors: 1 block metatable, 2 slow method,
// 3 and 4 the cache of `cached_pages`, 5-7 the strings "invalid", "valid",
// "mapped".
unsafe extern "C-unwind" fn page_field<const F: usize>(l: *mut ffi::lua_State) -> c_int {
    const FIELDS: [PageField; 3] = [PageField::State, PageField::Paddr, PageField::Domain];
    // SAFETY: as in `window_read`; nothing here can raise but the fallback.
    unsafe {
        let Some(e) = page_at(l) else {
            return fallback(l, 2);
        };
        let mapped = e.state == 2;
        match FIELDS[F] {
            PageField::State => {
                ffi::lua_pushvalue(l, ffi::lua_upvalueindex(5 + e.state.min(2) as c_int))
            }
            PageField::Paddr if mapped && e.hidden == 0 => {
                ffi::lua_pushinteger(l, e.paddr as ffi::lua_Integer)
            }
            PageField::Domain if mapped => ffi::lua_pushinteger(l, e.domain as ffi::lua_Integer),
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
    let upvalues = (
        pages_metatable(lua)?,
        slow,
        Value::Nil,
        Value::Nil,
        "invalid",
        "valid",
        "mapped",
    );
    // SAFETY: seven upvalues pushed in order; lua_pushcclosure pops them.
    // Upvalue 4 is only used after upvalue 3 holds a list (cached_pages).
    unsafe { lua.exec_raw::<Function>(upvalues, |state| ffi::lua_pushcclosure(state, f, 7)) }
}
