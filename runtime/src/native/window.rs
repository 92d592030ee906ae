//! The mmap window cache of the physical device: page-aligned
//! `mmap(MAP_SHARED)` windows of the device (or of the file standing in for
//! it), a few kept at once, and width-exact volatile loads and stores
//! through them (docs/MEM4.md §7: a read32 is one 32-bit load).
//!
//! The page-alignment arithmetic lives here and nowhere else. Callers check
//! a regular file's end before asking for a window, so no access through a
//! window reaches past the end the file had then. Every mapping is under
//! the fault guard (`crate::direct`): a file that shrinks later, or device
//! memory that raises a bus error, faults the access, not the process.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};

use crate::direct::{FaultKind, Registration};
use crate::PAGE_SIZE;

/// How much of the device one cached window covers: accesses near each
/// other share a window, and a window is cheap until touched.
pub const CHUNK: u64 = 1 << 20;
/// How many windows the cache keeps.
const KEEP: usize = 8;

/// One mmap of the device: `[off, off + len)` of the device at `ptr`.
#[derive(Debug)]
pub struct Mapping {
    ptr: *mut u8,
    len: u64,
    off: u64,
    writable: bool,
    guard: Registration,
}

/// How a mapping is to be made.
#[derive(Debug, Clone, Copy)]
pub struct MapSpec {
    pub fd: RawFd,
    pub writable: bool,
    /// What a fault in it means.
    pub kind: FaultKind,
    /// Guard slots that must stay free after this one (`direct::RESERVE`
    /// for windows, so thousands of them leave room for the cache).
    pub reserve: usize,
}

impl Mapping {
    /// Maps `[off, off + len)` of the device (both page-aligned), shared,
    /// read-only unless writable, under the fault guard. The error is the
    /// OS errno (ENOMEM when the guard has no room).
    pub fn new(spec: MapSpec, off: u64, len: u64) -> Result<Mapping, i32> {
        let MapSpec { fd, writable, .. } = spec;
        debug_assert!(off.is_multiple_of(PAGE_SIZE) && len.is_multiple_of(PAGE_SIZE) && len > 0);
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let off_t = libc::off_t::try_from(off).map_err(|_| libc::EOVERFLOW)?;
        // SAFETY: a fresh mapping at an address the kernel picks; no Rust
        // object lives there. The fd is valid for the call.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                prot,
                libc::MAP_SHARED,
                fd,
                off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO));
        }
        let Some(guard) =
            Registration::new(p as *mut u8, len as usize, off, spec.kind, spec.reserve)
        else {
            // SAFETY: the mapping just made, which nothing else knows of.
            unsafe { libc::munmap(p, len as usize) };
            return Err(libc::ENOMEM);
        };
        Ok(Mapping {
            ptr: p as *mut u8,
            len,
            off,
            writable,
            guard,
        })
    }

    /// Whether a fault poisoned it: it must not be used again.
    pub fn poisoned(&self) -> bool {
        self.guard.poisoned()
    }

    /// The address of device offset `addr`, if `[addr, addr + n)` is inside.
    #[inline(always)]
    pub fn ptr_of(&self, addr: u64, n: u64) -> Option<*mut u8> {
        let rel = addr.wrapping_sub(self.off);
        (addr >= self.off && rel <= self.len && n <= self.len - rel)
            // SAFETY: rel + n <= len, so the pointer stays inside the mapping.
            .then(|| unsafe { self.ptr.add(rel as usize) })
    }

    pub fn writable(&self) -> bool {
        self.writable
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Out of the guard first: the handler must never touch addresses
        // that munmap may hand to someone else.
        self.guard.release();
        // SAFETY: ptr/len are exactly what mmap returned; every user of the
        // mapping holds an Rc to it, so nobody can touch it after this.
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len as usize);
        }
    }
}

pub use crate::direct::{load_checked, store_checked};

/// The page-aligned span `[start, end)` covering `[addr, addr + n)`.
pub fn page_span(addr: u64, n: u64) -> (u64, u64) {
    let start = addr & !(PAGE_SIZE - 1);
    let end = addr.saturating_add(n.max(1)).saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    (start, end)
}

/// The mappings of one device: the few that single accesses go through,
/// most recently used first, and every live one by the chunk it starts
/// in, so that windows over the same pages share one mapping (a mapping
/// each, tens of thousands of windows would exhaust vm.max_map_count, and
/// with it the process's ability to allocate anything).
#[derive(Debug, Default)]
pub struct WindowCache {
    maps: Vec<Rc<Mapping>>,
    shared: HashMap<u64, Weak<Mapping>>,
    /// `shared`'s size after its dead entries were last dropped.
    pruned: usize,
}

impl WindowCache {
    /// The cached window holding `[addr, addr + n)`, if one does.
    #[inline(always)]
    pub fn lookup(&mut self, addr: u64, n: u64) -> Option<*mut u8> {
        if let Some(p) = self.maps.first().and_then(|m| m.ptr_of(addr, n)) {
            return Some(p);
        }
        let i = self.maps.iter().position(|m| m.ptr_of(addr, n).is_some())?;
        let m = self.maps.remove(i);
        let p = m.ptr_of(addr, n);
        self.maps.insert(0, m);
        p
    }

    /// A mapping holding `[addr, addr + n)`: a live one that already does
    /// (and no fault poisoned), else the CHUNK around it (to its end when
    /// it runs past the chunk), cut at `limit` (a regular file's size
    /// rounded up to a page) and shared with later callers; or just its
    /// own pages when the device refuses the larger one. The error is the
    /// errno of the smallest attempt.
    pub fn mapping(
        &mut self,
        spec: MapSpec,
        addr: u64,
        n: u64,
        limit: Option<u64>,
    ) -> Result<Rc<Mapping>, i32> {
        let (pstart, pend) = page_span(addr, n);
        let start = addr & !(CHUNK - 1);
        if let Some(m) = self
            .shared
            .get(&start)
            .and_then(Weak::upgrade)
            .filter(|m| !m.poisoned() && m.ptr_of(addr, n).is_some())
        {
            return Ok(m);
        }
        let mut end = start.saturating_add(CHUNK).max(pend);
        if let Some(limit) = limit {
            end = end.min(limit.max(pend));
        }
        let m = match Mapping::new(spec, start, end - start) {
            Ok(m) => Rc::new(m),
            Err(_) if (start, end) != (pstart, pend) => {
                return Ok(Rc::new(Mapping::new(spec, pstart, pend - pstart)?))
            }
            Err(e) => return Err(e),
        };
        self.shared.insert(start, Rc::downgrade(&m));
        if self.shared.len() > 2 * self.pruned + 64 {
            self.shared.retain(|_, m| m.strong_count() > 0);
            self.pruned = self.shared.len();
        }
        Ok(m)
    }

    /// Maps a window holding `[addr, addr + n)` for single accesses (see
    /// `mapping`) and caches it.
    pub fn map(
        &mut self,
        spec: MapSpec,
        addr: u64,
        n: u64,
        limit: Option<u64>,
    ) -> Result<*mut u8, i32> {
        let m = self.mapping(spec, addr, n, limit)?;
        let p = m.ptr_of(addr, n).ok_or(libc::EFAULT)?;
        self.maps.insert(0, m);
        self.maps.truncate(KEEP);
        Ok(p)
    }

    /// Forgets every mapping: none is handed out again (they unmap once no
    /// window holds them).
    pub fn clear(&mut self) {
        self.maps.clear();
        self.shared.clear();
    }

    /// Forgets the windows a fault poisoned.
    pub fn drop_poisoned(&mut self) {
        self.maps.retain(|m| !m.poisoned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_span_covers_the_access() {
        assert_eq!(page_span(0x1234, 4), (0x1000, 0x2000));
        assert_eq!(page_span(0x1ffe, 4), (0x1000, 0x3000));
        assert_eq!(page_span(0x2000, 0x1000), (0x2000, 0x3000));
        assert_eq!(page_span(0, 0), (0, 0x1000));
    }
}
