//! Which backend a run uses, decided once from the command line and the
//! environment, and opening it. An option never goes silently unused: a
//! `--mem` the simulator ignored once let a user read 0x0 from the
//! simulator while believing they had read their file.
//!
//! - `-b` decides. Without it, `--mem` or `--kmem` choose the native
//!   backend, `--board` the simulator, `--target` the gdb backend and the qemu options (`--machine`,
//!   `--qemu`, `--qemu-arg`, `--qtest`, `--qmp`) the qemu backend: an
//!   option typed on the command line outranks $MEMLUA_BACKEND, which is
//!   only a default. Options of two backends without `-b` are a usage
//!   error. Failing all, $MEMLUA_BACKEND, else the simulator.
//! - An option of another backend (`--mem`, `--kmem`, `-w`, `--pci`,
//!   `--wc`, `--uio` on the simulator; `--board` on the native backend; the qemu options off the
//!   qemu backend, and `--board`, `--mem`, `--kmem`, `-w` on it) is a usage
//!   error naming the backend it belongs to. `-w` alone does not choose the
//!   native backend: a script meant for the simulator must not start
//!   writing to the machine because of it.
//! - $MEMLUA_BOARD is a default too: the native and qemu backends have no
//!   board file and ignore it, so a profile that sets it never breaks them.
//! - `--replay FILE` answers every access from a trace: every option that
//!   picks or sets up a machine (`-b`, `--board`, `--mem`, `--kmem`, `-w`,
//!   the qemu options), `--record` and `--dry-run` (a replay makes no
//!   write; a dry run above it would keep the trace's writes from it) are
//!   usage errors with it, the environment's defaults are ignored, and
//!   `--replay-mode` is an error without it.
//! - `--pci` and `--uio` choose the native backend as `--mem` does, and
//!   each says what physical memory is, so no two of them go together.
//! - The gdb backend: `--target`, `--gdb-phys` and `--gdb-virt` off it,
//!   and `--board`, `--mem`, `--kmem` or the qemu options with it, are
//!   usage errors.

use std::ffi::OsString;
use std::path::PathBuf;

use memlua_runtime::gdb::Target;
use memlua_runtime::trace::replay::{Mode, Replay};
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
    /// The trace of an earlier run (`--replay`).
    Replay { file: String, mode: Mode },
    /// A target behind a GDB stub.
    Gdb {
        target: String,
        /// `--gdb-phys` (Some(true)), `--gdb-virt` (Some(false)), else the
        /// stub decides (physical on QEMU).
        phys: Option<bool>,
        write: bool,
    },
    /// A QEMU machine: started on `machine` (with `program` and `args`), or
    /// attached to at `qtest` (and `qmp`), socket paths without `unix:`.
    Qemu {
        machine: String,
        program: Option<String>,
        args: Vec<String>,
        qtest: Option<String>,
        qmp: Option<String>,
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
    if let Some(file) = &inv.replay {
        return replay(inv, file);
    }
    if inv.replay_mode.is_some() {
        return Err(Usage(
            "'--replay-mode' is for --replay FILE, which is not given".into(),
        ));
    }
    let native_opt = [
        (inv.mem.is_some(), "--mem"),
        (inv.kmem.is_some(), "--kmem"),
        (inv.pci.is_some(), "--pci"),
        (inv.uio.is_some(), "--uio"),
    ]
    .into_iter()
    .find_map(|(given, opt)| given.then_some(opt));
    let sim_opt = inv.board.as_ref().map(|_| "--board");
    let qemu_opt = qemu_option(inv);
    let (which, by) = match &inv.backend {
        Some(b) => (b.clone(), By::Flag),
        None => {
            let implied: Vec<(&str, &str)> = [
                (native_opt, "native"),
                (sim_opt, "sim"),
                (qemu_opt, "qemu"),
                (inv.target.as_ref().map(|_| "--target"), "gdb"),
            ]
            .into_iter()
            .filter_map(|(o, b)| o.map(|o| (o, b)))
            .collect();
            match implied.as_slice() {
                [] => match env("MEMLUA_BACKEND") {
                    Some(b) => (b, By::Env),
                    None => ("sim".into(), By::Default),
                },
                [(_, b)] => (b.to_string(), By::Flag),
                [(o1, b1), (o2, b2), ..] => {
                    return Err(Usage(format!(
                        "'{o1}' is for {} and '{o2}' for {}; choose one with -b {b1} or -b {b2}",
                        backend_words(b1),
                        backend_words(b2)
                    )))
                }
            }
        }
    };
    let chosen = |name: &str| match by {
        By::Flag => format!("-b {which} chose {name}"),
        By::Env => format!("MEMLUA_BACKEND={which} chose {name}"),
        By::Default => format!("the default is {name}"),
    };
    let not_qemu = |name: &str| match qemu_opt {
        Some(opt) => Err(Usage(format!(
            "'{opt}' is for the qemu backend (-b qemu); {}",
            chosen(name)
        ))),
        None => Ok(()),
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
            not_qemu("the simulator")?;
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
            not_qemu("the native backend")?;
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
        "qemu" => {
            if let Some(opt) = gdb_option(inv) {
                return Err(Usage(format!(
                    "'{opt}' is for the gdb backend (-b gdb); {}",
                    chosen("the qemu backend")
                )));
            }
            choose_qemu(inv, &chosen("the qemu backend"))
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
                (inv.pci.is_some(), "--pci", "the native backend (-b native)"),
                (inv.uio.is_some(), "--uio", "the native backend (-b native)"),
                (
                    qemu_option(inv).is_some(),
                    "the qemu options",
                    "the qemu backend (-b qemu)",
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
            "unknown backend '{other}' in MEMLUA_BACKEND; expected sim, native, qemu or gdb"
        ))),
    }
}

/// `--replay FILE`: nothing that sets up a machine applies.
fn replay(inv: &Invocation, file: &str) -> Result<Choice, Usage> {
    let machine = [
        (inv.backend.is_some(), "-b/--backend"),
        (inv.board.is_some(), "--board"),
        (inv.mem.is_some(), "--mem"),
        (inv.kmem.is_some(), "--kmem"),
        (inv.write, "-w/--write"),
        (inv.pci.is_some(), "--pci"),
        (inv.uio.is_some(), "--uio"),
        (inv.wc, "--wc"),
    ];
    let given = machine
        .iter()
        .find(|(given, _)| *given)
        .map(|(_, opt)| *opt)
        .or_else(|| qemu_option(inv))
        .or_else(|| gdb_option(inv));
    if let Some(opt) = given {
        return Err(Usage(format!(
            "'{opt}' does not apply to --replay, which answers every access from the trace"
        )));
    }
    if inv.record.is_some() {
        return Err(Usage(
            "'--record' and '--replay' cannot be combined: a replay makes the trace's accesses, \
             it has nothing new to record"
                .into(),
        ));
    }
    if inv.dry_run {
        // Below the dry run the replay would never see the recorded
        // writes, and diverge at the first.
        return Err(Usage(
            "'--dry-run' does not apply to --replay, which makes no write: the trace answers \
             each one (the writes of a dry run's recording, marked not performed, replay as \
             they ran)"
                .into(),
        ));
    }
    let mode = match inv.replay_mode.as_deref() {
        Some("relaxed") => Mode::Relaxed,
        _ => Mode::Strict,
    };
    Ok(Choice::Replay {
        file: file.to_string(),
        mode,
    })
}

/// The first qemu option given, for messages.
fn qemu_option(inv: &Invocation) -> Option<&'static str> {
    [
        (inv.machine.is_some(), "--machine"),
        (inv.qemu.is_some(), "--qemu"),
        (!inv.qemu_args.is_empty(), "--qemu-arg"),
        (inv.qtest.is_some(), "--qtest"),
        (inv.qmp.is_some(), "--qmp"),
    ]
    .into_iter()
    .find_map(|(given, opt)| given.then_some(opt))
}

fn backend_words(b: &str) -> &'static str {
    match b {
        "native" => "the native backend",
        "sim" => "the simulator",
        _ => "the qemu backend",
    }
}

/// `-b qemu`: start a machine or attach to one, with options that agree.
fn choose_qemu(inv: &Invocation, chosen: &str) -> Result<Choice, Usage> {
    let others = [
        (inv.board.is_some(), "--board", "the simulator (-b sim)", ""),
        (
            inv.mem.is_some(),
            "--mem",
            "the native backend (-b native)",
            "",
        ),
        (
            inv.kmem.is_some(),
            "--kmem",
            "the native backend (-b native)",
            "",
        ),
        (
            inv.write,
            "-w/--write",
            "the native backend (-b native)",
            ", which is always writable",
        ),
        (
            inv.pci.is_some(),
            "--pci",
            "the native backend (-b native)",
            "",
        ),
        (
            inv.uio.is_some(),
            "--uio",
            "the native backend (-b native)",
            "",
        ),
        (inv.wc, "--wc", "the native backend (-b native)", ""),
    ];
    if let Some((_, opt, owner, note)) = others.iter().find(|(given, ..)| *given) {
        let hint = if *opt == "--board" {
            "; a QEMU machine is chosen with --machine"
        } else {
            ""
        };
        return Err(Usage(format!(
            "'{opt}' is for {owner}; {chosen}{note}{hint}"
        )));
    }
    let socket = |opt: &str, v: &Option<String>| -> Result<Option<String>, Usage> {
        match v.as_deref().map(|v| v.strip_prefix("unix:")) {
            None => Ok(None),
            Some(Some(p)) if !p.is_empty() => Ok(Some(p.to_string())),
            Some(_) => Err(Usage(format!(
                "'{opt}' takes unix:PATH, the path of a socket QEMU listens on (got '{}')",
                v.as_deref().unwrap_or_default()
            ))),
        }
    };
    let qtest = socket("--qtest", &inv.qtest)?;
    let qmp = socket("--qmp", &inv.qmp)?;
    if qtest.is_some() {
        let starts = [
            (inv.machine.is_some(), "--machine"),
            (inv.qemu.is_some(), "--qemu"),
            (!inv.qemu_args.is_empty(), "--qemu-arg"),
        ];
        if let Some((_, opt)) = starts.iter().find(|(given, _)| *given) {
            return Err(Usage(format!(
                "'{opt}' is for a QEMU memlua starts, and '--qtest' attaches to a running one; give one or the other"
            )));
        }
    } else if qmp.is_some() {
        return Err(Usage(
            "'--qmp' names the QMP socket of a QEMU attached to with --qtest; a QEMU memlua starts has its own"
                .into(),
        ));
    }
    let machine = inv.machine.clone().unwrap_or_else(|| "q35".into());
    let known = memlua_runtime::qemu::program_for(&machine).is_some();
    let name_ok = !machine.is_empty()
        && machine
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !name_ok || (!known && inv.qemu.is_none()) {
        let known: Vec<&str> = memlua_runtime::qemu::MACHINES
            .iter()
            .map(|(m, _)| *m)
            .collect();
        return Err(Usage(format!(
            "unknown machine '{machine}'; expected {} (another machine of QEMU's needs its program named with --qemu; QEMU's own options go in --qemu-arg)",
            known.join(", ")
        )));
    }
    Ok(Choice::Qemu {
        machine,
        program: inv.qemu.clone(),
        args: inv.qemu_args.clone(),
        qtest,
        qmp,
    })
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
        Choice::Replay { file, mode } => open_replay(file, *mode).map(|t| t.backend),
        #[cfg(unix)]
        Choice::Qemu { .. } => Ok(Box::new(open_qemu(choice)?)),
        #[cfg(not(unix))]
        Choice::Qemu { .. } => Err(OpenError::Failed(
            "the qemu backend needs a Unix system".into(),
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

/// The replay backend on `file`, and its handle (src/layers.rs keeps it
/// to finish the replay).
pub fn open_replay(file: &str, mode: Mode) -> Result<crate::trace::Traced, OpenError> {
    let (replay, handle) = Replay::open(file, mode).map_err(OpenError::Failed)?;
    Ok(crate::trace::Traced {
        backend: Box::new(replay),
        trace: handle,
    })
}

/// The QEMU machine chosen, started or attached to.
#[cfg(unix)]
pub fn open_qemu(choice: &Choice) -> Result<memlua_runtime::qemu::Qemu, OpenError> {
    use memlua_runtime::qemu::{AttachOptions, Qemu, StartOptions, DEFAULT_TIMEOUT};
    let Choice::Qemu {
        machine,
        program,
        args,
        qtest,
        qmp,
    } = choice
    else {
        return Err(OpenError::Failed("not the qemu backend".into()));
    };
    let opened = match qtest {
        Some(qtest) => Qemu::attach(&AttachOptions {
            qtest: qtest.into(),
            qmp: qmp.as_ref().map(Into::into),
            timeout: DEFAULT_TIMEOUT,
        }),
        None => Qemu::start(&StartOptions {
            machine: machine.clone(),
            program: program.clone(),
            args: args.clone(),
            timeout: DEFAULT_TIMEOUT,
        }),
    };
    opened.map_err(|e| OpenError::Failed(format!("-b qemu: {}: {}", e.errno, e.message)))
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
            (&["--mem", "d", "--board", "pc"], "choose one with -b native or -b sim"),
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
    fn replay_takes_no_machine_and_no_recording() {
        let vars = env(&[("MEMLUA_BACKEND", "native"), ("MEMLUA_BOARD", "arm64-virt")]);
        assert_eq!(
            choose(
                &inv(&["--replay", "t.jsonl", "--replay-mode", "relaxed"]),
                vars
            ),
            Ok(Choice::Replay {
                file: "t.jsonl".into(),
                mode: Mode::Relaxed
            })
        );
        for (args, says) in [
            (
                &["--replay", "t", "-b", "sim"][..],
                "'-b/--backend' does not apply to --replay",
            ),
            (
                &["--replay", "t", "--board", "pc"],
                "'--board' does not apply",
            ),
            (&["--replay", "t", "--mem", "d"], "'--mem' does not apply"),
            (&["--replay", "t", "-w"], "'-w/--write' does not apply"),
            (&["--replay", "t", "--record", "u"], "cannot be combined"),
            (
                &["--replay-mode", "strict"],
                "'--replay-mode' is for --replay",
            ),
        ] {
            let e = choose(&inv(args), no_env).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
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
        assert!(choose(&inv(&[]), env(&[("MEMLUA_BACKEND", "kvm")]))
            .unwrap_err()
            .0
            .contains("MEMLUA_BACKEND"));
        // The qemu backend has no board file either.
        assert!(matches!(
            choose(&inv(&["-b", "qemu"]), &board_env),
            Ok(Choice::Qemu { .. })
        ));
    }

    #[test]
    fn qemu_options_choose_the_qemu_backend() {
        let native_env = env(&[("MEMLUA_BACKEND", "native")]);
        assert_eq!(
            choose(
                &inv(&["--machine", "virt", "--qemu-arg", "-m", "--qemu-arg", "1G"]),
                native_env
            ),
            Ok(Choice::Qemu {
                machine: "virt".into(),
                program: None,
                args: vec!["-m".into(), "1G".into()],
                qtest: None,
                qmp: None
            })
        );
        assert_eq!(
            choose(
                &inv(&["--qtest", "unix:/run/vm.qtest", "--qmp", "unix:/run/vm.qmp"]),
                no_env
            ),
            Ok(Choice::Qemu {
                machine: "q35".into(),
                program: None,
                args: vec![],
                qtest: Some("/run/vm.qtest".into()),
                qmp: Some("/run/vm.qmp".into())
            })
        );
        assert!(matches!(
            choose(&inv(&["-b", "qemu"]), no_env),
            Ok(Choice::Qemu { machine, .. }) if machine == "q35"
        ));
        // Any machine of QEMU's, once its program is named.
        assert!(matches!(
            choose(
                &inv(&["--machine", "sifive_u", "--qemu", "qemu-system-riscv64"]),
                no_env
            ),
            Ok(Choice::Qemu { .. })
        ));
    }

    #[test]
    fn qemu_options_that_do_not_apply_are_usage_errors() {
        for (args, says) in [
            (&["-b", "sim", "--machine", "q35"][..], "'--machine' is for the qemu backend (-b qemu); -b sim chose the simulator"),
            (&["-b", "native", "--qemu-arg", "-m"], "'--qemu-arg' is for the qemu backend (-b qemu); -b native chose the native backend"),
            (&["--board", "pc", "--machine", "q35"], "'--board' is for the simulator and '--machine' for the qemu backend; choose one with -b sim or -b qemu"),
            (&["--mem", "f", "--qtest", "unix:/x"], "choose one with -b native or -b qemu"),
            (&["-b", "qemu", "--board", "q35"], "'--board' is for the simulator (-b sim); -b qemu chose the qemu backend; a QEMU machine is chosen with --machine"),
            (&["--machine", "q35", "-w"], "'-w/--write' is for the native backend (-b native); -b qemu chose the qemu backend, which is always writable"),
            (&["--machine", "q35", "--mem", "f"], "choose one with -b"),
            (&["--qtest", "unix:/x", "--machine", "q35"], "'--machine' is for a QEMU memlua starts, and '--qtest' attaches"),
            (&["--qmp", "unix:/x"], "'--qmp' names the QMP socket of a QEMU attached to with --qtest"),
            (&["--qtest", "/x"], "'--qtest' takes unix:PATH"),
            (&["--qtest", "unix:"], "'--qtest' takes unix:PATH"),
            (&["--machine", "sifive_u"], "unknown machine 'sifive_u'; expected q35, pc, virt"),
            (&["--machine", "q35,accel=kvm"], "unknown machine 'q35,accel=kvm'"),
        ] {
            let e = choose(&inv(args), no_env).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
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
