//! The Linux side of the native backend (docs/MEM4.md §7): MEM_EXTRACT_PADDR
//! from /proc/self/pagemap, kernel symbols from /proc/kallsyms, memory
//! ranges from /proc/mtrr.

use super::kallsyms::Kallsyms;
use super::mtrr::Mtrr;
use super::pagemap::Pagemap;
use super::Options;
use crate::{ops, MemExtract, MemRangeDesc, RangeOp, Result};

pub struct Sys {
    pagemap: Pagemap,
    kallsyms: Kallsyms,
    mtrr: Mtrr,
}

impl Sys {
    pub fn new(opts: &Options) -> Sys {
        Sys {
            pagemap: Pagemap::new(),
            kallsyms: Kallsyms::new(
                opts.kallsyms
                    .as_deref()
                    .unwrap_or("/proc/kallsyms".as_ref()),
            ),
            mtrr: Mtrr::new(
                opts.mtrr.as_deref().unwrap_or("/proc/mtrr".as_ref()),
                opts.write,
            ),
        }
    }

    pub fn extract(&mut self, out: &mut [MemExtract]) -> Result<()> {
        self.pagemap.extract(out)
    }

    pub fn range_count(&mut self) -> Result<usize> {
        Ok(self.mtrr.ranges(ops::MEMRANGE_COUNT)?.len())
    }

    pub fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        self.mtrr.ranges(ops::MEMRANGE_GET)
    }

    pub fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        self.mtrr.set(d, op)
    }

    pub fn symbol(&mut self, name: &str) -> Result<u64> {
        self.kallsyms.lookup(name)
    }

    /// Tests: the MTRRs of a recorded machine instead of this one's.
    #[cfg(test)]
    pub fn replace_mtrr(&mut self, m: Mtrr) {
        self.mtrr = m;
    }
}

/// The /proc/iomem region of a physical address, for EPERM messages.
pub fn iomem_region(addr: u64) -> Option<String> {
    super::iomem::lookup(addr)
}

/// The default kernel memory device: /dev/kmem where it exists (removed in
/// Linux 5.13), else /proc/kcore.
pub fn default_kmem() -> &'static str {
    if std::path::Path::new("/dev/kmem").exists() {
        "/dev/kmem"
    } else {
        "/proc/kcore"
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::super::mtrr::tests::Recorded;
    use super::super::{Native, Options};
    use super::*;
    use crate::layers::RestoreRanges;
    use crate::{Backend, MdfFlags, Say};

    // Recorded from a PC with 8 GiB (`cat /proc/mtrr`), 8 variable MTRRs.
    const PROC_MTRR: &str = "\
reg00: base=0x000000000 (    0MB), size= 2048MB, count=1: write-back
reg01: base=0x080000000 ( 2048MB), size= 1024MB, count=1: write-back
reg02: base=0x0c0000000 ( 3072MB), size=  256MB, count=1: write-combining
reg03: base=0x0d0000000 ( 3328MB), size=  128KB, count=1: uncachable
";

    /// --restore-ranges over the real native backend and its Linux MTRR
    /// code, on a recorded /proc/mtrr: a new range, a range overwritten
    /// with another type and a firmware range removed are given back with
    /// the ioctls Linux needs, and every register holds what it held.
    #[test]
    fn restore_on_a_recorded_proc_mtrr_issues_the_right_ioctls() {
        let rec = Recorded::from_text(PROC_MTRR, 8);
        let log = rec.log.clone();
        let mut native = Native::open(&Options {
            write: true,
            ..Default::default()
        })
        .unwrap();
        native.sys.replace_mtrr(Mtrr::over(Box::new(rec), true));
        let said = Rc::new(RefCell::new(Vec::new()));
        let s = said.clone();
        let say: Say = Rc::new(move |l: &str| s.borrow_mut().push(l.to_string()));
        let mut b = RestoreRanges::new(Box::new(native), say);
        let b: &mut dyn Backend = &mut b;
        let before = b.ranges().unwrap();

        let set =
            |base, len, flags, owner| (MemRangeDesc::new(base, len, flags, owner), RangeOp::Update);
        let remove = |base, len| {
            (
                MemRangeDesc::new(base, len, MdfFlags::empty(), ""),
                RangeOp::Remove,
            )
        };
        for (d, op) in [
            set(0xd800_0000, 0x100_0000, MdfFlags::WRITECOMBINE, "fb"),
            set(0xc000_0000, 0x1000_0000, MdfFlags::UNCACHEABLE, "mmio"),
            remove(0xd000_0000, 0x2_0000),
        ] {
            b.range_set(&d, op).unwrap();
        }
        log.borrow_mut().push("-- finish".into());
        b.finish();
        assert_eq!(
            *log.borrow(),
            [
                "SET 0xd8000000 0x1000000 type 1",
                "DEL 0xc0000000 0x10000000",
                "SET 0xc0000000 0x10000000 type 0",
                "DEL 0xd0000000 0x20000",
                "-- finish",
                "DEL 0xd8000000 0x1000000",
                "DEL 0xc0000000 0x10000000",
                "SET 0xc0000000 0x10000000 type 1",
                "SET 0xd0000000 0x20000 type 0",
            ]
        );
        assert_eq!(b.ranges().unwrap(), before);
        assert_eq!(
            *said.borrow(),
            ["memlua: --restore-ranges: put back 3 memory range descriptors"]
        );
    }
}
