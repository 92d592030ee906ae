//! `--timeout`: a test that runs too long is stopped from inside Lua, the
//! way Ctrl-C stops a script (src/interp/interrupt.rs): a hook on the Lua
//! thread running the test. Here it is a count hook, set by the test's own
//! coroutine when it starts (`arm`), that looks at the clock every
//! `EVERY` instructions. Once the deadline has passed it *yields* the
//! coroutine back to the runner (stdlib/test.lua), so a test whose own
//! `pcall` would catch an error (`repeat until pcall(f)`) is stopped all
//! the same; where yielding is impossible (a Lua function called from C,
//! such as a `table.sort` comparator) it raises instead, and the next
//! count yields. Coroutines the test creates inherit the hook
//! (lua_newthread copies it). A test stuck inside one long C call is only
//! stopped when that call returns to Lua.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, CStr};
use std::time::{Duration, Instant};

use mlua::ffi;

/// Instructions between two looks at the clock: about 10 us of Lua.
const EVERY: c_int = 1000;

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether the deadline passed while a test ran, and where it stood.
    static FIRED: Cell<bool> = const { Cell::new(false) };
    static WHERE: RefCell<Option<String>> = const { RefCell::new(None) };
}

unsafe extern "C-unwind" fn hook(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return;
    };
    if Instant::now() < deadline {
        return;
    }
    if !FIRED.with(|f| f.replace(true)) {
        // SAFETY: `ar` is the activation record Lua passed to this hook,
        // valid for lua_getinfo during the call; short_src is a
        // NUL-terminated buffer inside it.
        let at = unsafe {
            if ffi::lua_getinfo(state, c"Sl".as_ptr(), ar) != 0 && (*ar).currentline > 0 {
                let src = CStr::from_ptr((*ar).short_src.as_ptr()).to_string_lossy();
                Some(format!("{src}:{}", (*ar).currentline))
            } else {
                None
            }
        };
        WHERE.with(|w| *w.borrow_mut() = at);
    }
    // SAFETY: Lua calls a count hook on its running thread `state`, where
    // it may yield (lua_yield with no results, then return, as the manual
    // says for hooks) when the thread is yieldable, or raise. The raise
    // leaves through this frame, which holds nothing to drop.
    unsafe {
        if ffi::lua_isyieldable(state) != 0 {
            ffi::lua_yield(state, 0);
        } else {
            ffi::luaL_error(state, c"timeout".as_ptr());
        }
    }
}

/// `arm(seconds)`, called by the test's coroutine as it starts: the
/// deadline is now plus `seconds`, and the hook is set on the calling
/// thread (the coroutine: a C function runs on the thread that called it).
pub unsafe extern "C-unwind" fn arm(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: a lua_CFunction called by Lua on `state`; reading argument
    // 1 and setting the thread's hook are plain API calls there.
    let seconds = unsafe { ffi::lua_tonumberx(state, 1, std::ptr::null_mut()) };
    let limit = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
    DEADLINE.with(|d| d.set(Instant::now().checked_add(limit)));
    FIRED.with(|f| f.set(false));
    WHERE.with(|w| *w.borrow_mut() = None);
    // SAFETY: as above.
    unsafe { ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, EVERY) };
    0
}

/// `timed_out()`: whether the last armed deadline passed, and the
/// "file:line" the test stood at then.
pub fn fired() -> (bool, Option<String>) {
    (FIRED.with(Cell::get), WHERE.with(|w| w.borrow().clone()))
}

/// No deadline: between files, and after a run.
pub fn disarm() {
    DEADLINE.with(|d| d.set(None));
    FIRED.with(|f| f.set(false));
}
