//! Ctrl-C while Lua runs, as lua.c does it: a SIGINT handler installed only
//! for the length of a call, which touches nothing but the hook of the main
//! Lua thread (`lua_sethook` may be called asynchronously, lua.h says so);
//! the hook then raises "interrupted!" inside Lua, where the call's own
//! message handler reports it and the state stays usable. Between calls the
//! terminal's Ctrl-C belongs to the line editor, and no hook is left
//! installed, so a hot loop pays nothing for any of this.

use std::ffi::c_int;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use mlua::{ffi, Lua};

/// The main thread of the state whose call is running, or null.
static RUNNING: AtomicPtr<ffi::lua_State> = AtomicPtr::new(ptr::null_mut());

/// The main thread of `lua`, to hook when Ctrl-C arrives.
pub fn main_thread(lua: &Lua) -> mlua::Result<*mut ffi::lua_State> {
    memlua_bindings::state::main_thread(lua)
}

/// lua.c's `lstop`: clear the hook and raise the error where Lua stands.
unsafe extern "C-unwind" fn stop(state: *mut ffi::lua_State, _ar: *mut ffi::lua_Debug) {
    // SAFETY: Lua calls a hook on its running thread `state`, where a hook
    // may clear hooks and raise; the raise leaves through this frame, which
    // holds nothing to drop.
    unsafe {
        ffi::lua_sethook(state, None, 0, 0);
        ffi::luaL_error(state, c"interrupted!".as_ptr());
    }
}

/// lua.c's `laction`: a second Ctrl-C before Lua notices ends the process
/// (the default action), so a call stuck outside Lua can still be killed.
extern "C" fn on_sigint(_: c_int) {
    // SAFETY: signal() and lua_sethook are both safe in a signal handler.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        let main = RUNNING.load(Ordering::SeqCst);
        if !main.is_null() {
            let mask = ffi::LUA_MASKCALL | ffi::LUA_MASKRET | ffi::LUA_MASKCOUNT;
            ffi::lua_sethook(main, Some(stop), mask, 1);
        }
    }
}

/// While alive, Ctrl-C interrupts the Lua code running on `main`.
/// Nested calls (a chunk that calls back into the host) share the
/// outermost guard.
pub struct Guard {
    main: *mut ffi::lua_State,
    old: Option<libc::sigaction>,
}

impl Guard {
    pub fn new(main: *mut ffi::lua_State) -> Guard {
        if !RUNNING.load(Ordering::SeqCst).is_null() {
            return Guard { main, old: None };
        }
        RUNNING.store(main, Ordering::SeqCst);
        // SAFETY: plain sigaction calls with zero-initialised structures.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigint as extern "C" fn(c_int) as libc::sighandler_t;
            act.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut act.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, &act, &mut old);
            Guard {
                main,
                old: Some(old),
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let Some(old) = self.old.take() else { return };
        // SAFETY: restores what `new` replaced; the hook is cleared only if
        // it is ours (a script may have set its own with debug.sethook).
        unsafe {
            libc::sigaction(libc::SIGINT, &old, ptr::null_mut());
            RUNNING.store(ptr::null_mut(), Ordering::SeqCst);
            if ffi::lua_gethook(self.main).map(|h| h as *const ()) == Some(stop as *const ()) {
                ffi::lua_sethook(self.main, None, 0, 0);
            }
        }
    }
}
