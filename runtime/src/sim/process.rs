//! The simulated calling process: the buffers `mem.alloc` hands out and the
//! page table MEM_EXTRACT_PADDR looks at (docs/MEM4.md §3).
//!
//! A buffer's pages are VALID until first touched, then MAPPED to a real
//! page frame of simulated RAM (so a DMA into the frame changes what the
//! buffer reads), wired by lock, unmapped again by a reclaim unless wired
//! (the data is kept, as if paged out), and INVALID once freed.

use std::collections::BTreeMap;

use super::ram::{Page, SparseMem};
use super::space::{PhysSpace, RegionKind};
use crate::{Errno, Error, MemExtract, Result, Width, PAGE_SIZE};

/// Where buffers start: FreeBSD/amd64's usual mmap area.
pub const USER_BASE: u64 = 0x8_0000_0000;

#[derive(Default)]
struct PageSlot {
    /// The physical frame while the page is resident.
    frame: Option<u64>,
    /// The data of a page reclaimed while it held some.
    swapped: Option<Box<Page>>,
}

struct Buf {
    len: u64,
    pages: Vec<PageSlot>,
    wired: bool,
}

/// Page frames of RAM that process pages may use, handed out from the top
/// of the lowest NUMA domain downwards (low RAM stays free for scripts that
/// poke at fixed physical addresses), reused last-freed first.
struct Frames {
    /// (base, pages) of each usable stretch, in hand-out order.
    pools: Vec<(u64, u64)>,
    /// Next pool and how many of its pages are handed out.
    pool: usize,
    used_in_pool: u64,
    free: Vec<u64>,
    /// Pages promised to live buffers (a buffer reserves all of its pages).
    reserved: u64,
    capacity: u64,
}

impl Frames {
    fn take(&mut self) -> Option<u64> {
        if let Some(f) = self.free.pop() {
            return Some(f);
        }
        while let Some(&(base, pages)) = self.pools.get(self.pool) {
            if self.used_in_pool < pages {
                self.used_in_pool += 1;
                return Some(base + (pages - self.used_in_pool) * PAGE_SIZE);
            }
            self.pool += 1;
            self.used_in_pool = 0;
        }
        None
    }
}

pub struct ProcessSpace {
    bufs: BTreeMap<u64, Buf>,
    next_va: u64,
    frames: Frames,
}

/// The RAM holding a page frame and the frame's page number in it. Frames
/// come from RAM pools, so this always finds one.
fn frame_page(phys: &mut PhysSpace, frame: u64) -> Option<(&mut SparseMem, u64)> {
    let ri = phys.region_index(frame)?;
    let region = phys.region_mut(ri);
    let pageno = (frame - region.base) / PAGE_SIZE;
    match &mut region.kind {
        RegionKind::Ram(mem) => Some((mem, pageno)),
        _ => None,
    }
}

fn no_buffer(buf: u64) -> Error {
    Error::new(
        Errno::EINVAL,
        "",
        "no live buffer here: it was freed or never allocated",
    )
    .at(buf)
}

impl ProcessSpace {
    /// `pools` are the RAM stretches (base, bytes) frames may come from.
    pub fn new(pools: Vec<(u64, u64)>) -> Self {
        let pools: Vec<(u64, u64)> = pools
            .into_iter()
            .map(|(b, n)| (b, n / PAGE_SIZE))
            .filter(|&(_, n)| n > 0)
            .collect();
        let capacity = pools.iter().map(|&(_, n)| n).sum();
        ProcessSpace {
            bufs: BTreeMap::new(),
            next_va: USER_BASE,
            frames: Frames {
                pools,
                pool: 0,
                used_in_pool: 0,
                free: Vec::new(),
                reserved: 0,
                capacity,
            },
        }
    }

    /// Pages not yet promised to a buffer.
    pub fn free_pages(&self) -> u64 {
        self.frames.capacity - self.frames.reserved
    }

    pub fn alloc(&mut self, len: u64) -> Result<u64> {
        let pages = len.div_ceil(PAGE_SIZE);
        if pages > self.free_pages() {
            return Err(Error::new(
                Errno::ENOMEM,
                crate::ops::MEM_ALLOC,
                format!(
                    "{len} bytes asked for, but only {} bytes of simulated RAM are free; free a buffer or ask for less",
                    self.free_pages() * PAGE_SIZE
                ),
            ));
        }
        let addr = self.next_va;
        // One unmapped guard page after each buffer, so the address just past
        // a buffer is invalid, as past an mmap'd region usually is.
        self.next_va += (pages + 1) * PAGE_SIZE;
        self.frames.reserved += pages;
        let mut slots = Vec::with_capacity(pages as usize);
        slots.resize_with(pages as usize, PageSlot::default);
        self.bufs.insert(
            addr,
            Buf {
                len,
                pages: slots,
                wired: false,
            },
        );
        Ok(addr)
    }

    fn buf(&mut self, buf: u64) -> Result<&mut Buf> {
        self.bufs.get_mut(&buf).ok_or_else(|| no_buffer(buf))
    }

    /// Makes page `i` of `buf` resident and returns its frame: a fresh page
    /// is zero-filled, a reclaimed one gets its data back.
    fn touch(&mut self, phys: &mut PhysSpace, buf: u64, i: usize) -> Result<u64> {
        let b = self.bufs.get_mut(&buf).ok_or_else(|| no_buffer(buf))?;
        if let Some(f) = b.pages[i].frame {
            return Ok(f);
        }
        // The buffer reserved this page at alloc time, so a frame exists.
        let frame = self.frames.take().ok_or_else(|| {
            Error::new(Errno::ENOMEM, "", "no page frame left for a reserved page").at(buf)
        })?;
        let data = b.pages[i].swapped.take();
        b.pages[i].frame = Some(frame);
        if let Some((mem, pageno)) = frame_page(phys, frame) {
            match data {
                Some(page) => mem.put_page(pageno, page),
                None => drop(mem.take_page(pageno)),
            }
        }
        Ok(frame)
    }

    /// The page table walk: the physical address behind `vaddr`, paging
    /// it in. EFAULT outside every buffer (the buffer table in the
    /// bindings refuses such accesses before they get here).
    fn frame_of(&mut self, phys: &mut PhysSpace, vaddr: u64) -> Result<u64> {
        let hit = self
            .bufs
            .range(..=vaddr)
            .next_back()
            .filter(|(&base, b)| vaddr - base < b.len)
            .map(|(&base, _)| base);
        let Some(base) = hit else {
            return Err(Error::new(
                Errno::EFAULT,
                "",
                "not in a buffer of this process (mem.alloc hands them out)",
            )
            .at(vaddr));
        };
        let frame = self.touch(phys, base, ((vaddr - base) / PAGE_SIZE) as usize)?;
        Ok(frame + vaddr % PAGE_SIZE)
    }

    pub fn read(&mut self, phys: &mut PhysSpace, vaddr: u64, w: Width) -> Result<u64> {
        // Refused before the page is touched, so a refusal changes nothing.
        w.check_aligned(vaddr, "address")?;
        let pa = self.frame_of(phys, vaddr)?;
        phys.read(pa, w)
    }

    pub fn write(&mut self, phys: &mut PhysSpace, vaddr: u64, w: Width, v: u64) -> Result<()> {
        w.check_aligned(vaddr, "address")?;
        let pa = self.frame_of(phys, vaddr)?;
        phys.write(pa, w, v)
    }

    /// Visits `[vaddr, vaddr+n)` page by page: (physical address, position,
    /// length). Every page is found before any byte moves, so a transfer
    /// that fails changes nothing.
    fn each_piece(
        &mut self,
        phys: &mut PhysSpace,
        vaddr: u64,
        n: u64,
        mut f: impl FnMut(&mut PhysSpace, u64, usize, usize) -> Result<()>,
    ) -> Result<()> {
        let mut pieces = Vec::new();
        let mut done = 0u64;
        while done < n {
            let at = vaddr.wrapping_add(done);
            let chunk = (PAGE_SIZE - at % PAGE_SIZE).min(n - done);
            pieces.push((self.frame_of(phys, at)?, done as usize, chunk as usize));
            done += chunk;
        }
        for (pa, at, len) in pieces {
            f(phys, pa, at, len)?;
        }
        Ok(())
    }

    pub fn read_bytes(&mut self, phys: &mut PhysSpace, vaddr: u64, out: &mut [u8]) -> Result<()> {
        self.each_piece(phys, vaddr, out.len() as u64, |p, pa, at, n| {
            p.read_bytes(pa, &mut out[at..at + n])
        })
    }

    pub fn write_bytes(&mut self, phys: &mut PhysSpace, vaddr: u64, data: &[u8]) -> Result<()> {
        self.each_piece(phys, vaddr, data.len() as u64, |p, pa, at, n| {
            p.write_bytes(pa, &data[at..at + n])
        })
    }

    /// mlock: every page resident and wired.
    pub fn lock(&mut self, phys: &mut PhysSpace, buf: u64) -> Result<()> {
        let pages = self.buf(buf)?.pages.len();
        for i in 0..pages {
            self.touch(phys, buf, i)?;
        }
        self.buf(buf)?.wired = true;
        Ok(())
    }

    pub fn unlock(&mut self, buf: u64) -> Result<()> {
        self.buf(buf)?.wired = false;
        Ok(())
    }

    pub fn free(&mut self, buf: u64) -> Result<()> {
        let b = self.bufs.remove(&buf).ok_or_else(|| no_buffer(buf))?;
        self.frames.reserved -= b.pages.len() as u64;
        self.frames
            .free
            .extend(b.pages.iter().filter_map(|p| p.frame));
        Ok(())
    }

    /// Pages out every page that is not wired, keeping its data.
    pub fn reclaim(&mut self, phys: &mut PhysSpace) -> usize {
        let mut count = 0;
        for b in self.bufs.values_mut().filter(|b| !b.wired) {
            for slot in &mut b.pages {
                let Some(frame) = slot.frame.take() else {
                    continue;
                };
                if let Some((mem, pageno)) = frame_page(phys, frame) {
                    slot.swapped = mem.take_page(pageno);
                }
                self.frames.free.push(frame);
                count += 1;
            }
        }
        count
    }

    /// MEM_EXTRACT_PADDR for one address; `domain` maps a frame to its
    /// NUMA domain.
    pub fn extract(&self, vaddr: u64, domain: impl Fn(u64) -> i32) -> MemExtract {
        let Some((&base, b)) = self.bufs.range(..=vaddr).next_back() else {
            return MemExtract::invalid(vaddr);
        };
        let i = ((vaddr - base) / PAGE_SIZE) as usize;
        match b.pages.get(i) {
            None => MemExtract::invalid(vaddr),
            Some(PageSlot { frame: None, .. }) => MemExtract::valid(vaddr),
            Some(PageSlot { frame: Some(f), .. }) => {
                MemExtract::mapped(vaddr, f + vaddr % PAGE_SIZE, domain(*f))
            }
        }
    }
}
