//! Which backend a run uses, decided once from the command line and the
//! environment, and opening it. An option never goes silently unused: a
//! `--mem` the simulator ignored once let a user read 0x0 from the
//! simulator while believing they had read their file.
//!
//! - `-b` decides. Without it, `--mem` or `--kmem` choose the native
//!   backend and `--board` the simulator: an option typed on the command
//!   line outranks $MEMLUA_BACKEND, which is only a default. Failing both,
//!   $MEMLUA_BACKEND, else the simulator.
//! - An option of the other backend (`--mem`, `--kmem`, `-w` on the
//!   simulator; `--board` on the native backend) is a usage error naming
//!   the backend it belongs to. `-w` alone does not choose the native
//!   backend: a script meant for the simulator must not start writing to
//!   the machine because of it.
//! - $MEMLUA_BOARD is a default too: the native backend has no board and
//!   ignores it, so a profile that sets it never breaks `-b native`.
//! - The gdb backend: `--target` chooses it as `--mem` chooses the native
//!   backend; `--target`, `--gdb-phys` and `--gdb-virt` elsewhere, and
//!   `--board`, `--mem` or `--kmem` with it, are usage errors.

use std::ffi::OsString;
use std::path::PathBuf;

use memlua_runtime::gdb::Target;
use memlua_runtime::Backend;

use crate::cli::{Invocation, Usage};

/// The backend chosen, with what it needs to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The simulator on a built-in board's name or a board file.
    Sim { board: OsString },
    /// This machine (or files standing in for its devices).
    Native {
        mem: Option<PathBuf>,
        kmem: Option<PathBuf>,
        write: bool,
    },
    /// A target behind a GDB stub.
    Gdb {
        target: String,
        /// `--gdb-phys` (Some(true)), `--gdb-virt` (Some(false)), else the
        /// stub decides (physical on QEMU).
        phys: Option<bool>,
        write: bool,
    },
}

/// The gdb backend's option given, if any.
fn gdb_option(inv: &Invocation) -> Option<&'static str> {
    [
        (inv.target.is_some(), "--target"),
        (inv.gdb_phys, "--gdb-phys"),
        (inv.gdb_virt, "--gdb-virt"),
    ]
    .into_iter()
    .find_map(|(given, opt)| given.then_some(opt))
}

/// What chose the backend, for messages.
enum By {
    Flag,
    Env,
    Default,
}

/// The backend `inv` asks for; `env` reads an environment variable (None
/// when unset, empty, or hidden by -E).
pub fn choose(inv: &Invocation, env: impl Fn(&str) -> Option<String>) -> Result<Choice, Usage> {
    let native_opt = if inv.mem.is_some() {
        Some("--mem")
    } else if inv.kmem.is_some() {
        Some("--kmem")
    } else {
        None
    };
    let (which, by) = match (&inv.backend, native_opt, &inv.board) {
        (Some(b), _, _) => (b.clone(), By::Flag),
        (None, other, board) if inv.target.is_some() => {
            if let Some(opt) = other.or(board.as_ref().map(|_| "--board")) {
                return Err(Usage(format!(
                    "'--target' is for the gdb backend and '{opt}' for another; \
                     choose one with -b"
                )));
            }
            ("gdb".into(), By::Flag)
        }
        (None, Some(opt), Some(_)) => {
            return Err(Usage(format!(
                "'{opt}' is for the native backend and '--board' for the simulator; \
                 choose one with -b native or -b sim"
            )))
        }
        (None, Some(_), None) => ("native".into(), By::Flag),
        (None, None, Some(_)) => ("sim".into(), By::Flag),
        (None, None, None) => match env("MEMLUA_BACKEND") {
            Some(b) => (b, By::Env),
            None => ("sim".into(), By::Default),
        },
    };
    let chosen = |name: &str| match by {
        By::Flag => format!("-b {which} chose {name}"),
        By::Env => format!("MEMLUA_BACKEND={which} chose {name}"),
        By::Default => format!("the default is {name}"),
    };
    match which.as_str() {
        "sim" => {
            let native_only = [
                (inv.mem.is_some(), "--mem", ""),
                (inv.kmem.is_some(), "--kmem", ""),
                (inv.write, "-w/--write", ", which is always writable"),
            ];
            if let Some((_, opt, note)) = native_only.iter().find(|(given, _, _)| *given) {
                return Err(Usage(format!(
                    "'{opt}' is for the native backend (-b native); {}{note}",
                    chosen("the simulator")
                )));
            }
            if let Some(opt) = gdb_option(inv) {
                return Err(Usage(format!(
                    "'{opt}' is for the gdb backend (-b gdb); {}",
                    chosen("the simulator")
                )));
            }
            let board = inv
                .board
                .clone()
                .or_else(|| env("MEMLUA_BOARD").map(OsString::from))
                .unwrap_or_else(|| "pc".into());
            Ok(Choice::Sim { board })
        }
        "native" => {
            if inv.board.is_some() {
                return Err(Usage(format!(
                    "'--board' is for the simulator (-b sim); {}, which has no board",
                    chosen("the native backend")
                )));
            }
            if let Some(opt) = gdb_option(inv) {
                return Err(Usage(format!(
                    "'{opt}' is for the gdb backend (-b gdb); {}",
                    chosen("the native backend")
                )));
            }
            Ok(Choice::Native {
                mem: inv.mem.clone(),
                kmem: inv.kmem.clone(),
                write: inv.write,
            })
        }
        "gdb" => {
            let others = [
                (inv.board.is_some(), "--board", "the simulator (-b sim)"),
                (inv.mem.is_some(), "--mem", "the native backend (-b native)"),
                (
                    inv.kmem.is_some(),
                    "--kmem",
                    "the native backend (-b native)",
                ),
            ];
            if let Some((_, opt, whose)) = others.iter().find(|(given, _, _)| *given) {
                return Err(Usage(format!(
                    "'{opt}' is for {whose}; {}",
                    chosen("the gdb backend")
                )));
            }
            if inv.gdb_phys && inv.gdb_virt {
                return Err(Usage(
                    "'--gdb-phys' and '--gdb-virt' ask for opposite things; give one".into(),
                ));
            }
            let Some(target) = &inv.target else {
                return Err(Usage(format!(
                    "the gdb backend needs --target HOST:PORT or unix:PATH, where the stub \
                     listens (QEMU's -gdb, OpenOCD's port 3333); {}",
                    chosen("it")
                )));
            };
            Target::parse(target).map_err(|e| Usage(format!("--target: {e}")))?;
            let phys = match (inv.gdb_phys, inv.gdb_virt) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            Ok(Choice::Gdb {
                target: target.clone(),
                phys,
                write: inv.write,
            })
        }
        other => Err(Usage(format!(
            "unknown backend '{other}' in MEMLUA_BACKEND; expected sim, native or gdb"
        ))),
    }
}

/// Why a backend could not be opened.
pub enum OpenError {
    /// The board named on the command line (or by $MEMLUA_BOARD) cannot
    /// be read or is malformed: the user's input is wrong.
    Board(String),
    /// The machine refused (a device that cannot be opened, say).
    Failed(String),
}

/// Opens the backend chosen.
pub fn open(choice: &Choice) -> Result<Box<dyn Backend>, OpenError> {
    match choice {
        Choice::Sim { board } => {
            let sim = crate::boards::sim(board).map_err(OpenError::Board)?;
            Ok(Box::new(sim))
        }
        #[cfg(unix)]
        Choice::Native { mem, kmem, write } => {
            let opts = memlua_runtime::native::Options {
                mem: mem.clone(),
                kmem: kmem.clone(),
                write: *write,
                ..Default::default()
            };
            let native = memlua_runtime::native::Native::open(&opts)
                .map_err(|e| OpenError::Failed(e.to_string()))?;
            Ok(Box::new(native))
        }
        #[cfg(not(unix))]
        Choice::Native { .. } => Err(OpenError::Failed(
            "the native backend needs a Unix system".into(),
        )),
        Choice::Gdb {
            target,
            phys,
            write,
        } => {
            let opts = memlua_runtime::gdb::Options {
                // `choose` has checked it.
                target: Target::parse(target).map_err(OpenError::Failed)?,
                phys: *phys,
                write: *write,
                timeout: memlua_runtime::gdb::DEFAULT_TIMEOUT,
            };
            let gdb = memlua_runtime::gdb::Gdb::connect(&opts)
                .map_err(|e| OpenError::Failed(format!("{}: {}", e.errno, e.message)))?;
            Ok(Box::new(gdb))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(args: &[&str]) -> Invocation {
        let argv: Vec<String> = std::iter::once("memlua")
            .chain(args.iter().copied())
            .map(String::from)
            .collect();
        crate::cli::parse(argv).unwrap()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn mem_or_kmem_alone_choose_the_native_backend() {
        for args in [&["--mem", "d.bin"][..], &["--kmem", "k"]] {
            assert!(matches!(
                choose(&inv(args), no_env),
                Ok(Choice::Native { .. })
            ));
        }
        // Over a default in the environment, too.
        let sim_env = env(&[("MEMLUA_BACKEND", "sim")]);
        assert_eq!(
            choose(&inv(&["--mem", "d.bin"]), sim_env),
            Ok(Choice::Native {
                mem: Some("d.bin".into()),
                kmem: None,
                write: false
            })
        );
    }

    #[test]
    fn board_alone_chooses_the_simulator_over_the_environment() {
        let native_env = env(&[("MEMLUA_BACKEND", "native")]);
        assert_eq!(
            choose(&inv(&["--board", "arm64-virt"]), native_env),
            Ok(Choice::Sim {
                board: "arm64-virt".into()
            })
        );
    }

    #[test]
    fn an_option_of_the_other_backend_names_the_backend_it_is_for() {
        for (args, says) in [
            (&["-b", "sim", "--mem", "d"][..], "'--mem' is for the native backend (-b native); -b sim chose the simulator"),
            (&["-b", "sim", "--kmem", "k"], "'--kmem' is for the native backend"),
            (&["-w"], "'-w/--write' is for the native backend (-b native); the default is the simulator, which is always writable"),
            (&["-b", "native", "--board", "pc"], "'--board' is for the simulator (-b sim); -b native chose the native backend"),
            (&["--mem", "d", "--board", "pc"], "choose one with -b"),
        ] {
            let e = choose(&inv(args), no_env).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
        let e = choose(&inv(&["-w"]), env(&[("MEMLUA_BACKEND", "sim")]))
            .unwrap_err()
            .0;
        assert!(e.contains("MEMLUA_BACKEND=sim chose the simulator"), "{e}");
    }

    #[test]
    fn defaults_from_the_environment_that_do_not_apply_are_ignored() {
        let vars = env(&[("MEMLUA_BACKEND", "native"), ("MEMLUA_BOARD", "arm64-virt")]);
        assert_eq!(
            choose(&inv(&["-w"]), vars),
            Ok(Choice::Native {
                mem: None,
                kmem: None,
                write: true
            })
        );
        let board_env = env(&[("MEMLUA_BOARD", "arm64-virt")]);
        assert!(matches!(
            choose(&inv(&["-b", "native"]), &board_env),
            Ok(Choice::Native { .. })
        ));
        assert_eq!(
            choose(&inv(&[]), &board_env),
            Ok(Choice::Sim {
                board: "arm64-virt".into()
            })
        );
        assert!(choose(&inv(&[]), env(&[("MEMLUA_BACKEND", "qemu")]))
            .unwrap_err()
            .0
            .contains("MEMLUA_BACKEND"));
    }

    #[test]
    fn target_chooses_the_gdb_backend_and_its_options_stay_with_it() {
        let sim_env = env(&[("MEMLUA_BACKEND", "sim"), ("MEMLUA_BOARD", "pc")]);
        assert_eq!(
            choose(&inv(&["--target", "localhost:1234", "-w"]), sim_env),
            Ok(Choice::Gdb {
                target: "localhost:1234".into(),
                phys: None,
                write: true
            })
        );
        assert_eq!(
            choose(
                &inv(&["-b", "gdb", "--target", "unix:/q", "--gdb-virt"]),
                no_env
            ),
            Ok(Choice::Gdb {
                target: "unix:/q".into(),
                phys: Some(false),
                write: false
            })
        );
        for (args, says) in [
            (
                &["-b", "gdb"][..],
                "the gdb backend needs --target HOST:PORT or unix:PATH",
            ),
            (&["--target", "h:1", "--board", "pc"], "choose one with -b"),
            (&["--target", "h:1", "--mem", "d"], "choose one with -b"),
            (
                &["-b", "sim", "--target", "h:1"],
                "'--target' is for the gdb backend (-b gdb); -b sim chose the simulator",
            ),
            (
                &["-b", "native", "--gdb-phys"],
                "'--gdb-phys' is for the gdb backend (-b gdb); -b native chose the native backend",
            ),
            (
                &["--gdb-virt"],
                "'--gdb-virt' is for the gdb backend (-b gdb); the default is the simulator",
            ),
            (
                &["-b", "gdb", "--target", "h:1", "--kmem", "k"],
                "'--kmem' is for the native backend (-b native); -b gdb chose the gdb backend",
            ),
            (
                &["-b", "gdb", "--target", "h:1", "--board", "pc"],
                "'--board' is for the simulator (-b sim)",
            ),
            (
                &["--target", "h:1", "--gdb-phys", "--gdb-virt"],
                "'--gdb-phys' and '--gdb-virt' ask for opposite things",
            ),
            (
                &["--target", "nonsense"],
                "--target: 'nonsense' is not HOST:PORT or unix:PATH",
            ),
        ] {
            let e = choose(&inv(args), no_env).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
        let e = choose(&inv(&[]), env(&[("MEMLUA_BACKEND", "gdb")]))
            .unwrap_err()
            .0;
        assert!(e.contains("MEMLUA_BACKEND=gdb chose it"), "{e}");
    }
}
