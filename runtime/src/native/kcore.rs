//! Kernel memory without /dev/kmem: /proc/kcore, an ELF core whose PT_LOAD
//! program headers map kernel virtual addresses to file offsets
//! (docs/MEM4.md §7). Read-only; an address no PT_LOAD covers is EFAULT, as an
//! unmapped kernel address is under mem(4) (§2.3).

use std::fs::File;

use super::io::pread_all;
use crate::{Errno, Error, Result};

/// One PT_LOAD: `[vaddr, vaddr + len)` is at file offset `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub len: u64,
    pub off: u64,
}

/// Reads the PT_LOAD segments of a little-endian ELF64 core from its first
/// bytes (header and program headers). Err says what is wrong.
pub fn parse_segments(
    read: &mut dyn FnMut(u64, &mut [u8]) -> bool,
) -> Result<Vec<Segment>, String> {
    let mut eh = [0u8; 64];
    if !read(0, &mut eh) {
        return Err("it is shorter than an ELF header".into());
    }
    if &eh[..4] != b"\x7fELF" {
        return Err("it is not an ELF file".into());
    }
    if eh[4] != 2 || eh[5] != 1 {
        return Err("it is not a little-endian 64-bit ELF core".into());
    }
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    if u16_at(&eh, 16) != 4 {
        return Err("it is an ELF file but not a core (e_type is not ET_CORE)".into());
    }
    let u64_at = |b: &[u8], o: usize| {
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[o..o + 8]);
        u64::from_le_bytes(x)
    };
    let phoff = u64_at(&eh, 32);
    let phentsize = u16_at(&eh, 54) as usize;
    let phnum = u16_at(&eh, 56) as usize;
    if phentsize < 56 {
        return Err(format!("its program headers are {phentsize} bytes, not 56"));
    }
    let mut ph = vec![0u8; phentsize * phnum];
    if !read(phoff, &mut ph) {
        return Err("its program headers run past its end".into());
    }
    let mut segs: Vec<Segment> = ph
        .chunks(phentsize)
        .filter(|h| u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == 1) // PT_LOAD
        .map(|h| Segment {
            off: u64_at(h, 8),
            vaddr: u64_at(h, 16),
            len: u64_at(h, 32),
        })
        .filter(|s| s.len > 0)
        .collect();
    segs.sort_by_key(|s| s.vaddr);
    Ok(segs)
}

/// An open ELF core of kernel memory.
pub struct Kcore {
    file: File,
    path: String,
    segs: Vec<Segment>,
}

impl Kcore {
    pub fn open(file: File, path: &str) -> Result<Kcore> {
        let segs = parse_segments(&mut |off, buf| pread_all(&file, off, buf).0 == buf.len())
            .map_err(|m| {
                Error::new(
                    Errno::EINVAL,
                    "open",
                    format!("{path} cannot be read as a kernel core: {m}"),
                )
            })?;
        Ok(Kcore {
            file,
            path: path.to_string(),
            segs,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    /// The file offset of `addr` and how many bytes from there the same
    /// segment holds. Segments may nest (arm64's kernel text lies inside
    /// its vmalloc segment): every segment starting at or below `addr` is
    /// a candidate, the nearest start first.
    fn translate(&self, addr: u64) -> Option<(u64, u64)> {
        let i = self.segs.partition_point(|s| s.vaddr <= addr);
        self.segs[..i].iter().rev().find_map(|s| {
            let rel = addr - s.vaddr;
            (rel < s.len).then(|| (s.off + rel, s.len - rel))
        })
    }

    fn unmapped(&self, addr: u64) -> Error {
        Error::new(
            Errno::EFAULT,
            "",
            format!(
                "kernel address {addr:#x} is not mapped (no PT_LOAD of {} covers it)",
                self.path
            ),
        )
    }

    /// Reads `buf.len()` bytes at kernel address `addr`, segment by
    /// segment; a gap part-way is EFAULT with `done`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = addr.wrapping_add(done as u64);
            let Some((off, avail)) = self.translate(at) else {
                return Err(self.unmapped(at).done(done as u64));
            };
            let n = (buf.len() - done).min(avail.min(usize::MAX as u64) as usize);
            let (got, code) = pread_all(&self.file, off, &mut buf[done..done + n]);
            done += got;
            if got < n {
                let why = code
                    .map(|c| std::io::Error::from_raw_os_error(c).to_string())
                    .unwrap_or_else(|| "the core ends early".into());
                return Err(Error::new(
                    Errno::EFAULT,
                    "",
                    format!(
                        "reading {} failed at kernel address {:#x}: {why}",
                        self.path,
                        addr.wrapping_add(done as u64)
                    ),
                )
                .done(done as u64));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core with two PT_LOADs and one PT_NOTE.
    fn core() -> Vec<u8> {
        let mut f = vec![0u8; 64 + 3 * 56];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[16] = 4; // ET_CORE
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&3u16.to_le_bytes());
        let ph = |f: &mut Vec<u8>, i: usize, ty: u32, off: u64, va: u64, len: u64| {
            let h = 64 + i * 56;
            f[h..h + 4].copy_from_slice(&ty.to_le_bytes());
            f[h + 8..h + 16].copy_from_slice(&off.to_le_bytes());
            f[h + 16..h + 24].copy_from_slice(&va.to_le_bytes());
            f[h + 32..h + 40].copy_from_slice(&len.to_le_bytes());
        };
        ph(&mut f, 0, 4, 0, 0, 0);
        ph(&mut f, 1, 1, 0x2000, 0xffff_ffff_8100_0000, 0x1000);
        ph(&mut f, 2, 1, 0x1000, 0xffff_8880_0000_0000, 0x1000);
        f
    }

    #[test]
    fn reads_pt_load_segments_in_address_order() {
        let f = core();
        let segs = parse_segments(&mut |off, buf| {
            let off = off as usize;
            f.get(off..off + buf.len())
                .map(|s| buf.copy_from_slice(s))
                .is_some()
        })
        .unwrap();
        assert_eq!(
            segs,
            vec![
                Segment {
                    vaddr: 0xffff_8880_0000_0000,
                    len: 0x1000,
                    off: 0x1000
                },
                Segment {
                    vaddr: 0xffff_ffff_8100_0000,
                    len: 0x1000,
                    off: 0x2000
                },
            ]
        );
    }

    #[test]
    fn refuses_what_is_not_a_core() {
        let junk = [b'x'; 100];
        let r = parse_segments(&mut |off, buf| {
            let off = off as usize;
            junk.get(off..off + buf.len())
                .map(|s| buf.copy_from_slice(s))
                .is_some()
        });
        assert_eq!(r.unwrap_err(), "it is not an ELF file");
    }
}
