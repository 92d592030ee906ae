//! Sparse memory: 4 KiB pages allocated on first write, untouched pages read
//! as zero. A board with 8 GiB of RAM costs nothing until touched: even the
//! directory grows only as far as the highest leaf written (made whole at
//! start, the `pc` board's 48 KiB of it were a tenth of `memlua devmem`'s
//! page faults).
//!
//! The page table is a two-level radix (512 pages per leaf) rather than a
//! hash map: a read is two indexed loads, which keeps a simulated read32 in
//! the few-nanosecond range the benchmarks ask for.

use crate::{Width, PAGE_SIZE};

const PAGE: usize = PAGE_SIZE as usize;
const LEAF_SHIFT: u64 = 9;
const LEAF_PAGES: usize = 1 << LEAF_SHIFT;

/// One page of memory, aligned so that aligned accesses stay aligned.
#[derive(Clone)]
#[repr(C, align(64))]
pub struct Page(pub [u8; PAGE]);

impl Page {
    pub fn zeroed() -> Box<Page> {
        Box::new(Page([0; PAGE]))
    }
}

type Leaf = [Option<Box<Page>>; LEAF_PAGES];

/// A zero-initialised byte space of `size` bytes that only stores the pages
/// written to.
pub struct SparseMem {
    size: u64,
    dir: Vec<Option<Box<Leaf>>>,
    pages: usize,
}

/// Leaf `d` of `dir`, made (and the directory grown to it) if needed.
#[inline]
fn leaf_mut(dir: &mut Vec<Option<Box<Leaf>>>, d: usize) -> &mut Leaf {
    if d >= dir.len() {
        dir.resize_with(d + 1, || None);
    }
    dir[d].get_or_insert_with(|| Box::new([const { None }; LEAF_PAGES]))
}

impl SparseMem {
    pub fn new(size: u64) -> Self {
        SparseMem {
            size,
            dir: Vec::new(),
            pages: 0,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many pages hold data (were written to).
    pub fn resident_pages(&self) -> usize {
        self.pages
    }

    #[inline]
    fn split(pageno: u64) -> (usize, usize) {
        (
            (pageno >> LEAF_SHIFT) as usize,
            (pageno as usize) & (LEAF_PAGES - 1),
        )
    }

    /// The page holding `pageno`, if it was ever written.
    #[inline]
    pub fn page(&self, pageno: u64) -> Option<&Page> {
        let (d, l) = Self::split(pageno);
        self.dir.get(d)?.as_ref()?[l].as_deref()
    }

    /// The page holding `pageno`, allocated (zeroed) if needed.
    #[inline]
    pub fn page_mut(&mut self, pageno: u64) -> &mut Page {
        let (d, l) = Self::split(pageno);
        let slot = &mut leaf_mut(&mut self.dir, d)[l];
        if slot.is_none() {
            self.pages += 1;
        }
        slot.get_or_insert_with(Page::zeroed)
    }

    /// Drops a page: it reads as zero again. Returns its data, if any.
    pub fn take_page(&mut self, pageno: u64) -> Option<Box<Page>> {
        let (d, l) = Self::split(pageno);
        let taken = self.dir.get_mut(d)?.as_mut()?[l].take();
        if taken.is_some() {
            self.pages -= 1;
        }
        taken
    }

    /// Puts whole page data in place (swap-in).
    pub fn put_page(&mut self, pageno: u64, page: Box<Page>) {
        let (d, l) = Self::split(pageno);
        if leaf_mut(&mut self.dir, d)[l].replace(page).is_none() {
            self.pages += 1;
        }
    }

    /// One little-endian access. `off` is aligned to `w` and inside the space,
    /// so it never crosses a page.
    #[inline]
    pub fn read(&self, off: u64, w: Width) -> u64 {
        let Some(page) = self.page(off / PAGE_SIZE) else {
            return 0;
        };
        let i = (off % PAGE_SIZE) as usize;
        let b = &page.0;
        match w {
            Width::W8 => b[i] as u64,
            Width::W16 => u16::from_le_bytes([b[i], b[i + 1]]) as u64,
            Width::W32 => u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as u64,
            Width::W64 => u64::from_le_bytes(b[i..i + 8].try_into().unwrap()),
        }
    }

    #[inline]
    pub fn write(&mut self, off: u64, w: Width, v: u64) {
        let i = (off % PAGE_SIZE) as usize;
        let b = &mut self.page_mut(off / PAGE_SIZE).0;
        match w {
            Width::W8 => b[i] = v as u8,
            Width::W16 => b[i..i + 2].copy_from_slice(&(v as u16).to_le_bytes()),
            Width::W32 => b[i..i + 4].copy_from_slice(&(v as u32).to_le_bytes()),
            Width::W64 => b[i..i + 8].copy_from_slice(&v.to_le_bytes()),
        }
    }

    /// Copies out `buf.len()` bytes at `off`; the caller checked the bounds.
    pub fn read_bytes(&self, mut off: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let in_page = (off % PAGE_SIZE) as usize;
            let n = (PAGE - in_page).min(buf.len() - done);
            let dst = &mut buf[done..done + n];
            match self.page(off / PAGE_SIZE) {
                Some(p) => dst.copy_from_slice(&p.0[in_page..in_page + n]),
                None => dst.fill(0),
            }
            done += n;
            off += n as u64;
        }
    }

    /// Copies `data` in at `off`; the caller checked the bounds.
    pub fn write_bytes(&mut self, mut off: u64, data: &[u8]) {
        let mut done = 0;
        while done < data.len() {
            let in_page = (off % PAGE_SIZE) as usize;
            let n = (PAGE - in_page).min(data.len() - done);
            let src = &data[done..done + n];
            // Zeros into a page that holds none yet change nothing it would
            // read: it stays unallocated (a DMA of untouched RAM, a bulk
            // clear), so RAM stays sparse.
            if self.page(off / PAGE_SIZE).is_none() && src.iter().all(|&b| b == 0) {
                done += n;
                off += n as u64;
                continue;
            }
            self.page_mut(off / PAGE_SIZE).0[in_page..in_page + n].copy_from_slice(src);
            done += n;
            off += n as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untouched_reads_zero_and_costs_nothing() {
        let m = SparseMem::new(8 << 30);
        assert_eq!(m.read(0x1234_5678, Width::W8), 0);
        assert_eq!(m.read(8 << 29, Width::W64), 0);
        assert_eq!(m.resident_pages(), 0);
        // Not even the directory: 8 GiB of it was 32 KiB, zeroed at start.
        assert_eq!(m.dir.capacity(), 0);
    }

    #[test]
    fn the_directory_grows_to_the_highest_leaf_written() {
        let mut m = SparseMem::new(8 << 30);
        let top = (8 << 30) - 8;
        m.write(top, Width::W64, 0x1122_3344_5566_7788);
        assert_eq!(m.dir.len(), (8 << 30) / PAGE / LEAF_PAGES);
        m.write(0x1000, Width::W32, 7);
        assert_eq!(m.read(top, Width::W64), 0x1122_3344_5566_7788);
        assert_eq!(m.read(0x1000, Width::W32), 7);
        assert_eq!(m.read(0x40_0000, Width::W32), 0);
        assert_eq!(m.resident_pages(), 2);
    }

    #[test]
    fn writes_allocate_one_page_and_read_back_little_endian() {
        let mut m = SparseMem::new(1 << 20);
        m.write(0x1000, Width::W32, 0xdead_beef);
        assert_eq!(m.read(0x1000, Width::W8), 0xef);
        assert_eq!(m.read(0x1002, Width::W16), 0xdead);
        assert_eq!(m.resident_pages(), 1);
    }

    #[test]
    fn bulk_crosses_pages_and_holes() {
        let mut m = SparseMem::new(1 << 20);
        let data: Vec<u8> = (0..9000u32).map(|i| i as u8).collect();
        m.write_bytes(0xff0, &data);
        let mut back = vec![0xaa; 9000 + 32];
        m.read_bytes(0xfd0, &mut back);
        assert!(back[..32].iter().all(|&b| b == 0));
        assert_eq!(&back[32..], &data[..]);
    }
}
