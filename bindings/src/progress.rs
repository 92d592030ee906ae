//! `require "memlua.progress"`: a progress bar for long runs of the tools
//! (dump, memtest), backed by indicatif. It draws on a terminal only: when
//! stderr is not one (piped, CI) every bar is hidden and costs nothing, so
//! tools call it unconditionally and stay quiet when their output is read
//! by a program.
//!
//! `progress.new(total [, label])` -> bar with `bar:inc([n])`, `bar:set(pos)`,
//! `bar:finish()`; `progress.enabled()` says whether bars draw.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};

struct Bar(ProgressBar);

impl UserData for Bar {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("inc", |_, b, n: Option<i64>| {
            b.0.inc(n.unwrap_or(1).max(0) as u64);
            Ok(())
        });
        m.add_method("set", |_, b, pos: i64| {
            b.0.set_position(pos.max(0) as u64);
            Ok(())
        });
        m.add_method("finish", |_, b, ()| {
            b.0.finish_and_clear();
            Ok(())
        });
    }
}

/// Whether bars draw: stderr is a terminal and MEMLUA_PROGRESS is not "0".
fn enabled() -> bool {
    std::io::stderr().is_terminal() && std::env::var("MEMLUA_PROGRESS").map_or(true, |v| v != "0")
}

fn new_bar(total: u64, label: &str) -> ProgressBar {
    if !enabled() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(label.to_string());
    bar
}

/// The module table.
fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "new",
        lua.create_function(|_, (total, label): (Value, Option<String>)| {
            let total = match total {
                Value::Integer(i) if i >= 0 => i as u64,
                Value::Number(f) if f >= 0.0 && f.fract() == 0.0 => f as u64,
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #1 to 'progress.new' (non-negative integer expected, got {})",
                        other.type_name()
                    )))
                }
            };
            Ok(Bar(new_bar(total, label.as_deref().unwrap_or(""))))
        })?,
    )?;
    t.set("enabled", lua.create_function(|_, ()| Ok(enabled()))?)?;
    Ok(t)
}

/// Registers `memlua.progress` in `package.preload`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    crate::stdlib::preload(lua, "memlua.progress", module)
}
