//! QEMU with its gdbstub, for the gdb backend's tests and benchmark:
//! started halted (`-S`) with `-gdb` on a free TCP port of 127.0.0.1 (or a
//! Unix socket), killed when dropped, and killed by the kernel should the
//! test process die first (PR_SET_PDEATHSIG): no qemu outlives a run.

#![allow(dead_code)] // each test binary uses part of it

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const X86: (&str, &[&str]) = ("qemu-system-x86_64", &["-machine", "q35"]);
pub const ARM: (&str, &[&str]) = (
    "qemu-system-aarch64",
    &["-machine", "virt", "-cpu", "cortex-a57"],
);

pub struct Qemu {
    child: Child,
    /// `--target` for memlua: `127.0.0.1:PORT` or `unix:PATH`.
    pub target: String,
    socket: Option<PathBuf>,
}

impl Qemu {
    /// QEMU `system` with `args` and its gdbstub on a TCP port; Err says
    /// why it cannot run here (not installed, failed to start).
    pub fn start((system, args): (&str, &[&str])) -> Result<Qemu, String> {
        // A port another process takes between our probe and QEMU's bind
        // makes QEMU exit: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free TCP port: {e}"))?
                .port();
            let gdb = format!("tcp:127.0.0.1:{port}");
            match Qemu::spawn(system, args, &gdb, format!("127.0.0.1:{port}"), None) {
                Ok(q) => return Ok(q),
                Err(e) if e.contains("Address already in use") => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// The same with the gdbstub on a Unix socket.
    pub fn start_unix((system, args): (&str, &[&str])) -> Result<Qemu, String> {
        let path = std::env::temp_dir().join(format!(
            "memlua-gdb-{}-{:?}.sock",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_file(&path);
        let gdb = format!("unix:{},server=on,wait=off", path.display());
        let target = format!("unix:{}", path.display());
        Qemu::spawn(system, args, &gdb, target, Some(path))
    }

    fn spawn(
        system: &str,
        args: &[&str],
        gdb: &str,
        target: String,
        socket: Option<PathBuf>,
    ) -> Result<Qemu, String> {
        let mut cmd = Command::new(system);
        cmd.args(args)
            .args(["-accel", "tcg", "-display", "none", "-nodefaults", "-S"])
            .args(["-gdb", gdb])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: runs in the child between fork and exec, where only
        // async-signal-safe calls are allowed; prctl is one.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("{system} is not installed"))
            }
            Err(e) => return Err(format!("{system} does not start: {e}")),
        };
        let mut q = Qemu {
            child,
            target,
            socket,
        };
        q.wait_ready(system)?;
        Ok(q)
    }

    /// Waits until the gdbstub takes connections (one made and closed),
    /// or QEMU has exited, with its complaint.
    fn wait_ready(&mut self, system: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return Err(format!("{system} exited ({status}): {}", err.trim()));
            }
            let up = match &self.socket {
                Some(p) => std::os::unix::net::UnixStream::connect(p).is_ok(),
                None => std::net::TcpStream::connect(&self.target).is_ok(),
            };
            if up {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{system}'s gdbstub did not open in 20 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(p) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}
