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
pub mod aperture;
mod buffers;
pub mod child;
pub mod exit_hook;
mod io;
pub mod iomem;
pub mod kallsyms;
pub mod kcore;
mod kmem;
pub mod mtrr;
#[cfg(target_os = "linux")]
pub mod pagemap;
pub mod pci;
mod phys;
pub mod uio;
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

use aperture::ApertureDev;
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
    /// `--pci BDF[:BAR]`: physical memory is that BAR, at its addresses.
    pub pci: Option<String>,
    /// `--wc`: the BAR's write-combining mapping (`resourceN_wc`).
    pub wc: bool,
    /// `--uio uioN[:mapM]`: physical memory is that UIO map.
    pub uio: Option<String>,
    /// Where sysfs is (default /sys), and the device nodes (default
    /// /dev): the tests point both at fixtures.
    pub sysfs: Option<PathBuf>,
    pub devdir: Option<PathBuf>,
    /// Linux: the physical memory map (default /proc/iomem).
    pub iomem: Option<PathBuf>,
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
    /// `--pci`/`--uio`: physical memory is this aperture, not `phys`.
    aperture: Option<ApertureDev>,
    sysfs: PathBuf,
    iomem: PathBuf,
    warnings: Vec<String>,
}

impl Native {
    /// Opens the devices. A device named explicitly must open, or this
    /// fails; a default one that is missing fails each access instead.
    pub fn open(opts: &Options) -> Result<Native> {
        let sysfs = pci::sysfs_root(opts.sysfs.as_deref());
        let mut warnings = Vec::new();
        let aperture = if let Some(spec) = &opts.pci {
            let (ap, w) = pci::open(&sysfs, spec, opts.wc)?;
            warnings = w;
            Some(ApertureDev::open(ap, opts.write)?)
        } else if let Some(spec) = &opts.uio {
            let devdir = opts.devdir.as_deref().unwrap_or("/dev".as_ref());
            Some(ApertureDev::open(
                uio::open(&sysfs, devdir, spec)?,
                opts.write,
            )?)
        } else {
            None
        };
        let phys = match (&opts.mem, &aperture) {
            (_, Some(a)) => Err(Error::new(
                Errno::EFAULT,
                "",
                format!("this session reaches only {}", a.aperture().what),
            )),
            (Some(p), None) => Ok(PhysDev::open(p, opts.write)?),
            (None, None) => PhysDev::open(Path::new("/dev/mem"), opts.write),
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
            aperture,
            sysfs,
            iomem: opts.iomem.clone().unwrap_or_else(|| "/proc/iomem".into()),
            warnings,
        })
    }

    /// What the user should know before the script runs (a PCI device
    /// that does not decode its BARs).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The aperture `--pci` or `--uio` opened, if any.
    pub fn aperture(&self) -> Option<&aperture::Aperture> {
        self.aperture.as_ref().map(ApertureDev::aperture)
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
            Space::Phys => match &mut self.aperture {
                Some(a) => a.read(addr, w),
                None => self.phys().and_then(|p| p.read(addr, w)),
            },
            Space::Kernel => self.kernel_read(addr, w),
            Space::Process => self.buffers.read(addr, w),
        };
        r.map_err(|e| single_access_error(e, ops::access(space, w, false), addr))
    }

    #[inline]
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        let r = w.check_value(v).and_then(|()| match space {
            Space::Phys => match &mut self.aperture {
                Some(a) => a.write(addr, w, v),
                None => self.phys().and_then(|p| p.write(addr, w, v)),
            },
            Space::Kernel => self.kernel_write(addr, w, v),
            // This process's own memory: writable whatever -w says.
            Space::Process => self.buffers.write(addr, w, v),
        });
        r.map_err(|e| single_access_error(e, ops::access(space, w, true), addr))
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        let r = match space {
            Space::Phys => match &mut self.aperture {
                Some(a) => a.read_bytes(addr, buf),
                None => self.phys().and_then(|p| p.read_bytes(addr, buf)),
            },
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
            Space::Phys => match &mut self.aperture {
                Some(a) => a.write_bytes(addr, data),
                None => self.phys().and_then(|p| p.write_bytes(addr, data)),
            },
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
            Space::Phys => match &mut self.aperture {
                Some(a) => a.map_direct(addr, len),
                None => self.phys.as_mut().ok()?.map_direct(addr, len),
            },
            Space::Kernel | Space::Process => None,
        }
    }

    /// A PCI device (`0000:00:02.0`, `0000:00:02.0:1`) or an /proc/iomem
    /// name (every region so named).
    fn region(&mut self, name: &str) -> Result<Vec<(u64, u64)>> {
        if name.contains(':') {
            return pci::regions(&self.sysfs, name);
        }
        let text = std::fs::read_to_string(&self.iomem).map_err(|e| {
            Error::new(
                Errno::ENOENT,
                "region",
                format!(
                    "'{name}' is not a PCI address, and {} cannot be read to look it up: {e}",
                    self.iomem.display()
                ),
            )
        })?;
        let all = iomem::parse(&text);
        let found: Vec<&iomem::IomemRegion> = all.iter().filter(|r| r.name == name).collect();
        if found.is_empty() {
            return Err(Error::new(
                Errno::ENOENT,
                "region",
                format!(
                    "no region of {} is named '{name}' (names are matched whole: \
                     'System RAM', '0000:00:02.0', a driver's name)",
                    self.iomem.display()
                ),
            ));
        }
        if found.iter().all(|r| r.start == 0 && r.end == 0) {
            return Err(Error::new(
                Errno::EACCES,
                "region",
                format!(
                    "{} shows every address as 0 to users other than root: run as root to \
                     allow '{name}' by name",
                    self.iomem.display()
                ),
            ));
        }
        Ok(found
            .iter()
            .map(|r| (r.start, r.end.wrapping_sub(r.start).wrapping_add(1)))
            .collect())
    }

    fn wait_irq(&mut self, timeout: Option<std::time::Duration>) -> Result<Option<u32>> {
        match &mut self.aperture {
            Some(a) => a.wait_irq(timeout),
            None => Err(Error::new(
                Errno::EOPNOTSUPP,
                ops::UIO_WAIT_IRQ,
                "the native backend waits for interrupts only on a UIO device: start memlua \
                 with --uio uioN",
            )),
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
