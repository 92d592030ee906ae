//! memlua: read and change a machine's memory from Lua scripts, as FreeBSD's
//! mem(4) describes it. A thin shell over the runtime and bindings crates:
//! parse the command line, run, and map the outcome to an exit status with
//! fixed meanings (0 success, 1 the script failed, 2 usage error).

// The process starts in entry.rs, as a C program does (see there why).
#![cfg_attr(not(test), no_main)]

/// `print!` that shrugs off a failed write (a full disk, a closed stdout),
/// as lua.c's `lua_writestring` does, instead of panicking.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// `println!` the same way.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod backend;
mod boards;
mod cli;
mod docs;
#[cfg(not(test))]
mod entry;
mod interp;
mod layers;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod libm;
mod map;
mod repl;
mod run;
mod test_runner;
mod tools;
mod trace;

use memlua_runtime::sim::board::BUILTIN;

use backend::{Choice, OpenError};
use cli::{Invocation, Usage};
use interp::{Failure, Interp};
use run::Then;

/// `memlua -v`.
pub fn version() -> String {
    format!(
        "memlua {} -- Lua 5.4 (vendored)  Copyright (C) 1994-2024 Lua.org, PUC-Rio",
        env!("CARGO_PKG_VERSION")
    )
}

/// Why memlua stopped, which fixes the exit status.
enum Stop {
    /// The command line is wrong: the message, then the usage line (2).
    Usage(String),
    /// The board named (by --board or $MEMLUA_BOARD) cannot be read or
    /// is malformed: its message alone, which says where and what (2).
    Board(String),
    /// The run failed (1).
    Failed(String),
}

impl From<Failure> for Stop {
    fn from(Failure(msg): Failure) -> Stop {
        Stop::Failed(msg)
    }
}

impl From<Usage> for Stop {
    fn from(Usage(msg): Usage) -> Stop {
        Stop::Usage(msg)
    }
}

impl From<layers::StackError> for Stop {
    fn from(e: layers::StackError) -> Stop {
        match e {
            layers::StackError::Open(e) => e.into(),
            layers::StackError::Usage(u) => u.into(),
        }
    }
}

impl From<OpenError> for Stop {
    fn from(e: OpenError) -> Stop {
        match e {
            OpenError::Board(msg) => Stop::Board(msg),
            OpenError::Failed(msg) => Stop::Failed(msg),
        }
    }
}

/// The environment variables memlua reads as text. One that is not
/// UTF-8 is a usage error before anything starts: skipping it would run
/// with a default the user did not choose, and a lossy conversion would
/// name another board or folder.
const TEXT_VARS: [&str; 5] = [
    "MEMLUA_BACKEND",
    "MEMLUA_BOARD",
    "MEMLUA_PATH",
    "MEMLUA_SYSFS",
    "MEMLUA_DEV",
];

fn check_env(inv: &Invocation) -> Result<(), Usage> {
    if inv.ignore_env {
        return Ok(());
    }
    for name in TEXT_VARS {
        if let Some(v) = std::env::var_os(name).filter(|v| v.to_str().is_none()) {
            return Err(Usage(format!(
                "{name} is not UTF-8 text (it reads '{}'); set it to text or unset it{}",
                v.to_string_lossy(),
                if name == "MEMLUA_BOARD" {
                    " (--board takes a file name of any bytes)"
                } else {
                    ""
                }
            )));
        }
    }
    Ok(())
}

/// An environment variable's text (None when unset, empty, or hidden by
/// -E); `check_env` has refused any that is not UTF-8.
fn env_unless_ignored(inv: &Invocation, name: &str) -> Option<String> {
    if inv.ignore_env {
        None
    } else {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// Things that answer and exit without a backend or a Lua state.
fn informational(inv: &Invocation) -> Option<Result<(), Stop>> {
    if inv.help {
        out!("{}", cli::help());
        return Some(Ok(()));
    }
    if inv.man || inv.completions.is_some() {
        return Some((|| {
            let specs = docs::tool_specs().map_err(Stop::Failed)?;
            match &inv.completions {
                Some(shell) => out!("{}", docs::completions(shell, &specs)),
                None => out!("{}", docs::man(&specs)),
            }
            Ok(())
        })());
    }
    if inv.list_boards {
        return Some((|| {
            for (name, _) in BUILTIN {
                let board = boards::load(name.as_ref()).map_err(|e| Stop::Failed(e.to_string()))?;
                outln!("{name:<12} {}", board.description);
            }
            Ok(())
        })());
    }
    if inv.list_tools {
        for (name, source, _) in tools::TOOLS {
            outln!("{name:<12} {}", tools::summary(source));
        }
        return Some(Ok(()));
    }
    None
}

/// `--map`: the map of the backend chosen.
fn print_map(choice: &Choice) -> Result<(), Stop> {
    let text = match choice {
        Choice::Sim { board } => {
            let mut sim = boards::sim(board).map_err(Stop::Board)?;
            map::sim(&mut sim).map_err(|e| Stop::Failed(e.to_string()))?
        }
        Choice::Native { mem, .. } => map::native(mem.as_deref()).map_err(Stop::Failed)?,
        Choice::Replay { file, .. } => trace::map(file).map_err(Stop::Failed)?,
        #[cfg(unix)]
        Choice::Qemu { .. } => {
            let mut q = backend::open_qemu(choice)?;
            map::qemu(&mut q)
                .map_err(|e| Stop::Failed(format!("--map: {}: {}", e.errno, e.message)))?
        }
        #[cfg(not(unix))]
        Choice::Qemu { .. } => {
            return Err(Stop::Failed("the qemu backend needs a Unix system".into()))
        }
        Choice::Gdb { .. } => {
            return Err(Stop::Failed(
                "--map: the gdb backend has no memory map to print; the stub's own \
                 commands may have one (QEMU: gdb.monitor('info mtree'))"
                    .into(),
            ))
        }
    };
    out!("{text}");
    Ok(())
}

/// `-E`: the bindings read MEMLUA_PATH and Lua's package library
/// LUA_PATH(_5_4) and LUA_CPATH(_5_4) when a state is made; this hides
/// them all, as lua -E does. Called before any other thread exists.
pub fn hide_module_paths() {
    for name in [
        "MEMLUA_PATH",
        "LUA_PATH",
        "LUA_PATH_5_4",
        "LUA_CPATH",
        "LUA_CPATH_5_4",
    ] {
        std::env::remove_var(name);
    }
}

fn start(inv: &Invocation) -> Result<(), Stop> {
    if let Some(done) = informational(inv) {
        return done;
    }
    check_env(inv)?;
    let choice = backend::choose(inv, |name| env_unless_ignored(inv, name))?;
    if inv.map {
        return print_map(&choice);
    }
    if inv.ignore_env {
        hide_module_paths();
    }
    let stack = layers::open(&choice, inv)?;
    let lua = memlua_bindings::new_state().map_err(|e| Failure(e.to_string()))?;
    memlua_bindings::install(&lua, stack.backend).map_err(|e| Failure(e.to_string()))?;
    if stack.finishing {
        memlua_bindings::finish_on_exit(&lua).map_err(|e| Failure(e.to_string()))?;
    }
    if let Some(t) = &stack.trace {
        trace::attach(&lua, t.clone()).map_err(|e| Failure(e.to_string()))?;
    }
    let interp = Interp::new(lua).map_err(|e| Failure(e.to_string()))?;
    let outcome = run::run(&interp, inv).map(|then| {
        if then == Then::Repl {
            repl::run(&interp, inv);
        }
    });
    // However the run ended (an error and Ctrl-C included), before the
    // finalizers: memory ranges put back, a dry run's count said.
    memlua_bindings::finish(&interp.lua);
    interp.close_for_exit();
    // After the close: buffers the collector unmapped there are recorded.
    Ok(trace::finish(stack.trace.as_deref(), outcome)?)
}

/// memlua run with `args` (argv as bytes, program name first): the exit
/// status.
// Unit-test builds have the test harness's main instead of entry.rs.
#[cfg_attr(test, allow(dead_code))]
fn memlua_main(args: Vec<Vec<u8>>) -> u8 {
    memlua_runtime::native::tune_allocator();
    // `memlua test ...` is the test runner (`memlua ./test` runs a file).
    if args.get(1).is_some_and(|a| a == b"test") {
        return test_runner::main(&args[2..]);
    }
    let stop = match cli::parse(args) {
        Ok(inv) => match start(&inv) {
            Ok(()) => return 0,
            Err(stop) => stop,
        },
        Err(usage) => usage.into(),
    };
    match stop {
        Stop::Usage(msg) => {
            eprintln!(
                "memlua: {msg}\n{}\nTry 'memlua --help' for more.",
                cli::usage_line()
            );
            2
        }
        Stop::Board(msg) => {
            eprintln!("memlua: {msg}");
            2
        }
        Stop::Failed(msg) => {
            eprintln!("memlua: {msg}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    /// Scripts and the REPL are two drivers of one interpreter: each may
    /// change without the other (issue 10), so neither names the other.
    #[test]
    fn run_and_repl_do_not_import_each_other() {
        let run = include_str!("run.rs");
        assert!(!run.contains("repl::"), "run.rs uses the REPL");
        for (file, text) in [
            ("repl/mod.rs", include_str!("repl/mod.rs")),
            ("repl/complete.rs", include_str!("repl/complete.rs")),
            ("repl/help.rs", include_str!("repl/help.rs")),
            ("repl/history.rs", include_str!("repl/history.rs")),
            ("repl/print.rs", include_str!("repl/print.rs")),
        ] {
            assert!(!text.contains("run::"), "{file} uses run.rs");
        }
    }

    /// The bindings have a `Session` (a script's API over a backend); the
    /// interpreter is another thing and has another name.
    #[test]
    fn only_the_bindings_have_a_session() {
        assert!(!include_str!("interp.rs").contains("struct Session"));
        assert!(!include_str!("run.rs").contains("Session"));
    }
}
