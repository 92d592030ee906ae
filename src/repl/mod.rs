//! Interactive mode, lua.c's doREPL on rustyline: read a line, try
//! `return <line>` so an expression prints, keep reading (`>> `) while the
//! chunk is incomplete (its syntax error ends at `<eof>`), run it with
//! Ctrl-C armed, print the results or the error, and go on. On a terminal:
//! history, completion and the `:` commands; otherwise the chunk stream is
//! read without prompts, unless the script set lua.c's `_PROMPT` or
//! `_PROMPT2`, which replace memlua's own prompts wherever they are set.

mod complete;
mod help;
mod history;
mod print;

use std::io::{BufRead, IsTerminal, Write};

use mlua::{Function, MultiValue, Table, Value};
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::{DefaultHistory, History as _};
use rustyline::Editor;

use crate::cli::Invocation;
use crate::interp::{load_message, Failure, Interp};

use history::History;
use print::Printer;

/// `memlua(sim:pc)> `: the backend and the board at a glance.
fn prompt(s: &Interp) -> String {
    let backend: Option<Table> = s.lua.globals().get("backend").ok();
    let name: String = backend
        .as_ref()
        .and_then(|b| b.get("name").ok())
        .unwrap_or_else(|| "?".into());
    match backend.and_then(|b| b.get::<Option<String>>("board").ok().flatten()) {
        Some(board) => format!("memlua({name}:{board})> "),
        None => format!("memlua({name})> "),
    }
}

/// lua.c's get_prompt: `_PROMPT` (first line) or `_PROMPT2` (a
/// continuation line) through `tostring`, so any value with `__tostring`
/// will do; None when it is nil (memlua's own prompt then).
fn lua_prompt(s: &Interp, tostring: &Function, first: bool) -> Option<String> {
    let name = if first { "_PROMPT" } else { "_PROMPT2" };
    let value = match s.lua.globals().get::<Value>(name) {
        Ok(Value::Nil) => return None,
        Ok(v) => v,
        Err(e) => {
            eprintln!("memlua: {name}: {e}");
            return None;
        }
    };
    match tostring.call::<mlua::LuaString>(value) {
        Ok(text) => Some(text.to_string_lossy()),
        Err(e) => {
            eprintln!("memlua: {name}: {e}");
            None
        }
    }
}

/// What a chunk typed so far is.
enum Chunk {
    /// Complete; `true` when it is an expression whose values print.
    Ready(Function),
    /// Ends before it should: read another line.
    Incomplete,
    /// A syntax error, to print.
    Wrong(String),
}

/// lua.c's pushline (`=expr` on the first line is `return expr`), then
/// addreturn, then multiline.
fn compile(s: &Interp, chunk: &str) -> Chunk {
    let returned;
    let chunk = match chunk.strip_prefix('=') {
        Some(expr) => {
            returned = format!("return {expr}");
            returned.as_str()
        }
        None => chunk,
    };
    if let Ok(f) = s
        .lua
        .load(format!("return {chunk};"))
        .set_name("=stdin")
        .into_function()
    {
        return Chunk::Ready(f);
    }
    match s.lua.load(chunk).set_name("=stdin").into_function() {
        Ok(f) => Chunk::Ready(f),
        Err(mlua::Error::SyntaxError {
            incomplete_input: true,
            ..
        }) => Chunk::Incomplete,
        Err(e) => Chunk::Wrong(load_message(&e)),
    }
}

/// The session's state between chunks.
struct Repl<'a> {
    s: &'a Interp,
    tostring: Function,
    hex: bool,
}

/// What the loop does after a line.
enum Next {
    Go,
    Quit,
}

impl Repl<'_> {
    /// Runs a complete chunk and prints its values or its error.
    fn run(&self, f: Function) {
        let outcome = self.s.call(f, MultiValue::new());
        // What the chunk wrote with io.write sits in C's stdout buffer:
        // out before its results, its error or the next prompt, in order.
        // SAFETY: fflush(NULL) flushes every C output stream; no Lua code
        // runs and nothing else holds them.
        unsafe { libc::fflush(std::ptr::null_mut()) };
        match outcome {
            Ok(values) => {
                if values.is_empty() {
                    return;
                }
                let text = self.s.interruptible(|| {
                    let p = Printer {
                        lua: &self.s.lua,
                        tostring: &self.tostring,
                        hex: self.hex,
                    };
                    values.iter().map(|v| p.top(v)).collect::<Vec<_>>()
                });
                let mut out = std::io::stdout().lock();
                for line in text {
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
            }
            Err(e) => eprintln!("memlua: {}", e.0),
        }
    }

    /// `:help`, `:hex`, `:board`, `:quit`.
    fn command(&mut self, line: &str) -> Next {
        let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
        match cmd {
            "help" | "h" | "?" => print!("{}", help::text(arg)),
            "hex" => match arg.trim() {
                "on" | "" => self.hex = true,
                "off" => self.hex = false,
                other => println!(":hex on|off (not '{other}')"),
            },
            "board" => self.board(),
            "quit" | "q" | "exit" => return Next::Quit,
            other => println!("unknown command ':{other}'; try :help, :hex on|off, :board, :quit"),
        }
        Next::Go
    }

    /// The memory map, from `sim.regions()` like any script would get it.
    fn board(&self) {
        let name: Option<String> = self
            .s
            .lua
            .globals()
            .get::<Table>("backend")
            .and_then(|b| b.get("name"))
            .ok();
        if name.as_deref() != Some("sim") {
            eprintln!("memlua: :board shows a simulated board's memory map; this backend has none");
            return;
        }
        let regions = self
            .s
            .lua
            .load("return sim.regions(), backend.board")
            .set_name("=board")
            .into_function()
            .map_err(|e| Failure(e.to_string()))
            .and_then(|f| self.s.call(f, MultiValue::new()));
        let mut values = match regions {
            Ok(v) => v.into_iter(),
            Err(e) => {
                eprintln!("memlua: {}", e.0);
                return;
            }
        };
        let (Some(Value::Table(list)), board) = (values.next(), values.next()) else {
            eprintln!("memlua: sim.regions() gave no list");
            return;
        };
        if let Some(Value::String(b)) = board {
            println!("board {}", b.to_string_lossy());
        }
        println!(
            "{:<37} {:>10}  {:<11} {:<6} name",
            "range", "size", "kind", "domain"
        );
        for r in list.sequence_values::<Table>().flatten() {
            let base = r.get::<i64>("base").unwrap_or(0) as u64;
            let size = r.get::<i64>("size").unwrap_or(0) as u64;
            let end = base.wrapping_add(size).wrapping_sub(1);
            let domain = r
                .get::<Option<i64>>("domain")
                .ok()
                .flatten()
                .map_or("-".to_string(), |d| d.to_string());
            println!(
                "{:#018x}-{:#018x}  {:>10}  {:<11} {:<6} {}",
                base,
                end,
                human(size),
                r.get::<String>("kind").unwrap_or_default(),
                domain,
                r.get::<String>("name").unwrap_or_default()
            );
        }
    }

    /// One line typed at the primary prompt: a command or the start of a
    /// chunk. `more` reads a continuation line (None at end of input or
    /// when the user gave up on the chunk, `Err` with what was wrong for
    /// a line that could not be read). Returns the chunk's whole text for
    /// the history.
    fn line(
        &mut self,
        line: String,
        mut more: impl FnMut() -> Option<Result<String, String>>,
    ) -> (Next, Option<String>) {
        let trimmed = line.trim();
        if let Some(cmd) = trimmed.strip_prefix(':').filter(|c| !c.starts_with(':')) {
            return (self.command(cmd.trim()), Some(trimmed.to_string()));
        }
        if trimmed.is_empty() {
            return (Next::Go, None);
        }
        let mut chunk = line;
        loop {
            match compile(self.s, &chunk) {
                Chunk::Ready(f) => {
                    self.run(f);
                    return (Next::Go, Some(chunk));
                }
                Chunk::Incomplete => match more() {
                    Some(Ok(l)) => {
                        chunk.push('\n');
                        chunk.push_str(&l);
                    }
                    // Running the chunk without the line would run
                    // something the user did not write.
                    Some(Err(msg)) => {
                        eprintln!("memlua: {msg}; the chunk it continued was not run");
                        return (Next::Go, Some(chunk));
                    }
                    None => {
                        // Input ended (or Ctrl-D) inside a chunk: say so
                        // rather than drop it silently.
                        eprintln!(
                            "memlua: unfinished chunk ({} line{}) not run: the input ended before it did",
                            chunk.lines().count(),
                            if chunk.lines().count() == 1 { "" } else { "s" }
                        );
                        return (Next::Go, Some(chunk));
                    }
                },
                Chunk::Wrong(msg) => {
                    eprintln!("memlua: {msg}");
                    return (Next::Go, Some(chunk));
                }
            }
        }
    }
}

fn human(n: u64) -> String {
    const UNITS: &[(u64, &str)] = &[
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    for (size, unit) in UNITS {
        if n >= *size && n.is_multiple_of(*size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} B")
}

pub fn run(s: &Interp, inv: &Invocation) {
    // Completion and the printing of tables read raw: the API tables
    // built on first use are built now, so they show in full.
    if let Err(e) = memlua_bindings::build_api(&s.lua) {
        eprintln!("memlua: {e}");
    }
    let tostring = match s.lua.globals().get::<Function>("tostring") {
        Ok(f) => f,
        Err(e) => {
            eprintln!("memlua: no tostring in this state: {e}");
            return;
        }
    };
    let mut repl = Repl {
        s,
        tostring,
        hex: true,
    };
    if std::io::stdin().is_terminal() {
        terminal(&mut repl, inv);
    } else {
        stream(&mut repl);
    }
}

/// Not a terminal: lines without prompts (but `_PROMPT` and `_PROMPT2`
/// when set, as lua.c shows them), no history, no commands' echo.
fn stream(repl: &mut Repl) {
    let stdin = std::io::stdin();
    let mut input = Lines {
        r: stdin.lock(),
        n: 0,
    };
    let (s, tostring) = (repl.s, repl.tostring.clone());
    let shown = std::cell::Cell::new(false);
    let ask = |first: bool| {
        if let Some(p) = lua_prompt(s, &tostring, first) {
            out!("{p}");
            let _ = std::io::stdout().flush();
            shown.set(true);
        }
    };
    loop {
        ask(true);
        let Some(line) = input.next() else { break };
        let line = match line {
            Ok(l) => l,
            Err(msg) => {
                eprintln!("memlua: {msg}; it was not run");
                continue;
            }
        };
        let next = repl
            .line(line, || {
                ask(false);
                input.next()
            })
            .0;
        if matches!(next, Next::Quit) {
            break;
        }
    }
    // As lua.c: the line the last prompt stands on is ended.
    if shown.get() {
        outln!();
    }
}

/// The lines of a stream, numbered: a line that is not UTF-8 is an `Err`
/// naming it, and the lines after it still come.
struct Lines<R> {
    r: R,
    n: u64,
}

impl<R: BufRead> Lines<R> {
    fn next(&mut self) -> Option<Result<String, String>> {
        let mut buf = Vec::new();
        match self.r.read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                eprintln!("memlua: stdin: {e}");
                return None;
            }
        }
        self.n += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        Some(String::from_utf8(buf).map_err(|e| {
            format!(
                "stdin:{}: the line is not valid UTF-8: {}",
                self.n,
                escaped(e.as_bytes())
            )
        }))
    }
}

/// A line with its bytes that are not UTF-8 as `\xNN`, cut at 200
/// characters.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if let Some((i, _)) = out.char_indices().nth(200) {
        out.truncate(i);
        out.push_str("...");
    }
    out
}

/// A line the terminal gave that is not UTF-8: rustyline reports it as
/// InvalidData and drops the line.
fn not_utf8(e: &ReadlineError) -> bool {
    matches!(e, ReadlineError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData)
}

const NOT_UTF8: &str = "the line typed is not valid UTF-8 (is the terminal set to UTF-8?)";

fn terminal(repl: &mut Repl, inv: &Invocation) {
    let config = match Config::builder().history_ignore_dups(true) {
        Ok(b) => b
            .auto_add_history(false)
            .history_ignore_space(true)
            .completion_type(CompletionType::List)
            .max_history_size(1000)
            .map(|b| b.build()),
        Err(e) => Err(e),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("memlua: {e}");
            return;
        }
    };
    let mut ed: Editor<complete::LuaHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(ed) => ed,
        Err(e) => {
            eprintln!("memlua: cannot start the line editor: {e}");
            return;
        }
    };
    match complete::LuaHelper::new(&repl.s.lua) {
        Ok(h) => ed.set_helper(Some(h)),
        Err(e) => eprintln!("memlua: completion is off: {e}"),
    }
    let history = if inv.no_history {
        None
    } else {
        History::in_data_dir()
    };
    if let Some(h) = &history {
        match h.load() {
            Ok(entries) => {
                for e in entries {
                    let _ = ed.history_mut().add(&e);
                }
            }
            Err(e) => eprintln!("memlua: history not read: {e}"),
        }
    }
    let own = prompt(repl.s);
    let (s, tostring) = (repl.s, repl.tostring.clone());
    loop {
        let first = lua_prompt(s, &tostring, true).unwrap_or_else(|| own.clone());
        let line = match ed.readline(&first) {
            Ok(l) => l,
            // Ctrl-C at the prompt: a fresh line.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) if not_utf8(&e) => {
                eprintln!("memlua: {NOT_UTF8}; it was not run");
                continue;
            }
            Err(e) => {
                eprintln!("memlua: {e}");
                break;
            }
        };
        // The editor is lent to the continuation reader, then used again
        // for the history; Ctrl-C or Ctrl-D there abandons the chunk.
        let ed_cell = std::cell::RefCell::new(&mut ed);
        let (next, entry) = repl.line(line, || {
            let more = lua_prompt(s, &tostring, false).unwrap_or_else(|| ">> ".into());
            match ed_cell.borrow_mut().readline(&more) {
                Ok(l) => Some(Ok(l)),
                Err(e) if not_utf8(&e) => Some(Err(NOT_UTF8.to_string())),
                Err(_) => None,
            }
        });
        if let Some(entry) = entry.filter(|e| !e.trim().is_empty()) {
            let _ = ed.history_mut().add(&entry);
            if let Some(h) = &history {
                if let Err(e) = h.append(&entry) {
                    eprintln!("memlua: history not saved: {e}");
                }
            }
        }
        if matches!(next, Next::Quit) {
            break;
        }
    }
}
