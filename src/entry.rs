//! The process entry point. memlua starts the way lua.c and busybox do, as
//! a C `main`, not through Rust's runtime set-up, for two reasons:
//!
//! - That set-up ignores SIGPIPE. A tool that prints into pipes should die
//!   quietly when the reader goes away, as lua.c, busybox devmem and cat
//!   do; with SIGPIPE ignored, `memlua dump ... | head` went on writing into
//!   a closed pipe until it finished, and programs a script starts through
//!   `os.execute` or `io.popen` inherited the ignored signal.
//! - It also reads /proc/self/maps to place a stack-overflow guard and sets
//!   up a signal stack: 0.09 ms, 7% of a `memlua devmem` run.
//!
//! What the set-up also did is done here: closed standard descriptors are
//! reopened on /dev/null (else the first file memlua opens, /dev/mem
//! perhaps, would become stdout), arguments come from argv, a panic ends
//! the process with status 101 (the default hook has printed it), and
//! Rust's buffered stdout is flushed before returning to C's `exit`.

use std::ffi::{c_char, c_int, CStr};
use std::io::Write;

/// The C entry point: memlua's exit status (0, 1 or 2; 101 on a panic).
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    #[cfg(unix)]
    if !standard_fds_open() {
        return 127;
    }
    let args = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: C's runtime passes `argc` valid NUL-terminated strings
            // in `argv`, alive for the whole process.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            // Bytes, as lua.c passes them on: a script's arguments need
            // not be text.
            arg.to_bytes().to_vec()
        })
        .collect();
    let status = std::panic::catch_unwind(|| crate::memlua_main(args)).map_or(101, c_int::from);
    let _ = std::io::stdout().flush();
    status
}

/// Makes sure descriptors 0, 1 and 2 are open, putting /dev/null where one
/// is closed; false if that cannot be done.
#[cfg(unix)]
fn standard_fds_open() -> bool {
    for fd in 0..3 {
        // SAFETY: F_GETFD only asks whether `fd` is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 {
            continue;
        }
        // SAFETY: a constant NUL-terminated path; open returns the lowest
        // free descriptor, which is `fd` since the ones below it are open.
        let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if opened != fd {
            eprintln!("memlua: cannot open /dev/null for closed descriptor {fd}");
            return false;
        }
    }
    true
}
