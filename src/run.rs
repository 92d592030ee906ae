//! What the command line asks the interpreter to run, in lua.c's order:
//! MEMLUA_INIT first, then `-e` and `-l` in the order given, then the
//! script with its arguments; and whether interactive mode follows, which
//! main.rs starts (this file knows nothing of the REPL).

use std::io::{IsTerminal, Read};

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::cli::{Action, Invocation, Script};
use crate::interp::{Failure, Interp};
use crate::tools;

type Outcome = Result<(), Failure>;

/// What follows the script, as lua.c decides it.
#[derive(Debug, PartialEq, Eq)]
pub enum Then {
    /// Interactive mode (`-i`, or nothing asked on a terminal).
    Repl,
    /// Nothing more: exit.
    Exit,
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

/// What the script gets as `...`: `arg[1]` to `arg[#arg]` as the global
/// `arg` stands when the script starts (`-e` and MEMLUA_INIT may have
/// changed it), as lua.c's pushargs takes them.
fn script_args(lua: &Lua) -> Result<MultiValue, Failure> {
    let failed = |e: mlua::Error| Failure(e.to_string());
    let Value::Table(arg) = lua.globals().get::<Value>("arg").map_err(failed)? else {
        return Err(Failure("'arg' is not a table".into()));
    };
    let n = arg.len().map_err(failed)?;
    (1..=n).map(|i| arg.raw_get(i).map_err(failed)).collect()
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
fn run_init(s: &Interp) -> Outcome {
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

/// The bundled tool `name`, loaded.
fn load_tool(s: &Interp, name: &str) -> Result<Function, Failure> {
    let Some((source, bytecode)) = tools::find(name) else {
        return Err(Failure(format!("no bundled tool '{name}'")));
    };
    let chunk = format!("@{name}");
    // The bytecode, or the source should this Lua not take it (a binary
    // built for another machine's format).
    s.load(bytecode, &chunk)
        .or_else(|_| s.load(&skip_file_prefix(source.as_bytes().to_vec()), &chunk))
}

/// A script that is neither a file nor a bundled tool.
fn not_found(script: &str, e: &std::io::Error) -> Failure {
    Failure(format!(
        "cannot open {script}: {e} (nor is it a bundled tool; see memlua --list-tools)"
    ))
}

/// The script: a file, a bundled tool of that name, or standard input.
/// As in lua.c, it is loaded before its arguments are taken from `arg`.
fn run_script(s: &Interp, script: &Script) -> Outcome {
    let f = match script {
        Script::Stdin => s.load(&skip_file_prefix(read_stdin()?), "=stdin")?,
        Script::Tool(name) => load_tool(s, name)?,
        Script::Path(raw) => {
            let shown = String::from_utf8_lossy(raw);
            match std::fs::read(os_path(raw)) {
                Ok(code) => {
                    warn_if_shadowing(&shown);
                    s.load(&skip_file_prefix(code), &format!("@{shown}"))?
                }
                Err(_) if tools::find(&shown).is_some() => load_tool(s, &shown)?,
                Err(e) => return Err(not_found(&shown, &e)),
            }
        }
    };
    let args = script_args(&s.lua)?;
    s.call(f, args).map(|_| ())
}

/// A file in the current folder named like a tool runs instead of the
/// tool (`memlua dump -o dump ...` makes one): say so, and how to run
/// either without doubt.
fn warn_if_shadowing(script: &str) {
    if script.contains('/') || tools::find(script).is_none() {
        return;
    }
    let tool = script.strip_suffix(".lua").unwrap_or(script);
    eprintln!(
        "memlua: warning: running the file '{script}' in the current folder, not the bundled tool \
         {tool}; 'memlua -t {tool} ...' runs the tool ('memlua ./{script} ...' the file, without \
         this warning)"
    );
}

/// Runs everything the command line asks for in lua.c's order; what
/// comes next.
pub fn run(s: &Interp, inv: &Invocation) -> Result<Then, Failure> {
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
        run_script(s, script)?;
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
            return Ok(Then::Repl);
        }
        if !nothing_asked {
            return Ok(Then::Repl);
        }
        // Not a terminal: read the chunk stream without prompts.
        s.run_chunk(
            &skip_file_prefix(read_stdin()?),
            "=stdin",
            MultiValue::new(),
        )?;
    }
    Ok(Then::Exit)
}
