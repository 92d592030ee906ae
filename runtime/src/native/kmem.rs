//! Kernel virtual memory (`--kmem PATH`): a /dev/kmem-like device read and
//! written at the kernel address as the offset (FreeBSD, and Linux before
//! 5.13), or an ELF core such as /proc/kcore (read-only).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use super::io::{seek_read_all, seek_write_all};
use super::kcore::Kcore;
use crate::{Errno, Error, Result};

pub enum KernelMem {
    /// Offsets are kernel addresses (negative as off_t above 2^63,
    /// docs/MEM4.md §2.2).
    Device {
        file: File,
        path: String,
        writable: bool,
    },
    Core(Kcore),
}

impl KernelMem {
    pub fn open(path: &Path, writable: bool) -> Result<KernelMem> {
        let shown = path.display().to_string();
        let (file, first) = super::memory_file(path, false, "kernel memory")?;
        let mut magic = [0u8; 4];
        let is_core = matches!(file.read_at(&mut magic, 0), Ok(4)) && &magic == b"\x7fELF";
        if is_core {
            return Ok(KernelMem::Core(Kcore::open(file, &shown)?));
        }
        let file = if writable {
            // Read-write only now that it is known not to be a core; the
            // same file, or the path changed under us.
            let (file, again) = super::memory_file(path, true, "kernel memory")?;
            if (again.dev(), again.ino()) != (first.dev(), first.ino()) {
                return Err(super::changed(&shown));
            }
            file
        } else {
            file
        };
        Ok(KernelMem::Device {
            file,
            path: shown,
            writable,
        })
    }

    pub fn is_core(&self) -> bool {
        matches!(self, KernelMem::Core(_))
    }

    fn device_error(path: &str, at: u64, code: Option<i32>) -> Error {
        Error::new(
            Errno::EFAULT,
            "",
            match code {
                Some(c) => format!(
                    "kernel address {at:#x} is not mapped ({path}: {})",
                    std::io::Error::from_raw_os_error(c)
                ),
                None => format!("kernel address {at:#x} is past the end of {path}"),
            },
        )
    }

    /// Reads `buf.len()` bytes at `addr`; a failure part-way is EFAULT
    /// with `done`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        match self {
            KernelMem::Core(k) => k.read(addr, buf),
            // Through the file position: kernel addresses are above 2^63.
            KernelMem::Device { file, path, .. } => match seek_read_all(file, addr, buf) {
                (n, None) if n == buf.len() => Ok(()),
                (n, code) => Err(Self::device_error(path, addr + n as u64, code).done(n as u64)),
            },
        }
    }

    pub fn write(&self, addr: u64, data: &[u8]) -> Result<()> {
        match self {
            KernelMem::Core(k) => Err(Error::new(
                Errno::EROFS,
                "",
                format!(
                    "kernel memory is read through {}, an ELF core, which cannot be written",
                    k.path()
                ),
            )
            .done(0)),
            KernelMem::Device { writable: false, path, .. } => Err(Error::new(
                Errno::EROFS,
                "",
                format!(
                    "the native backend is read-only: start memlua with -w (--write) to change {path}"
                ),
            )
            .done(0)),
            KernelMem::Device { file, path, .. } => {
                past_end_of_file(file, path, addr, data.len())?;
                match seek_write_all(file, addr, data) {
                (n, None) if n == data.len() => Ok(()),
                (n, code) => Err(Self::device_error(path, addr + n as u64, code).done(n as u64)),
            }
            }
        }
    }
}

/// A regular file standing in for kernel memory is written only inside
/// it, checked before a byte moves (as --mem's file is): a write past its
/// end would grow the file, and succeed where no memory is.
fn past_end_of_file(file: &File, path: &str, addr: u64, len: usize) -> Result<()> {
    let size = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return Ok(()),
    };
    if addr <= size && len as u64 <= size - addr {
        return Ok(());
    }
    Err(Error::new(
        Errno::EFAULT,
        "",
        format!(
            "kernel address {:#x} is past the end of {path} ({size:#x} bytes)",
            addr.max(size)
        ),
    )
    .at(addr)
    .done(0))
}
