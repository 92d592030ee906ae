//! Memory ranges on Linux (docs/MEM4.md §7): the variable MTRRs through
//! /proc/mtrr's ioctls (MTRRIOC_GET_ENTRY, SET_ENTRY, DEL_ENTRY), shown as
//! mem(4) descriptors with mem(4)'s errors. No MTRRs, or none enabled, is
//! ENXIO, as MEMRANGE_GET gives when firmware enabled none.
//!
//! Linux removes the entries a file added when that file is closed, so
//! the file stays open for the whole session.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::abi::{MtrrGentry, MtrrSentry, MTRRIOC_DEL_ENTRY, MTRRIOC_GET_ENTRY, MTRRIOC_SET_ENTRY};
use crate::{ops, range_rules, Errno, Error, MdfFlags, MemRangeDesc, RangeOp, Result};

/// The attribute an MTRR type (linux/mtrr.h numbers them as the CPU does)
/// reads back as.
pub fn type_to_flags(t: u32) -> MdfFlags {
    u8::try_from(t).map_or(MdfFlags::UNKNOWN, range_rules::attr_of_type)
}

/// The MTRR type for a request's attribute, which must be exactly one of
/// the five (x86_mtrrtype).
pub fn flags_to_type(f: MdfFlags) -> Option<u32> {
    range_rules::mtrr_type(f).map(u32::from)
}

/// One MTRRIOC_GET_ENTRY answer as a descriptor: a size of 0 is an unused
/// register (an inactive slot).
pub fn decode_gentry(g: &MtrrGentry) -> MemRangeDesc {
    if g.size == 0 {
        return MemRangeDesc::default();
    }
    MemRangeDesc::new(
        g.base,
        g.size as u64,
        type_to_flags(g.kind) | MdfFlags::ACTIVE,
        "",
    )
}

/// /proc/mtrr's text (`reg01: base=0x0c0000000 ( 3072MB), size= 1024MB,
/// count=1: uncachable`), for when the ioctls are not there: each register
/// and its descriptor.
pub fn parse_text(text: &str) -> Vec<(u32, MemRangeDesc)> {
    text.lines()
        .filter_map(|l| {
            let reg: u32 = l.strip_prefix("reg")?.get(..2)?.parse().ok()?;
            let base = l.split("base=0x").nth(1)?.split_whitespace().next()?;
            let base = u64::from_str_radix(base, 16).ok()?;
            let size = l.split("size=").nth(1)?.trim_start();
            let digits: String = size.chars().take_while(|c| c.is_ascii_digit()).collect();
            let unit = match size[digits.len()..].chars().next()? {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return None,
            };
            let len = digits.parse::<u64>().ok()? * unit;
            let ty = l.rsplit(": ").next()?.trim();
            let flags = match ty {
                "uncachable" | "uncacheable" => MdfFlags::UNCACHEABLE,
                "write-combining" => MdfFlags::WRITECOMBINE,
                "write-through" => MdfFlags::WRITETHROUGH,
                "write-protect" => MdfFlags::WRITEPROTECT,
                "write-back" => MdfFlags::WRITEBACK,
                _ => MdfFlags::UNKNOWN,
            };
            Some((
                reg,
                MemRangeDesc::new(base, len, flags | MdfFlags::ACTIVE, ""),
            ))
        })
        .collect()
}

pub struct Mtrr {
    path: PathBuf,
    writable: bool,
    file: Option<File>,
    /// Owners of the ranges this session set (Linux keeps none).
    owners: HashMap<(u64, u64), [u8; 8]>,
}

impl Mtrr {
    pub fn new(path: impl AsRef<Path>, writable: bool) -> Mtrr {
        Mtrr {
            path: path.as_ref().to_path_buf(),
            writable,
            file: None,
            owners: HashMap::new(),
        }
    }

    fn no_ranges(&self, op: &str, why: &str) -> Error {
        Error::new(
            Errno::ENXIO,
            op,
            format!("no memory range descriptors: {why}"),
        )
    }

    fn file(&mut self, op: &str) -> Result<&File> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .read(true)
                .write(self.writable)
                .open(&self.path)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::ENOENT) => self.no_ranges(
                        op,
                        &format!(
                            "{} does not exist (a kernel without MTRR support)",
                            self.path.display()
                        ),
                    ),
                    Some(libc::EACCES) | Some(libc::EPERM) => Error::new(
                        Errno::EACCES,
                        op,
                        format!(
                            "cannot open {}: changing memory ranges needs root",
                            self.path.display()
                        ),
                    ),
                    _ => Error::new(
                        Errno::EIO,
                        op,
                        format!("cannot open {}: {e}", self.path.display()),
                    ),
                })?;
            self.file = Some(f);
        }
        Ok(self.file.as_ref().expect("opened above"))
    }

    /// Every variable MTRR as a descriptor, in register order.
    pub fn ranges(&mut self, op: &str) -> Result<Vec<MemRangeDesc>> {
        let path = self.path.clone();
        let fd = self.file(op)?.as_raw_fd();
        let mut out = Vec::new();
        for regnum in 0..256u32 {
            let mut g = MtrrGentry {
                regnum,
                ..Default::default()
            };
            // SAFETY: GET_ENTRY reads and writes one mtrr_gentry, which `g` is.
            let r = unsafe { libc::ioctl(fd, MTRRIOC_GET_ENTRY as _, &mut g as *mut MtrrGentry) };
            if r != 0 {
                let code = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if code == libc::ENOTTY && regnum == 0 {
                    // Not the ioctl file: read the text instead.
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    out = parse_text(&text).into_iter().map(|(_, d)| d).collect();
                }
                break; // EINVAL past the last register; ENODEV without MTRRs
            }
            let mut d = decode_gentry(&g);
            if let Some(o) = self.owners.get(&(d.base, d.len)) {
                d.owner = *o;
            } else if d.flags.contains(MdfFlags::ACTIVE) {
                d.set_owner("BIOS");
            }
            out.push(d);
        }
        if out.is_empty() {
            return Err(self.no_ranges(
                op,
                &format!(
                    "{} lists no MTRRs (the CPU or the kernel has none)",
                    path.display()
                ),
            ));
        }
        if !out.iter().any(|d| d.flags.contains(MdfFlags::ACTIVE)) {
            return Err(self.no_ranges(op, "firmware enabled none of the MTRRs"));
        }
        Ok(out)
    }

    pub fn set(&mut self, d: &MemRangeDesc, action: RangeOp) -> Result<()> {
        let op = ops::range_set(action);
        let current = self.ranges(op)?;
        if !self.writable {
            return Err(range_rules::read_only(action, d));
        }
        let fail =
            |errno, msg: &str| Err(Error::new(errno, op, msg.to_string()).range(d.base, d.len));
        let (request, kind) = match action {
            RangeOp::Update => {
                if let Some(why) = range_rules::bad_shape(d.base, d.len, d.flags) {
                    return fail(Errno::EINVAL, &why);
                }
                let kind = flags_to_type(d.flags).unwrap_or_default();
                (MTRRIOC_SET_ENTRY, kind)
            }
            RangeOp::Remove => {
                if !current.iter().any(|c| c.base == d.base && c.len == d.len) {
                    return fail(Errno::ENOENT, "no range has this base and length");
                }
                (MTRRIOC_DEL_ENTRY, 0)
            }
        };
        let Ok(size) = u32::try_from(d.len) else {
            return fail(
                Errno::EINVAL,
                "Linux's MTRR interface takes lengths below 4 GiB",
            );
        };
        let s = MtrrSentry {
            base: d.base,
            size,
            kind,
        };
        let fd = self.file(op)?.as_raw_fd();
        // SAFETY: SET/DEL_ENTRY read one mtrr_sentry, which `s` is.
        let r = unsafe { libc::ioctl(fd, request as _, &s as *const MtrrSentry) };
        if r < 0 {
            let code = std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO);
            return match code {
                libc::EPERM | libc::EACCES => fail(Errno::EACCES, "changing memory ranges needs root (CAP_SYS_ADMIN)"),
                libc::ENOSPC => fail(Errno::ENOSPC, "no free MTRR"),
                libc::EINVAL => fail(Errno::EINVAL, "the kernel refused the range (it overlaps one of another type, or the CPU cannot express it)"),
                libc::EBUSY => fail(Errno::EBUSY, "the range is busy"),
                c => fail(Errno::from_code(c), &std::io::Error::from_raw_os_error(c).to_string()),
            };
        }
        match action {
            RangeOp::Update => {
                self.owners.insert((d.base, d.len), d.owner);
            }
            RangeOp::Remove => {
                self.owners.remove(&(d.base, d.len));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from a PC with 8 GiB (`cat /proc/mtrr`).
    const TEXT: &str = "\
reg00: base=0x000000000 (    0MB), size= 2048MB, count=1: write-back
reg01: base=0x080000000 ( 2048MB), size= 1024MB, count=1: write-back
reg02: base=0x0c0000000 ( 3072MB), size=  256MB, count=1: write-combining
reg03: base=0x0d0000000 ( 3328MB), size=  128KB, count=1: uncachable
";

    #[test]
    fn parses_proc_mtrr_text() {
        let r = parse_text(TEXT);
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].1.base, 0);
        assert_eq!(r[0].1.len, 2048 << 20);
        assert_eq!(r[0].1.flags, MdfFlags::WRITEBACK | MdfFlags::ACTIVE);
        assert_eq!(r[2].1.flags.names(), "write-combine active");
        assert_eq!(
            (r[3].0, r[3].1.base, r[3].1.len),
            (3, 0xd000_0000, 128 << 10)
        );
        assert_eq!(r[3].1.flags, MdfFlags::UNCACHEABLE | MdfFlags::ACTIVE);
    }

    #[test]
    fn decodes_get_entry_answers() {
        // The bytes of two mtrr_gentry answers, as the kernel writes them.
        let mut raw = [0u8; 24];
        raw[0..8].copy_from_slice(&0xc000_0000u64.to_le_bytes());
        raw[8..12].copy_from_slice(&0x1000_0000u32.to_le_bytes());
        raw[12..16].copy_from_slice(&2u32.to_le_bytes());
        raw[16..20].copy_from_slice(&1u32.to_le_bytes());
        // SAFETY: MtrrGentry is plain integers, any bit pattern is valid.
        let g: MtrrGentry = unsafe { std::ptr::read_unaligned(raw.as_ptr() as *const MtrrGentry) };
        assert_eq!(g.regnum, 2);
        let d = decode_gentry(&g);
        assert_eq!((d.base, d.len), (0xc000_0000, 0x1000_0000));
        assert_eq!(d.flags, MdfFlags::WRITECOMBINE | MdfFlags::ACTIVE);
        let unused = decode_gentry(&MtrrGentry {
            regnum: 5,
            ..Default::default()
        });
        assert_eq!(unused, MemRangeDesc::default());
        assert!(!unused.flags.contains(MdfFlags::ACTIVE));
        assert_eq!(
            decode_gentry(&MtrrGentry {
                size: 4096,
                kind: 2,
                ..Default::default()
            })
            .flags,
            MdfFlags::UNKNOWN | MdfFlags::ACTIVE
        );
    }

    #[test]
    fn types_map_both_ways() {
        for t in [0, 1, 4, 5, 6] {
            assert_eq!(flags_to_type(type_to_flags(t)), Some(t));
        }
        assert_eq!(flags_to_type(MdfFlags::UNKNOWN), None);
        assert_eq!(
            flags_to_type(MdfFlags::WRITEBACK | MdfFlags::UNCACHEABLE),
            None
        );
        assert_eq!(
            flags_to_type(MdfFlags::WRITEBACK | MdfFlags::ACTIVE),
            Some(6)
        );
    }

    #[test]
    fn a_missing_file_is_enxio() {
        let mut m = Mtrr::new("/nonexistent/mtrr", false);
        assert_eq!(m.ranges("memrange.get").unwrap_err().errno, Errno::ENXIO);
    }
}
