//! Where the running script is, for every layer that reports accesses (a
//! dry run's `would write32 0xfe000000 <- 0x1 (uart.lua:12)`, a trace's
//! `src`, a replay's divergence): [`provider`] makes the runtime's
//! `Position` over a Lua state, which `install`/`api_table` hand to the
//! backend (`Backend::set_position`), so every layer that wants it has it.
//! A layer calls it only when it reports something: a recording once per
//! line written, a replay when it reports a difference.
//!
//! The line is the first one, going up the main thread's stack from the
//! API call, that is not in memlua's own modules (`@stdlib/...`) nor its
//! wrappers (`=docall`, `=os.exit`): a register written through
//! `memlua.regs` is reported at the script's line, not inside the module,
//! and the end of a run by `os.exit` at the script's call. A bundled tool
//! made only of module code gets the first module line. The main thread's
//! stack is read, so a coroutine's accesses are reported where it was
//! resumed, the same for an API call and a window's fast path (which
//! cannot say which thread called it).

use std::ffi::CStr;

use memlua_runtime::Position;
use mlua::{ffi, Lua};

/// How far up the stack to look: past the deepest module nesting.
const MAX_LEVELS: i32 = 256;

/// `file:line` of the script line running now, or None outside Lua code.
pub fn position(lua: &Lua) -> Option<String> {
    provider(lua).ok()?()
}

/// [`position`] over `lua` as the runtime's callback; None once the state
/// is gone.
pub fn provider(lua: &Lua) -> mlua::Result<Position> {
    let main = crate::state::main_thread(lua)?;
    let weak = lua.weak();
    Ok(std::rc::Rc::new(move || {
        // The state closing (its Lua value gone) has no script running.
        let _alive = weak.try_upgrade()?;
        let mut out = String::new();
        // SAFETY: `main` is the main thread of the state `_alive` keeps
        // open; a layer asks while it handles a call on it (or after the
        // script, from Rust), when its call stack is consistent.
        // lua_getstack and lua_getinfo("Sl") only read that stack and push
        // nothing.
        unsafe { script_position(main, &mut out) };
        (!out.is_empty()).then_some(out)
    }))
}

/// Appends the position of the first Lua frame of `l` above the API call
/// (level 1 up) that is script code, or failing that of the first in
/// memlua's stdlib; memlua's own wrappers are passed over. Reads the
/// strings in place, formatting only the frame it reports: a recording
/// asks for every line it writes.
///
/// # Safety
/// `l` is a live thread whose call stack is consistent (see `provider`).
unsafe fn script_position(l: *mut ffi::lua_State, out: &mut String) {
    let start = out.len();
    let mut have_library = false;
    for level in 1..MAX_LEVELS {
        // SAFETY: the caller's promise; a zeroed lua_Debug is what
        // lua_getstack fills, and the strings lua_getinfo points at live
        // in the running function's prototype and in `ar`.
        unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(l, level, &mut ar) == 0 {
                return;
            }
            if ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar) == 0 || ar.currentline < 0 {
                continue; // a C function
            }
            let source = if ar.source.is_null() {
                &[][..]
            } else {
                CStr::from_ptr(ar.source).to_bytes()
            };
            if source == b"=docall" || source == b"=os.exit" {
                continue;
            }
            let library = source.starts_with(b"@stdlib/");
            if library && have_library {
                continue;
            }
            out.truncate(start);
            out.push_str(&CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy());
            out.push(':');
            push_int(out, ar.currentline);
            if !library {
                return;
            }
            have_library = true;
        }
    }
}

fn push_int(out: &mut String, v: i32) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
}
