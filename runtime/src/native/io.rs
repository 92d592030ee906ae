//! Positioned reads and writes that go on until done or refused, reporting
//! how far they got: mem(4)'s bulk transfers return a short count after
//! progress (docs/MEM4.md §2.3), which memlua turns into EFAULT with `done`.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// The errno of an io::Error (EIO when it has none).
pub fn os_errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// Clears O_NONBLOCK, which the open of a memory file used only so that
/// a FIFO could not make it wait.
pub fn set_blocking(f: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    // SAFETY: fcntl on a descriptor this File owns; no memory involved.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags == -1 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Fills `buf` with `read(rest, done)` calls until it is full or refused:
/// the bytes read, and the errno that stopped it early (None at end of
/// file).
fn read_loop(
    buf: &mut [u8],
    mut read: impl FnMut(&mut [u8], usize) -> std::io::Result<usize>,
) -> (usize, Option<i32>) {
    let mut done = 0;
    while done < buf.len() {
        match read(&mut buf[done..], done) {
            Ok(0) => return (done, None),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(os_errno(&e))),
        }
    }
    (done, None)
}

/// Writes all of `data` with `write(rest, done)` calls: the bytes written,
/// and the errno that stopped it early.
fn write_loop(
    data: &[u8],
    mut write: impl FnMut(&[u8], usize) -> std::io::Result<usize>,
) -> (usize, Option<i32>) {
    let mut done = 0;
    while done < data.len() {
        match write(&data[done..], done) {
            Ok(0) => return (done, Some(libc::EIO)),
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(os_errno(&e))),
        }
    }
    (done, None)
}

/// Reads `buf.len()` bytes at `off`: the bytes read, and the errno that
/// stopped it early (None at end of file).
pub fn pread_all(f: &File, off: u64, buf: &mut [u8]) -> (usize, Option<i32>) {
    read_loop(buf, |rest, done| f.read_at(rest, off + done as u64))
}

/// Writes all of `data` at `off`: the bytes written, and the errno that
/// stopped it early.
pub fn pwrite_all(f: &File, off: u64, data: &[u8]) -> (usize, Option<i32>) {
    write_loop(data, |rest, done| f.write_at(rest, off + done as u64))
}

/// Moves the file position to `off` taken as unsigned: Linux's /dev/kmem
/// takes kernel addresses (above 2^63, negative as an off_t) through lseek,
/// while pread refuses every negative offset.
///
/// Offset 2^64-1 is -1 as an off_t, which is also lseek's failure: errno,
/// cleared first, tells them apart (a regular file refuses it with EINVAL;
/// taking that for success would read or write at the old position).
fn seek_to(f: &File, off: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let at = off as libc::off_t;
    // SAFETY: errno is this thread's; lseek on a descriptor this File
    // owns, no memory involved.
    let r = unsafe {
        *errno_location() = 0;
        libc::lseek(f.as_raw_fd(), at, libc::SEEK_SET)
    };
    if r == -1 {
        let e = std::io::Error::last_os_error();
        if at != -1 || e.raw_os_error() != Some(0) {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(target_os = "linux")]
unsafe fn errno_location() -> *mut libc::c_int {
    // SAFETY: glibc/musl's pointer to this thread's errno.
    unsafe { libc::__errno_location() }
}

#[cfg(not(target_os = "linux"))]
unsafe fn errno_location() -> *mut libc::c_int {
    // SAFETY: FreeBSD's (and the BSDs') pointer to this thread's errno.
    unsafe { libc::__error() }
}

/// `pread_all` through lseek and read, for devices with unsigned offsets.
pub fn seek_read_all(f: &File, off: u64, buf: &mut [u8]) -> (usize, Option<i32>) {
    use std::io::Read;
    read_loop(buf, |rest, done| {
        seek_to(f, off.wrapping_add(done as u64))?;
        (&*f).read(rest)
    })
}

/// `pwrite_all` through lseek and write, for devices with unsigned offsets.
pub fn seek_write_all(f: &File, off: u64, data: &[u8]) -> (usize, Option<i32>) {
    use std::io::Write;
    write_loop(data, |rest, done| {
        seek_to(f, off.wrapping_add(done as u64))?;
        (&*f).write(rest)
    })
}
