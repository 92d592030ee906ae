//! The simulated kernel's virtual address space, as amd64 FreeBSD lays it
//! out: a direct map of physical memory at DMAP_MIN_ADDRESS and the kernel
//! image at KERNBASE, plus the symbol table kvm_nlist reads. The rules are
//! those of amd64 `memrw()` for /dev/kmem (docs/MEM4.md §2.3).

use std::collections::BTreeMap;

use crate::{Errno, Error, Result, PAGE_SIZE};

/// DMAP_MIN_ADDRESS on a 4-level-paging amd64 kernel.
pub const DMAP_MIN: u64 = 0xffff_f800_0000_0000;
/// DMAP_MAX_ADDRESS - DMAP_MIN_ADDRESS there: 4 TiB (NDMPML4E = 8). RAM
/// above it has no direct-map address, as on such a kernel.
pub const DMAP_MAX_SIZE: u64 = 4 << 40;
/// KERNBASE: where the kernel image map starts.
pub const KERNBASE: u64 = 0xffff_ffff_8000_0000;

/// Where the built-in symbols live, as offsets into the kernel image.
const DATA_OFFSET: u64 = 0x0120_0000;
/// `version` within the data page; the string and its NUL stay in that
/// page, the only one of the image a board must put in RAM.
const VERSION_OFFSET: u64 = 0x40;

/// Where one page of kernel virtual memory leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// Through the direct map: any physical address below `dmaplimit`.
    Direct(u64),
    /// Through the kernel map (pmap_extract).
    Mapped(u64),
}

impl Translation {
    pub fn paddr(self) -> u64 {
        match self {
            Translation::Direct(pa) | Translation::Mapped(pa) => pa,
        }
    }
}

/// What a board says about its kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    /// Physical address the image map starts at (KERNBASE maps here).
    pub phys: u64,
    /// Bytes mapped at KERNBASE.
    pub size: u64,
    /// The `version` string.
    pub version: String,
    /// The `hz` value.
    pub hz: u32,
}

/// A value the simulator writes into kernel memory at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SymbolValue {
    U32(u32),
    U64(u64),
    Text(String),
}

pub struct KernelMap {
    dmap_limit: u64,
    image_phys: u64,
    image_size: u64,
    symbols: BTreeMap<String, u64>,
}

impl KernelMap {
    /// `ram_top` is one past the highest RAM address; the direct map covers
    /// max(4 GiB, ram_top rounded up to 1 GiB), as amd64's `dmaplimit`.
    /// Returns the map and the symbol contents to store in memory.
    pub fn new(
        cfg: &KernelConfig,
        ram_top: u64,
        physmem_pages: u64,
    ) -> (Self, Vec<(u64, SymbolValue)>) {
        const GIB: u64 = 1 << 30;
        let dmap_limit = (4 * GIB)
            .max(ram_top.div_ceil(GIB) * GIB)
            .min(DMAP_MAX_SIZE);
        let mut map = KernelMap {
            dmap_limit,
            image_phys: cfg.phys,
            image_size: cfg.size,
            symbols: BTreeMap::new(),
        };
        let data = KERNBASE + DATA_OFFSET;
        let contents = vec![
            (data, SymbolValue::U32(cfg.hz)),
            (data + 0x8, SymbolValue::U64(physmem_pages)),
            (data + 0x10, SymbolValue::Text("FreeBSD".into())),
            (
                data + VERSION_OFFSET,
                SymbolValue::Text(cfg.version.clone()),
            ),
        ];
        for (name, addr) in [
            ("kernbase", KERNBASE),
            ("hz", data),
            ("physmem", data + 0x8),
            ("ostype", data + 0x10),
            ("version", data + VERSION_OFFSET),
        ] {
            map.symbols.insert(name.into(), addr);
        }
        (map, contents)
    }

    /// The image must be large enough to hold the symbol data.
    pub fn min_image_size() -> u64 {
        DATA_OFFSET + PAGE_SIZE
    }

    /// The longest `version` string, in bytes, that fits in the data page
    /// with its NUL.
    pub fn max_version_len() -> usize {
        (PAGE_SIZE - VERSION_OFFSET - 1) as usize
    }

    pub fn dmap_limit(&self) -> u64 {
        self.dmap_limit
    }

    pub fn symbols(&self) -> &BTreeMap<String, u64> {
        &self.symbols
    }

    /// kvm_nlist: a leading '_' is stripped, as libkvm does.
    pub fn symbol(&self, name: &str) -> Result<u64> {
        let bare = name.strip_prefix('_').unwrap_or(name);
        self.symbols.get(bare).copied().ok_or_else(|| {
            Error::new(
                Errno::ENOENT,
                "kmem.symbol",
                format!(
                    "no kernel symbol '{name}' (this kernel has: {})",
                    self.symbols.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }

    /// Translates one chunk `[va, va+len)` that does not cross a page.
    /// The order of the checks is memrw's: the direct map first, then
    /// kernacc over the kernel map, then pmap_extract, whose 0 is EFAULT.
    pub fn translate(&self, va: u64, len: u64) -> Result<Translation> {
        if va >= DMAP_MIN && va - DMAP_MIN < self.dmap_limit {
            return Ok(Translation::Direct(va - DMAP_MIN));
        }
        if !self.kernacc(va, len) {
            return Err(Error::new(
                Errno::EFAULT,
                "",
                "no kernel mapping here (neither the direct map nor the kernel image)",
            ));
        }
        let pa = self.image_phys + (va - KERNBASE);
        if pa == 0 {
            // pmap_extract returns 0 for failure, so physical address 0 is
            // unreachable through the kernel map (docs/MEM4.md §2.3).
            return Err(Error::new(
                Errno::EFAULT,
                "",
                "this kernel address maps physical address 0, which /dev/kmem cannot reach",
            ));
        }
        Ok(Translation::Mapped(pa))
    }

    /// kernacc: the whole chunk lies in the kernel map and does not wrap.
    fn kernacc(&self, va: u64, len: u64) -> bool {
        let Some(end) = va.checked_add(len) else {
            return false;
        };
        va >= KERNBASE && (end - KERNBASE) <= self.image_size
    }

    /// Splits `[va, va+len)` at page boundaries and translates every piece,
    /// as memrw's loop does; the first piece that fails decides the error.
    pub fn translate_range(&self, va: u64, len: u64) -> Result<Vec<(u64, u64)>> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut done = 0u64;
        while done < len {
            let at = va.wrapping_add(done);
            let chunk = (PAGE_SIZE - (at & (PAGE_SIZE - 1))).min(len - done);
            let pa = self
                .translate(at, chunk)
                .map_err(|e| e.at(at).done(0))?
                .paddr();
            match out.last_mut() {
                Some((p, n)) if *p + *n == pa => *n += chunk,
                _ => out.push((pa, chunk)),
            }
            done += chunk;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> KernelMap {
        let cfg = KernelConfig {
            phys: 0,
            size: 0x200_0000,
            version: "v".into(),
            hz: 1000,
        };
        KernelMap::new(&cfg, 0x2_8000_0000, 1).0
    }

    #[test]
    fn dmap_covers_ram_top_rounded_to_a_gib() {
        let m = map();
        assert_eq!(m.dmap_limit(), 10 << 30);
        assert_eq!(
            m.translate(DMAP_MIN + 0x1000, 4),
            Ok(Translation::Direct(0x1000))
        );
        assert_eq!(
            m.translate(DMAP_MIN + (10 << 30), 4).unwrap_err().errno,
            Errno::EFAULT
        );
    }

    #[test]
    fn small_machines_still_map_four_gib() {
        let cfg = KernelConfig {
            phys: 0,
            size: 0x200_0000,
            version: "v".into(),
            hz: 100,
        };
        assert_eq!(KernelMap::new(&cfg, 1 << 28, 1).0.dmap_limit(), 4 << 30);
    }

    #[test]
    fn image_map_and_its_edges() {
        let m = map();
        assert_eq!(m.translate(KERNBASE + 4, 4), Ok(Translation::Mapped(4)));
        assert_eq!(m.translate(KERNBASE, 4).unwrap_err().errno, Errno::EFAULT);
        assert_eq!(
            m.translate(KERNBASE - 4096, 4).unwrap_err().errno,
            Errno::EFAULT
        );
        assert_eq!(
            m.translate(KERNBASE + 0x200_0000, 1).unwrap_err().errno,
            Errno::EFAULT
        );
        assert_eq!(
            m.translate(u64::MAX - 1, 4).unwrap_err().errno,
            Errno::EFAULT
        );
    }

    #[test]
    fn ranges_split_at_pages_and_merge_contiguous_pieces() {
        let m = map();
        assert_eq!(
            m.translate_range(KERNBASE + 0xff0, 0x20).unwrap(),
            vec![(0xff0, 0x20)]
        );
        let e = m
            .translate_range(KERNBASE + 0x1ff_f000, 0x2000)
            .unwrap_err();
        assert_eq!(e.addr(), Some(KERNBASE + 0x200_0000));
    }

    #[test]
    fn symbols_strip_underscore_and_name_the_known_ones() {
        let m = map();
        assert_eq!(m.symbol("_kernbase").unwrap(), KERNBASE);
        let e = m.symbol("nosuch").unwrap_err();
        assert_eq!(e.errno, Errno::ENOENT);
        assert!(e.message.contains("version"));
    }
}
