//! Where the running script is, for layers that report accesses (a dry
//! run's `would write32 0xfe000000 <- 0x1 (uart.lua:12)`, a trace's
//! lines): [`position`] reads it from Lua's call stack, and [`provider`]
//! wraps that in the runtime's `Position`, which `install` hands to the
//! backend (`Backend::set_position`) so every layer that wants it has it.
//!
//! The line is the first one, going up the stack from the API call, that
//! is not in memlua's own modules (`@stdlib/...`): a register written
//! through `memlua.regs` is reported at the script's line, not inside the
//! module. A bundled tool has no such line, and gets its own.

use memlua_runtime::Position;
use mlua::Lua;

/// How far up the stack to look: past the deepest module nesting.
const MAX_LEVELS: usize = 64;

/// `file:line` of the script line running now, or None outside Lua code.
pub fn position(lua: &Lua) -> Option<String> {
    let mut fallback = None;
    for level in 1..MAX_LEVELS {
        let Some(found) = lua.inspect_stack(level, |d| {
            let line = d.current_line()?;
            let src = d.source();
            let short = src.short_src?.to_string();
            let ours = src.source.is_some_and(|s| s.starts_with("@stdlib/"));
            Some((format!("{short}:{line}"), ours))
        }) else {
            break;
        };
        match found {
            Some((pos, false)) => return Some(pos),
            Some((pos, true)) if fallback.is_none() => fallback = Some(pos),
            _ => {}
        }
    }
    fallback
}

/// `position` over `lua` as the runtime's callback; None once the state
/// is gone.
pub fn provider(lua: &Lua) -> Position {
    let weak = lua.weak();
    std::rc::Rc::new(move || weak.try_upgrade().and_then(|lua| position(&lua)))
}
