//! One device aperture at its physical addresses: a PCI BAR (`--pci`) or
//! a UIO map (`--uio`). Scripts use the physical addresses the kernel
//! gives for it; an address outside is EFAULT naming the aperture.
//!
//! Memory is mapped whole once, at open (a UIO map can only be mapped from
//! its first page, and a sysfs BAR file cannot be read with pread), and
//! every access, single or bulk, goes through that guarded mapping: a bus
//! error is EIO for the access. An I/O-port BAR cannot be mapped: each
//! access is one pread or pwrite of 1, 2 or 4 bytes, which the kernel
//! turns into one port access. EPERM is explained (kernel lockdown).

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use super::window::{page_span, MapSpec, Mapping};
use crate::direct::{self, FaultKind};
use crate::{ops, DirectMap, Errno, Error, Result, Width};

/// What to open: where it is and where it sits in physical memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aperture {
    /// `BAR 0 of 0000:00:02.0`, `map0 of uio0 (name)`: for messages.
    pub what: String,
    /// `resource0`, `resource0_wc`, `/dev/uio0`.
    pub path: PathBuf,
    /// The physical address of its first byte, and its length.
    pub phys: u64,
    pub len: u64,
    /// The (page-aligned) file offset its mapping starts at.
    pub map_offset: u64,
    /// Where its first byte lies in that mapping (a UIO map's offset).
    pub skip: u64,
    /// I/O ports: pread/pwrite, no mapping.
    pub port_io: bool,
    /// A UIO device: reads of the file wait for interrupts.
    pub irq: bool,
    /// Why EPERM may have happened (kernel lockdown).
    pub eperm: String,
}

pub struct ApertureDev {
    ap: Aperture,
    file: File,
    writable: bool,
    map: Option<Rc<Mapping>>,
}

fn errno_of(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

impl ApertureDev {
    pub fn open(ap: Aperture, writable: bool) -> Result<ApertureDev> {
        let shown = ap.path.display().to_string();
        let file = OpenOptions::new()
            .read(true)
            .write(writable)
            .open(&ap.path)
            .map_err(|e| ap.refused("open", &format!("cannot open {shown}"), errno_of(&e)))?;
        let mut dev = ApertureDev {
            ap,
            file,
            writable,
            map: None,
        };
        if !dev.ap.port_io {
            dev.map = Some(Rc::new(dev.map_whole()?));
        }
        Ok(dev)
    }

    fn map_whole(&self) -> Result<Mapping> {
        let ap = &self.ap;
        let end = ap.skip.checked_add(ap.len).ok_or_else(|| self.too_big())?;
        let meta = self.file.metadata().ok();
        if let Some(m) = meta.filter(|m| m.file_type().is_file()) {
            // sysfs gives a BAR file the BAR's size; a file standing in
            // for one must be as long, or the mapping would fault.
            if m.len() < ap.map_offset + end {
                return Err(Error::new(
                    Errno::EINVAL,
                    "open",
                    format!(
                        "{} is {:#x} bytes, shorter than {} ({:#x} bytes)",
                        ap.path.display(),
                        m.len(),
                        ap.what,
                        ap.len
                    ),
                ));
            }
        }
        let (_, map_len) = page_span(0, end);
        let spec = MapSpec {
            fd: self.file.as_raw_fd(),
            writable: self.writable,
            kind: FaultKind::Device,
            reserve: 0,
        };
        Mapping::new(spec, ap.map_offset, map_len).map_err(|code| {
            ap.refused(
                "open",
                &format!("cannot map {} ({})", ap.what, ap.path.display()),
                code,
            )
        })
    }

    fn too_big(&self) -> Error {
        Error::new(
            Errno::EINVAL,
            "open",
            format!("{} runs past the end of the address space", self.ap.what),
        )
    }

    pub fn aperture(&self) -> &Aperture {
        &self.ap
    }

    /// The offset of `[addr, addr + n)` in the aperture, or EFAULT.
    #[inline]
    fn offset(&self, addr: u64, n: u64) -> Result<u64> {
        let rel = addr.wrapping_sub(self.ap.phys);
        if addr >= self.ap.phys && rel <= self.ap.len && n <= self.ap.len - rel {
            return Ok(rel);
        }
        Err(Error::new(
            Errno::EFAULT,
            "",
            format!(
                "the address is outside {} ({:#x}-{:#x}), the only memory this session reaches",
                self.ap.what,
                self.ap.phys,
                self.ap.phys + self.ap.len - 1
            ),
        ))
    }

    fn check_write(&self) -> Result<()> {
        if self.writable {
            return Ok(());
        }
        Err(Error::new(
            Errno::EROFS,
            "",
            format!(
                "the native backend is read-only: start memlua with -w (--write) to change {}",
                self.ap.what
            ),
        ))
    }

    /// The pointer to aperture offset `rel` (inside: checked by `offset`).
    #[inline]
    fn ptr(&self, rel: u64) -> Option<*mut u8> {
        self.map
            .as_ref()?
            .ptr_of(self.ap.map_offset + self.ap.skip + rel, 1)
    }

    fn port_width(&self, w: Width) -> Result<()> {
        if w == Width::W64 {
            return Err(Error::new(
                Errno::EINVAL,
                "",
                format!(
                    "{} is an I/O-port BAR, not memory: ports are 8, 16 or 32 bits wide",
                    self.ap.what
                ),
            ));
        }
        Ok(())
    }

    fn fault(&self, f: direct::Fault) -> Error {
        Error::new(
            Errno::EIO,
            "",
            format!(
                "{} raised a bus error: nothing answers there (a device that is off, or was \
                 removed)",
                self.ap.what
            ),
        )
        .at(f.addr)
    }

    pub fn read(&mut self, addr: u64, w: Width) -> Result<u64> {
        w.check_aligned(addr, "address")?;
        let rel = self.offset(addr, w.bytes())?;
        if self.ap.port_io {
            self.port_width(w)?;
            let mut b = [0u8; 8];
            self.port_read(rel, &mut b[..w.bytes() as usize])?;
            return Ok(u64::from_le_bytes(b));
        }
        let p = self.ptr(rel).ok_or_else(|| self.lost())?;
        // SAFETY: `p` is inside the live whole mapping (offset checked the
        // span), aligned to `w` (the address is, and the mapping starts
        // on a page; a UIO map's offset keeps the physical alignment).
        unsafe { direct::load_checked(p, w) }.map_err(|f| self.fault(f))
    }

    pub fn write(&mut self, addr: u64, w: Width, v: u64) -> Result<()> {
        self.check_write()?;
        w.check_aligned(addr, "address")?;
        let rel = self.offset(addr, w.bytes())?;
        if self.ap.port_io {
            self.port_width(w)?;
            let b = (v & w.mask()).to_le_bytes();
            return self.port_write(rel, &b[..w.bytes() as usize]);
        }
        let p = self.ptr(rel).ok_or_else(|| self.lost())?;
        // SAFETY: as in `read`; the mapping is writable since the session is.
        unsafe { direct::store_checked(p, w, v & w.mask()) }.map_err(|f| self.fault(f))
    }

    fn lost(&self) -> Error {
        Error::new(Errno::EIO, "", format!("{} is not mapped", self.ap.what))
    }

    fn port_read(&self, rel: u64, buf: &mut [u8]) -> Result<()> {
        match self.file.read_at(buf, rel) {
            Ok(n) if n == buf.len() => Ok(()),
            Ok(_) => Err(Error::new(
                Errno::EIO,
                "",
                format!("{} gave a short read", self.ap.what),
            )),
            Err(e) => Err(self
                .ap
                .refused("", "the port read was refused", errno_of(&e))),
        }
    }

    fn port_write(&self, rel: u64, buf: &[u8]) -> Result<()> {
        match self.file.write_at(buf, rel) {
            Ok(n) if n == buf.len() => Ok(()),
            Ok(_) => Err(Error::new(
                Errno::EIO,
                "",
                format!("{} took a short write", self.ap.what),
            )),
            Err(e) => Err(self
                .ap
                .refused("", "the port write was refused", errno_of(&e))),
        }
    }

    /// Bulk transfers: in aligned 4-byte pieces where they fit (device
    /// memory wants no wider or unaligned accesses), bytes at the edges.
    fn pieces(addr: u64, len: usize) -> impl Iterator<Item = (usize, Width)> {
        let mut pos = 0usize;
        std::iter::from_fn(move || {
            if pos >= len {
                return None;
            }
            let a = addr + pos as u64;
            let w = if a.is_multiple_of(4) && len - pos >= 4 {
                Width::W32
            } else {
                Width::W8
            };
            let at = pos;
            pos += w.bytes() as usize;
            Some((at, w))
        })
    }

    pub fn read_bytes(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.offset(addr, buf.len() as u64).map_err(|e| e.done(0))?;
        for (pos, w) in Self::pieces(addr, buf.len()) {
            let n = w.bytes() as usize;
            let v = self
                .read(addr + pos as u64, w)
                .map_err(|e| e.done(pos as u64))?;
            buf[pos..pos + n].copy_from_slice(&v.to_le_bytes()[..n]);
        }
        Ok(())
    }

    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.check_write().map_err(|e| e.done(0))?;
        if data.is_empty() {
            return Ok(());
        }
        self.offset(addr, data.len() as u64)
            .map_err(|e| e.done(0))?;
        for (pos, w) in Self::pieces(addr, data.len()) {
            let n = w.bytes() as usize;
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&data[pos..pos + n]);
            self.write(addr + pos as u64, w, u64::from_le_bytes(b))
                .map_err(|e| e.done(pos as u64))?;
        }
        Ok(())
    }

    /// A window's direct view: a part of the whole mapping.
    pub fn map_direct(&mut self, addr: u64, len: u64) -> Option<DirectMap> {
        let rel = self.offset(addr, len).ok()?;
        let m = self.map.as_ref()?;
        let ptr = m.ptr_of(self.ap.map_offset + self.ap.skip + rel, len)?;
        Some(DirectMap {
            ptr,
            len,
            writable: m.writable(),
            copyable: false,
            keep: m.clone(),
        })
    }

    /// `uio.wait_irq`: poll /dev/uioN, then read its 4-byte interrupt
    /// count. None when the time ran out, or a signal (Ctrl-C) cut the wait
    /// short: Lua then raises "interrupted!" at the script's next step.
    pub fn wait_irq(&mut self, timeout: Option<Duration>) -> Result<Option<u32>> {
        if !self.ap.irq {
            return Err(Error::new(
                Errno::EOPNOTSUPP,
                ops::UIO_WAIT_IRQ,
                format!(
                    "{} has no interrupts to wait for; --uio uioN has",
                    self.ap.what
                ),
            ));
        }
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd, valid for the call.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let code = errno_of(&std::io::Error::last_os_error());
            if code == libc::EINTR {
                return Ok(None);
            }
            return Err(Error::new(
                Errno::from_code(code),
                ops::UIO_WAIT_IRQ,
                format!(
                    "waiting on {}: {}",
                    self.ap.path.display(),
                    std::io::Error::from_raw_os_error(code)
                ),
            ));
        }
        if r == 0 {
            return Ok(None);
        }
        // UIO ignores the offset; at 0, a file standing in for the device
        // gives the same 4 bytes each time.
        let mut count = [0u8; 4];
        match self.file.read_at(&mut count, 0) {
            Ok(4) => Ok(Some(u32::from_le_bytes(count))),
            Ok(_) => Err(Error::new(
                Errno::EIO,
                ops::UIO_WAIT_IRQ,
                format!("{} gave no 4-byte interrupt count", self.ap.path.display()),
            )),
            Err(e) => Err(self.ap.refused(
                ops::UIO_WAIT_IRQ,
                "reading the interrupt count",
                errno_of(&e),
            )),
        }
    }
}

impl Aperture {
    /// The error for the kernel refusing `doing` with `code`.
    fn refused(&self, op: &str, doing: &str, code: i32) -> Error {
        let os = std::io::Error::from_raw_os_error(code);
        let (errno, why) = match code {
            libc::EPERM => (Errno::EPERM, format!("{doing}: {os}: {}", self.eperm)),
            libc::EACCES => (
                Errno::EACCES,
                format!("{doing}: {os}: {} needs root", self.what),
            ),
            libc::ENOENT => (
                Errno::ENOENT,
                format!("{doing}: {} does not exist", self.path.display()),
            ),
            libc::EINVAL | libc::ENODEV | libc::ENXIO if doing.starts_with("cannot map") => (
                Errno::from_code(code),
                format!(
                    "{doing}: {os}: the kernel would not map it (a BAR that is not memory, or \
                     an I/O-port BAR on a machine that cannot map ports)"
                ),
            ),
            c => (Errno::from_code(c), format!("{doing}: {os}")),
        };
        Error::new(errno, op, why)
    }
}
