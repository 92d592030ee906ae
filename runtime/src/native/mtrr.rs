//! Memory ranges on Linux (docs/MEM4.md §7): the variable MTRRs through
//! /proc/mtrr's ioctls (MTRRIOC_GET_ENTRY, SET_ENTRY, DEL_ENTRY), shown as
//! mem(4) descriptors with mem(4)'s errors. No MTRRs, or none enabled, is
//! ENXIO, as MEMRANGE_GET gives when firmware enabled none.
//!
//! memlua sets ranges with SET_ENTRY, whose ranges outlive the file (the
//! ones ADD_ENTRY makes are dropped when the file that added them closes),
//! so a range a script sets stays after memlua exits, as with mem(4);
//! `--restore-ranges` and `memrange.scoped` give them back. The ioctls go
//! through [`MtrrIo`], so a test can replay a recorded machine.

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

/// The three /proc/mtrr ioctls: the file itself ([`FileIo`]), or a
/// recording a test replays. Each answers the kernel's errno on failure.
pub trait MtrrIo {
    /// MTRRIOC_GET_ENTRY for `regnum`.
    fn get(&mut self, regnum: u32) -> std::result::Result<MtrrGentry, i32>;
    /// MTRRIOC_SET_ENTRY.
    fn set(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32>;
    /// MTRRIOC_DEL_ENTRY.
    fn del(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32>;
}

/// The ioctls on the open /proc/mtrr.
pub struct FileIo(File);

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

impl MtrrIo for FileIo {
    fn get(&mut self, regnum: u32) -> std::result::Result<MtrrGentry, i32> {
        let mut g = MtrrGentry {
            regnum,
            ..Default::default()
        };
        // SAFETY: GET_ENTRY reads and writes one mtrr_gentry, which `g` is.
        let r = unsafe {
            libc::ioctl(
                self.0.as_raw_fd(),
                MTRRIOC_GET_ENTRY as _,
                &mut g as *mut MtrrGentry,
            )
        };
        if r != 0 {
            return Err(last_errno());
        }
        Ok(g)
    }
    fn set(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32> {
        // SAFETY: SET_ENTRY reads one mtrr_sentry, which `s` is.
        let r = unsafe {
            libc::ioctl(
                self.0.as_raw_fd(),
                MTRRIOC_SET_ENTRY as _,
                s as *const MtrrSentry,
            )
        };
        if r < 0 {
            return Err(last_errno());
        }
        Ok(())
    }
    fn del(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32> {
        // SAFETY: DEL_ENTRY reads one mtrr_sentry, which `s` is.
        let r = unsafe {
            libc::ioctl(
                self.0.as_raw_fd(),
                MTRRIOC_DEL_ENTRY as _,
                s as *const MtrrSentry,
            )
        };
        if r < 0 {
            return Err(last_errno());
        }
        Ok(())
    }
}

pub struct Mtrr {
    path: PathBuf,
    writable: bool,
    io: Option<Box<dyn MtrrIo>>,
    /// Owners of the ranges this session set (Linux keeps none).
    owners: HashMap<(u64, u64), [u8; 8]>,
}

impl Mtrr {
    pub fn new(path: impl AsRef<Path>, writable: bool) -> Mtrr {
        Mtrr {
            path: path.as_ref().to_path_buf(),
            writable,
            io: None,
            owners: HashMap::new(),
        }
    }

    /// Over `io` instead of the file (a test's recording of a machine).
    pub fn over(io: Box<dyn MtrrIo>, writable: bool) -> Mtrr {
        Mtrr {
            io: Some(io),
            ..Mtrr::new("/proc/mtrr", writable)
        }
    }

    fn no_ranges(&self, op: &str, why: &str) -> Error {
        Error::new(
            Errno::ENXIO,
            op,
            format!("no memory range descriptors: {why}"),
        )
    }

    fn io(&mut self, op: &str) -> Result<&mut dyn MtrrIo> {
        if self.io.is_none() {
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
            self.io = Some(Box::new(FileIo(f)));
        }
        Ok(&mut **self.io.as_mut().expect("opened above"))
    }

    /// Every variable MTRR as a descriptor, in register order.
    pub fn ranges(&mut self, op: &str) -> Result<Vec<MemRangeDesc>> {
        let path = self.path.clone();
        let io = self.io(op)?;
        let mut found = Vec::new();
        for regnum in 0..256u32 {
            match io.get(regnum) {
                Ok(g) => found.push(decode_gentry(&g)),
                Err(libc::ENOTTY) if regnum == 0 => {
                    // Not the ioctl file: read the text instead.
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    found = parse_text(&text).into_iter().map(|(_, d)| d).collect();
                    break;
                }
                Err(_) => break, // EINVAL past the last register; ENODEV without MTRRs
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for mut d in found {
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

    /// MEMRANGE_SET. An update of a range that exists with another type
    /// takes it over, as mem(4)'s does (docs/MEM4.md §4.4): Linux refuses
    /// a second type for the same range, so it is deleted and set again
    /// (and put back if the new one is refused). One that exists with the
    /// same type only takes the new owner: a second SET_ENTRY would make
    /// Linux count it twice, and one remove would then not remove it.
    pub fn set(&mut self, d: &MemRangeDesc, action: RangeOp) -> Result<()> {
        let op = ops::range_set(action);
        let current = self.ranges(op)?;
        if !self.writable {
            return Err(range_rules::read_only(action, d));
        }
        let fail =
            |errno, msg: &str| Err(Error::new(errno, op, msg.to_string()).range(d.base, d.len));
        let existing = current
            .iter()
            .find(|c| c.base == d.base && c.len == d.len && c.flags.contains(MdfFlags::ACTIVE))
            .copied();
        let kind = match action {
            RangeOp::Update => {
                if let Some(why) = range_rules::bad_shape(d.base, d.len, d.flags) {
                    return fail(Errno::EINVAL, &why);
                }
                flags_to_type(d.flags).unwrap_or_default()
            }
            RangeOp::Remove => {
                if existing.is_none() {
                    return fail(Errno::ENOENT, "no range has this base and length");
                }
                0
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
        let io = self.io(op)?;
        let r = match (action, existing) {
            (RangeOp::Remove, _) => io.del(&s),
            (RangeOp::Update, Some(e)) if flags_to_type(e.flags) == Some(kind) => Ok(()),
            (RangeOp::Update, Some(e)) => {
                let old = MtrrSentry {
                    kind: flags_to_type(e.flags).unwrap_or_default(),
                    ..s
                };
                io.del(&old).and_then(|()| {
                    io.set(&s).inspect_err(|_| {
                        let _ = io.set(&old);
                    })
                })
            }
            (RangeOp::Update, None) => io.set(&s),
        };
        if let Err(code) = r {
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
pub(crate) mod tests {
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

    /// /proc/mtrr as a machine showed it, replayed with the kernel's rules
    /// (arch/x86/kernel/cpu/mtrr: mtrr_add_page's overlap checks, the first
    /// free register, mtrr_del_page's exact match); every SET and DEL that
    /// reaches it is written down.
    pub struct Recorded {
        regs: Vec<Option<(u64, u32, u32)>>,
        pub log: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    }

    impl Recorded {
        pub fn from_text(text: &str, nregs: usize) -> Recorded {
            let mut regs = vec![None; nregs];
            for (reg, d) in parse_text(text) {
                let ty = flags_to_type(d.flags).unwrap();
                regs[reg as usize] = Some((d.base, d.len as u32, ty));
            }
            Recorded {
                regs,
                log: Default::default(),
            }
        }
    }

    fn compatible(a: u32, b: u32) -> bool {
        a == 0 || b == 0 || (a == 4 && b == 6) || (a == 6 && b == 4)
    }

    impl MtrrIo for Recorded {
        fn get(&mut self, regnum: u32) -> std::result::Result<MtrrGentry, i32> {
            let r = self.regs.get(regnum as usize).ok_or(libc::EINVAL)?;
            let (base, size, kind) = r.unwrap_or_default();
            Ok(MtrrGentry {
                base,
                size,
                regnum,
                kind,
                pad: 0,
            })
        }
        fn set(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32> {
            self.log
                .borrow_mut()
                .push(format!("SET {:#x} {:#x} type {}", s.base, s.size, s.kind));
            let (base, last) = (s.base, s.base + s.size as u64 - 1);
            for &(lb, ls, lt) in self.regs.iter().flatten() {
                let llast = lb + ls as u64 - 1;
                if base > llast || last < lb {
                    continue;
                }
                if base < lb || last > llast {
                    let encloses = base <= lb && last >= llast;
                    if encloses && (s.kind == lt || compatible(s.kind, lt)) {
                        continue;
                    }
                    return Err(libc::EINVAL);
                }
                if lt != s.kind {
                    if compatible(s.kind, lt) {
                        continue;
                    }
                    return Err(libc::EINVAL);
                }
                return Ok(()); // the same range again: its use count goes up
            }
            let free = self
                .regs
                .iter()
                .position(Option::is_none)
                .ok_or(libc::ENOSPC)?;
            self.regs[free] = Some((s.base, s.size, s.kind));
            Ok(())
        }
        fn del(&mut self, s: &MtrrSentry) -> std::result::Result<(), i32> {
            self.log
                .borrow_mut()
                .push(format!("DEL {:#x} {:#x}", s.base, s.size));
            let i = self
                .regs
                .iter()
                .position(|r| r.is_some_and(|(b, n, _)| b == s.base && n == s.size))
                .ok_or(libc::EINVAL)?;
            self.regs[i] = None;
            Ok(())
        }
    }

    #[test]
    fn an_update_of_another_type_takes_the_range_over() {
        let rec = Recorded::from_text(TEXT, 8);
        let log = rec.log.clone();
        let mut m = Mtrr::over(Box::new(rec), true);
        let uc = MemRangeDesc::new(0xc000_0000, 0x1000_0000, MdfFlags::UNCACHEABLE, "fb");
        m.set(&uc, RangeOp::Update).unwrap();
        // The same type again changes only the owner (no second count).
        let uc2 = MemRangeDesc::new(0xc000_0000, 0x1000_0000, MdfFlags::UNCACHEABLE, "fb2");
        m.set(&uc2, RangeOp::Update).unwrap();
        assert_eq!(
            *log.borrow(),
            [
                "DEL 0xc0000000 0x10000000",
                "SET 0xc0000000 0x10000000 type 0"
            ]
        );
        let r = m.ranges("memrange.get").unwrap();
        assert_eq!(r[2].flags, MdfFlags::UNCACHEABLE | MdfFlags::ACTIVE);
        assert_eq!(r[2].owner_bytes(), b"fb2");
        assert_eq!(r[0].owner_bytes(), b"BIOS");
    }

    #[test]
    fn a_missing_file_is_enxio() {
        let mut m = Mtrr::new("/nonexistent/mtrr", false);
        assert_eq!(m.ranges("memrange.get").unwrap_err().errno, Errno::ENXIO);
    }
}
