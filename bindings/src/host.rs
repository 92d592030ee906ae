//! `require "memlua.host"`: the few things the Lua stdlib needs that Lua
//! itself lacks. Error values shaped like the API's (so `poll` can raise
//! ETIMEDOUT that scripts branch on with `e.errno`, and `tostring(e)`
//! reads like every other memlua error) and a monotonic clock (Lua's
//! `os.clock` is CPU time, `os.time` whole seconds).
//!
//! `host.error{errno=, op=, message= [, addr=]}` -> error value (not raised);
//! `host.monotonic_ns()` -> integer nanoseconds since an arbitrary start;
//! `host.create(path)` -> a file for writing, created 0600 (Lua's io.open
//! cannot set a mode), refusing a symbolic link at `path`; `f:write(s...)`
//! and `f:close()` return true, or `nil, message` as io's methods do.

use std::sync::OnceLock;
use std::time::Instant;

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::rc::Rc;

use memlua_runtime::{Errno, Error as RtError};
use mlua::{Lua, Table, Value, Variadic};

use crate::calls::index_function;
use crate::errors::{arg_error, type_name, Res};
use crate::objects::{self, Object};

fn make_error(lua: &Lua, spec: Table) -> mlua::Result<Table> {
    let name: String = spec.get("errno")?;
    let errno = Errno::from_name(&name)
        .ok_or_else(|| mlua::Error::runtime(format!("host.error: unknown errno '{name}'")))?;
    let op: String = spec.get::<Option<String>>("op")?.unwrap_or_default();
    let message: String = spec.get::<Option<String>>("message")?.unwrap_or_default();
    let mut e = RtError::new(errno, op, message);
    if let Some(a) = spec.get::<Option<i64>>("addr")? {
        e = e.at(a as u64);
    }
    crate::errors::error_value(lua, &e)
}

fn monotonic_ns() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

/// A file opened by `host.create`: None once closed; its path for
/// messages. A tagged userdata (objects.rs), like memlua's other objects.
#[derive(Clone)]
struct PrivateFile(Rc<RefCell<Option<File>>>, Rc<str>);

impl Object for PrivateFile {
    const TAG: u64 = u64::from_be_bytes(*b"mlfile\0\x01");
    const NAME: &'static std::ffi::CStr = c"memlua.file";
}

impl PrivateFile {
    fn failed<T>(&self, e: impl std::fmt::Display) -> Res<(Option<T>, Option<String>)> {
        Ok((None, Some(format!("{}: {e}", self.1))))
    }
}

/// `f:write(...)` and `f:close()`: `true`, or `nil, message` as io's
/// methods answer a failure; a bad argument is Lua's usual error.
fn file_index(lua: &Lua) -> mlua::Result<Value> {
    let methods = lua.create_table()?;
    methods.set(
        "write",
        objects::method(lua, "write", |_, f: PrivateFile, parts: Variadic<Value>| {
            let guard = f.0.borrow();
            let Some(mut file) = guard.as_ref() else {
                return f.failed("the file is closed");
            };
            for (i, v) in parts.iter().enumerate() {
                let bytes = match v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    Value::Integer(n) => n.to_string().into_bytes(),
                    Value::Number(n) => crate::numbers::lua_float(*n).into_bytes(),
                    other => {
                        return Err(arg_error(
                            i + 1,
                            "write",
                            format!("string expected, got {}", type_name(other)),
                        ))
                    }
                };
                if let Err(e) = file.write_all(&bytes) {
                    return f.failed(e);
                }
            }
            Ok((Some(true), None))
        })?,
    )?;
    methods.set(
        "close",
        objects::method(lua, "close", |_, f: PrivateFile, ()| {
            match f.0.borrow_mut().take() {
                // Errors of the last writes show at close on some file
                // systems (NFS): sync_data reports them.
                Some(file) => match file.sync_data() {
                    Ok(()) => Ok((Some(true), None)),
                    Err(e) => f.failed(e),
                },
                None => f.failed("the file is closed"),
            }
        })?,
    )?;
    index_function(lua, methods, None)
}

/// Creates or truncates `path` for writing, 0600 when created, without
/// following a symbolic link there (O_NOFOLLOW: ELOOP, said in words).
/// An existing file keeps its mode: the user chose it.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::new(
                    e.kind(),
                    "it is a symbolic link, which memlua does not follow when writing a file \
                     (give the path it points to)",
                )
            } else {
                e
            }
        })
}

fn create(lua: &Lua, path: mlua::LuaString) -> mlua::Result<(Option<Value>, Option<String>)> {
    let shown = String::from_utf8_lossy(&path.as_bytes()).into_owned();
    let os = std::ffi::OsStr::from_bytes(&path.as_bytes()).to_owned();
    match create_private(Path::new(&os)) {
        Ok(f) => {
            let tostring = lua.create_function(|_, ()| Ok("memlua file"))?;
            objects::metatable::<PrivateFile>(lua, file_index(lua)?, tostring, &[])?;
            let file = PrivateFile(Rc::new(RefCell::new(Some(f))), shown.into());
            Ok((Some(objects::create(lua, file)?), None))
        }
        Err(e) => Ok((None, Some(format!("{shown}: {e}")))),
    }
}

fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("error", lua.create_function(make_error)?)?;
    t.set(
        "monotonic_ns",
        lua.create_function(|_, ()| Ok(monotonic_ns()))?,
    )?;
    t.set("create", lua.create_function(create)?)?;
    Ok(t)
}

/// Registers `memlua.host`, `memlua.hexfmt`, `memlua.progress` and
/// `memlua.svd`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    errors_ready(lua)?;
    crate::stdlib::preload(lua, "memlua.host", module)?;
    crate::hexfmt::install(lua)?;
    crate::progress::install(lua)?;
    crate::svd::install(lua)
}

fn errors_ready(lua: &Lua) -> mlua::Result<()> {
    crate::errors::install(lua)
}
