//! The pages behind `mem.alloc` on a real machine: anonymous mappings of
//! this process, so MEM_EXTRACT_PADDR answers for them are about real
//! pages; lock/unlock are mlock/munlock (docs/API.md, `mem.alloc`). Which
//! buffers are live and what an access may do is the buffer table's
//! business (crate::buffers); this only maps, and refuses any address
//! outside its own mappings, so no call can reach other memory.

use std::collections::BTreeMap;

use crate::direct::{load, store};
use crate::{ops, Errno, Error, Result, Width, PAGE_SIZE};

/// The mappings made: base address -> mapped length (whole pages).
#[derive(Default)]
pub struct Mappings {
    live: BTreeMap<u64, u64>,
}

fn os_error(op: &str, what: &str) -> Error {
    let e = std::io::Error::last_os_error();
    Error::new(
        Errno::from_code(e.raw_os_error().unwrap_or(libc::EIO)),
        op,
        format!("{what}: {e}"),
    )
}

impl Mappings {
    pub fn map(&mut self, len: u64) -> Result<u64> {
        let maplen = len
            .checked_add(PAGE_SIZE - 1)
            .filter(|l| *l <= isize::MAX as u64)
            .map(|l| l & !(PAGE_SIZE - 1))
            .ok_or_else(|| {
                Error::new(
                    Errno::ENOMEM,
                    ops::MEM_ALLOC,
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
                ops::MEM_ALLOC,
                &format!("mapping {len} bytes failed"),
            ));
        }
        self.live.insert(p as u64, maplen);
        Ok(p as u64)
    }

    /// The mapped length of the mapping at `base`.
    fn mapping(&self, op: &str, base: u64) -> Result<u64> {
        self.live.get(&base).copied().ok_or_else(|| {
            Error::new(Errno::EINVAL, op, "no buffer of this process starts here").at(base)
        })
    }

    /// `[addr, addr + n)` as a pointer, when one mapping holds all of it.
    fn span(&self, addr: u64, n: u64) -> Result<*mut u8> {
        let inside = self
            .live
            .range(..=addr)
            .next_back()
            .is_some_and(|(&base, &len)| addr - base <= len && n <= len - (addr - base));
        if !inside {
            return Err(Error::new(
                Errno::EFAULT,
                "",
                "not in a buffer of this process (mem.alloc hands them out)",
            )
            .at(addr));
        }
        Ok(addr as *mut u8)
    }

    pub fn read(&self, addr: u64, w: Width) -> Result<u64> {
        let p = self.span(addr, w.bytes())?;
        w.check_aligned(addr, "address")?;
        // SAFETY: inside a live mapping of this process, aligned to `w`.
        Ok(unsafe { load(p, w) })
    }

    pub fn write(&self, addr: u64, w: Width, v: u64) -> Result<()> {
        let p = self.span(addr, w.bytes())?;
        w.check_aligned(addr, "address")?;
        // SAFETY: as in `read`; the mapping is writable.
        unsafe { store(p, w, v & w.mask()) };
        Ok(())
    }

    pub fn read_bytes(&self, addr: u64, out: &mut [u8]) -> Result<()> {
        let p = self.span(addr, out.len() as u64)?;
        // SAFETY: `span` proved `[p, p + out.len())` inside a live mapping,
        // which no Rust reference aliases.
        unsafe { std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> Result<()> {
        let p = self.span(addr, data.len() as u64)?;
        // SAFETY: as in `read_bytes`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    pub fn lock(&self, base: u64) -> Result<()> {
        let maplen = self.mapping(ops::BUFFER_LOCK, base)?;
        // SAFETY: mlock on a live mapping of ours changes no memory.
        if unsafe { libc::mlock(base as *const libc::c_void, maplen as usize) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Error::new(
                Errno::ENOMEM,
                ops::BUFFER_LOCK,
                format!(
                    "mlock of {maplen} bytes failed ({e}): the locked-memory limit \
                     (ulimit -l, RLIMIT_MEMLOCK) is too small, or run as root"
                ),
            )
            .at(base));
        }
        Ok(())
    }

    pub fn unlock(&self, base: u64) -> Result<()> {
        let maplen = self.mapping(ops::BUFFER_UNLOCK, base)?;
        // SAFETY: munlock on a live mapping of ours changes no memory.
        if unsafe { libc::munlock(base as *const libc::c_void, maplen as usize) } != 0 {
            return Err(os_error(ops::BUFFER_UNLOCK, "munlock failed").at(base));
        }
        Ok(())
    }

    pub fn unmap(&mut self, base: u64) -> Result<()> {
        let maplen = self.mapping(ops::BUFFER_FREE, base)?;
        self.live.remove(&base);
        // SAFETY: the mapping is ours and no longer listed, so nothing will
        // touch it again through this backend.
        unsafe { libc::munmap(base as *mut libc::c_void, maplen as usize) };
        Ok(())
    }
}

impl Drop for Mappings {
    fn drop(&mut self) {
        for (&addr, &maplen) in &self.live {
            // SAFETY: as in `unmap`; the backend is going away.
            unsafe { libc::munmap(addr as *mut libc::c_void, maplen as usize) };
        }
    }
}
