//! `memlua test [options] [PATH...]`: runs `*_test.lua` files written
//! with stdlib/test.lua's describe/it, each file in a fresh Lua state on
//! a freshly opened backend, once per backend of `--backends`, and
//! reports every test: TAP on stdout (tap.rs) or LAVA's lines (lava.rs),
//! JUnit XML (junit.rs), a progress line and a summary on stderr
//! (progress.rs). Exit status 0 when nothing failed, 1 when a test failed
//! or errored, 2 for a usage error.
//!
//! args.rs reads the command line, backends.rs turns memlua's options
//! into the backends to run on, discover.rs finds the files, file.rs runs
//! one, timeout.rs stops a test that runs too long.

mod args;
mod backends;
mod discover;
mod file;
mod junit;
mod lava;
mod outcome;
mod progress;
mod report;
mod tap;
mod timeout;

use std::time::Instant;

use crate::backend::{self, OpenError};
use crate::cli::{Invocation, Usage};
use outcome::Totals;
use report::{FileRun, Reporter};

/// Why a run stopped before its end.
enum Stop {
    /// The command line is wrong (2).
    Usage(String),
    /// A board named cannot be read (2), its message alone.
    Board(String),
    /// A backend cannot be opened, a report cannot be written (1).
    Failed(String),
}

impl From<Usage> for Stop {
    fn from(Usage(m): Usage) -> Stop {
        Stop::Usage(m)
    }
}

/// `memlua test ARGS` (the arguments after `test`): the exit status.
pub fn main(argv: &[Vec<u8>]) -> u8 {
    match run(argv) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(Stop::Usage(msg)) => {
            eprintln!(
                "memlua test: {msg}\n{}\nTry 'memlua test --help' for more.",
                args::usage_line()
            );
            2
        }
        Err(Stop::Board(msg)) => {
            eprintln!("memlua test: {msg}");
            2
        }
        Err(Stop::Failed(msg)) => {
            eprintln!("memlua test: {msg}");
            1
        }
    }
}

fn env(inv: &Invocation, name: &str) -> Option<String> {
    if inv.ignore_env {
        None
    } else {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// A seed when none is given: different each run, shown in the output.
fn fresh_seed() -> i64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    i64::from((nanos ^ std::process::id().rotate_left(16)) & 0x7fff_ffff)
}

/// A Lua pattern Lua accepts, checked once before any file runs.
fn check_pattern(p: &str) -> Result<(), Usage> {
    let lua = mlua::Lua::new();
    let find: mlua::Function = lua
        .load("return function(p) return (''):find(p) end")
        .eval()
        .map_err(|e| Usage(e.to_string()))?;
    find.call::<mlua::Value>(p).map(|_| ()).map_err(|e| {
        let why = match &e {
            mlua::Error::RuntimeError(m) => m.rsplit(": ").next().unwrap_or(m).to_string(),
            other => other.to_string(),
        };
        Usage(format!("--filter '{p}': not a Lua pattern ({why})"))
    })
}

fn run(argv: &[Vec<u8>]) -> Result<bool, Stop> {
    let args = args::parse(argv)?;
    if args.help {
        out!("{}", args::help());
        return Ok(true);
    }
    let (targets, inv) = backends::resolve(&args.memlua, args.backends.as_deref(), &env)?;
    if inv.ignore_env {
        crate::hide_module_paths();
    }
    if let Some(p) = &args.filter {
        check_pattern(p)?;
    }
    let files = discover::find(&args.paths).map_err(Stop::Usage)?;
    // Every backend opens before any test runs: a wrong board or device
    // stops the run at once rather than failing each file.
    for t in &targets {
        let named = |m: String| match &t.label {
            Some(l) => format!("{l}: {m}"),
            None => m,
        };
        backend::open(&t.choice).map_err(|e| match e {
            OpenError::Board(m) => Stop::Board(named(m)),
            OpenError::Failed(m) => Stop::Failed(named(m)),
        })?;
    }
    let mut reporters: Vec<Box<dyn Reporter>> = Vec::new();
    if args.list {
        reporters.push(Box::new(report::List));
    } else if args.lava {
        reporters.push(Box::new(lava::Lava::default()));
    } else {
        reporters.push(Box::new(tap::Tap::default()));
    }
    if let Some(path) = &args.junit {
        reporters.push(Box::new(junit::Junit::create(path).map_err(Stop::Usage)?));
    }

    let seed = args.seed.unwrap_or_else(fresh_seed);
    let settings = file::Settings {
        filter: args.filter.clone(),
        list: args.list,
        seed,
        timeout: args.timeout,
        warnings: inv.warnings,
    };
    let started = Instant::now();
    let mut totals = Totals::default();
    let mut progress = progress::Progress::new(files.len() * targets.len());
    for r in reporters.iter_mut() {
        r.begin(seed);
    }
    let mut done = 0;
    for t in &targets {
        for f in &files {
            let file_start = Instant::now();
            let label = t.label.as_deref();
            progress.draw(done, &totals, &f.name);
            let mut sink = |o: outcome::Outcome| {
                totals.add(&o);
                progress.clear();
                for r in reporters.iter_mut() {
                    r.outcome(&o);
                }
                progress.draw(done, &totals, &o.full_name());
            };
            // The backend with the layers the options ask for (--replay,
            // --record, --dry-run, --allow, ...), fresh for each file.
            match crate::layers::open(&t.choice, &inv) {
                Ok(stack) => file::run(&f.path, &f.name, label, stack, &settings, &mut sink),
                Err(crate::layers::StackError::Open(
                    OpenError::Board(m) | OpenError::Failed(m),
                )) => file::run_failed(&f.name, label, m, &mut sink),
                Err(crate::layers::StackError::Usage(Usage(m))) => {
                    file::run_failed(&f.name, label, m, &mut sink)
                }
            }
            done += 1;
            let run = FileRun {
                backend: t.label.clone(),
                file: f.name.clone(),
                time: file_start.elapsed().as_secs_f64(),
            };
            progress.clear();
            for r in reporters.iter_mut() {
                r.file_end(&run);
            }
        }
    }
    progress.clear();
    for r in reporters.iter_mut() {
        r.end(&totals).map_err(Stop::Failed)?;
    }
    eprintln!(
        "{}",
        progress::summary(
            &totals,
            files.len() * targets.len(),
            started.elapsed().as_secs_f64(),
            args.list
        )
    );
    Ok(totals.ok())
}
