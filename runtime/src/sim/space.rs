//! The simulated physical address space: regions of RAM, ROM and devices,
//! holes between them, and nothing above the board's physical-address
//! width (docs/MEM4.md §2.3: above `cpu_getmaxphyaddr()` is EFAULT, below it
//! nothing is checked against RAM).
//!
//! Errors from here carry an empty `op` and no subject; the simulator names
//! the operation and the address the caller used (a physical or a kernel
//! one).

use super::devices::{Device, Tick};
use super::ram::SparseMem;
use crate::{Errno, Error, Result, Width};

/// What the space does at an address no region claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolePolicy {
    /// Reads give all ones and writes are dropped, as on a PC's bus.
    Ones,
    /// EFAULT, as on buses that abort unclaimed cycles.
    Fault,
}

/// What fills a region.
pub enum RegionKind {
    Ram(SparseMem),
    /// Read-only memory: writes are ignored and counted.
    Rom {
        mem: SparseMem,
        ignored_writes: u64,
    },
    Device(Box<dyn Device>),
}

/// One claimed stretch of physical space.
pub struct Region {
    pub name: String,
    pub base: u64,
    pub size: u64,
    /// The NUMA domain of RAM, as the board says.
    pub domain: Option<i32>,
    pub kind: RegionKind,
}

impl Region {
    pub fn end(&self) -> u64 {
        self.base + self.size
    }

    /// `ram`, `rom`, or the device's kind.
    pub fn kind_name(&self) -> &str {
        match &self.kind {
            RegionKind::Ram(_) => "ram",
            RegionKind::Rom { .. } => "rom",
            RegionKind::Device(d) => d.kind(),
        }
    }

    pub fn is_ram(&self) -> bool {
        matches!(self.kind, RegionKind::Ram(_))
    }
}

/// A piece of a bulk transfer inside one region or one hole.
#[derive(Debug, Clone, Copy)]
struct Segment {
    region: Option<usize>,
    addr: u64,
    len: u64,
}

/// The virtual clock that devices see (`sim.clock()`, in ns).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now_ns: u64,
    /// How far every device access moves it.
    pub step_ns: u64,
}

pub struct PhysSpace {
    regions: Vec<Region>,
    /// The highest valid physical address: (1 << maxphyaddr) - 1.
    max_addr: u64,
    maxphyaddr: u32,
    holes: HolePolicy,
    /// The region the last access hit: loops mostly stay in one.
    last: usize,
    /// Set while a DMA copy runs.
    in_dma: bool,
    pub clock: Clock,
}

fn fault(message: String) -> Error {
    Error::new(Errno::EFAULT, "", message)
}

impl PhysSpace {
    /// `regions` must not overlap and must lie below 1 << maxphyaddr; the
    /// board loader checks that and says where a board breaks it.
    pub fn new(mut regions: Vec<Region>, maxphyaddr: u32, holes: HolePolicy, clock: Clock) -> Self {
        regions.sort_by_key(|r| r.base);
        PhysSpace {
            regions,
            max_addr: (1u64 << maxphyaddr) - 1,
            maxphyaddr,
            holes,
            last: 0,
            in_dma: false,
            clock,
        }
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn maxphyaddr(&self) -> u32 {
        self.maxphyaddr
    }

    pub fn max_addr(&self) -> u64 {
        self.max_addr
    }

    pub fn holes(&self) -> HolePolicy {
        self.holes
    }

    /// Adds a region (a device modelled in Lua, say) where nothing is yet.
    pub fn insert(&mut self, region: Region) -> Result<()> {
        if region.size == 0 {
            return Err(Error::new(
                Errno::EINVAL,
                "",
                "a region needs a length above 0",
            ));
        }
        let end = region.base.checked_add(region.size - 1);
        if end.is_none_or(|e| e > self.max_addr) {
            return Err(fault(format!(
                "'{}' would end above the {}-bit physical address space",
                region.name, self.maxphyaddr
            )));
        }
        if let Some(other) = self
            .regions
            .iter()
            .find(|r| region.base < r.end() && r.base < region.end())
        {
            return Err(Error::new(
                Errno::EBUSY,
                "",
                format!(
                    "'{}' would overlap '{}' at {:#x}-{:#x}",
                    region.name,
                    other.name,
                    other.base,
                    other.end() - 1
                ),
            ));
        }
        if self.regions.iter().any(|r| r.name == region.name) {
            return Err(Error::new(
                Errno::EINVAL,
                "",
                format!("a region named '{}' exists already", region.name),
            ));
        }
        let at = self.regions.partition_point(|r| r.base < region.base);
        self.regions.insert(at, region);
        self.last = 0;
        Ok(())
    }

    /// Index of the region holding `addr`.
    #[inline]
    fn find(&mut self, addr: u64) -> Option<usize> {
        if let Some(r) = self.regions.get(self.last) {
            if addr >= r.base && addr - r.base < r.size {
                return Some(self.last);
            }
        }
        let i = self
            .regions
            .partition_point(|r| r.base <= addr)
            .checked_sub(1)?;
        let r = &self.regions[i];
        (addr - r.base < r.size).then(|| {
            self.last = i;
            i
        })
    }

    pub fn region_index(&mut self, addr: u64) -> Option<usize> {
        self.find(addr)
    }

    pub fn region_mut(&mut self, i: usize) -> &mut Region {
        &mut self.regions[i]
    }

    /// EINVAL unless `addr` is naturally aligned; EFAULT past the top.
    #[inline]
    fn check_access(&self, addr: u64, w: Width) -> Result<()> {
        w.check_aligned(addr, "address")?;
        if addr > self.max_addr - (w.bytes() - 1) {
            return Err(self.above_top());
        }
        Ok(())
    }

    fn above_top(&self) -> Error {
        fault(format!(
            "above the {}-bit physical address space (highest address {:#x})",
            self.maxphyaddr, self.max_addr
        ))
    }

    fn hole_fault(&self) -> Error {
        fault("no memory or device answers here (the board's holes fault)".into())
    }

    fn tick(&mut self) -> Tick {
        self.clock.now_ns = self.clock.now_ns.saturating_add(self.clock.step_ns);
        Tick {
            now_ns: self.clock.now_ns,
        }
    }

    /// One read of exactly `w`.
    #[inline]
    pub fn read(&mut self, addr: u64, w: Width) -> Result<u64> {
        self.check_access(addr, w)?;
        let Some(i) = self.find(addr) else {
            return match self.holes {
                HolePolicy::Ones => Ok(w.mask()),
                HolePolicy::Fault => Err(self.hole_fault()),
            };
        };
        let off = addr - self.regions[i].base;
        match &mut self.regions[i].kind {
            RegionKind::Ram(mem) | RegionKind::Rom { mem, .. } => Ok(mem.read(off, w)),
            RegionKind::Device(_) => self.device_read(i, off, w),
        }
    }

    /// One write of exactly `w`; `v` already fits.
    #[inline]
    pub fn write(&mut self, addr: u64, w: Width, v: u64) -> Result<()> {
        self.check_access(addr, w)?;
        let Some(i) = self.find(addr) else {
            return match self.holes {
                HolePolicy::Ones => Ok(()),
                HolePolicy::Fault => Err(self.hole_fault()),
            };
        };
        let off = addr - self.regions[i].base;
        match &mut self.regions[i].kind {
            RegionKind::Ram(mem) => {
                mem.write(off, w, v);
                Ok(())
            }
            RegionKind::Rom { ignored_writes, .. } => {
                *ignored_writes += 1;
                Ok(())
            }
            RegionKind::Device(_) => self.device_write(i, off, w, v),
        }
    }

    fn device(&mut self, i: usize) -> &mut dyn Device {
        match &mut self.regions[i].kind {
            RegionKind::Device(d) => d.as_mut(),
            _ => unreachable!("region {i} is a device"),
        }
    }

    #[inline]
    fn check_width(&mut self, i: usize, w: Width) -> Result<()> {
        if self.device(i).widths().contains(&w) {
            return Ok(());
        }
        let name = &self.regions[i].name;
        let RegionKind::Device(dev) = &self.regions[i].kind else {
            unreachable!("region {i} is a device")
        };
        let legal: Vec<String> = dev.widths().iter().map(|w| w.bits().to_string()).collect();
        Err(Error::new(
            Errno::EINVAL,
            "",
            format!(
                "{} '{name}' takes {}-bit accesses only, not {}-bit",
                dev.kind(),
                legal.join("/"),
                w.bits()
            ),
        ))
    }

    fn device_read(&mut self, i: usize, off: u64, w: Width) -> Result<u64> {
        self.check_width(i, w)?;
        let tick = self.tick();
        self.device(i).read(off, w, tick)
    }

    fn device_write(&mut self, i: usize, off: u64, w: Width, v: u64) -> Result<()> {
        self.check_width(i, w)?;
        let tick = self.tick();
        self.device(i).write(off, w, v, tick)?;
        if let Some(req) = self.device(i).take_dma() {
            // A copy that writes a DMA engine's own start bit must not start
            // copies without end: a request made during a copy fails.
            let ok = !self.in_dma && {
                self.in_dma = true;
                let r = self.copy(req.src, req.dst, req.len);
                self.in_dma = false;
                r.is_ok()
            };
            self.device(i).dma_done(ok);
        }
        Ok(())
    }

    /// Splits `[addr, addr+len)` into region and hole pieces, checking what a
    /// bulk transfer needs before anything moves: the top of the space,
    /// faulting holes, and device registers taken at their narrowest width.
    fn plan(&mut self, addr: u64, len: u64) -> Result<Vec<Segment>> {
        let mut out = Vec::new();
        if len == 0 {
            return Ok(out);
        }
        let last = addr.checked_add(len - 1).ok_or_else(|| self.above_top())?;
        if last > self.max_addr {
            // The first byte that does not exist.
            return Err(self.above_top().at((self.max_addr + 1).max(addr)));
        }
        let mut at = addr;
        loop {
            let seg = match self.find(at) {
                Some(i) => {
                    let r = &self.regions[i];
                    let n = (r.end() - at).min(last - at + 1);
                    Segment {
                        region: Some(i),
                        addr: at,
                        len: n,
                    }
                }
                None => {
                    let next = self.regions.partition_point(|r| r.base <= at);
                    let stop = self.regions.get(next).map_or(u64::MAX, |r| r.base - 1);
                    if self.holes == HolePolicy::Fault {
                        return Err(self.hole_fault().at(at));
                    }
                    Segment {
                        region: None,
                        addr: at,
                        len: stop.min(last) - at + 1,
                    }
                }
            };
            if let Some(i) = seg.region {
                self.check_device_bulk(i, seg)?;
            }
            out.push(seg);
            if seg.addr + (seg.len - 1) >= last {
                return Ok(out);
            }
            at = seg.addr + seg.len;
        }
    }

    /// Checks a bulk transfer of `len` bytes at `addr` could be done whole.
    pub fn check_range(&mut self, addr: u64, len: u64) -> Result<()> {
        self.plan(addr, len).map(|_| ())
    }

    /// Registers are moved one access at a time at the device's narrowest
    /// width, so the piece must be aligned to it.
    fn check_device_bulk(&mut self, i: usize, seg: Segment) -> Result<()> {
        let region = &mut self.regions[i];
        let RegionKind::Device(dev) = &mut region.kind else {
            return Ok(());
        };
        if dev.memory().is_some() {
            return Ok(());
        }
        let w = dev.widths()[0];
        if w.is_aligned(seg.addr) && seg.len.is_multiple_of(w.bytes()) {
            return Ok(());
        }
        Err(Error::new(
            Errno::EINVAL,
            "",
            format!(
                "{} '{}' is moved in {}-bit registers: start and length must be multiples of {}",
                dev.kind(),
                region.name,
                w.bits(),
                w.bytes()
            ),
        )
        .at(seg.addr))
    }

    /// Memory that a bulk transfer may copy directly: RAM, ROM (for reads)
    /// and RAM-like device memory.
    fn memory_of(&mut self, i: usize) -> Option<&mut SparseMem> {
        match &mut self.regions[i].kind {
            RegionKind::Ram(mem) | RegionKind::Rom { mem, .. } => Some(mem),
            RegionKind::Device(dev) => dev.memory(),
        }
    }

    /// Bulk read; nothing is read unless the whole range can be.
    pub fn read_bytes(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let plan = self.plan(addr, buf.len() as u64)?;
        let mut pos = 0usize;
        for seg in plan {
            let start = pos;
            let out = &mut buf[pos..pos + seg.len as usize];
            pos += seg.len as usize;
            let Some(i) = seg.region else {
                out.fill(0xff);
                continue;
            };
            let off = seg.addr - self.regions[i].base;
            if let Some(mem) = self.memory_of(i) {
                mem.read_bytes(off, out);
                continue;
            }
            let w = self.device(i).widths()[0];
            for (k, chunk) in out.chunks_exact_mut(w.bytes() as usize).enumerate() {
                let at = k as u64 * w.bytes();
                // Only a device model's own failure gets here (the plan
                // checked the rest): say how far the transfer got.
                let v = self
                    .device_read(i, off + at, w)
                    .map_err(|e| e.done(start as u64 + at))?;
                chunk.copy_from_slice(&v.to_le_bytes()[..w.bytes() as usize]);
            }
        }
        Ok(())
    }

    /// Bulk write; nothing is written unless the whole range can be, as
    /// far as the simulator can tell: a device model (`sim.device`) that
    /// fails in the middle stops the transfer there, with `done` set.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let plan = self.plan(addr, data.len() as u64)?;
        let mut pos = 0usize;
        for seg in plan {
            let start = pos;
            let src = &data[pos..pos + seg.len as usize];
            pos += seg.len as usize;
            let Some(i) = seg.region else { continue };
            let off = seg.addr - self.regions[i].base;
            if let RegionKind::Rom { ignored_writes, .. } = &mut self.regions[i].kind {
                *ignored_writes += 1;
                continue;
            }
            if let Some(mem) = self.memory_of(i) {
                mem.write_bytes(off, src);
                continue;
            }
            let w = self.device(i).widths()[0];
            for (k, chunk) in src.chunks_exact(w.bytes() as usize).enumerate() {
                let at = k as u64 * w.bytes();
                let mut v = [0u8; 8];
                v[..chunk.len()].copy_from_slice(chunk);
                self.device_write(i, off + at, w, u64::from_le_bytes(v))
                    .map_err(|e| e.done(start as u64 + at))?;
            }
        }
        Ok(())
    }

    /// A DMA engine's copy inside physical space, in 64 KiB steps so a large
    /// transfer needs no large buffer. Both ranges are checked first.
    pub fn copy(&mut self, src: u64, dst: u64, len: u64) -> Result<()> {
        self.plan(src, len)?;
        self.plan(dst, len)?;
        let mut chunk = vec![0u8; len.min(64 * 1024) as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(chunk.len() as u64) as usize;
            self.read_bytes(src + done, &mut chunk[..n])?;
            self.write_bytes(dst + done, &chunk[..n])?;
            done += n as u64;
        }
        Ok(())
    }
}
