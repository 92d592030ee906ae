//! The in-process hardware simulator: a real backend with mem(4)'s rules,
//! built from a board description, so every script runs deterministically
//! on any machine with the errors real hardware would give.

pub mod board;
mod board_source;
pub mod devices;
pub mod kernel;
pub mod memrange;
pub mod process;
pub mod ram;
pub mod space;

use board::{Board, RegionSpec};
use devices::Device;
use kernel::{KernelMap, SymbolValue};
use memrange::MemRanges;
use process::ProcessSpace;
use space::{Clock, PhysSpace, Region, RegionKind};

use crate::{
    ops, Backend, Errno, Error, MdfFlags, MemExtract, MemRangeDesc, RangeOp, Result, Space, Width,
    PAGE_SIZE,
};

/// A summary of one region, for `sim.regions()` and `--map`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionInfo {
    pub name: String,
    /// `ram`, `rom` or the device kind.
    pub kind: String,
    pub base: u64,
    pub size: u64,
    pub domain: Option<i32>,
    /// Pages holding data (RAM, ROM and RAM-like device memory).
    pub resident_pages: Option<usize>,
    /// Writes a ROM ignored.
    pub ignored_writes: Option<u64>,
}

/// Whether and how the board supports memory ranges.
enum Ranges {
    /// No MTRRs on this platform: EOPNOTSUPP.
    Unsupported,
    Mtrr(MemRanges),
}

/// The simulator backend.
pub struct Sim {
    board: Board,
    phys: PhysSpace,
    kernel: KernelMap,
    process: ProcessSpace,
    ranges: Ranges,
    /// Whether the board names NUMA domains; if not, every page is domain 0.
    numa: bool,
}

impl Sim {
    /// Builds a simulator from a built-in board name or a TOML file.
    pub fn from_board_name(name_or_path: impl AsRef<std::path::Path>) -> Result<Sim> {
        Sim::new(Board::load(name_or_path)?)
    }

    pub fn new(board: Board) -> Result<Sim> {
        let mut regions = Vec::with_capacity(board.regions.len());
        for r in &board.regions {
            let kind = match &r.spec {
                RegionSpec::Ram { .. } => RegionKind::Ram(ram::SparseMem::new(r.size)),
                RegionSpec::Rom { data } => {
                    let mut mem = ram::SparseMem::new(r.size);
                    for (off, bytes) in data {
                        mem.write_bytes(*off, bytes);
                    }
                    RegionKind::Rom {
                        mem,
                        ignored_writes: 0,
                    }
                }
                RegionSpec::Device { kind, frequency } => RegionKind::Device(
                    devices::build(kind, r.size, *frequency)
                        .map_err(|m| Error::new(Errno::EINVAL, "board", m))?,
                ),
            };
            let domain = match r.spec {
                RegionSpec::Ram { domain } => domain,
                _ => None,
            };
            regions.push(Region {
                name: r.name.clone(),
                base: r.base,
                size: r.size,
                domain,
                kind,
            });
        }
        let clock = Clock {
            now_ns: 0,
            step_ns: board.clock_step_ns,
        };
        let mut phys = PhysSpace::new(regions, board.maxphyaddr, board.holes, clock);

        let ram: Vec<&board::RegionEntry> = board
            .regions
            .iter()
            .filter(|r| matches!(r.spec, RegionSpec::Ram { .. }))
            .collect();
        let ram_top = ram.iter().map(|r| r.base + r.size).max().unwrap_or(0);
        let ram_pages = ram.iter().map(|r| r.size / PAGE_SIZE).sum();
        let (kernel, contents) = KernelMap::new(&board.kernel, ram_top, ram_pages);
        for (va, value) in contents {
            let pa = kernel.translate(va, 8)?.paddr();
            match value {
                SymbolValue::U32(v) => phys.write(pa, Width::W32, v as u64)?,
                SymbolValue::U64(v) => phys.write(pa, Width::W64, v)?,
                SymbolValue::Text(t) => {
                    let mut bytes = t.into_bytes();
                    bytes.push(0);
                    phys.write_bytes(pa, &bytes)?;
                }
            }
        }

        // Process pages come from RAM outside the kernel image, from the
        // lowest domain first and the top of each region down.
        let (kbase, kend) = (board.kernel.phys, board.kernel.phys + board.kernel.size);
        let mut pools: Vec<(Option<i32>, u64, u64)> = Vec::new();
        for r in &ram {
            let domain = match r.spec {
                RegionSpec::Ram { domain } => domain,
                _ => None,
            };
            let (b, e) = (r.base, r.base + r.size);
            for (pb, pe) in [(b, e.min(kbase)), (b.max(kend), e)] {
                if pb < pe {
                    pools.push((domain, pb, pe - pb));
                }
            }
        }
        pools.sort_by_key(|&(d, base, _)| (d.unwrap_or(0), std::cmp::Reverse(base)));
        let process = ProcessSpace::new(pools.into_iter().map(|(_, b, n)| (b, n)).collect());

        let ranges = match &board.mtrr {
            None => Ranges::Unsupported,
            Some(cfg) => Ranges::Mtrr(
                MemRanges::new(cfg)
                    .map_err(|e| Error::new(Errno::EINVAL, "board", e.to_string()))?,
            ),
        };
        let numa = ram
            .iter()
            .any(|r| matches!(r.spec, RegionSpec::Ram { domain: Some(_) }));
        Ok(Sim {
            board,
            phys,
            kernel,
            process,
            ranges,
            numa,
        })
    }

    /// The board this simulator was built from.
    pub fn board_spec(&self) -> &Board {
        &self.board
    }

    pub fn kernel(&self) -> &KernelMap {
        &self.kernel
    }

    /// The NUMA domain of a physical address (vm_phys_domain, docs/MEM4.md §3):
    /// 0 without NUMA, else the RAM region's domain or -1.
    pub fn domain_of(&self, pa: u64) -> i32 {
        if !self.numa {
            return 0;
        }
        self.phys
            .regions()
            .iter()
            .find(|r| r.is_ram() && pa >= r.base && pa < r.end())
            .and_then(|r| r.domain)
            .unwrap_or(-1)
    }

    // ---- sim.* controls ----------------------------------------------------

    /// `sim.regions()`: every region in address order.
    pub fn regions(&mut self) -> Vec<RegionInfo> {
        let mut out = Vec::new();
        for i in 0..self.phys.regions().len() {
            let r = self.phys.region_mut(i);
            let kind = r.kind_name().to_string();
            let (resident_pages, ignored_writes) = match &mut r.kind {
                RegionKind::Ram(m) => (Some(m.resident_pages()), None),
                RegionKind::Rom {
                    mem,
                    ignored_writes,
                } => (Some(mem.resident_pages()), Some(*ignored_writes)),
                RegionKind::Device(d) => (d.memory().map(|m| m.resident_pages()), None),
            };
            out.push(RegionInfo {
                name: r.name.clone(),
                kind,
                base: r.base,
                size: r.size,
                domain: r.domain,
                resident_pages,
                ignored_writes,
            });
        }
        out
    }

    /// `sim.devices()`: the device regions only.
    pub fn devices(&mut self) -> Vec<RegionInfo> {
        self.regions()
            .into_iter()
            .filter(|r| r.kind != "ram" && r.kind != "rom")
            .collect()
    }

    /// `sim.device(spec)`: adds a device (one modelled in Lua, say) where no
    /// region is. Its window must be page-aligned, like a board's devices.
    pub fn add_device(
        &mut self,
        name: &str,
        base: u64,
        len: u64,
        dev: Box<dyn Device>,
    ) -> Result<()> {
        if !base.is_multiple_of(PAGE_SIZE) || !len.is_multiple_of(PAGE_SIZE) || len == 0 {
            return Err(Error::new(
                Errno::EINVAL,
                ops::SIM_DEVICE,
                format!("device '{name}' needs a base and a length that are non-zero multiples of 0x1000"),
            )
            .span(base, len));
        }
        self.phys
            .insert(Region {
                name: name.to_string(),
                base,
                size: len,
                domain: None,
                kind: RegionKind::Device(dev),
            })
            .map_err(|e| e.with_op(ops::SIM_DEVICE).span(base, len))
    }

    /// `sim.reclaim()`: pages out every process page that is not wired.
    pub fn reclaim(&mut self) -> usize {
        self.process.reclaim(&mut self.phys)
    }

    /// `sim.claim{...}`: another owner takes a memory range (MDF_BUSY).
    pub fn claim(
        &mut self,
        base: u64,
        len: u64,
        owner: &str,
        attr: Option<MdfFlags>,
    ) -> Result<()> {
        match &mut self.ranges {
            Ranges::Unsupported => Err(no_ranges(ops::SIM_CLAIM)),
            Ranges::Mtrr(m) => m.claim(base, len, owner, attr),
        }
    }

    /// `sim.output(name)`: what a UART transmitted.
    pub fn output(&mut self, name: &str) -> Result<Vec<u8>> {
        let regions = self.phys.regions();
        let Some(i) = regions.iter().position(|r| r.name == name) else {
            let names: Vec<&str> = regions
                .iter()
                .filter(|r| matches!(r.kind, RegionKind::Device(_)))
                .map(|r| r.name.as_str())
                .collect();
            return Err(Error::new(
                Errno::ENOENT,
                ops::SIM_OUTPUT,
                format!("no device named '{name}' (devices: {})", names.join(", ")),
            ));
        };
        match &self.phys.regions()[i].kind {
            RegionKind::Device(d) => d.output().map(<[u8]>::to_vec).ok_or_else(|| {
                Error::new(
                    Errno::EINVAL,
                    ops::SIM_OUTPUT,
                    format!("'{name}' is a {}, which transmits nothing", d.kind()),
                )
            }),
            _ => Err(Error::new(
                Errno::EINVAL,
                ops::SIM_OUTPUT,
                format!("'{name}' is memory, not a device"),
            )),
        }
    }

    /// `sim.clock()`: the virtual clock in ns.
    pub fn clock(&self) -> u64 {
        self.phys.clock.now_ns
    }

    /// `sim.advance(ns)`.
    pub fn advance(&mut self, ns: u64) {
        self.phys.clock.now_ns = self.phys.clock.now_ns.saturating_add(ns);
    }

    /// Pages of simulated RAM not promised to buffers.
    pub fn free_pages(&self) -> u64 {
        self.process.free_pages()
    }

    fn ranges_mut(&mut self, op: &str) -> Result<&mut MemRanges> {
        match &mut self.ranges {
            Ranges::Unsupported => Err(no_ranges(op)),
            Ranges::Mtrr(m) => Ok(m),
        }
    }

    /// One bulk transfer of `len` bytes at `addr`: `step(phys, paddr, pos,
    /// n)` moves bytes `pos..pos + n` of the caller's buffer. Kernel
    /// addresses are translated page by page and every piece is checked
    /// before anything moves, so a failure changes nothing (docs/API.md).
    fn bulk(
        &mut self,
        space: Space,
        addr: u64,
        len: u64,
        write: bool,
        mut step: impl FnMut(&mut PhysSpace, u64, usize, usize) -> Result<()>,
    ) -> Result<()> {
        // Physical errors name the physical address at fault; kernel ones
        // the kernel address, or the whole span when the fault lies behind
        // the translation.
        // `done`: bytes moved before the failing piece; a device model that
        // fails part-way through its piece adds what it took.
        let fail = |e: Error, behind: bool, done: usize| {
            let moved = done as u64 + e.done.unwrap_or(0);
            let e = e.with_op(ops::bulk(space, write)).done(moved);
            match (behind, e.addr()) {
                (false, Some(at)) => e.at(at),
                _ => e.span(addr, len),
            }
        };
        if space == Space::Phys {
            return step(&mut self.phys, addr, 0, len as usize).map_err(|e| fail(e, false, 0));
        }
        let pieces = self
            .kernel
            .translate_range(addr, len)
            .map_err(|e| fail(e, false, 0))?;
        for &(pa, n) in &pieces {
            self.phys.check_range(pa, n).map_err(|e| fail(e, true, 0))?;
        }
        let mut pos = 0usize;
        for (pa, n) in pieces {
            step(&mut self.phys, pa, pos, n as usize).map_err(|e| fail(e, true, pos))?;
            pos += n as usize;
        }
        Ok(())
    }
}

fn no_ranges(op: &str) -> Error {
    Error::new(
        Errno::EOPNOTSUPP,
        op,
        "this platform has no memory range attributes (no MTRRs)",
    )
}

impl Backend for Sim {
    fn name(&self) -> &str {
        "sim"
    }

    fn writable(&self) -> bool {
        true
    }

    fn board(&self) -> Option<&str> {
        Some(&self.board.name)
    }

    #[inline]
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        let r = match space {
            Space::Phys => self.phys.read(addr, w),
            // Alignment first, as for physical addresses: EINVAL whether or
            // not the address is mapped.
            Space::Kernel => w.check_aligned(addr, "address").and_then(|()| {
                self.kernel
                    .translate(addr, w.bytes())
                    .and_then(|t| self.phys.read(t.paddr(), w))
            }),
            Space::Process => self.process.read(&mut self.phys, addr, w),
        };
        r.map_err(|e| e.with_op(ops::access(space, w, false)).at(addr))
    }

    #[inline]
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        let r = w.check_value(v).and_then(|()| match space {
            Space::Phys => self.phys.write(addr, w, v & w.mask()),
            Space::Kernel => w.check_aligned(addr, "address").and_then(|()| {
                self.kernel
                    .translate(addr, w.bytes())
                    .and_then(|t| self.phys.write(t.paddr(), w, v & w.mask()))
            }),
            Space::Process => self.process.write(&mut self.phys, addr, w, v & w.mask()),
        });
        r.map_err(|e| e.with_op(ops::access(space, w, true)).at(addr))
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        if space == Space::Process {
            return self
                .process
                .read_bytes(&mut self.phys, addr, buf)
                .map_err(|e| e.with_op(ops::bulk(space, false)));
        }
        self.bulk(space, addr, buf.len() as u64, false, |phys, pa, pos, n| {
            phys.read_bytes(pa, &mut buf[pos..pos + n])
        })
    }

    fn write_bytes(&mut self, space: Space, addr: u64, data: &[u8]) -> Result<()> {
        if space == Space::Process {
            return self
                .process
                .write_bytes(&mut self.phys, addr, data)
                .map_err(|e| e.with_op(ops::bulk(space, true)));
        }
        self.bulk(space, addr, data.len() as u64, true, |phys, pa, pos, n| {
            phys.write_bytes(pa, &data[pos..pos + n])
        })
    }

    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        for o in pages.iter_mut() {
            *o = self.process.extract(o.vaddr, |pa| self.domain_of(pa));
        }
        Ok(())
    }

    fn range_count(&mut self) -> Result<usize> {
        self.ranges_mut(ops::MEMRANGE_COUNT)?.count()
    }

    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        Ok(self.ranges_mut(ops::MEMRANGE_GET)?.get()?.to_vec())
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        self.ranges_mut(ops::range_set(op))?.set(d, op)
    }

    fn symbol(&mut self, name: &str) -> Result<u64> {
        self.kernel.symbol(name)
    }

    fn process_map(&mut self, len: u64) -> Result<u64> {
        self.process.alloc(len)
    }

    fn process_unmap(&mut self, base: u64, _len: u64) -> Result<()> {
        self.process
            .free(base)
            .map_err(|e| e.with_op(ops::BUFFER_FREE))
    }

    fn process_lock(&mut self, base: u64, _len: u64) -> Result<()> {
        self.process
            .lock(&mut self.phys, base)
            .map_err(|e| e.with_op(ops::BUFFER_LOCK))
    }

    fn process_unlock(&mut self, base: u64, _len: u64) -> Result<()> {
        self.process
            .unlock(base)
            .map_err(|e| e.with_op(ops::BUFFER_UNLOCK))
    }

    fn as_sim(&mut self) -> Option<&mut Sim> {
        Some(self)
    }

    /// A region of the board (or a device `sim.device` added) by name.
    fn region(&mut self, name: &str) -> Result<Vec<(u64, u64)>> {
        let regions = self.phys.regions();
        match regions.iter().find(|r| r.name == name) {
            Some(r) => Ok(vec![(r.base, r.size)]),
            None => {
                let names: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
                Err(Error::new(
                    Errno::ENOENT,
                    "region",
                    format!(
                        "the '{}' board has no region named '{name}' (it has {})",
                        self.board.name,
                        names.join(", ")
                    ),
                ))
            }
        }
    }
}
