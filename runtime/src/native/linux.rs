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
