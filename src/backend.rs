//! Which backend a run uses, decided once from the command line and the
//! environment, and opening it. An option never goes silently unused: a
//! `--mem` the simulator ignored once let a user read 0x0 from the
//! simulator while believing they had read their file.
//!
//! - `-b` decides. Without it, `--mem` or `--kmem` choose the native
//!   backend and `--board` the simulator: an option typed on the command
//!   line outranks $MEMLUA_BACKEND, which is only a default. Failing both,
//!   $MEMLUA_BACKEND, else the simulator.
//! - An option of the other backend (`--mem`, `--kmem`, `-w`, `--pci`,
//!   `--wc`, `--uio` on the simulator; `--board` on the native backend) is
//!   a usage error naming the backend it belongs to. `--pci` and `--uio`
//!   choose the native backend as `--mem` does, and each says what
//!   physical memory is, so no two of them go together. `-w` alone does not choose the native
//!   backend: a script meant for the simulator must not start writing to
//!   the machine because of it.
//! - $MEMLUA_BOARD is a default too: the native backend has no board and
//!   ignores it, so a profile that sets it never breaks `-b native`.

use std::ffi::OsString;
use std::path::PathBuf;

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
        /// `--pci`, `--wc`, `--uio`, and where sysfs and /dev are for them.
        aperture: Aperture,
    },
}

/// What `--pci`/`--uio` open, if either is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aperture {
    pub pci: Option<String>,
    pub wc: bool,
    pub uio: Option<String>,
    pub sysfs: Option<PathBuf>,
    pub devdir: Option<PathBuf>,
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
    let native_opt = [
        (inv.mem.is_some(), "--mem"),
        (inv.kmem.is_some(), "--kmem"),
        (inv.pci.is_some(), "--pci"),
        (inv.uio.is_some(), "--uio"),
    ]
    .into_iter()
    .find_map(|(given, opt)| given.then_some(opt));
    let (which, by) = match (&inv.backend, native_opt, &inv.board) {
        (Some(b), _, _) => (b.clone(), By::Flag),
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
                (inv.pci.is_some(), "--pci", ""),
                (inv.uio.is_some(), "--uio", ""),
                (inv.wc, "--wc", ""),
            ];
            if let Some((_, opt, note)) = native_only.iter().find(|(given, _, _)| *given) {
                return Err(Usage(format!(
                    "'{opt}' is for the native backend (-b native); {}{note}",
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
            let memory = [
                (inv.mem.is_some(), "--mem"),
                (inv.pci.is_some(), "--pci"),
                (inv.uio.is_some(), "--uio"),
            ];
            let given: Vec<&str> = memory.iter().filter_map(|(g, o)| g.then_some(*o)).collect();
            if given.len() > 1 {
                return Err(Usage(format!(
                    "'{}' and '{}' each say what physical memory is; give one",
                    given[0], given[1]
                )));
            }
            if inv.wc && inv.pci.is_none() {
                return Err(Usage(
                    "'--wc' maps a PCI BAR write-combining; it goes with --pci".into(),
                ));
            }
            Ok(Choice::Native {
                mem: inv.mem.clone(),
                kmem: inv.kmem.clone(),
                // A dry run opens the device read-only: nothing below the
                // dry-run layer could write even if a path were missed.
                write: inv.write && !inv.dry_run,
                aperture: Aperture {
                    pci: inv.pci.clone(),
                    wc: inv.wc,
                    uio: inv.uio.clone(),
                    sysfs: env("MEMLUA_SYSFS").map(PathBuf::from),
                    devdir: env("MEMLUA_DEV").map(PathBuf::from),
                },
            })
        }
        other => Err(Usage(format!(
            "unknown backend '{other}' in MEMLUA_BACKEND; expected sim or native"
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

/// An error opening the native backend, as the user reads it: an
/// aperture's message says what failed without the `open: ` of the
/// runtime's error.
#[cfg(unix)]
fn open_message(e: &memlua_runtime::Error) -> String {
    if e.op == "open" {
        format!("{}: {}", e.errno, e.message)
    } else {
        e.to_string()
    }
}

/// Opens the backend chosen.
pub fn open(choice: &Choice) -> Result<Box<dyn Backend>, OpenError> {
    match choice {
        Choice::Sim { board } => {
            let sim = crate::boards::sim(board).map_err(OpenError::Board)?;
            Ok(Box::new(sim))
        }
        #[cfg(unix)]
        Choice::Native {
            mem,
            kmem,
            write,
            aperture,
        } => {
            let opts = memlua_runtime::native::Options {
                mem: mem.clone(),
                kmem: kmem.clone(),
                write: *write,
                pci: aperture.pci.clone(),
                wc: aperture.wc,
                uio: aperture.uio.clone(),
                sysfs: aperture.sysfs.clone(),
                devdir: aperture.devdir.clone(),
                ..Default::default()
            };
            let native = memlua_runtime::native::Native::open(&opts)
                .map_err(|e| OpenError::Failed(open_message(&e)))?;
            for w in native.warnings() {
                eprintln!("memlua: warning: {w}");
            }
            Ok(Box::new(native))
        }
        #[cfg(not(unix))]
        Choice::Native { .. } => Err(OpenError::Failed(
            "the native backend needs a Unix system".into(),
        )),
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
                write: false,
                aperture: Aperture::default(),
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
    fn pci_and_uio_choose_the_native_backend_and_exclude_each_other() {
        let c = choose(&inv(&["--pci", "0000:00:02.0", "--wc"]), no_env).unwrap();
        assert!(
            matches!(c, Choice::Native { ref aperture, .. } if aperture.pci.is_some() && aperture.wc)
        );
        assert!(matches!(
            choose(&inv(&["--uio", "uio0"]), no_env),
            Ok(Choice::Native { .. })
        ));
        for (args, says) in [
            (
                &["--mem", "d", "--pci", "0000:00:02.0"][..],
                "'--mem' and '--pci' each say what physical memory is",
            ),
            (
                &["--pci", "0000:00:02.0", "--uio", "uio0"],
                "'--pci' and '--uio'",
            ),
            (
                &["--wc", "-b", "native"],
                "'--wc' maps a PCI BAR write-combining",
            ),
            (
                &["-b", "sim", "--uio", "uio0"],
                "'--uio' is for the native backend",
            ),
            (&["--wc"], "'--wc' is for the native backend"),
        ] {
            let e = choose(&inv(args), no_env).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn a_dry_run_opens_the_native_backend_read_only() {
        let c = choose(&inv(&["--mem", "d", "-w", "--dry-run"]), no_env).unwrap();
        assert!(matches!(c, Choice::Native { write: false, .. }));
    }

    #[test]
    fn defaults_from_the_environment_that_do_not_apply_are_ignored() {
        let vars = env(&[("MEMLUA_BACKEND", "native"), ("MEMLUA_BOARD", "arm64-virt")]);
        assert_eq!(
            choose(&inv(&["-w"]), vars),
            Ok(Choice::Native {
                mem: None,
                kmem: None,
                write: true,
                aperture: Aperture::default(),
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
}
