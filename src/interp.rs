//! The Lua interpreter memlua runs everything in, as lua.c sets it up: a
//! state whose every call runs under a message handler that honours
//! `__tostring` and appends a traceback (docall.lua), with Ctrl-C armed to
//! raise "interrupted!" inside Lua while a call runs (`interrupt`), and
//! closed at exit as `lua_close` would, minus the frees (`teardown`).
//! Scripts (run.rs) and the REPL (repl/) both drive it; neither knows the
//! other.

pub mod interrupt;
mod teardown;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// How a run ended badly: the message for stderr (exit status 1).
pub struct Failure(pub String);

/// docall.lua: wraps calls so errors come back as lua.c's messages.
/// Compiled at build time; the source is the fallback should this Lua
/// refuse the bytecode.
const DOCALL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/docall.luac"));
const DOCALL_SOURCE: &str = include_str!("docall.lua");

/// A Lua state with lua.c's way of calling into it.
pub struct Interp {
    pub lua: Lua,
    docall: Function,
    main: *mut mlua::ffi::lua_State,
}

impl Interp {
    pub fn new(lua: Lua) -> mlua::Result<Interp> {
        let g = lua.globals();
        let debug: Table = g.get("debug")?;
        // The first Lua frame below the handler (level 1) that has a line,
        // as "src:line: ", like luaL_where.
        let where_ = lua.create_function(|lua, ()| {
            for level in 2..64 {
                let found = lua.inspect_stack(level, |d| {
                    let line = d.current_line()?;
                    let src = d.source().short_src?.to_string();
                    Some(format!("{src}:{line}: "))
                });
                match found {
                    None => return Ok(None),
                    Some(Some(pos)) => return Ok(Some(pos)),
                    Some(None) => continue,
                }
            }
            Ok(None)
        })?;
        let is_memlua_error =
            lua.create_function(|lua, v: Value| Ok(memlua_bindings::is_error_value(lua, &v)))?;
        let docall = lua
            .load(DOCALL)
            .set_name("=docall")
            .into_function()
            .or_else(|_| lua.load(DOCALL_SOURCE).set_name("=docall").into_function())?;
        // The standard functions as they are now, before any script could
        // replace them; debug's are raw (no __metatable, any bytes).
        let docall: Function = docall.call((
            g.get::<Function>("xpcall")?,
            g.get::<Function>("rawget")?,
            g.get::<Function>("tostring")?,
            g.get::<Function>("type")?,
            debug.get::<Function>("getmetatable")?,
            debug.get::<Function>("traceback")?,
            where_,
            is_memlua_error,
        ))?;
        let main = interrupt::main_thread(&lua)?;
        Ok(Interp { lua, docall, main })
    }

    /// Ends the interpreter as the process is about to exit: like lua.c's
    /// `lua_close`, pending to-be-closed variables are closed and every
    /// finalizer runs, but the heap is left for the OS to drop.
    pub fn close_for_exit(self) {
        // SAFETY: `main` is this state's main thread, no Lua code is
        // running, and the caller returns to exit right after.
        unsafe { teardown::skip_frees_on_close(self.main) };
        // lua_close itself, not mlua's drop: that runs a full collection
        // first, whose finalizers run while the state is still open, so
        // an object a finalizer makes then is finalized too, which lua.c
        // never does (testes/main.lua: "creating 3").
        // SAFETY: as above; the state is not used after this, since every
        // handle into it (this Interp, mlua's Lua) is forgotten unused.
        unsafe { mlua::ffi::lua_close(self.main) };
        std::mem::forget(self);
    }

    /// Runs `f` with Ctrl-C armed to interrupt the Lua code it runs.
    pub fn interruptible<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = interrupt::Guard::new(self.main);
        f()
    }

    /// Calls `f` with `args` under the message handler; the values it
    /// returned, or lua.c's message.
    pub fn call(&self, f: Function, args: MultiValue) -> Result<MultiValue, Failure> {
        let mut call_args = MultiValue::new();
        call_args.push_back(Value::Function(f));
        call_args.extend(args);
        let mut out: MultiValue = self
            .interruptible(|| self.docall.call(call_args))
            .map_err(|e| Failure(e.to_string()))?;
        match out.pop_front() {
            Some(Value::Boolean(true)) => Ok(out),
            _ => {
                let msg = match out.pop_front() {
                    Some(Value::String(s)) => s.to_string_lossy(),
                    Some(other) => format!("{other:?}"),
                    None => "unknown error".into(),
                };
                Err(Failure(without_docall_frames(&msg)))
            }
        }
    }

    /// Loads a chunk; a syntax error is the failure.
    pub fn load(&self, code: &[u8], name: &str) -> Result<Function, Failure> {
        self.lua
            .load(code)
            .set_name(name)
            .into_function()
            .map_err(|e| Failure(load_message(&e)))
    }

    /// Loads and calls a chunk with `args`.
    pub fn run_chunk(&self, code: &[u8], name: &str, args: MultiValue) -> Result<(), Failure> {
        let f = self.load(code, name)?;
        self.call(f, args).map(|_| ())
    }

    /// `-l g=mod`: `g = require("mod")`.
    pub fn require(&self, global: &[u8], module: &[u8]) -> Result<(), Failure> {
        let require: Function = self
            .lua
            .globals()
            .get("require")
            .map_err(|e| Failure(e.to_string()))?;
        let mut out = self.call(
            require,
            MultiValue::from_iter([Value::String(
                self.lua
                    .create_string(module)
                    .map_err(|e| Failure(e.to_string()))?,
            )]),
        )?;
        let value = out.pop_front().unwrap_or(Value::Nil);
        let global = self
            .lua
            .create_string(global)
            .map_err(|e| Failure(e.to_string()))?;
        self.lua
            .globals()
            .set(global, value)
            .map_err(|e| Failure(e.to_string()))
    }
}

/// The traceback ends in the frames of `docall` itself, which mean nothing
/// to the person reading it.
fn without_docall_frames(msg: &str) -> String {
    match msg.find("\n\t[C]: in function 'xpcall'") {
        Some(at) => msg[..at].to_string(),
        None => msg.to_string(),
    }
}

/// A load error's text: mlua's syntax errors carry Lua's own message.
pub fn load_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
