//! A helper process tied to memlua (the qemu backend's QEMU), and sending
//! to it. The OS calls live here, in the native layer, with the rest of
//! memlua's `unsafe`.
//!
//! - A tied child dies with memlua however memlua ends: a normal exit, a
//!   script error, `os.exit` (C's `exit`, which runs no Rust destructor) or
//!   memlua killed. The kernel sends it SIGKILL when memlua goes
//!   (PR_SET_PDEATHSIG on Linux, PROC_PDEATHSIG_CTL on FreeBSD).
//! - It runs in a process group of its own, so a terminal's Ctrl-C reaches
//!   memlua only; memlua turns it into "interrupted!" in the script, and
//!   the child lives on until memlua lets it go.
//! - Sending never raises SIGPIPE: memlua keeps SIGPIPE's default action
//!   (src/entry.rs says why), and a peer that died must be an error, not
//!   the end of memlua.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Starts `cmd` tied to this process as the module says.
pub fn spawn_tied(cmd: &mut Command) -> io::Result<Child> {
    cmd.process_group(0);
    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec; it only
    // makes async-signal-safe calls (prctl/procctl, getppid) and builds an
    // io::Error from a raw errno, which does not allocate.
    unsafe {
        cmd.pre_exec(move || die_with_parent(parent));
    }
    cmd.spawn()
}

#[cfg(target_os = "linux")]
fn die_with_parent(parent: u32) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and touches no memory.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) } == -1 {
        return Err(io::Error::last_os_error());
    }
    parent_alive(parent)
}

#[cfg(target_os = "freebsd")]
fn die_with_parent(parent: u32) -> io::Result<()> {
    let mut sig: libc::c_int = libc::SIGKILL;
    // SAFETY: PROC_PDEATHSIG_CTL reads one int from the pointer, which is
    // valid for the call.
    let r = unsafe {
        libc::procctl(
            libc::P_PID,
            0,
            libc::PROC_PDEATHSIG_CTL,
            (&mut sig as *mut libc::c_int).cast(),
        )
    };
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    parent_alive(parent)
}

/// Elsewhere only the drop of the backend ends the child.
#[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
fn die_with_parent(_parent: u32) -> io::Result<()> {
    Ok(())
}

/// Memlua may have died between the fork and the request: then nobody
/// would send the signal, so the child gives up now.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn parent_alive(parent: u32) -> io::Result<()> {
    // SAFETY: getppid has no preconditions.
    if unsafe { libc::getppid() } as u32 != parent {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Ends `child`: SIGTERM (QEMU then exits in a few ms), SIGKILL if it is
/// still there after `grace`, and reaps it either way.
pub fn terminate(child: &mut Child, grace: Duration) {
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: the child is not reaped yet (try_wait said so), so `pid`
        // is still this child's and no other process's.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let end = Instant::now() + grace;
    while Instant::now() < end {
        match child.try_wait() {
            Ok(None) => std::thread::sleep(Duration::from_micros(500)),
            _ => return,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends all of `buf` on `sock`; a peer that is gone gives EPIPE (or
/// ECONNRESET), and a send that waits past the socket's send timeout gives
/// WouldBlock, as `write` would.
pub fn send_all(sock: &UnixStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for reads of its length, and the
        // descriptor is the stream's own, open while `sock` is borrowed.
        let n = unsafe {
            libc::send(
                sock.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_send_to_a_closed_peer_is_an_error_not_sigpipe() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let e = send_all(&a, b"hello").unwrap_err();
        assert!(
            matches!(e.raw_os_error(), Some(libc::EPIPE) | Some(libc::ECONNRESET)),
            "{e}"
        );
    }

    #[test]
    fn send_all_sends_everything() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let data = vec![7u8; 300_000];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            b.read_to_end(&mut got).unwrap();
            got
        });
        send_all(&a, &data).unwrap();
        drop(a);
        assert_eq!(reader.join().unwrap(), data);
    }

    #[test]
    fn terminate_ends_and_reaps_a_tied_child() {
        let mut child = spawn_tied(Command::new("sleep").arg("30")).unwrap();
        let t = Instant::now();
        terminate(&mut child, Duration::from_secs(2));
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(child.try_wait().unwrap().is_some());
    }
}
