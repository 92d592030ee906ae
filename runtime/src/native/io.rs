//! Positioned reads and writes that go on until done or refused, reporting
//! how far they got: mem(4)'s bulk transfers return a short count after
//! progress (mem4.md §2.3), which memlua turns into EFAULT with `done`.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The errno of an io::Error (EIO when it has none).
pub fn os_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Reads `buf.len()` bytes at `off`: the bytes read, and the errno that
/// stopped it early (None at end of file).
pub fn pread_all(f: &File, off: u64, buf: &mut [u8]) -> (usize, Option<i32>) {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], off + done as u64) {
            Ok(0) => return (done, None),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(os_errno(&e))),
        }
    }
    (done, None)
}

/// Writes all of `data` at `off`: the bytes written, and the errno that
/// stopped it early.
pub fn pwrite_all(f: &File, off: u64, data: &[u8]) -> (usize, Option<i32>) {
    let mut done = 0;
    while done < data.len() {
        match f.write_at(&data[done..], off + done as u64) {
            Ok(0) => return (done, Some(libc::EIO)),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(os_errno(&e))),
        }
    }
    (done, None)
}
