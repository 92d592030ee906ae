//! What `luaL_newstate` gives lua.c's state and mlua's does not:
//!
//! - An allocator that answers a failed allocation with NULL, so Lua raises
//!   "not enough memory", which `pcall` catches. mlua's aborts the process
//!   instead. Blocks are made exactly as mlua makes them (Rust's global
//!   allocator, `SYS_MIN_ALIGN`), so the blocks mlua allocated before the
//!   switch are freed and resized correctly.
//! - lauxlib's warning function: warnings start off, `warn("@on")` (or
//!   `memlua -W`) turns them on, and each one is printed to stderr as
//!   `Lua warning: ...`, pieces joined until the last.

use std::alloc::Layout;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::Write;

use mlua::{ffi, Lua};

/// lauxlib's `l_alloc` over Rust's global allocator.
unsafe extern "C" fn alloc(
    _ud: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    const ALIGN: usize = ffi::SYS_MIN_ALIGN;
    if nsize == 0 {
        if !ptr.is_null() {
            // SAFETY: Lua frees a live block with its size; it was made
            // with this layout, by this function or by mlua's allocator.
            unsafe {
                std::alloc::dealloc(ptr.cast(), Layout::from_size_align_unchecked(osize, ALIGN))
            };
        }
        return std::ptr::null_mut();
    }
    let Ok(layout) = Layout::from_size_align(nsize, ALIGN) else {
        return std::ptr::null_mut();
    };
    if ptr.is_null() {
        // SAFETY: `layout` has a non-zero size. A null result is passed on:
        // Lua turns it into a memory error.
        return unsafe { std::alloc::alloc(layout) }.cast();
    }
    // SAFETY: `ptr` is a live block of `osize` bytes made with ALIGN (see
    // the free above); `nsize` is non-zero and fits a Layout.
    unsafe {
        std::alloc::realloc(
            ptr.cast(),
            Layout::from_size_align_unchecked(osize, ALIGN),
            nsize,
        )
    }
    .cast()
}

fn write_stderr(bytes: &[u8]) {
    let _ = std::io::stderr().write_all(bytes);
}

/// `@on` / `@off` (only as a whole message): switches the warning
/// function; true when `msg` was such a control message.
///
/// # Safety
/// `l` is the state the warning function belongs to; `msg` a C string.
unsafe fn control(l: *mut ffi::lua_State, msg: *const c_char, tocont: c_int) -> bool {
    // SAFETY: Lua passes a NUL-terminated message.
    let msg = unsafe { CStr::from_ptr(msg) }.to_bytes();
    if tocont != 0 || msg.first() != Some(&b'@') {
        return false;
    }
    match &msg[1..] {
        // SAFETY: `l` is the live state whose warning function is running.
        b"off" => unsafe { ffi::lua_setwarnf(l, Some(warn_off), l.cast()) },
        b"on" => unsafe { ffi::lua_setwarnf(l, Some(warn_on), l.cast()) },
        _ => {}
    }
    true
}

unsafe extern "C-unwind" fn warn_off(ud: *mut c_void, msg: *const c_char, tocont: c_int) {
    // SAFETY: `ud` is the state (installed so below), `msg` from Lua.
    unsafe { control(ud.cast(), msg, tocont) };
}

unsafe extern "C-unwind" fn warn_on(ud: *mut c_void, msg: *const c_char, tocont: c_int) {
    // SAFETY: as in warn_off.
    if unsafe { control(ud.cast(), msg, tocont) } {
        return;
    }
    write_stderr(b"Lua warning: ");
    // SAFETY: as in warn_off.
    unsafe { warn_cont(ud, msg, tocont) };
}

unsafe extern "C-unwind" fn warn_cont(ud: *mut c_void, msg: *const c_char, tocont: c_int) {
    let l: *mut ffi::lua_State = ud.cast();
    // SAFETY: Lua passes a NUL-terminated message.
    write_stderr(unsafe { CStr::from_ptr(msg) }.to_bytes());
    let next = if tocont != 0 {
        warn_cont
    } else {
        write_stderr(b"\n");
        warn_on
    };
    // SAFETY: `l` is the live state whose warning function is running.
    unsafe { ffi::lua_setwarnf(l, Some(next), ud) };
}

/// The main thread of `lua`: what the allocator, the warning function and
/// Ctrl-C's hook belong to.
pub fn main_thread(lua: &Lua) -> mlua::Result<*mut ffi::lua_State> {
    let mut main = std::ptr::null_mut();
    // SAFETY: the closure runs in a protected call on a stack mlua checked;
    // it pushes one value and pops it again.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, ffi::LUA_RIDX_MAINTHREAD);
            main = ffi::lua_tothread(state, -1);
            ffi::lua_pop(state, 1);
        })?;
    }
    Ok(main)
}

/// Installs both on a new state, before any script runs.
pub fn complete(lua: &Lua) -> mlua::Result<()> {
    let main = main_thread(lua)?;
    // SAFETY: `main` is the live main thread and no Lua code runs; the new
    // allocator serves every block the old one made (same global allocator,
    // same layout).
    unsafe {
        ffi::lua_setallocf(main, alloc, std::ptr::null_mut());
        ffi::lua_setwarnf(main, Some(warn_off), main.cast());
    }
    Ok(())
}

/// What the collector lets a new state allocate before its first cycle,
/// at least: a short run (`memlua devmem` allocates about 50 KiB, most of
/// it the stdlib's code) should not spend its time tracing a heap that
/// is nearly all still in use.
const FIRST_CYCLE_MIN: usize = 256 << 10;

/// Runs `f` with the collector stopped, as lua.c builds its state: what is
/// made then stays alive, so collecting during it is wasted work. After
/// it the collector waits until the heap has grown by its size again, as
/// it would after a finished cycle (the default pause, 200%), or by
/// FIRST_CYCLE_MIN if that is more.
pub fn without_gc<R>(lua: &Lua, f: impl FnOnce() -> mlua::Result<R>) -> mlua::Result<R> {
    let running = lua.gc_is_running();
    lua.gc_stop();
    let out = f();
    if running {
        lua.gc_restart();
        let credit = lua.used_memory().max(FIRST_CYCLE_MIN) / 1024;
        let kib = c_int::try_from(credit).unwrap_or(c_int::MAX);
        // SAFETY: a protected call on a checked stack. A step with a
        // negative size only adds that credit to the collector's debt
        // (lapi.c, LUA_GCSTEP): nothing is collected, nothing raised.
        unsafe {
            lua.exec_raw::<()>((), |state| {
                ffi::lua_gc(state, ffi::LUA_GCSTEP, -kib);
            })?;
        }
    }
    out
}

/// `memlua -W`: lua.c's `lua_warning(L, "@on", 0)`.
pub fn warnings_on(lua: &Lua) -> mlua::Result<()> {
    // SAFETY: a protected call on a checked stack; the message is a C
    // string literal.
    unsafe { lua.exec_raw::<()>((), |state| ffi::lua_warning(state, c"@on".as_ptr(), 0)) }
}
