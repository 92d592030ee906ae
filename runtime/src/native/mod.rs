//! The native backend: the machine's own memory devices (docs/DESIGN.md,
//! docs/MEM4.md §7). Physical memory through a device node or any file standing
//! in for it (`phys`, with the mmap window cache in `window`), kernel
//! memory through /dev/kmem or an ELF core (`kmem`, `kcore`), this
//! process's buffers (`buffers`), and per platform the lookups, ranges and
//! symbols: `linux` (pagemap, mtrr, kallsyms) or `freebsd` (the real
//! mem(4) ioctls, whose ABI `abi` checks on every platform).
//!
//! Read-only unless opened with `write`: every write is then EROFS before
//! anything is touched, and the devices are opened read-only.

pub mod abi;
mod alloc;
mod buffers;
pub mod exit_hook;
mod io;
pub mod iomem;
pub mod kallsyms;
pub mod kcore;
mod kmem;
pub mod mtrr;
#[cfg(target_os = "linux")]
pub mod pagemap;
mod phys;
pub mod window;

pub use alloc::tune_allocator;

#[cfg(any(target_os = "freebsd", memlua_check_freebsd))]
mod freebsd;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "freebsd")]
use freebsd as sys;
#[cfg(target_os = "linux")]
use linux as sys;

// FreeBSD's layer is type-checked on Linux, where CI runs, with
// `RUSTFLAGS="--cfg memlua_check_freebsd" cargo check -p memlua-runtime`
// (.ci/run does): it must offer what linux.rs offers, with the same types.
#[cfg(all(memlua_check_freebsd, not(target_os = "freebsd")))]
const _: () = {
    let _: fn(&Options) -> freebsd::Sys = freebsd::Sys::new;
    let _: fn(&mut freebsd::Sys, &mut [MemExtract]) -> Result<()> = freebsd::Sys::extract;
    let _: fn(&mut freebsd::Sys) -> Result<usize> = freebsd::Sys::range_count;
    let _: fn(&mut freebsd::Sys) -> Result<Vec<MemRangeDesc>> = freebsd::Sys::ranges;
    let _: fn(&mut freebsd::Sys, &MemRangeDesc, RangeOp) -> Result<()> = freebsd::Sys::range_set;
    let _: fn(&mut freebsd::Sys, &str) -> Result<u64> = freebsd::Sys::symbol;
    let _: fn() -> &'static str = freebsd::default_kmem;
};

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use buffers::Mappings;
use kmem::KernelMem;
use phys::PhysDev;

use crate::{
    ops, Backend, DirectMap, Errno, Error, MemExtract, MemRangeDesc, RangeOp, Result, Space, Width,
};

/// What the command line chose (`--mem`, `--kmem`, `-w`), plus the files
/// tests point elsewhere.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Physical memory: a device or a file standing in for it (default
    /// /dev/mem). Paths are the bytes given, UTF-8 or not.
    pub mem: Option<PathBuf>,
    /// Kernel memory (default /dev/kmem, else /proc/kcore on Linux).
    pub kmem: Option<PathBuf>,
    /// Allow writes.
    pub write: bool,
    /// Linux: the symbol table (default /proc/kallsyms).
    pub kallsyms: Option<PathBuf>,
    /// Linux: the MTRR file (default /proc/mtrr).
    pub mtrr: Option<PathBuf>,
}

/// The native backend.
pub struct Native {
    writable: bool,
    /// The physical device, or why it could not be opened (reported by
    /// each access, so a session without /dev/mem can still use kmem,
    /// extract and buffers).
    phys: Result<PhysDev>,
    kmem: Result<KernelMem>,
    sys: sys::Sys,
    buffers: Mappings,
}

impl Native {
    /// Opens the devices. A device named explicitly must open, or this
    /// fails; a default one that is missing fails each access instead.
    pub fn open(opts: &Options) -> Result<Native> {
        let phys = match &opts.mem {
            Some(p) => Ok(PhysDev::open(p, opts.write)?),
            None => PhysDev::open(Path::new("/dev/mem"), opts.write),
        };
        let kmem = match &opts.kmem {
            Some(p) => Ok(KernelMem::open(p, opts.write)?),
            None => KernelMem::open(Path::new(sys::default_kmem()), opts.write),
        };
        Ok(Native {
            writable: opts.write,
            phys,
            kmem,
            sys: sys::Sys::new(opts),
            buffers: Mappings::default(),
        })
    }

    /// Whether kernel memory is an ELF core (read-only).
    pub fn kmem_is_core(&self) -> bool {
        self.kmem.as_ref().is_ok_and(|k| k.is_core())
    }

    fn phys(&mut self) -> Result<&mut PhysDev> {
        self.phys.as_mut().map_err(|e| e.clone())
    }

    fn kmem(&self) -> Result<&KernelMem> {
        self.kmem.as_ref().map_err(|e| e.clone())
    }

    fn check_access(addr: u64, w: Width) -> Result<()> {
        w.check_aligned(addr, "address")
    }

    fn kernel_read(&self, addr: u64, w: Width) -> Result<u64> {
        Self::check_access(addr, w)?;
        let mut b = [0u8; 8];
        self.kmem()?.read(addr, &mut b[..w.bytes() as usize])?;
        Ok(u64::from_le_bytes(b))
    }

    /// EROFS for a write without -w: decided before any device is opened,
    /// so it is the same on every machine (docs/API.md: before anything is
    /// written).
    fn check_writable(&self) -> Result<()> {
        if self.writable {
            return Ok(());
        }
        Err(Error::new(
            Errno::EROFS,
            "",
            "the native backend is read-only: start memlua with -w (--write) to change kernel memory",
        ))
    }

    fn kernel_write(&self, addr: u64, w: Width, v: u64) -> Result<()> {
        self.check_writable()?;
        let k = self.kmem()?;
        if k.is_core() {
            // The device's own refusal words it (EROFS, nothing written).
            return k.write(addr, &[]);
        }
        Self::check_access(addr, w)?;
        let b = (v & w.mask()).to_le_bytes();
        k.write(addr, &b[..w.bytes() as usize])
    }
}

/// Opens what `--mem`/`--kmem` names and refuses, from what was opened,
/// what cannot stand in for a memory device: a FIFO or socket would block
/// or give nothing, a directory has no bytes. Character and block devices
/// and regular files are fine. The open is non-blocking and the check is
/// on the descriptor, so a path swapped for a FIFO after any earlier look
/// cannot hang the open. Character devices get O_SYNC (device memory: no
/// write-back caching between us and it).
fn memory_file(path: &Path, writable: bool, what: &str) -> Result<(File, std::fs::Metadata)> {
    let shown = path.display().to_string();
    let failed = |e: std::io::Error| {
        let code = io::os_errno(&e);
        // A directory opened for writing, a socket opened at all: the
        // open's errno hides what the path is, which its type tells.
        match std::fs::metadata(path) {
            Ok(m) if matches!(code, libc::EISDIR | libc::ENXIO) => {
                not_memory(&shown, m.file_type(), what).unwrap_err()
            }
            _ => phys::open_error(&shown, code, writable, what),
        }
    };
    let open = |flags: i32| {
        OpenOptions::new()
            .read(true)
            .write(writable)
            .custom_flags(libc::O_NONBLOCK | flags)
            .open(path)
    };
    let mut file = open(0).map_err(failed)?;
    let meta = file.metadata().map_err(failed)?;
    not_memory(&shown, meta.file_type(), what)?;
    if meta.file_type().is_char_device() {
        // O_SYNC cannot be added to an open descriptor: open again, and
        // keep the second only if it is the same device.
        let again = open(libc::O_SYNC).map_err(failed)?;
        let m = again.metadata().map_err(failed)?;
        if (m.dev(), m.ino()) != (meta.dev(), meta.ino()) {
            return Err(changed(&shown));
        }
        file = again;
    }
    io::set_blocking(&file).map_err(failed)?;
    Ok((file, meta))
}

/// EINVAL for a file type that cannot stand in for memory.
fn not_memory(path: &str, t: std::fs::FileType, what: &str) -> Result<()> {
    let kind = if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        return Ok(());
    };
    Err(Error::new(
        Errno::EINVAL,
        "open",
        format!("{path} is {kind}, not {what}: give a memory device or a regular file (a memory dump, a PCI BAR's resourceN)"),
    ))
}

/// EBUSY for a path that named another file on a second open.
fn changed(path: &str) -> Error {
    Error::new(
        Errno::EBUSY,
        "open",
        format!("{path} changed while memlua was opening it; try again"),
    )
}

/// A single-width access's error: named and placed, and without the byte
/// count of the bulk path it may have gone through (`e.done` is for bulk
/// transfers only).
fn single_access_error(mut e: Error, op: &str, addr: u64) -> Error {
    e.done = None;
    e.with_op(op).at(addr)
}

impl Backend for Native {
    fn name(&self) -> &str {
        "native"
    }

    fn writable(&self) -> bool {
        self.writable
    }

    #[inline]
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        let r = match space {
            Space::Phys => self.phys().and_then(|p| p.read(addr, w)),
            Space::Kernel => self.kernel_read(addr, w),
            Space::Process => self.buffers.read(addr, w),
        };
        r.map_err(|e| single_access_error(e, ops::access(space, w, false), addr))
    }

    #[inline]
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        let r = w.check_value(v).and_then(|()| match space {
            Space::Phys => self.phys().and_then(|p| p.write(addr, w, v)),
            Space::Kernel => self.kernel_write(addr, w, v),
            // This process's own memory: writable whatever -w says.
            Space::Process => self.buffers.write(addr, w, v),
        });
        r.map_err(|e| single_access_error(e, ops::access(space, w, true), addr))
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        let r = match space {
            Space::Phys => self.phys().and_then(|p| p.read_bytes(addr, buf)),
            Space::Kernel if buf.is_empty() => Ok(()),
            Space::Kernel => self.kmem().and_then(|k| k.read(addr, buf)),
            Space::Process => self.buffers.read_bytes(addr, buf),
        };
        r.map_err(|e| {
            let at = addr.wrapping_add(e.done.unwrap_or(0));
            e.with_op(ops::bulk(space, false)).at(at)
        })
    }

    fn write_bytes(&mut self, space: Space, addr: u64, data: &[u8]) -> Result<()> {
        let r = match space {
            Space::Phys => self.phys().and_then(|p| p.write_bytes(addr, data)),
            Space::Kernel => self
                .check_writable()
                .map_err(|e| e.done(0))
                .and_then(|()| self.kmem())
                .and_then(|k| {
                    if data.is_empty() && !k.is_core() {
                        Ok(())
                    } else {
                        k.write(addr, data)
                    }
                }),
            Space::Process => self.buffers.write_bytes(addr, data),
        };
        r.map_err(|e| {
            let at = addr.wrapping_add(e.done.unwrap_or(0));
            e.with_op(ops::bulk(space, true)).at(at)
        })
    }

    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        self.sys.extract(pages)
    }

    fn range_count(&mut self) -> Result<usize> {
        self.sys.range_count()
    }

    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        self.sys.ranges()
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        self.sys.range_set(d, op)
    }

    fn symbol(&mut self, name: &str) -> Result<u64> {
        self.sys.symbol(name)
    }

    fn process_map(&mut self, len: u64) -> Result<u64> {
        self.buffers.map(len)
    }

    fn process_unmap(&mut self, base: u64, _len: u64) -> Result<()> {
        self.buffers.unmap(base)
    }

    fn process_lock(&mut self, base: u64, _len: u64) -> Result<()> {
        self.buffers.lock(base)
    }

    fn process_unlock(&mut self, base: u64, _len: u64) -> Result<()> {
        self.buffers.unlock(base)
    }

    fn map_direct(&mut self, space: Space, addr: u64, len: u64) -> Option<DirectMap> {
        match space {
            Space::Phys => self.phys.as_mut().ok()?.map_direct(addr, len),
            Space::Kernel | Space::Process => None,
        }
    }
}

/// The /proc/iomem region (or the platform's equivalent) of an address.
fn iomem_region(addr: u64) -> Option<String> {
    #[cfg(target_os = "linux")]
    return sys::iomem_region(addr);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = addr;
        None
    }
}
