//! What a failure is before it reaches Lua, and the Lua value it becomes
//! (docs/API.md, Errors).
//!
//! A runtime failure becomes a Lua error whose *value* is a table sharing one
//! metatable (`e.errno`, `e.code`, `e.op`, `e.addr`, `e.done`, `e.message`,
//! `tostring(e)` = the runtime error's Display); a bad argument stays a plain
//! string in `luaL_argerror`'s words, with the caller's `file:line:` in front
//! as `luaL_error` puts it (calls.rs raises both).

use memlua_runtime::error::{capped, MESSAGE_MAX};
use memlua_runtime::Error as RtError;
use mlua::{Lua, Table, Value};

/// Why an API call failed, before it is turned into a Lua error.
#[derive(Debug)]
pub enum Fail {
    /// A complete `luaL_argerror`-style message, without position.
    Arg(String),
    /// A runtime error: raised as an error table.
    Rt(RtError),
    /// An error of mlua itself (out of memory, a failing conversion):
    /// raised as mlua raises it.
    Lua(mlua::Error),
}

impl From<RtError> for Fail {
    fn from(e: RtError) -> Self {
        Fail::Rt(e)
    }
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Lua(e)
    }
}

/// The result type of every API function body.
pub type Res<T> = std::result::Result<T, Fail>;

/// `bad argument #pos to 'fname' (msg)`, as `luaL_argerror` words it.
/// Capped like every runtime error's message (a message quoting a script's
/// string must not grow with it).
pub fn arg_error(pos: usize, fname: &str, msg: impl std::fmt::Display) -> Fail {
    Fail::Arg(capped(
        format!("bad argument #{pos} to '{fname}' ({msg})"),
        MESSAGE_MAX,
    ))
}

/// A method called on something that is not its object. Lua words this
/// `calling 'read32' on bad self (...)` when the call is `x:read32()`.
pub fn bad_self(lua: &Lua, fname: &str, expected: &str, got: &Value) -> Fail {
    Fail::Arg(capped(
        format!(
            "calling '{fname}' on bad self ({expected} expected, got {})",
            type_name_in(lua, got)
        ),
        MESSAGE_MAX,
    ))
}

/// `type_name` that also finds the `__name` of userdata mlua did not make
/// (memlua's tagged objects, C modules' userdata), as luaL_typeerror does.
pub fn type_name_in(lua: &Lua, v: &Value) -> String {
    if !matches!(v, Value::UserData(_)) {
        return type_name(v);
    }
    // SAFETY: exec_raw pushes `v`; the closure leaves one string on top
    // (the metafield, or the pushed type name) for exec_raw to return.
    let name = unsafe {
        lua.exec_raw::<String>(v, |l| {
            if mlua::ffi::luaL_getmetafield(l, -1, c"__name".as_ptr()) != mlua::ffi::LUA_TSTRING {
                if mlua::ffi::lua_gettop(l) > 1 {
                    mlua::ffi::lua_settop(l, 1);
                }
                mlua::ffi::lua_pushstring(l, c"userdata".as_ptr());
            }
            mlua::ffi::lua_replace(l, -2);
        })
    };
    name.unwrap_or_else(|_| "userdata".into())
}

/// The type name `luaL_typeerror` would print: `__name` for userdata.
pub fn type_name(v: &Value) -> String {
    if let Value::UserData(ud) = v {
        if let Ok(mt) = ud.metatable() {
            if let Ok(name) = mt.get::<String>("__name") {
                return name;
            }
        }
    }
    match v {
        // Lua has one type for both; mlua's names tell them apart.
        Value::Integer(_) | Value::Number(_) => "number".into(),
        Value::LightUserData(_) => "userdata".into(),
        other => other.type_name().to_string(),
    }
}

const ERROR_MT: &str = "memlua.error";
const ERROR_TEXT: &str = "memlua.error_text";

/// Creates the error metatable once per state. The Display text of each
/// error lives in a weak-keyed side table, so an error table carries exactly
/// the fields docs/API.md names and nothing else.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    // Several sessions in one state share it.
    if lua
        .named_registry_value::<Option<Table>>(ERROR_MT)?
        .is_some()
    {
        return Ok(());
    }
    let text = lua.create_table()?;
    let weak = lua.create_table()?;
    weak.set("__mode", "k")?;
    text.set_metatable(Some(weak))?;
    lua.set_named_registry_value(ERROR_TEXT, &text)?;

    let mt = lua.create_table()?;
    mt.set("__name", "memlua.error")?;
    mt.set(
        "__tostring",
        lua.create_function(|lua, t: Table| {
            let text: Table = lua.named_registry_value(ERROR_TEXT)?;
            match text.raw_get::<Option<String>>(&t)? {
                Some(s) => Ok(s),
                // A copy made by a script: rebuild the main part.
                None => Ok(format!(
                    "{}: {}: {}",
                    t.get::<String>("op").unwrap_or_default(),
                    t.get::<String>("errno").unwrap_or_default(),
                    t.get::<String>("message").unwrap_or_default()
                )),
            }
        })?,
    )?;
    lua.set_named_registry_value(ERROR_MT, mt)
}

/// The Lua value of a runtime error.
pub fn error_value(lua: &Lua, e: &RtError) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 6)?;
    t.raw_set("errno", e.errno.name())?;
    t.raw_set("code", e.errno.code())?;
    t.raw_set("op", e.op.as_str())?;
    if let Some(a) = e.addr() {
        t.raw_set("addr", a as i64)?;
    }
    if let Some(d) = e.done {
        t.raw_set("done", d as i64)?;
    }
    t.raw_set("message", e.full_message().as_ref())?;
    let mt: Table = lua.named_registry_value(ERROR_MT)?;
    t.set_metatable(Some(mt))?;
    let text: Table = lua.named_registry_value(ERROR_TEXT)?;
    text.raw_set(&t, e.to_string())?;
    Ok(t)
}

/// Whether `v` is one of our error tables: for hosts (the CLI, the
/// harness) that print errors.
pub fn is_error_value(lua: &Lua, v: &Value) -> bool {
    let Value::Table(t) = v else { return false };
    let Ok(mt) = lua.named_registry_value::<Table>(ERROR_MT) else {
        return false;
    };
    t.metatable().is_some_and(|m| m == mt)
}

/// The innermost message of an mlua error (a Lua callback's own words,
/// without mlua's "callback error" wrapping and traceback).
pub fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::WithContext { cause, .. } => lua_message(cause),
        other => other.to_string(),
    }
}
