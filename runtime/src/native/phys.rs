//! Physical memory through a device node or any file standing in for it
//! (`--mem PATH`, default /dev/mem): single accesses through the mmap
//! window cache, bulk transfers with pread/pwrite (docs/MEM4.md §2, §7).
//!
//! Everything that can be refused is refused before the device is touched:
//! a write on a read-only session (EROFS), a misaligned access (EINVAL),
//! an access past the end of a regular file (EFAULT, checked with fstat).
//! What changes later (a file another program shrinks, device memory that
//! raises a bus error) faults the access under the guard of
//! `crate::direct`: EFAULT or EIO for that access, and the poisoned
//! mapping is dropped, so the next access maps afresh.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::rc::Rc;

use super::io::{pread_all, pwrite_all};
use super::window::{self, page_span, MapSpec, Mapping, WindowCache};
use crate::direct::{Fault, FaultKind, RESERVE};
use crate::{DirectMap, Errno, Error, Result, Width};

/// The physical memory device of a native session.
pub struct PhysDev {
    file: File,
    path: String,
    writable: bool,
    /// A regular file's size (re-read when an access goes past it); None
    /// for devices, which have no end.
    size: Option<u64>,
    cache: WindowCache,
    /// The last dedicated mapping handed out: a loop of large reads over
    /// the same range maps it once, not once per read.
    last_direct: Option<Rc<Mapping>>,
}

/// The error for opening a device without the right to.
pub fn open_error(path: &str, code: i32, writable: bool, what: &str) -> Error {
    let mode = if writable { "read-write" } else { "read-only" };
    match code {
        libc::EACCES | libc::EPERM => Error::new(
            Errno::EACCES,
            "open",
            format!(
                "cannot open {path} {mode}: permission denied; {what} needs root \
                 (or CAP_SYS_RAWIO and read{} access to {path})",
                if writable { "-write" } else { "" }
            ),
        ),
        libc::ENOENT => Error::new(
            Errno::ENOENT,
            "open",
            format!("{path} does not exist on this machine"),
        ),
        libc::EROFS => Error::new(
            Errno::EROFS,
            "open",
            format!("{path} is on a read-only file system; leave out -w to read it"),
        ),
        c => Error::new(
            Errno::from_code(c),
            "open",
            format!(
                "cannot open {path} {mode}: {}",
                std::io::Error::from_raw_os_error(c)
            ),
        ),
    }
}

impl PhysDev {
    /// Opens `path` read-only, or read-write when `writable`.
    pub fn open(path: &Path, writable: bool) -> Result<PhysDev> {
        let (file, meta) = super::memory_file(path, writable, "physical memory")?;
        let size = meta.file_type().is_file().then_some(meta.len());
        Ok(PhysDev {
            file,
            path: path.display().to_string(),
            writable,
            size,
            cache: WindowCache::default(),
            last_direct: None,
        })
    }

    /// EFAULT unless `[addr, addr + n)` lies inside a regular file (its
    /// size is read again before refusing: the file may have grown).
    fn check_end(&mut self, addr: u64, n: u64) -> Result<()> {
        let Some(size) = self.size else {
            return if addr.checked_add(n).is_some_and(|e| e <= i64::MAX as u64) {
                Ok(())
            } else {
                Err(Error::new(
                    Errno::EFAULT,
                    "",
                    "the address is beyond what a device offset can express",
                ))
            };
        };
        let end = addr.checked_add(n);
        if end.is_some_and(|e| e <= size) {
            return Ok(());
        }
        if let Ok(m) = self.file.metadata() {
            self.size = Some(m.len());
            self.cache.clear();
            self.last_direct = None;
            if end.is_some_and(|e| e <= m.len()) {
                return Ok(());
            }
        }
        let size = self.size.unwrap_or(size);
        Err(Error::new(
            Errno::EFAULT,
            "",
            format!(
                "the address is past the end of {} ({size:#x} bytes): there is no memory there",
                self.path
            ),
        ))
    }

    /// The error for a device refusing an access at `addr` with `code`.
    fn refused(&self, addr: u64, code: i32) -> Error {
        match code {
            libc::EPERM => {
                let region = super::iomem_region(addr);
                Error::new(
                    Errno::EPERM,
                    "",
                    match region {
                        Some(r) => format!(
                            "the kernel refused {}: the address is in '{r}' (/proc/iomem), which \
                             CONFIG_STRICT_DEVMEM keeps from /dev/mem (boot with iomem=relaxed, or \
                             a kernel without STRICT_DEVMEM, to reach it)",
                            self.path
                        ),
                        None => format!(
                            "the kernel refused {} at this address (CONFIG_STRICT_DEVMEM keeps \
                             System RAM from /dev/mem; /proc/iomem, read as root, names the region)",
                            self.path
                        ),
                    },
                )
            }
            libc::EACCES => Error::new(
                Errno::EACCES,
                "",
                format!(
                    "no permission to map {}; it needs root or CAP_SYS_RAWIO",
                    self.path
                ),
            ),
            libc::ENOMEM => Error::new(
                Errno::ENOMEM,
                "",
                "out of address space mapping a window of the device",
            ),
            libc::EROFS => Error::new(Errno::EROFS, "", "the device is read-only"),
            _ => Error::new(
                Errno::EFAULT,
                "",
                format!(
                    "{} has no memory the kernel will give at this address ({})",
                    self.path,
                    std::io::Error::from_raw_os_error(code)
                ),
            ),
        }
    }

    fn read_only(&self) -> Error {
        Error::new(
            Errno::EROFS,
            "",
            format!(
                "the native backend is read-only: start memlua with -w (--write) to change {}",
                self.path
            ),
        )
    }

    /// The pointer for one access of `w` at `addr`, after every check.
    #[inline]
    fn access(&mut self, addr: u64, w: Width, write: bool) -> Result<*mut u8> {
        if write && !self.writable {
            return Err(self.read_only());
        }
        w.check_aligned(addr, "address")?;
        // A cached mapping covers whole pages, so the last page of a file
        // reaches past its end: bytes that do not exist (they would read 0
        // and writes would vanish). Check the end first.
        let end = addr.checked_add(w.bytes());
        if self.size.is_some_and(|size| end.is_none_or(|e| e > size)) {
            self.check_end(addr, w.bytes())?;
        }
        if let Some(p) = self.cache.lookup(addr, w.bytes()) {
            return Ok(p);
        }
        self.check_end(addr, w.bytes())?;
        let limit = self.size.map(|s| page_span(0, s).1);
        let spec = self.spec(0);
        self.cache
            .map(spec, addr, w.bytes(), limit)
            .map_err(|code| self.refused(addr, code))
    }

    /// How this device's mappings are made; `reserve` as in MapSpec.
    fn spec(&self, reserve: usize) -> MapSpec {
        MapSpec {
            fd: self.file.as_raw_fd(),
            writable: self.writable,
            kind: if self.size.is_some() {
                FaultKind::File
            } else {
                FaultKind::Device
            },
            reserve,
        }
    }

    /// One access of `w` at `addr` through a cached window: `op` loads or
    /// stores at the pointer it is given.
    #[inline(always)]
    fn through_window<T>(
        &mut self,
        addr: u64,
        w: Width,
        write: bool,
        op: impl Fn(*mut u8) -> std::result::Result<T, Fault>,
    ) -> Result<T> {
        let p = self.access(addr, w, write)?;
        match op(p) {
            Ok(v) => Ok(v),
            Err(f) => self.after_fault(addr, w, write, f, op),
        }
    }

    /// The access faulted: the poisoned mapping goes. One that only met
    /// the poison of an earlier fault never reached memory, and is tried
    /// once more through a fresh mapping (which sees the file's new end).
    #[cold]
    #[inline(never)]
    fn after_fault<T>(
        &mut self,
        addr: u64,
        w: Width,
        write: bool,
        mut f: Fault,
        op: impl Fn(*mut u8) -> std::result::Result<T, Fault>,
    ) -> Result<T> {
        self.forget_poisoned();
        if f.earlier {
            let p = self.access(addr, w, write)?;
            match op(p) {
                Ok(v) => return Ok(v),
                Err(again) => {
                    self.forget_poisoned();
                    f = again;
                }
            }
        }
        Err(self.fault_error(f))
    }

    /// Drops every mapping a fault poisoned, and reads a file's size again.
    fn forget_poisoned(&mut self) {
        self.cache.drop_poisoned();
        if self.last_direct.as_ref().is_some_and(|m| m.poisoned()) {
            self.last_direct = None;
        }
        if self.size.is_some() {
            if let Ok(m) = self.file.metadata() {
                if Some(m.len()) != self.size {
                    self.size = Some(m.len());
                    self.cache.clear();
                    self.last_direct = None;
                }
            }
        }
    }

    /// The error for a fault, naming the device.
    fn fault_error(&self, f: Fault) -> Error {
        match (f.kind, self.size) {
            (FaultKind::File, Some(size)) => Error::new(
                Errno::EFAULT,
                "",
                format!(
                    "{} no longer reaches this address: another program shrank it (to {size:#x} \
                     bytes) while memlua had it mapped; nothing was read or written",
                    self.path
                ),
            ),
            (FaultKind::Device, _) => Error::new(
                Errno::EIO,
                "",
                format!(
                    "{} raised a bus error at this address: nothing answers there (an unclaimed \
                     or powered-down region, such as a PCI BAR no device decodes)",
                    self.path
                ),
            ),
            _ => f.error(),
        }
    }

    #[inline]
    pub fn read(&mut self, addr: u64, w: Width) -> Result<u64> {
        self.through_window(addr, w, false, |p| {
            // SAFETY: `access` returned a pointer inside a live cached
            // mapping, valid for `w` bytes and aligned (the mapping is
            // page-aligned and the address is aligned to `w`).
            unsafe { window::load_checked(p, w) }
        })
    }

    #[inline]
    pub fn write(&mut self, addr: u64, w: Width, v: u64) -> Result<()> {
        self.through_window(addr, w, true, |p| {
            // SAFETY: as in `read`; the mapping is writable since the
            // session is (checked by `access`).
            unsafe { window::store_checked(p, w, v & w.mask()) }
        })
    }

    /// Bulk read; a failure part-way is EFAULT with `done` bytes moved.
    pub fn read_bytes(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.check_end(addr, buf.len() as u64)
            .map_err(|e| e.done(0))?;
        let done = pread_all(&self.file, addr, buf);
        self.bulk_outcome(addr, buf.len(), done)
    }

    /// Bulk write; refused before anything moves on a read-only session.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        if !self.writable {
            return Err(self.read_only().done(0));
        }
        if data.is_empty() {
            return Ok(());
        }
        self.check_end(addr, data.len() as u64)
            .map_err(|e| e.done(0))?;
        let done = pwrite_all(&self.file, addr, data);
        self.bulk_outcome(addr, data.len(), done)
    }

    fn bulk_outcome(&self, addr: u64, len: usize, done: (usize, Option<i32>)) -> Result<()> {
        match done {
            (n, None) if n == len => Ok(()),
            (n, code) => {
                let at = addr + n as u64;
                let e = match code {
                    Some(c) => self.refused(at, c),
                    None => {
                        Error::new(Errno::EFAULT, "", format!("{} ended at {at:#x}", self.path))
                    }
                };
                Err(e.done(n as u64))
            }
        }
    }

    /// A dedicated mapping of `[addr, addr + len)` for a window, if the
    /// whole span can be mapped now (inside a regular file's end, as the
    /// file is now: one that shrank since is noticed here).
    pub fn map_direct(&mut self, addr: u64, len: u64) -> Option<DirectMap> {
        // One fstat serves both: the size as it is now, and whether a bulk
        // read may copy straight from the mapping, which only a regular
        // file with every byte allocated allows (reading a hole through a
        // mapping makes tmpfs allocate the page, SIGBUS when it is full,
        // where pread just returns zeros).
        let mut copyable = false;
        if self.size.is_some() {
            if let Ok(m) = self.file.metadata() {
                if Some(m.len()) != self.size {
                    self.size = Some(m.len());
                    self.cache.clear();
                    self.last_direct = None;
                }
                copyable =
                    std::os::unix::fs::MetadataExt::blocks(&m).saturating_mul(512) >= m.len();
            }
        }
        self.check_end(addr, len).ok()?;
        // Shared with every window and cached access over the same pages.
        // None when the mapping fails (out of address space, or of guard
        // slots): the window then goes through read and write, and a
        // failure there is an error the script can catch.
        let limit = self.size.map(|s| page_span(0, s).1);
        let spec = self.spec(RESERVE);
        let m = self.cache.mapping(spec, addr, len, limit).ok()?;
        self.last_direct = Some(m.clone());
        let ptr = m.ptr_of(addr, len)?;
        Some(DirectMap {
            ptr,
            len,
            writable: m.writable(),
            copyable,
            keep: m,
        })
    }
}
