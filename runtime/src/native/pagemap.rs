//! MEM_EXTRACT_PADDR on Linux (docs/MEM4.md §3, §7): /proc/self/pagemap read in
//! one pread per run of consecutive pages, /proc/self/maps for whether any
//! mapping covers an address (INVALID), and the NUMA node through
//! move_pages with a NULL node list, which reports without moving or
//! faulting anything in (get_mempolicy would fault absent pages in).

use std::fs::File;

use super::io::pread_all;
use crate::{Errno, Error, MemExtract, Result, PAGE_SIZE};

/// Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
const PRESENT: u64 = 1 << 63;
const SWAPPED: u64 = 1 << 62;
const PFN_MASK: u64 = (1 << 55) - 1;

/// What one pagemap entry says about `vaddr`, given whether a mapping
/// covers it and its NUMA domain when mapped.
pub fn decode(vaddr: u64, in_vma: bool, entry: u64) -> MemExtract {
    if !in_vma {
        return MemExtract::invalid(vaddr);
    }
    if entry & PRESENT == 0 || entry & SWAPPED != 0 {
        return MemExtract::valid(vaddr);
    }
    let pfn = entry & PFN_MASK;
    if pfn == 0 {
        // The kernel zeroes frame numbers for readers without
        // CAP_SYS_ADMIN: mapped, but the frame is not ours to know.
        return MemExtract {
            vaddr,
            state: crate::PageState::Mapped,
            paddr: None,
            domain: Some(0),
            hidden: true,
        };
    }
    MemExtract::mapped(vaddr, (pfn << 12) | (vaddr & (PAGE_SIZE - 1)), 0)
}

/// The address ranges of /proc/self/maps' text, `[start, end)`, in order.
pub fn parse_maps(text: &str) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let range = l.split_ascii_whitespace().next()?;
            let (s, e) = range.split_once('-')?;
            Some((
                u64::from_str_radix(s, 16).ok()?,
                u64::from_str_radix(e, 16).ok()?,
            ))
        })
        .collect();
    v.sort_unstable();
    v
}

/// The mapping `[start, end)` holding `va`, if any.
fn containing(maps: &[(u64, u64)], va: u64) -> Option<(u64, u64)> {
    let i = maps.partition_point(|&(s, _)| s <= va);
    maps.get(i.checked_sub(1)?)
        .copied()
        .filter(|&(_, end)| va < end)
}

#[cfg(test)]
fn covered(maps: &[(u64, u64)], va: u64) -> bool {
    containing(maps, va).is_some()
}

/// Reads the pagemap entries of the pages from `vpn` on into `buf` (8 bytes
/// each, zeroed by the caller), in one pread. Past the end of the user
/// address space the kernel returns nothing: those entries stay 0 (not
/// present), and no mapping covers them. (Splitting the read over threads
/// was tried: the kernel's walk got slower, not faster.)
fn read_entries(pm: &File, vpn: u64, buf: &mut [u8]) {
    let _ = pread_all(pm, vpn.saturating_mul(8), buf);
}

/// This process's page tables, as the kernel shows them.
pub struct Pagemap {
    pagemap: Option<File>,
    /// NUMA nodes of this machine: with one, every page is domain 0 and no
    /// system call is needed.
    nodes: usize,
    buf: Vec<u8>,
}

impl Default for Pagemap {
    fn default() -> Self {
        Self::new()
    }
}

impl Pagemap {
    pub fn new() -> Pagemap {
        let nodes = std::fs::read_dir("/sys/devices/system/node")
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name();
                        let n = n.to_string_lossy();
                        n.starts_with("node") && n[4..].parse::<u32>().is_ok()
                    })
                    .count()
            })
            .unwrap_or(1)
            .max(1);
        Pagemap {
            pagemap: File::open("/proc/self/pagemap").ok(),
            nodes,
            buf: Vec::new(),
        }
    }

    /// MEM_EXTRACT_PADDR for every entry's address, in one batch.
    pub fn extract(&mut self, out: &mut [MemExtract]) -> Result<()> {
        let Some(pm) = &self.pagemap else {
            return Err(Error::new(
                Errno::EOPNOTSUPP,
                "mem.extract",
                "/proc/self/pagemap cannot be opened (a kernel without CONFIG_PROC_PAGE_MONITOR?)",
            ));
        };
        let maps = parse_maps(&std::fs::read_to_string("/proc/self/maps").map_err(|e| {
            Error::new(
                Errno::EIO,
                "mem.extract",
                format!("cannot read /proc/self/maps: {e}"),
            )
        })?);
        let mut i = 0;
        while i < out.len() {
            // A run of consecutive pages: one pread for all of it.
            let vpn = out[i].vaddr / PAGE_SIZE;
            let mut j = i + 1;
            while j < out.len() && out[j].vaddr / PAGE_SIZE == vpn + (j - i) as u64 {
                j += 1;
            }
            let n = j - i;
            self.buf.clear();
            self.buf.resize(n * 8, 0);
            read_entries(pm, vpn, &mut self.buf);
            // Consecutive pages mostly share one mapping: remember the last
            // one found instead of searching the list for every page.
            let mut vma = (0u64, 0u64);
            for (k, e) in self.buf.chunks_exact(8).enumerate() {
                let va = out[i + k].vaddr;
                let in_vma = (vma.0..vma.1).contains(&va) || {
                    let found = containing(&maps, va);
                    vma = found.unwrap_or((0, 0));
                    found.is_some()
                };
                let entry = u64::from_le_bytes(e.try_into().unwrap_or([0; 8]));
                out[i + k] = decode(va, in_vma, entry);
            }
            i = j;
        }
        if self.nodes > 1 {
            self.domains(out);
        }
        Ok(())
    }

    /// Fills the NUMA node of every mapped page through move_pages with no
    /// target nodes (a query); -1 where the kernel gives none.
    fn domains(&self, out: &mut [MemExtract]) {
        let idx: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].state == crate::PageState::Mapped)
            .collect();
        for chunk in idx.chunks(16384) {
            let pages: Vec<*mut libc::c_void> = chunk
                .iter()
                .map(|&i| (out[i].vaddr & !(PAGE_SIZE - 1)) as *mut libc::c_void)
                .collect();
            let mut status = vec![-1i32; chunk.len()];
            // SAFETY: `pages` and `status` have `chunk.len()` elements; a
            // NULL node list makes move_pages only report each page's node.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_move_pages,
                    0,
                    pages.len() as libc::c_ulong,
                    pages.as_ptr(),
                    std::ptr::null::<libc::c_int>(),
                    status.as_mut_ptr(),
                    0,
                )
            };
            for (k, &i) in chunk.iter().enumerate() {
                out[i].domain = Some(if r == 0 && status[k] >= 0 {
                    status[k]
                } else {
                    -1
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PageState;

    #[test]
    fn decodes_entries() {
        assert_eq!(decode(0x1000, false, PRESENT | 5).state, PageState::Invalid);
        assert_eq!(decode(0x1000, true, 0).state, PageState::Valid);
        assert_eq!(decode(0x1000, true, SWAPPED | 7).state, PageState::Valid);
        let m = decode(0x1234, true, PRESENT | (1 << 55) | 0x1abcd);
        assert_eq!(m.state, PageState::Mapped);
        assert_eq!(m.paddr, Some(0x1abcd234));
        assert_eq!(m.domain, Some(0));
        let h = decode(0x1234, true, PRESENT);
        assert_eq!(h.state, PageState::Mapped);
        assert_eq!(h.paddr, None);
        assert!(h.hidden && h.why().is_some());
    }

    #[test]
    fn maps_cover_their_ranges() {
        let m = parse_maps(
            "7f0000000000-7f0000002000 rw-p 00000000 00:00 0 \n\
             55d0c0000000-55d0c0001000 r--p 00000000 08:01 42  /usr/bin/x\n",
        );
        assert!(covered(&m, 0x7f0000001fff));
        assert!(!covered(&m, 0x7f0000002000));
        assert!(covered(&m, 0x55d0c0000000));
        assert!(!covered(&m, 0x1000));
    }
}
