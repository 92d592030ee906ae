//! Interactive mode, lua.c's doREPL: read a line, try `return <line>` so an
//! expression prints, keep reading while the chunk is incomplete, print the
//! results or the error, and go on. Prompts only on a terminal.

use std::io::{BufRead, IsTerminal, Write};

use mlua::{Function, MultiValue};

use crate::cli::Invocation;
use crate::run::Session;

/// `memlua(sim:pc)> `: the backend and the board at a glance.
fn prompt(s: &Session) -> String {
    let backend: Option<mlua::Table> = s.lua.globals().get("backend").ok();
    let name: String = backend
        .as_ref()
        .and_then(|b| b.get("name").ok())
        .unwrap_or_else(|| "?".into());
    match backend.and_then(|b| b.get::<Option<String>>("board").ok().flatten()) {
        Some(board) => format!("memlua({name}:{board})> "),
        None => format!("memlua({name})> "),
    }
}

/// Compiles a first line as an expression if it is one.
fn as_expression(s: &Session, line: &str) -> Option<Function> {
    s.lua
        .load(format!("return {line}"))
        .set_name("=stdin")
        .into_function()
        .ok()
}

/// Reads on while the chunk is incomplete (its syntax error ends at
/// `<eof>`); None after a syntax error (printed) or at end of input.
fn read_statement(
    s: &Session,
    mut chunk: String,
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    show: &impl Fn(&str),
) -> Option<Function> {
    loop {
        match s
            .lua
            .load(chunk.as_str())
            .set_name("=stdin")
            .into_function()
        {
            Ok(f) => return Some(f),
            Err(mlua::Error::SyntaxError {
                incomplete_input: true,
                ..
            }) => {
                show(">> ");
                let more = lines.next()?.ok()?;
                chunk.push('\n');
                chunk.push_str(&more);
            }
            Err(e) => {
                eprintln!("memlua: {}", crate::run::load_message(&e));
                return None;
            }
        }
    }
}

pub fn run(s: &Session, _inv: &Invocation) {
    let interactive = std::io::stdin().is_terminal();
    let first = prompt(s);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let show = |p: &str| {
        if interactive {
            print!("{p}");
            let _ = std::io::stdout().flush();
        }
    };
    loop {
        show(&first);
        let Some(Ok(line)) = lines.next() else { break };
        let f = match as_expression(s, &line) {
            Some(f) => f,
            None => match read_statement(s, line, &mut lines, &show) {
                Some(f) => f,
                None => continue,
            },
        };
        match s.call(f, MultiValue::new()) {
            Ok(values) if !values.is_empty() => {
                if let Ok(print) = s.lua.globals().get::<Function>("print") {
                    if let Err(e) = s.call(print, values) {
                        eprintln!("memlua: error calling 'print' ({})", e.0);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("memlua: {}", e.0),
        }
    }
    if interactive {
        println!();
    }
}
