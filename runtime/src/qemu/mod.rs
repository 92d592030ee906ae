//! The qemu backend: a QEMU machine's guest physical memory, through
//! QEMU's qtest protocol (`qtest`), with its JSON monitor (`qmp`) for what
//! only QEMU has (`qemu.*` in Lua, `--map`).
//!
//! memlua either starts QEMU (`Qemu::start`: the machine stopped, `-S`,
//! with `-accel tcg`, since Debian's QEMU has no qtest accelerator; both
//! sockets are listened on by memlua in a private folder and QEMU connects
//! to them) or attaches to one someone else started (`Qemu::attach`). A
//! started QEMU is tied to memlua (native/child.rs): it ends with the
//! backend (SIGTERM) or, however memlua ends, with memlua (SIGKILL from the
//! kernel).
//!
//! QEMU aborts without a reply on a command it cannot parse, so every
//! command is checked here first: accesses by width, alignment, value and
//! the guest's physical-address width, ports by range, QOM paths and
//! monitor text by their characters (and a QOM path by QMP, since qtest
//! aborts on a path that is not a device). What QEMU cannot give is
//! refused with a sentence naming the backend: kernel memory (ENXIO: no
//! kernel is running), memory ranges, extract and buffers (EOPNOTSUPP).
//! QEMU gone is EIO with its exit and the tail of its stderr; a reply that
//! does not come in time is ETIMEDOUT.

use crate::b64;
mod qmp;
mod qtest;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use serde_json::{Map, Value};

use crate::native::child;
use crate::{ops, Backend, Errno, Error, MemExtract, MemRangeDesc, RangeOp, Result, Space, Width};
use qmp::{Qmp, QmpFault};
use qtest::{number, Fault, Qtest};

/// The machines memlua knows the QEMU program of.
pub const MACHINES: [(&str, &str); 3] = [
    ("q35", "qemu-system-x86_64"),
    ("pc", "qemu-system-x86_64"),
    ("virt", "qemu-system-aarch64"),
];

/// The program that runs `machine`, if memlua knows it.
pub fn program_for(machine: &str) -> Option<&'static str> {
    MACHINES
        .iter()
        .find(|(m, _)| *m == machine)
        .map(|(_, p)| *p)
}

/// The default time QEMU has to answer one command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The time QEMU has to start and connect; at least this, or the reply
/// timeout if that is longer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Bytes per b64read/b64write: bounds what either side holds at once.
const CHUNK: usize = 256 << 10;

/// Chunks of a bulk transfer sent before the first reply is read: QEMU
/// encodes the next while memlua decodes the last.
const IN_FLIGHT: usize = 3;

/// The address width assumed when QEMU does not say (no QMP, or a CPU
/// without a `phys-bits` property): the most x86-64 and AArch64 define,
/// so no address the guest could have is refused.
const ARCH_MAX_PHYS_BITS: u32 = 52;

/// How QEMU is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartOptions {
    /// `-machine`: q35, pc, virt, or any machine the program knows.
    pub machine: String,
    /// The program (default: `program_for(machine)`, found on PATH).
    pub program: Option<String>,
    /// More arguments, after memlua's (QEMU takes the last of a repeated
    /// option, so these can override `-m`).
    pub args: Vec<String>,
    pub timeout: Duration,
}

/// Where a QEMU someone else started listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachOptions {
    /// Its qtest socket (`-qtest unix:PATH,server=on,wait=off`).
    pub qtest: PathBuf,
    /// Its QMP socket, if it has one (`-qmp unix:PATH,server=on,wait=off`).
    pub qmp: Option<PathBuf>,
    pub timeout: Duration,
}

/// The qemu backend.
pub struct Qemu {
    qtest: Qtest,
    qmp: Option<Qmp>,
    /// The QEMU memlua started (None when attached).
    child: Option<Child>,
    /// Its stdout and stderr, an unlinked file: the tail goes into errors.
    log: Option<File>,
    /// The machine started, None when attached.
    machine: Option<String>,
    /// What the machine is, asked of QMP at the start.
    arch: Option<String>,
    /// The first address past guest physical memory.
    limit: u64,
    phys_bits: u32,
    /// Whether `clock_step` works (the qtest accelerator); None: not tried.
    clock_step: Option<bool>,
    /// Where the qtest socket is, for messages.
    place: String,
    cmd: Vec<u8>,
}

/// A private folder for the sockets, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        // Unix socket paths are short (108 bytes) and QEMU's option syntax
        // splits at commas: a TMPDIR that allows neither is passed over.
        let mut base = std::env::temp_dir();
        let s = base.to_string_lossy();
        if s.len() > 60 || s.contains(',') {
            base = PathBuf::from("/tmp");
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut n = 0u32;
        loop {
            let p = base.join(format!(
                "memlua-qemu-{}-{:x}",
                std::process::id(),
                nanos.wrapping_add(n)
            ));
            let mut b = std::fs::DirBuilder::new();
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            match b.create(&p) {
                Ok(()) => return Ok(TempDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eio(msg: impl Into<String>) -> Error {
    Error::new(Errno::EIO, "", msg)
}

/// `-qtest unix:PATH` and `-chardev socket,path=PATH` take the path as it is.
fn shown(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

impl Qemu {
    /// Starts QEMU on `opts.machine`, stopped, and connects.
    pub fn start(opts: &StartOptions) -> Result<Qemu> {
        let program = match &opts.program {
            Some(p) => p.clone(),
            None => program_for(&opts.machine)
                .ok_or_else(|| {
                    Error::new(
                        Errno::EINVAL,
                        "",
                        format!(
                            "memlua does not know which QEMU runs machine '{}' (it knows {}); name the program with --qemu",
                            opts.machine,
                            MACHINES.map(|(m, _)| m).join(", ")
                        ),
                    )
                })?
                .to_string(),
        };
        let dir = TempDir::new()
            .map_err(|e| eio(format!("cannot make a folder for QEMU's sockets: {e}")))?;
        let qtest_path = dir.0.join("qtest.sock");
        let qmp_path = dir.0.join("qmp.sock");
        let listen = |p: &Path| {
            let l = UnixListener::bind(p)
                .map_err(|e| eio(format!("cannot listen on {}: {e}", p.display())))?;
            l.set_nonblocking(true)
                .map_err(|e| eio(format!("cannot listen on {}: {e}", p.display())))?;
            Ok::<_, Error>(l)
        };
        let qtest_l = listen(&qtest_path)?;
        let qmp_l = listen(&qmp_path)?;
        let log_path = dir.0.join("log");
        let log = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&log_path)
            .map_err(|e| eio(format!("cannot make QEMU's log file: {e}")))?;
        let out = |f: &File| {
            f.try_clone()
                .map_err(|e| eio(format!("QEMU's log file: {e}")))
        };

        let mut cmd = Command::new(&program);
        cmd.args(["-machine", &opts.machine])
            .args(["-accel", "tcg", "-S", "-display", "none", "-nodefaults"])
            // The simulator's boards have 2 GiB; QEMU only backs pages the
            // guest touches.
            .args(["-m", "2G"])
            .arg("-qtest")
            .arg(format!("unix:{}", shown(&qtest_path)))
            .args(["-qtest-log", "/dev/null"])
            .arg("-chardev")
            .arg(format!("socket,id=memlua-qmp,path={}", shown(&qmp_path)))
            .args(["-mon", "chardev=memlua-qmp,mode=control"])
            .args(&opts.args)
            .stdin(Stdio::null())
            .stdout(out(&log)?)
            .stderr(out(&log)?);
        let mut child = child::spawn_tied(&mut cmd).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::new(
                    Errno::EIO,
                    "",
                    format!(
                        "cannot start QEMU: no program '{program}'{} (Debian: apt-get install qemu-system-x86 qemu-system-arm; or name it with --qemu PATH)",
                        if program.contains('/') { "" } else { " on PATH" }
                    ),
                )
            } else {
                eio(format!("cannot start QEMU ('{program}'): {e}"))
            }
        })?;
        let _ = std::fs::remove_file(&log_path);

        let deadline = Instant::now() + START_TIMEOUT.max(opts.timeout);
        let connected = (|| {
            let qt = accept(&qtest_l, &mut child, deadline)?;
            let qm = accept(&qmp_l, &mut child, deadline)?;
            Ok::<_, String>((qt, qm))
        })();
        drop(dir); // the sockets are connected or never will be
        let (qt, qm) = match connected {
            Ok(c) => c,
            Err(why) => {
                child::terminate(&mut child, Duration::from_millis(200));
                return Err(eio(format!(
                    "QEMU ('{program} -machine {}') {why}{}",
                    opts.machine,
                    last_words(&log)
                )));
            }
        };
        let setup = |e: std::io::Error| eio(format!("cannot set up the connection to QEMU: {e}"));
        let mut q = Qemu {
            qtest: Qtest::new(qt, START_TIMEOUT.max(opts.timeout)).map_err(setup)?,
            qmp: Some(Qmp::new(qm, START_TIMEOUT.max(opts.timeout)).map_err(setup)?),
            child: Some(child),
            log: Some(log),
            machine: Some(opts.machine.clone()),
            arch: None,
            limit: 1 << ARCH_MAX_PHYS_BITS,
            phys_bits: ARCH_MAX_PHYS_BITS,
            clock_step: None,
            place: format!("QEMU ('{program} -machine {}')", opts.machine),
            cmd: Vec::with_capacity(128),
        };
        // Drop ends QEMU should anything below fail.
        q.learn()?;
        q.set_timeout(opts.timeout)?;
        Ok(q)
    }

    /// Connects to a QEMU someone else started.
    pub fn attach(opts: &AttachOptions) -> Result<Qemu> {
        let connect = |p: &Path, what: &str| {
            UnixStream::connect(p).map_err(|e| {
                eio(format!(
                    "cannot connect to QEMU's {what} socket {}: {e} (start QEMU with -{what} unix:{},server=on,wait=off)",
                    p.display(),
                    p.display()
                ))
            })
        };
        let qt = connect(&opts.qtest, "qtest")?;
        let qm = match &opts.qmp {
            Some(p) => Some(connect(p, "qmp")?),
            None => None,
        };
        let setup = |e: std::io::Error| eio(format!("cannot set up the connection to QEMU: {e}"));
        let mut q = Qemu {
            qtest: Qtest::new(qt, opts.timeout).map_err(setup)?,
            qmp: match qm {
                Some(s) => Some(Qmp::new(s, opts.timeout).map_err(setup)?),
                None => None,
            },
            child: None,
            log: None,
            machine: None,
            arch: None,
            limit: 1 << ARCH_MAX_PHYS_BITS,
            phys_bits: ARCH_MAX_PHYS_BITS,
            clock_step: None,
            place: format!("QEMU at {}", opts.qtest.display()),
            cmd: Vec::with_capacity(128),
        };
        q.learn()?;
        Ok(q)
    }

    /// The first exchange, which also waits for QEMU to be ready: the
    /// target's endianness, and from QMP (when there is one) its CPU and
    /// physical-address width.
    fn learn(&mut self) -> Result<()> {
        let little = self.command(format_args!("endianness"), |t| Ok(t == b"little"))?;
        if !little {
            // Values would need swapping; no machine memlua starts is big-endian.
            return Err(Error::new(
                Errno::EOPNOTSUPP,
                "",
                format!(
                    "{} runs a big-endian target; the qemu backend reads little-endian ones only",
                    self.place
                ),
            ));
        }
        if self.qmp.is_none() {
            return Ok(());
        }
        let cpus = self.qmp_value("query-cpus-fast", None)?;
        let cpu0 = cpus.get(0);
        self.arch = cpu0
            .and_then(|c| c.get("target"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let path = cpu0.and_then(|c| c.get("qom-path")).and_then(Value::as_str);
        if let (Some(path), Some("x86_64" | "i386")) = (path, self.arch.as_deref()) {
            let mut a = Map::new();
            a.insert("path".into(), path.into());
            a.insert("property".into(), "phys-bits".into());
            if let Some(bits) = self.qmp_value("qom-get", Some(&a))?.as_u64() {
                if (32..=64).contains(&bits) {
                    self.phys_bits = bits as u32;
                    self.limit = if bits == 64 { u64::MAX } else { 1 << bits };
                }
            }
        }
        Ok(())
    }

    /// The QEMU process memlua started (None when attached).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The guest's physical-address width in bits, as QEMU gave it (x86's
    /// `phys-bits`), else the architecture's most.
    pub fn phys_bits(&self) -> u32 {
        self.phys_bits
    }

    /// The machine memlua started (None when attached).
    pub fn machine(&self) -> Option<&str> {
        self.machine.as_deref()
    }

    /// The CPU's target as QEMU names it (`x86_64`, `aarch64`), if known.
    pub fn arch(&self) -> Option<&str> {
        self.arch.as_deref()
    }

    pub fn timeout(&self) -> Duration {
        self.qtest.timeout()
    }

    /// How long each reply may take from now on.
    pub fn set_timeout(&mut self, t: Duration) -> Result<()> {
        let e = |e: std::io::Error| eio(format!("cannot set the timeout: {e}"));
        self.qtest.set_timeout(t).map_err(e)?;
        if let Some(q) = &mut self.qmp {
            q.set_timeout(t).map_err(e)?;
        }
        Ok(())
    }

    // ---- qtest commands --------------------------------------------------

    /// One qtest command (the line without its '\n'); `f` reads the text
    /// after `OK `.
    fn command<T>(
        &mut self,
        line: std::fmt::Arguments<'_>,
        f: impl FnOnce(&[u8]) -> std::result::Result<T, Fault>,
    ) -> Result<T> {
        self.cmd.clear();
        let _ = self.cmd.write_fmt(line);
        self.cmd.push(b'\n');
        let cmd = std::mem::take(&mut self.cmd);
        let r = self.qtest.call(&cmd, f);
        let r = r.map_err(|f| self.fault(f, &cmd));
        self.cmd = cmd;
        r
    }

    /// The memlua error for a fault on the command `cmd`.
    #[cold]
    fn fault(&mut self, f: Fault, cmd: &[u8]) -> Error {
        let cmd = String::from_utf8_lossy(cmd);
        let cmd = cmd.trim_end();
        let shown = if cmd.chars().count() > 60 {
            format!("{}...", cmd.chars().take(60).collect::<String>())
        } else {
            cmd.to_string()
        };
        match f {
            Fault::Closed => {
                let why = self.gone();
                eio(format!("{} is gone: {why}", self.place))
            }
            Fault::TimedOut => Error::new(
                Errno::ETIMEDOUT,
                "",
                format!(
                    "{} did not answer '{shown}' within {:?} (qemu.timeout sets the limit)",
                    self.place,
                    self.timeout()
                ),
            ),
            Fault::Io(e) => eio(format!("talking to {}: {e}", self.place)),
            Fault::Refused(line) => eio(format!("{} answered '{line}' to '{shown}'", self.place)),
            Fault::Garbled(what) => eio(format!("{} gave {what} to '{shown}'", self.place)),
        }
    }

    /// Why QEMU is gone: how it ended, if memlua started it, and its last
    /// words.
    fn gone(&mut self) -> String {
        let Some(child) = &mut self.child else {
            return "the qtest connection closed".into();
        };
        // It closed the socket as it exited: give it a moment to be done.
        let end = Instant::now() + Duration::from_millis(500);
        let status = loop {
            match child.try_wait() {
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(2)),
                Ok(s) => break s,
                Err(_) => break None,
            }
        };
        let how = match status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("it exited with status {c}"),
                (_, Some(9)) => "it was killed (SIGKILL)".into(),
                (_, Some(sig)) => format!("it was ended by signal {sig}"),
                _ => "it ended".into(),
            },
            None => "it closed the qtest connection".into(),
        };
        format!(
            "{how}{}",
            self.log.as_ref().map(last_words).unwrap_or_default()
        )
    }

    /// EFAULT unless `[addr, addr + len)` is inside guest physical memory.
    fn check_span(&self, addr: u64, len: u64) -> Result<()> {
        if addr.checked_add(len).is_some_and(|end| end <= self.limit) {
            return Ok(());
        }
        let what = if len <= 8 {
            format!("{addr:#x}")
        } else {
            format!("{addr:#x} + {len:#x}")
        };
        let e = Error::new(
            Errno::EFAULT,
            "",
            format!(
                "{what} is beyond the guest's {}-bit physical address space (highest address {:#x})",
                self.phys_bits,
                self.limit - 1
            ),
        );
        Err(if len <= 8 {
            e.at(addr)
        } else {
            e.span(addr, len)
        })
    }

    fn kernel(&self) -> Error {
        Error::new(
            Errno::ENXIO,
            "",
            "the 'qemu' backend reaches the guest's physical memory only: no kernel memlua knows runs in the machine, so there is no kernel memory",
        )
    }

    // ---- what only QEMU has (qemu.* in Lua) ------------------------------

    fn qmp_link(&mut self, op: &str) -> Result<&mut Qmp> {
        let place = self.place.clone();
        self.qmp.as_mut().ok_or_else(|| {
            Error::new(
                Errno::EOPNOTSUPP,
                op,
                format!("{op} needs QEMU's QMP socket, and {place} was attached without one (--qmp unix:PATH)"),
            )
        })
    }

    fn qmp_value(&mut self, cmd: &str, args: Option<&Map<String, Value>>) -> Result<Value> {
        let r = self.qmp_link(ops::QEMU_QMP)?.execute(cmd, args);
        r.map_err(|f| self.qmp_fault(cmd, f))
    }

    #[cold]
    fn qmp_fault(&mut self, cmd: &str, f: QmpFault) -> Error {
        match f {
            QmpFault::Error { class, desc } => eio(format!(
                "{} refused QMP '{cmd}': {class}: {desc}",
                self.place
            )),
            QmpFault::Link(Fault::Closed) => {
                let why = self.gone();
                eio(format!("{} is gone: {why}", self.place))
            }
            QmpFault::Link(Fault::TimedOut) => Error::new(
                Errno::ETIMEDOUT,
                "",
                format!(
                    "{} did not answer QMP '{cmd}' within {:?} (qemu.timeout sets the limit)",
                    self.place,
                    self.timeout()
                ),
            ),
            QmpFault::Link(Fault::Io(e)) => eio(format!("QMP to {}: {e}", self.place)),
            QmpFault::Link(Fault::Refused(t) | Fault::Garbled(t)) => {
                eio(format!("{} gave {t} to QMP '{cmd}'", self.place))
            }
        }
    }

    /// A QMP command (`qemu.qmp`): the decoded `return`.
    pub fn qmp(&mut self, cmd: &str, args: Option<&Map<String, Value>>) -> Result<Value> {
        let ok = !cmd.is_empty()
            && cmd.len() <= 128
            && cmd
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(Error::new(
                Errno::EINVAL,
                ops::QEMU_QMP,
                format!(
                    "'{}' is not a QMP command name (letters, digits, '-' and '_', as in query-status)",
                    cmd.escape_debug()
                ),
            ));
        }
        self.qmp_link(ops::QEMU_QMP)?;
        self.qmp_value(cmd, args)
            .map_err(|e| e.with_op(ops::QEMU_QMP))
    }

    /// A human monitor command (`qemu.hmp`): its output.
    pub fn hmp(&mut self, line: &str) -> Result<String> {
        const OP: &str = ops::QEMU_HMP;
        let bad = |why: &str| {
            Error::new(
                Errno::EINVAL,
                OP,
                format!("'{}' is not a monitor command: {why}", line.escape_debug()),
            )
        };
        if line.trim().is_empty() {
            return Err(bad("it is empty"));
        }
        if line.len() > 4096 {
            return Err(bad("it is longer than 4096 bytes"));
        }
        if line.chars().any(char::is_control) {
            return Err(bad(
                "it holds a control character (a newline would end the command)",
            ));
        }
        self.qmp_link(OP)?;
        let mut a = Map::new();
        a.insert("command-line".into(), line.into());
        let out = self
            .qmp_value("human-monitor-command", Some(&a))
            .map_err(|e| e.with_op(OP))?;
        let text = out.as_str().unwrap_or_default().replace("\r\n", "\n");
        if let Some(rest) = text.strip_prefix("unknown command: ") {
            return Err(Error::new(
                Errno::ENOENT,
                OP,
                format!(
                    "the monitor has no command {} (qemu.hmp('help') lists them)",
                    rest.trim()
                ),
            ));
        }
        Ok(text)
    }

    /// The machine's memory regions, as `info mtree -f` gives them.
    pub fn mtree(&mut self) -> Result<String> {
        self.hmp("info mtree -f")
    }

    /// QEMU's version, as QMP gives it (`7.2.22`).
    pub fn version(&mut self) -> Result<String> {
        let v = self.qmp_value("query-version", None)?;
        let n = |k: &str| v["qemu"][k].as_u64().unwrap_or(0);
        Ok(format!("{}.{}.{}", n("major"), n("minor"), n("micro")))
    }

    /// `qemu.irq_intercept`: QEMU reports the IRQ lines into (`out` false)
    /// or out of the device at QOM `path` from now on.
    pub fn irq_intercept(&mut self, path: &str, out: bool) -> Result<()> {
        const OP: &str = ops::QEMU_IRQ_INTERCEPT;
        if path.is_empty()
            || path.len() > 4096
            || path.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::new(
                Errno::EINVAL,
                OP,
                format!(
                    "'{}' is not a QOM path (no spaces or control characters; e.g. /machine/ioapic or ioapic)",
                    path.escape_debug()
                ),
            ));
        }
        // qtest aborts QEMU on a path that is not a device: ask QMP first
        // whether it names a device (only devices have `realized`).
        self.qmp_link(OP)?;
        let mut a = Map::new();
        a.insert("path".into(), path.into());
        a.insert("property".into(), "realized".into());
        if let Err(e) = self.qmp_link(OP)?.execute("qom-get", Some(&a)) {
            return Err(match e {
                QmpFault::Error { desc, .. } => Error::new(
                    Errno::ENOENT,
                    OP,
                    format!("no device at QOM path '{path}' (QEMU: {desc})"),
                ),
                f => self.qmp_fault("qom-get", f).with_op(OP),
            });
        }
        let verb = if out {
            "irq_intercept_out"
        } else {
            "irq_intercept_in"
        };
        match self.command(format_args!("{verb} {path}"), |_| Ok(())) {
            Ok(()) => Ok(()),
            Err(e) if e.message.contains("already enabled") => Err(Error::new(
                Errno::EBUSY,
                OP,
                format!(
                    "QEMU intercepts one device's IRQs per run, and another's already are ({})",
                    e.message
                ),
            )),
            Err(e) => Err(e.with_op(OP)),
        }
    }

    /// `qemu.irqs`: the last level seen on each intercepted line, after
    /// reading what QEMU has sent so far.
    pub fn irqs(&mut self) -> Result<Vec<(u32, bool)>> {
        // A round trip takes in the IRQ lines that came before its reply.
        self.command(format_args!("endianness"), |_| Ok(()))
            .map_err(|e| e.with_op(ops::QEMU_IRQS))?;
        Ok(self.qtest.irqs().iter().map(|(&n, &l)| (n, l)).collect())
    }

    /// `qemu.run`: lets the machine run for `ns` of its time: clock_step
    /// where the accelerator has it (qtest), else QMP `cont`, a wait,
    /// `stop`.
    pub fn run(&mut self, ns: u64) -> Result<()> {
        const OP: &str = ops::QEMU_RUN;
        if ns == 0 {
            return Ok(());
        }
        if self.clock_step != Some(false) {
            match self.command(format_args!("clock_step {ns}"), |_| Ok(())) {
                Ok(()) => {
                    self.clock_step = Some(true);
                    return Ok(());
                }
                Err(e) if e.errno == Errno::EIO && e.message.contains("Unknown command") => {
                    self.clock_step = Some(false);
                }
                Err(e) => return Err(e.with_op(OP)),
            }
        }
        self.qmp_link(OP)?;
        self.qmp_value("cont", None).map_err(|e| e.with_op(OP))?;
        std::thread::sleep(Duration::from_nanos(ns));
        self.qmp_value("stop", None).map_err(|e| e.with_op(OP))?;
        Ok(())
    }

    fn check_port(&self, op: &str, port: u64, w: Width) -> Result<()> {
        if w == Width::W64 {
            return Err(Error::new(
                Errno::EINVAL,
                op,
                "port I/O is 8, 16 or 32 bits wide",
            ));
        }
        if let Some(arch) = self.arch.as_deref() {
            if !matches!(arch, "x86_64" | "i386") {
                return Err(Error::unsupported(
                    "qemu",
                    op,
                    &format!("reach I/O ports on this machine: its CPU ({arch}) has none; its devices are in mem"),
                ));
            }
        }
        if port.checked_add(w.bytes()).is_none_or(|end| end > 0x10000) {
            return Err(Error::new(
                Errno::EFAULT,
                op,
                format!(
                    "port {port:#x} + {} is beyond the 64 KiB I/O space (ports 0x0 to 0xffff)",
                    w.bytes()
                ),
            )
            .at(port));
        }
        Ok(())
    }

    /// `qemu.io_read8/16/32`: one `in` of exactly `w`.
    pub fn io_read(&mut self, port: u64, w: Width) -> Result<u64> {
        let op = ops::qemu_io(w, false);
        self.check_port(op, port, w)?;
        let verb = ["inb", "inw", "inl", ""][w as usize];
        self.command(format_args!("{verb} {port:#x}"), number)
            .map(|v| v & w.mask())
            .map_err(|e| e.with_op(op).at(port))
    }

    /// `qemu.io_write8/16/32`: one `out` of exactly `w`.
    pub fn io_write(&mut self, port: u64, w: Width, v: u64) -> Result<()> {
        let op = ops::qemu_io(w, true);
        self.check_port(op, port, w)?;
        w.check_value(v).map_err(|e| e.with_op(op).at(port))?;
        let verb = ["outb", "outw", "outl", ""][w as usize];
        let v = v & w.mask();
        self.command(format_args!("{verb} {port:#x} {v:#x}"), |_| Ok(()))
            .map_err(|e| e.with_op(op).at(port))
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            child::terminate(child, Duration::from_secs(2));
        }
    }
}

/// Waits for QEMU to connect to `l`, watching that it has not died.
fn accept(
    l: &UnixListener,
    child: &mut Child,
    deadline: Instant,
) -> std::result::Result<UnixStream, String> {
    loop {
        match l.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)
                    .map_err(|e| format!("connected, but: {e}"))?;
                return Ok(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(format!("could not be reached: {e}")),
        }
        match child.try_wait() {
            Ok(Some(s)) => {
                return Err(match s.code() {
                    Some(c) => format!("exited with status {c} before connecting"),
                    None => format!(
                        "was ended by signal {} before connecting",
                        s.signal().unwrap_or(0)
                    ),
                })
            }
            Ok(None) => {}
            Err(e) => return Err(format!("cannot be watched: {e}")),
        }
        if Instant::now() > deadline {
            return Err(format!("did not connect within {:?}", START_TIMEOUT));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The last lines QEMU wrote, as `; QEMU said: ...`, or nothing.
fn last_words(log: &File) -> String {
    let mut f = log;
    let len = f.seek(SeekFrom::End(0)).unwrap_or(0);
    let from = len.saturating_sub(2048);
    let mut tail = Vec::new();
    if f.seek(SeekFrom::Start(from)).is_err() || f.read_to_end(&mut tail).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&tail);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let keep = &lines[lines.len().saturating_sub(4)..];
    format!("; QEMU said: {}", keep.join(" / "))
}

impl Backend for Qemu {
    fn name(&self) -> &str {
        "qemu"
    }

    fn writable(&self) -> bool {
        true
    }

    fn board(&self) -> Option<&str> {
        self.machine.as_deref()
    }

    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        match space {
            Space::Phys => {}
            Space::Kernel => return Err(self.kernel()),
            Space::Process => return Err(no_buffers(ops::access(space, w, false))),
        }
        w.check_aligned(addr, "address")?;
        self.check_span(addr, w.bytes())?;
        let verb = ["readb", "readw", "readl", "readq"][w as usize];
        self.command(format_args!("{verb} {addr:#x}"), number)
            .map(|v| v & w.mask())
    }

    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        match space {
            Space::Phys => {}
            Space::Kernel => return Err(self.kernel()),
            Space::Process => return Err(no_buffers(ops::access(space, w, true))),
        }
        w.check_value(v)?;
        w.check_aligned(addr, "address")?;
        self.check_span(addr, w.bytes())?;
        let verb = ["writeb", "writew", "writel", "writeq"][w as usize];
        let v = v & w.mask();
        self.command(format_args!("{verb} {addr:#x} {v:#x}"), |_| Ok(()))
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        match space {
            Space::Phys => {}
            Space::Kernel => return Err(self.kernel().done(0)),
            Space::Process => return Err(no_buffers(ops::bulk(space, false))),
        }
        self.check_span(addr, buf.len() as u64)
            .map_err(|e| e.done(0))?;
        let len = buf.len();
        let cmd_of = |k: usize| {
            let at = addr + (k * CHUNK) as u64;
            let n = (len - k * CHUNK).min(CHUNK);
            format!("b64read {at:#x} {n:#x}\n")
        };
        let chunks = len.div_ceil(CHUNK);
        let mut sent = 0;
        let qtest = &mut self.qtest;
        let r = (|| {
            qtest.sync().map_err(|f| (f, 0))?;
            for (k, chunk) in buf.chunks_mut(CHUNK).enumerate() {
                while sent < chunks && sent < k + IN_FLIGHT {
                    qtest.send(cmd_of(sent).as_bytes()).map_err(|f| (f, k))?;
                    sent += 1;
                }
                let n = chunk.len();
                qtest
                    .recv(|text| {
                        if b64::decode_into(text, chunk) {
                            Ok(())
                        } else {
                            Err(Fault::Garbled(format!(
                                "a b64read reply that is not base64 of {n} bytes"
                            )))
                        }
                    })
                    .map_err(|f| (f, k))?;
            }
            Ok(())
        })();
        r.map_err(|(f, k)| self.fault(f, cmd_of(k).as_bytes()).done((k * CHUNK) as u64))
    }

    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        match space {
            Space::Phys => {}
            Space::Kernel => return Err(self.kernel().done(0)),
            Space::Process => return Err(no_buffers(ops::bulk(space, true))),
        }
        self.check_span(addr, buf.len() as u64)
            .map_err(|e| e.done(0))?;
        let chunks: Vec<&[u8]> = buf.chunks(CHUNK).collect();
        let mut cmd = std::mem::take(&mut self.cmd);
        let mut answered = 0;
        let qtest = &mut self.qtest;
        let r = (|| {
            qtest.sync().map_err(|f| (f, 0))?;
            for (k, chunk) in chunks.iter().enumerate() {
                cmd.clear();
                let at = addr + (k * CHUNK) as u64;
                let _ = write!(cmd, "b64write {at:#x} {:#x} ", chunk.len());
                b64::encode(chunk, &mut cmd);
                cmd.push(b'\n');
                qtest.send(&cmd).map_err(|f| (f, answered))?;
                if k + 1 >= IN_FLIGHT {
                    qtest.recv(|_| Ok(())).map_err(|f| (f, answered))?;
                    answered += 1;
                }
            }
            while answered < chunks.len() {
                qtest.recv(|_| Ok(())).map_err(|f| (f, answered))?;
                answered += 1;
            }
            Ok(())
        })();
        self.cmd = cmd;
        r.map_err(|(f, k)| {
            let at = addr + (k * CHUNK) as u64;
            let what = format!("b64write {at:#x} {:#x} ...", chunks[k].len());
            self.fault(f, what.as_bytes()).done((k * CHUNK) as u64)
        })
    }

    fn extract(&mut self, _pages: &mut [MemExtract]) -> Result<()> {
        Err(Error::unsupported(
            "qemu",
            ops::MEM_EXTRACT,
            "look up this process's pages: memlua's own memory is not in the guest",
        ))
    }

    fn range_count(&mut self) -> Result<usize> {
        Err(no_ranges(ops::MEMRANGE_COUNT))
    }

    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        Err(no_ranges(ops::MEMRANGE_GET))
    }

    fn range_set(&mut self, _d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        Err(no_ranges(ops::range_set(op)))
    }

    fn symbol(&mut self, _name: &str) -> Result<u64> {
        Err(self.kernel().with_op(ops::KMEM_SYMBOL))
    }

    fn as_qemu(&mut self) -> Option<&mut Qemu> {
        Some(self)
    }
}

fn no_ranges(op: &str) -> Error {
    Error::unsupported(
        "qemu",
        op,
        "reach memory range attributes (MTRRs): qtest has no way to the guest CPU's registers",
    )
}

fn no_buffers(op: &str) -> Error {
    Error::unsupported(
        "qemu",
        op,
        "hand out buffers of this process: the guest's memory is not memlua's",
    )
}
