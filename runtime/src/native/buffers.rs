//! `mem.alloc` on a real machine: anonymous mappings of this process, so
//! MEM_EXTRACT_PADDR answers for them are about real pages; lock/unlock
//! are mlock/munlock (API.md, `mem.alloc`).

use std::collections::HashMap;

use super::window::{load, store};
use crate::{Buffer, Errno, Error, Result, Width, PAGE_SIZE};

/// The live buffers: base address -> (length asked for, mapped length).
#[derive(Default)]
pub struct Buffers {
    live: HashMap<u64, (u64, u64)>,
}

fn no_buffer(op: &str, buf: u64) -> Error {
    Error::new(
        Errno::EINVAL,
        op,
        "no live buffer here: it was freed or never allocated",
    )
    .at(buf)
}

fn os_error(op: &str, what: &str) -> Error {
    let e = std::io::Error::last_os_error();
    Error::new(
        Errno::from_code(e.raw_os_error().unwrap_or(libc::EIO)),
        op,
        format!("{what}: {e}"),
    )
}

impl Buffers {
    pub fn alloc(&mut self, len: u64) -> Result<Buffer> {
        if len == 0 {
            return Err(Error::new(
                Errno::EINVAL,
                "mem.alloc",
                "a buffer needs a length above 0",
            ));
        }
        let maplen = len
            .checked_add(PAGE_SIZE - 1)
            .filter(|l| *l <= isize::MAX as u64)
            .map(|l| l & !(PAGE_SIZE - 1))
            .ok_or_else(|| {
                Error::new(
                    Errno::ENOMEM,
                    "mem.alloc",
                    format!("{len} bytes cannot be mapped"),
                )
            })?;
        // SAFETY: a fresh private anonymous mapping; nothing else uses it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                maplen as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os_error(
                "mem.alloc",
                &format!("mapping {len} bytes failed"),
            ));
        }
        let addr = p as u64;
        self.live.insert(addr, (len, maplen));
        Ok(Buffer { addr, len })
    }

    /// The address of `[off, off + n)` in buffer `buf`.
    fn span(&self, op: &str, buf: u64, off: u64, n: u64) -> Result<*mut u8> {
        let &(len, _) = self.live.get(&buf).ok_or_else(|| no_buffer(op, buf))?;
        if off.checked_add(n).is_none_or(|e| e > len) {
            return Err(Error::new(
                Errno::EINVAL,
                op,
                format!("offset {off:#x} + {n} bytes is past the end of the {len}-byte buffer"),
            )
            .at(buf.wrapping_add(off)));
        }
        Ok((buf + off) as *mut u8)
    }

    fn aligned(op: &str, addr: *mut u8, w: Width) -> Result<()> {
        w.check_aligned(addr as u64, "address")
            .map_err(|e| e.with_op(op).at(addr as u64))
    }

    pub fn read(&self, buf: u64, off: u64, w: Width) -> Result<u64> {
        let op = format!("buffer.read{}", w.bits());
        let p = self.span(&op, buf, off, w.bytes())?;
        Self::aligned(&op, p, w)?;
        // SAFETY: inside a live mapping of this process, aligned to `w`.
        Ok(unsafe { load(p, w) })
    }

    pub fn write(&self, buf: u64, off: u64, w: Width, v: u64) -> Result<()> {
        let op = format!("buffer.write{}", w.bits());
        let p = self.span(&op, buf, off, w.bytes())?;
        if !w.fits(v) {
            return Err(Error::new(
                Errno::EINVAL,
                op,
                format!("value {v:#x} does not fit in {} bits", w.bits()),
            )
            .at(p as u64));
        }
        Self::aligned(&op, p, w)?;
        // SAFETY: as in `read`; the mapping is writable.
        unsafe { store(p, w, v & w.mask()) };
        Ok(())
    }

    pub fn read_bytes(&self, buf: u64, off: u64, out: &mut [u8]) -> Result<()> {
        let p = self.span("buffer.read", buf, off, out.len() as u64)?;
        // SAFETY: `span` proved `[p, p + out.len())` inside a live mapping,
        // which no Rust reference aliases.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    pub fn write_bytes(&self, buf: u64, off: u64, data: &[u8]) -> Result<()> {
        let p = self.span("buffer.write", buf, off, data.len() as u64)?;
        // SAFETY: as in `read_bytes`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    pub fn lock(&self, buf: u64) -> Result<()> {
        let &(_, maplen) = self
            .live
            .get(&buf)
            .ok_or_else(|| no_buffer("buffer.lock", buf))?;
        // SAFETY: mlock on a live mapping of ours changes no memory.
        if unsafe { libc::mlock(buf as *const libc::c_void, maplen as usize) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::new(
                Errno::ENOMEM,
                "buffer.lock",
                format!(
                    "mlock of {maplen} bytes failed ({e}): the locked-memory limit \
                     (ulimit -l, RLIMIT_MEMLOCK) is too small, or run as root"
                ),
            )
            .at(buf));
        }
        Ok(())
    }

    pub fn unlock(&self, buf: u64) -> Result<()> {
        let &(_, maplen) = self
            .live
            .get(&buf)
            .ok_or_else(|| no_buffer("buffer.unlock", buf))?;
        // SAFETY: munlock on a live mapping of ours changes no memory.
        if unsafe { libc::munlock(buf as *const libc::c_void, maplen as usize) } != 0 {
            return Err(os_error("buffer.unlock", "munlock failed").at(buf));
        }
        Ok(())
    }

    pub fn free(&mut self, buf: u64) -> Result<()> {
        let (_, maplen) = self
            .live
            .remove(&buf)
            .ok_or_else(|| no_buffer("buffer.free", buf))?;
        // SAFETY: the mapping is ours and no longer listed, so nothing will
        // touch it again through this backend.
        unsafe { libc::munmap(buf as *mut libc::c_void, maplen as usize) };
        Ok(())
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        for (&addr, &(_, maplen)) in &self.live {
            // SAFETY: as in `free`; the backend is going away.
            unsafe { libc::munmap(addr as *mut libc::c_void, maplen as usize) };
        }
    }
}
