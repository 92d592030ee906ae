//! Last words to sockets when the process exits without unwinding: Lua's
//! `os.exit` calls C's `exit`, which runs no Rust destructor, so the gdb
//! backend's detach (`D`, which lets the target run on) would never be
//! sent. Each connection keeps here the bytes it wants sent then, changed
//! as its state changes; an `atexit` handler writes them. A connection
//! closed normally takes its entry out first.

use std::os::fd::RawFd;
use std::sync::{Mutex, Once};

/// (owner, socket, bytes) per live connection.
static PENDING: Mutex<Vec<(u64, RawFd, Vec<u8>)>> = Mutex::new(Vec::new());
static REGISTER: Once = Once::new();

/// At exit, write `bytes` to the socket `fd` for `owner` (replacing what
/// `owner` asked for before); empty bytes ask for nothing.
pub fn set(owner: u64, fd: RawFd, bytes: &[u8]) {
    REGISTER.call_once(|| {
        // SAFETY: registers a plain `extern "C"` function with no
        // arguments; atexit has no other precondition.
        unsafe { libc::atexit(at_exit) };
    });
    let Ok(mut p) = PENDING.lock() else { return };
    p.retain(|(o, _, _)| *o != owner);
    if !bytes.is_empty() {
        p.push((owner, fd, bytes.to_vec()));
    }
}

/// Forget `owner`'s entry (its connection is closing the ordinary way).
pub fn clear(owner: u64) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|(o, _, _)| *o != owner);
    }
}

extern "C" fn at_exit() {
    // try_lock: a thread that held the lock when `exit` was called will
    // never release it; better to say nothing than to hang.
    let Ok(p) = PENDING.try_lock() else { return };
    for (_, fd, bytes) in p.iter() {
        // SAFETY: `fd` is a socket its connection still holds open (it
        // takes its entry out before closing); MSG_NOSIGNAL keeps a
        // closed peer from raising SIGPIPE, and a short or failed write
        // is ignored: the process is going away.
        unsafe {
            libc::send(*fd, bytes.as_ptr().cast(), bytes.len(), libc::MSG_NOSIGNAL);
        }
    }
}
