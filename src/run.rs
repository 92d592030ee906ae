//! Running things in a Lua state the way lua.c does: MEMLUA_INIT first,
//! then `-e` and `-l` in the order given, then the script with its
//! arguments, each call under a message handler that honours `__tostring`
//! and appends a traceback. Ctrl-C during a call raises "interrupted!"
//! inside Lua (`interrupt`).

pub mod interrupt;
mod teardown;

use std::io::{IsTerminal, Read};

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::cli::{Action, Invocation, Script};
use crate::tools;

/// How a run ended badly: the message for stderr (exit status 1).
pub struct Failure(pub String);

type Outcome = Result<(), Failure>;

/// docall.lua: wraps calls so errors come back as lua.c's messages.
/// Compiled at build time; the source is the fallback should this Lua
/// refuse the bytecode.
const DOCALL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/docall.luac"));
const DOCALL_SOURCE: &str = include_str!("docall.lua");

pub struct Session {
    pub lua: Lua,
    docall: Function,
    main: *mut mlua::ffi::lua_State,
}

impl Session {
    pub fn new(lua: Lua) -> mlua::Result<Session> {
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
            g.get::<Function>("pcall")?,
            g.get::<Function>("tostring")?,
            g.get::<Function>("type")?,
            debug.get::<Function>("getmetatable")?,
            debug.get::<Function>("traceback")?,
            where_,
            is_memlua_error,
        ))?;
        let main = interrupt::main_thread(&lua)?;
        Ok(Session { lua, docall, main })
    }

    /// Ends the session as the process is about to exit: like lua.c's
    /// `lua_close`, pending to-be-closed variables are closed and every
    /// finalizer runs, but the heap is left for the OS to drop.
    pub fn close_for_exit(self) {
        // SAFETY: `main` is this state's main thread, no Lua code is
        // running, and the caller returns to exit right after.
        unsafe { teardown::skip_frees_on_close(self.main) };
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

    fn run_chunk(&self, code: &[u8], name: &str, args: MultiValue) -> Outcome {
        let f = self.load(code, name)?;
        self.call(f, args).map(|_| ())
    }

    /// `-l g=mod`: `g = require("mod")`.
    fn require(&self, global: &[u8], module: &[u8]) -> Outcome {
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

/// What luaL_loadfile skips at the start of a file (stdin too): a UTF-8
/// byte-order mark, then a first line starting with '#'
/// (`#!/usr/bin/env memlua`), whose newline is kept so line numbers stay
/// right, unless a precompiled chunk follows it.
fn skip_file_prefix(code: Vec<u8>) -> Vec<u8> {
    let mut start = if code.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut newline = false;
    if code.get(start) == Some(&b'#') {
        start = code[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(code.len(), |at| start + at + 1);
        newline = code.get(start) != Some(&0x1b);
    }
    if start == 0 {
        return code;
    }
    let mut out = Vec::with_capacity(code.len() - start + 1);
    if newline {
        out.push(b'\n');
    }
    out.extend_from_slice(&code[start..]);
    out
}

/// A path from the bytes it was given as.
fn os_path(bytes: &[u8]) -> std::path::PathBuf {
    #[cfg(unix)]
    {
        let os: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(bytes);
        os.into()
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(bytes).into_owned().into()
    }
}

/// The global `arg`: the script at 0, its arguments after it, memlua and
/// its options at negative indices.
fn arg_table(lua: &Lua, inv: &Invocation) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let base = if inv.script.is_some() {
        inv.script_index as i64
    } else {
        0
    };
    for (i, a) in inv.argv.iter().enumerate() {
        t.raw_set(i as i64 - base, lua.create_string(a)?)?;
    }
    Ok(t)
}

/// Everything after the script, passed as `...`.
fn script_args(lua: &Lua, inv: &Invocation) -> mlua::Result<MultiValue> {
    let mut out = MultiValue::new();
    if inv.script.is_some() {
        for a in &inv.argv[inv.script_index + 1..] {
            out.push_back(Value::String(lua.create_string(a)?));
        }
    }
    Ok(out)
}

fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut code = Vec::new();
    std::io::stdin()
        .read_to_end(&mut code)
        .map_err(|e| Failure(format!("cannot read stdin: {e}")))?;
    Ok(code)
}

/// MEMLUA_INIT: Lua code, or `@FILE` to run a file (as LUA_INIT), bytes
/// as the environment holds them.
fn run_init(s: &Session) -> Outcome {
    let Some(init) = std::env::var_os("MEMLUA_INIT") else {
        return Ok(());
    };
    #[cfg(unix)]
    let init = std::os::unix::ffi::OsStrExt::as_bytes(init.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let init = init.to_string_lossy().into_owned().into_bytes();
    match init.strip_prefix(b"@") {
        Some(path) => {
            let shown = String::from_utf8_lossy(path);
            let code = std::fs::read(os_path(path))
                .map_err(|e| Failure(format!("cannot open {shown}: {e}")))?;
            s.run_chunk(
                &skip_file_prefix(code),
                &format!("@{shown}"),
                MultiValue::new(),
            )
        }
        None => s.run_chunk(&init, "=MEMLUA_INIT", MultiValue::new()),
    }
}

/// The script: a file, a bundled tool of that name, or standard input.
fn run_script(s: &Session, inv: &Invocation, script: &Script) -> Outcome {
    let args = script_args(&s.lua, inv).map_err(|e| Failure(e.to_string()))?;
    match script {
        Script::Stdin => s.run_chunk(&skip_file_prefix(read_stdin()?), "=stdin", args),
        Script::Path(raw) => match std::fs::read(os_path(raw)) {
            Ok(code) => s.run_chunk(
                &skip_file_prefix(code),
                &format!("@{}", String::from_utf8_lossy(raw)),
                args,
            ),
            Err(e) => match tools::find(&String::from_utf8_lossy(raw)) {
                Some((source, bytecode)) => {
                    let name = format!("@{}", String::from_utf8_lossy(raw));
                    // The bytecode, or the source should this Lua not take
                    // it (a binary built for another machine's format).
                    let f = s.load(bytecode, &name).or_else(|_| {
                        s.load(&skip_file_prefix(source.as_bytes().to_vec()), &name)
                    })?;
                    s.call(f, args).map(|_| ())
                }
                None => Err(Failure(format!(
                    "cannot open {}: {e} (nor is it a bundled tool; see memlua --list-tools)",
                    String::from_utf8_lossy(raw)
                ))),
            },
        },
    }
}

/// Runs everything the command line asks for in lua.c's order.
pub fn run(s: &Session, inv: &Invocation) -> Outcome {
    let arg = arg_table(&s.lua, inv).map_err(|e| Failure(e.to_string()))?;
    s.lua
        .globals()
        .set("arg", arg)
        .map_err(|e| Failure(e.to_string()))?;
    if inv.version {
        outln!("{}", crate::version());
    }
    if inv.warnings {
        memlua_bindings::state::warnings_on(&s.lua).map_err(|e| Failure(e.to_string()))?;
    }
    if !inv.ignore_env {
        run_init(s)?;
    }
    for action in &inv.actions {
        match action {
            Action::Exec(code) => s.run_chunk(code, "=(command line)", MultiValue::new())?,
            Action::Require { global, module } => s.require(global, module)?,
        }
    }
    if let Some(script) = &inv.script {
        run_script(s, inv, script)?;
    }
    // lua.c: with no script, no -e and no -v (a -l alone counts for
    // nothing), the REPL on a terminal, else standard input as a file.
    let ran_something = inv.actions.iter().any(|a| matches!(a, Action::Exec(_)));
    let nothing_asked = inv.script.is_none() && !ran_something && !inv.version;
    if inv.interactive || nothing_asked {
        if std::io::stdin().is_terminal() {
            if nothing_asked {
                outln!("{}", crate::version());
            }
            crate::repl::run(s, inv);
        } else if nothing_asked {
            // Not a terminal: read the chunk stream without prompts.
            s.run_chunk(
                &skip_file_prefix(read_stdin()?),
                "=stdin",
                MultiValue::new(),
            )?;
        } else {
            crate::repl::run(s, inv);
        }
    }
    Ok(())
}
