//! The simulated x86 memory-range layer: a board's MTRR registers and the
//! mem(4) descriptor table FreeBSD builds over them (docs/MEM4.md §4).
//!
//! The MSRs are the truth. The descriptor table is what `x86_mrfetch` reads
//! out of them; every successful change is written back to the MSRs
//! (`x86_mrstoreone`) and fetched again, exactly as `x86_mrset` does, so the
//! hardware's own effects (a base truncated to the physical-address width, a
//! removed slot reading back as `0/1<<maxphyaddr` uncacheable) follow
//! without being special-cased.
//!
//! Validation runs in `x86_mem.c`'s order with its errnos, with three
//! documented deviations where FreeBSD is wrong (docs/MEM4.md, "How memlua uses
//! it"): busy fixed ranges are refused, a take-over still checks the slots
//! after it for conflicts, and the conflict check looks at the geometry the
//! hardware will hold. Each is marked `DEVIATION` where it happens.

use std::fmt;
use std::ops::RangeInclusive;

use crate::range_rules::{
    attr_name, attr_of_type, bad_geometry, bad_shape, bad_type, conflict, mrvalid, mtrr_type,
    overlap, unknown, VALID_ATTRS,
};
use crate::{Errno, Error, MdfFlags, MemRangeDesc, RangeOp, Result};

// Fixed-range layout (docs/MEM4.md §4.2): 8 slots of 64 KiB, 16 of 16 KiB and
// 64 of 4 KiB cover the first MiB.
const N64K: usize = 8;
const N16K: usize = 16;
const N4K: usize = 64;
const NFIXED: usize = N64K + N16K + N4K;
const BASE16K: u64 = 0x8_0000;
const BASE4K: u64 = 0xC_0000;
const FIXTOP: u64 = 0x10_0000;
/// The 11 fixed-range MSRs; byte j of MSR k is descriptor 8k+j.
const FIXED_MSRS: [u32; NFIXED / 8] = [
    0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F,
];
/// Variable slot n: PhysBase at 0x200+2n, PhysMask at 0x201+2n.
const MSR_VARBASE: u32 = 0x200;
const PHYSBASE_TYPE: u64 = 0xff;
const PHYSMASK_VALID: u64 = 0x800;
/// The widths CPUID can report for cpu_maxphyaddr that memlua models.
const MAXPHYADDR: RangeInclusive<u32> = 32..=52;
/// MTRRcap.VCNT is an 8-bit field (docs/MEM4.md §4.2: `nvar = MTRRcap & 0xff`).
pub const MAX_VARIABLE_SLOTS: usize = 0xff;

/// One range the firmware programmed before boot (a board's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareRange {
    pub base: u64,
    pub len: u64,
    /// Exactly one attribute: UNCACHEABLE, WRITECOMBINE, WRITETHROUGH,
    /// WRITEPROTECT or WRITEBACK.
    pub attr: MdfFlags,
    /// Owner tag; None leaves it empty (the fetch then names it "BIOS").
    pub owner: Option<String>,
    /// Claimed by another owner: MDF_BUSY, refused with EBUSY.
    pub busy: bool,
}

/// The MTRR hardware of a board (docs/MEM4.md §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtrrConfig {
    /// CPUID physical-address width (cpu_maxphyaddr), 32..=52.
    pub maxphyaddr: u32,
    /// MTRRdefType.E: when clear, no descriptors exist (ENXIO).
    pub enabled: bool,
    /// MTRRcap.FIX and MTRRdefType.FE: the 88 fixed descriptors exist.
    pub fixed: bool,
    /// MTRRcap.VCNT.
    pub variable_slots: usize,
    /// Fixed-range contents (each inside the first MiB, on slot bounds).
    pub fixed_ranges: Vec<FirmwareRange>,
    /// Variable-range contents, one slot each, in slot order.
    pub variable_ranges: Vec<FirmwareRange>,
}

/// Which firmware entry broke the MTRR rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirmwareEntry {
    Fixed(usize),
    Variable(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareError {
    pub entry: FirmwareEntry,
    pub message: String,
}

impl fmt::Display for FirmwareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            FirmwareEntry::Fixed(i) => write!(f, "fixed range {i}: {}", self.message),
            FirmwareEntry::Variable(i) => write!(f, "variable range {i}: {}", self.message),
        }
    }
}

impl std::error::Error for FirmwareError {}

/// A refused request: the errno and the sentence, before the caller names
/// the operation (`memrange.set`, `memrange.remove`, `sim.claim`).
type Refusal = (Errno, String);

// ---------------------------------------------------------------------------
// The hardware rules, one predicate each (docs/MEM4.md §4.2, §4.3).

/// `copyflags`: keep the slot's state bits, take only the attribute from
/// the request, so FORCE, ACTIVE and the rest of a request are dropped.
fn copyflags(cur: MdfFlags, new: MdfFlags) -> MdfFlags {
    cur.with_attr(new)
}

/// The request ends at or below 1 MiB and goes to the fixed MTRRs. The sum
/// is a u64 add that may wrap, as FreeBSD's (docs/MEM4.md §4.4).
fn lands_low(base: u64, len: u64) -> bool {
    base.wrapping_add(len) <= FIXTOP
}

/// The fixed slot holding `addr` (`x86_mtrrfixsearch`), if any.
fn fixed_slot(addr: u64) -> Option<usize> {
    let slot = match addr {
        0..BASE16K => addr / 0x1_0000,
        BASE16K..BASE4K => N64K as u64 + (addr - BASE16K) / 0x4000,
        BASE4K..FIXTOP => (N64K + N16K) as u64 + (addr - BASE4K) / 0x1000,
        _ => return None,
    };
    Some(slot as usize)
}

/// Base and length of fixed slot `i` (the table of docs/MEM4.md §4.2).
fn fixed_geometry(i: usize) -> (u64, u64) {
    let (i, n64, n16) = (i as u64, N64K as u64, N16K as u64);
    if i < n64 {
        (i * 0x1_0000, 0x1_0000)
    } else if i < n64 + n16 {
        (BASE16K + (i - n64) * 0x4000, 0x4000)
    } else {
        (BASE4K + (i - n64 - n16) * 0x1000, 0x1000)
    }
}

/// `physmask`: the address bits a PhysBase/PhysMask register holds.
fn physmask(maxphyaddr: u32) -> u64 {
    ((1u64 << maxphyaddr) - 1) & !0xfff
}

/// PhysBase for an active range (`x86_mrstoreone`).
fn phys_base(base: u64, physmask: u64, ty: u64) -> u64 {
    (base & physmask) | ty
}

/// PhysMask for an active range (`x86_mrstoreone`: rounddown2).
fn phys_mask(len: u64, physmask: u64) -> u64 {
    PHYSMASK_VALID | (physmask & !len.wrapping_sub(1))
}

/// The length a PhysMask reads back as (`x86_mrfetch`'s "Ick").
fn len_of_mask(mask: u64, physmask: u64) -> u64 {
    (!(mask & physmask) & (physmask | 0xfff)) + 1
}

/// The slot is held by another owner. For MEMRANGE_SET every busy slot is
/// (`claimer` None); for `sim.claim` a slot the claimer itself holds is not.
fn held_by_other(d: &MemRangeDesc, claimer: Option<&str>) -> bool {
    d.flags.contains(MdfFlags::BUSY) && claimer.is_none_or(|c| d.owner_bytes() != c.as_bytes())
}

// ---------------------------------------------------------------------------
// Words for messages.

/// A descriptor in a message: geometry, attribute and owner.
fn describe(d: &MemRangeDesc) -> String {
    format!(
        "{:#x}/{:#x} ({}, owner \"{}\")",
        d.base,
        d.len,
        attr_name(d.flags),
        d.owner_str()
    )
}

// ---------------------------------------------------------------------------

/// The memory range descriptor table and the MSRs behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemRanges {
    /// What MEMRANGE_GET returns: 88 fixed (when on) then the variable slots.
    descs: Vec<MemRangeDesc>,
    /// 88 when the fixed MTRRs are on, else 0.
    nfixed: usize,
    /// MTRRdefType.E, for the ENXIO message.
    enabled: bool,
    maxphyaddr: u32,
    physmask: u64,
    /// MSRs 0x250, 0x258, 0x259, 0x268..0x26F.
    fixed_msrs: [u64; NFIXED / 8],
    /// PhysBase, PhysMask per variable slot.
    var_msrs: Vec<[u64; 2]>,
}

impl MemRanges {
    /// Boots the board's MTRRs: programs the MSRs from the firmware table,
    /// then builds the descriptor table as `x86_mrinit` does (docs/MEM4.md §4.2).
    /// A table that breaks the MTRR rules is refused, naming the entry.
    pub fn new(cfg: &MtrrConfig) -> Result<MemRanges, FirmwareError> {
        if !MAXPHYADDR.contains(&cfg.maxphyaddr) {
            // FirmwareEntry has no variant for the CPU itself; the variable
            // ranges are what the width constrains.
            return Err(firmware_error(
                FirmwareEntry::Variable(0),
                format!(
                    "the CPU's maxphyaddr {} is outside {}..={}, which memlua models",
                    cfg.maxphyaddr,
                    MAXPHYADDR.start(),
                    MAXPHYADDR.end()
                ),
            ));
        }
        if cfg.variable_slots > MAX_VARIABLE_SLOTS {
            // Checked before the table below is sized from it.
            return Err(firmware_error(
                FirmwareEntry::Variable(0),
                format!(
                    "{} variable-range slots is more than MTRRcap's 8-bit VCNT holds \
                     (at most {MAX_VARIABLE_SLOTS})",
                    cfg.variable_slots
                ),
            ));
        }
        let fixed = check_fixed_ranges(cfg)?;
        let variable = check_variable_ranges(cfg)?;
        let physmask = physmask(cfg.maxphyaddr);
        let nfixed = if cfg.fixed { NFIXED } else { 0 };
        let mut m = MemRanges {
            descs: vec![MemRangeDesc::default(); nfixed + cfg.variable_slots],
            nfixed,
            enabled: cfg.enabled,
            maxphyaddr: cfg.maxphyaddr,
            physmask,
            fixed_msrs: [0; NFIXED / 8],
            var_msrs: vec![[0, 0]; cfg.variable_slots],
        };
        for (i, d) in m.descs[..nfixed].iter_mut().enumerate() {
            (d.base, d.len) = fixed_geometry(i);
            d.flags = MdfFlags::FIXBASE | MdfFlags::FIXLEN | MdfFlags::FIXACTIVE;
        }

        // The firmware's work: MSRs (bytes not covered stay type 0, UC), and
        // the owners and claims of the ranges it set up for others.
        for c in &fixed {
            for s in c.slots.clone() {
                let (k, shift) = (s / 8, 8 * (s % 8));
                m.fixed_msrs[k] = (m.fixed_msrs[k] & !(0xff << shift)) | u64::from(c.ty) << shift;
                mark_firmware_owner(&mut m.descs[s], c.range);
            }
        }
        for c in &variable {
            let (n, r) = (*c.slots.start(), c.range);
            m.var_msrs[n] = [
                phys_base(r.base, physmask, u64::from(c.ty)),
                phys_mask(r.len, physmask),
            ];
            mark_firmware_owner(&mut m.descs[nfixed + n], r);
        }

        if !cfg.enabled {
            // MTRRdefType.E clear: x86_mrinit bails out with 0 descriptors
            // (docs/MEM4.md §4.1 step 3).
            m.descs.clear();
            m.nfixed = 0;
            return Ok(m);
        }
        m.fetch();
        for d in &mut m.descs {
            if d.flags.contains(MdfFlags::ACTIVE) {
                d.flags |= MdfFlags::FIRMWARE;
            }
        }
        Ok(m)
    }

    /// MEMRANGE_GET with a count of 0: the number of descriptors.
    pub fn count(&self) -> Result<usize> {
        self.require_descriptors(crate::ops::MEMRANGE_COUNT)?;
        Ok(self.descs.len())
    }

    /// MEMRANGE_GET: every descriptor, active or not, in index order.
    pub fn get(&self) -> Result<&[MemRangeDesc]> {
        self.require_descriptors(crate::ops::MEMRANGE_GET)?;
        Ok(&self.descs)
    }

    /// rdmsr of an MTRR: the fixed-range MSRs (when on) and each variable
    /// slot's PhysBase/PhysMask; None for any other MSR.
    pub fn rdmsr(&self, msr: u32) -> Option<u64> {
        if self.nfixed > 0 {
            if let Some(k) = FIXED_MSRS.iter().position(|&m| m == msr) {
                return Some(self.fixed_msrs[k]);
            }
        }
        let n = msr.checked_sub(MSR_VARBASE)? as usize;
        self.var_msrs.get(n / 2).map(|regs| regs[n % 2])
    }

    /// MEMRANGE_SET (`x86_mrset`, docs/MEM4.md §4.4): update (establish) or
    /// remove a range. On error nothing changes.
    pub fn set(&mut self, req: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let name = crate::ops::range_set(op);
        self.require_descriptors(name)
            .map_err(|e| e.range(req.base, req.len))?;
        // The ioctl shim forces the owner's terminating NUL (§4.1 step 5).
        let mut req = *req;
        req.owner[7] = 0;
        match op {
            RangeOp::Update => self.update(&req),
            RangeOp::Remove => self.remove(&req),
        }
        .map_err(|(errno, msg)| Error::new(errno, name, msg).range(req.base, req.len))?;
        self.store();
        self.fetch();
        Ok(())
    }

    /// `sim.claim`: another owner (a driver, the firmware) takes the range,
    /// which becomes MDF_BUSY to this session. `attr` also sets its
    /// attribute (a new variable range defaults to uncacheable). Claiming a
    /// range another owner holds is EBUSY; the claimer's own is fine.
    pub fn claim(
        &mut self,
        base: u64,
        len: u64,
        owner: &str,
        attr: Option<MdfFlags>,
    ) -> Result<()> {
        const OP: &str = crate::ops::SIM_CLAIM;
        self.require_descriptors(OP)
            .map_err(|e| e.range(base, len))?;
        self.claim_range(base, len, owner, attr)
            .map_err(|(errno, msg)| Error::new(errno, OP, msg).range(base, len))?;
        self.store();
        self.fetch();
        Ok(())
    }

    /// Test hook: wrmsr behind the kernel's back (an SMM handler, a buggy
    /// BIOS), then a fetch, so a test can make UNKNOWN or BOGUS ranges.
    #[cfg(test)]
    pub(crate) fn poke_msr(&mut self, msr: u32, value: u64) {
        if let Some(k) = FIXED_MSRS.iter().position(|&m| m == msr) {
            self.fixed_msrs[k] = value;
        } else {
            let n = (msr - MSR_VARBASE) as usize;
            self.var_msrs[n / 2][n % 2] = value;
        }
        self.fetch();
    }

    // -- the checks -----------------------------------------------------------

    /// `memioctl_md` step 3: no descriptors, no memory ranges (ENXIO).
    fn require_descriptors(&self, op: &str) -> Result<()> {
        if !self.descs.is_empty() {
            return Ok(());
        }
        let why = if self.enabled {
            "this CPU has neither fixed-range nor variable-range MTRRs"
        } else {
            "the firmware left the MTRRs disabled (MTRRdefType.E clear)"
        };
        Err(Error::new(
            Errno::ENXIO,
            op,
            format!("there are no memory range descriptors: {why}"),
        ))
    }

    fn fixed_enabled(&self) -> bool {
        self.nfixed == NFIXED
    }

    fn variable_slots(&self) -> std::ops::Range<usize> {
        self.nfixed..self.descs.len()
    }

    /// Names a descriptor's slot in messages.
    fn slot_name(&self, i: usize) -> String {
        if i < self.nfixed {
            format!("fixed slot {i}")
        } else {
            format!("variable slot {}", i - self.nfixed)
        }
    }

    /// The geometry an active variable range will have once written and
    /// fetched back: the base truncated to physmask, the length capped at
    /// 1 << maxphyaddr (docs/MEM4.md §4.4, "The refetch therefore truncates").
    fn as_hardware_holds(&self, req: &MemRangeDesc) -> MemRangeDesc {
        let physmask = self.physmask;
        MemRangeDesc {
            base: phys_base(req.base, physmask, 0),
            len: len_of_mask(phys_mask(req.len, physmask), physmask),
            ..*req
        }
    }

    /// MEMRANGE_SET_UPDATE.
    fn update(&mut self, req: &MemRangeDesc) -> Result<(), Refusal> {
        if let Some(why) = bad_shape(req.base, req.len, req.flags) {
            return Err((Errno::EINVAL, why));
        }
        if self.fixed_enabled() && lands_low(req.base, req.len) {
            self.setlow(req)
        } else {
            self.setvariable(req)
        }
    }

    /// The fixed slots `first..=last` a request below 1 MiB is bloated to.
    /// Missing only when base + len wrapped past 2^64 to land "low".
    fn low_slots(&self, base: u64, len: u64) -> Result<RangeInclusive<usize>, Refusal> {
        let last_byte = base.wrapping_add(len).wrapping_sub(1);
        match (fixed_slot(base), fixed_slot(last_byte)) {
            (Some(first), Some(last)) => Ok(first..=last),
            _ => Err((
                Errno::EINVAL,
                "base + length wraps past the end of the 64-bit address space, so the range \
                 has no place in the fixed-range MTRRs below 1 MiB; give a range that does \
                 not wrap"
                    .to_string(),
            )),
        }
    }

    /// `x86_mrsetlow`: the fixed MTRRs. The request grows to whole slots:
    /// base 0x1000 len 0x1000 rewrites all of [0, 0x10000).
    fn setlow(&mut self, req: &MemRangeDesc) -> Result<(), Refusal> {
        let slots = self.low_slots(req.base, req.len)?;
        // DEVIATION (docs/MEM4.md "How memlua uses it": busy ranges are managed):
        // FreeBSD's setlow never tests MDF_BUSY; memlua refuses a busy slot
        // as setvariable and remove do.
        if let Some(s) = slots.clone().find(|&s| held_by_other(&self.descs[s], None)) {
            return Err(self.busy_refusal(s, "change"));
        }
        if !req.flags.contains(MdfFlags::FORCE) {
            if let Some(s) = slots.clone().find(|&s| unknown(self.descs[s].flags)) {
                return Err(self.unknown_refusal(s));
            }
        }
        for s in slots {
            let d = &mut self.descs[s];
            d.flags = copyflags(d.flags - MdfFlags::FIRMWARE, req.flags);
            d.owner = req.owner;
        }
        Ok(())
    }

    /// `x86_mrsetvariable`: take over the exactly matching active slot, or
    /// the first inactive one.
    fn setvariable(&mut self, req: &MemRangeDesc) -> Result<(), Refusal> {
        let target = self.variable_target(req, None)?;
        self.establish(target, req);
        Ok(())
    }

    /// The scan of `x86_mrsetvariable`: the slot the request goes to, or why
    /// it cannot go anywhere. `claimer` is None for MEMRANGE_SET (any busy
    /// slot refuses) and the claiming owner for `sim.claim`.
    fn variable_target(&self, req: &MemRangeDesc, claimer: Option<&str>) -> Result<usize, Refusal> {
        // DEVIATION (docs/MEM4.md §4.4 "The refetch therefore truncates"): the
        // overlap test uses the geometry the hardware will hold, so a base
        // above maxphyaddr cannot alias onto a conflicting range unseen.
        let held = self.as_hardware_holds(req);
        let mut takeover = None;
        let mut free = None;
        for i in self.variable_slots() {
            let s = &self.descs[i];
            if !s.flags.contains(MdfFlags::ACTIVE) {
                free = free.or(Some(i));
                continue;
            }
            // The exact match compares the raw request, as FreeBSD does.
            if takeover.is_none() && s.base == req.base && s.len == req.len {
                if held_by_other(s, claimer) {
                    let verb = if claimer.is_some() { "claim" } else { "change" };
                    return Err(self.busy_refusal(i, verb));
                }
                if !req.flags.contains(MdfFlags::FORCE) && unknown(s.flags) {
                    return Err(self.unknown_refusal(i));
                }
                takeover = Some(i);
                // DEVIATION (docs/MEM4.md §4.4 "slots after this one are NOT
                // checked"): FreeBSD breaks out here; memlua keeps checking
                // the remaining slots so no two active ranges ever overlap
                // with conflicting types.
                continue;
            }
            if overlap(s, &held) && conflict(s.flags, req.flags) {
                return Err((Errno::EINVAL, self.conflict_message(i, req, &held)));
            }
        }
        takeover
            .or(free)
            .ok_or_else(|| (Errno::ENOSPC, self.full_message()))
    }

    /// MEMRANGE_SET_REMOVE: the first descriptor with this exact geometry,
    /// fixed ones included, active or not.
    fn remove(&mut self, req: &MemRangeDesc) -> Result<(), Refusal> {
        let Some(i) = self
            .descs
            .iter()
            .position(|d| d.base == req.base && d.len == req.len)
        else {
            return Err((
                Errno::ENOENT,
                format!(
                    "no range has base {:#x} and length {:#x}; remove needs a range's exact \
                     base and length, as memrange.get lists them",
                    req.base, req.len
                ),
            ));
        };
        if self.descs[i].flags.contains(MdfFlags::FIXACTIVE) {
            return Err((
                Errno::EPERM,
                format!(
                    "this is {}, and fixed ranges cannot be removed; set another attribute \
                     instead",
                    self.slot_name(i)
                ),
            ));
        }
        if self.descs[i].flags.contains(MdfFlags::BUSY) {
            return Err(self.busy_refusal(i, "remove"));
        }
        let t = &mut self.descs[i];
        // FIRMWARE and BOGUS stay; only the first owner byte is cleared.
        t.flags -= MdfFlags::ACTIVE;
        t.owner[0] = 0;
        Ok(())
    }

    /// `sim.claim`'s work, before the store and fetch.
    fn claim_range(
        &mut self,
        base: u64,
        len: u64,
        owner: &str,
        attr: Option<MdfFlags>,
    ) -> Result<(), Refusal> {
        if owner.is_empty() || owner.len() > MemRangeDesc::OWNER_MAX {
            return Err((
                Errno::EINVAL,
                format!(
                    "owner \"{owner}\" must be 1 to {} bytes long",
                    MemRangeDesc::OWNER_MAX
                ),
            ));
        }
        if !mrvalid(base, len) {
            return Err((Errno::EINVAL, bad_geometry(base, len)));
        }
        if let Some(a) = attr.filter(|&a| mtrr_type(a).is_none()) {
            return Err((Errno::EINVAL, bad_type(a)));
        }
        let req = MemRangeDesc::new(base, len, attr.unwrap_or(MdfFlags::UNCACHEABLE), owner);

        if self.fixed_enabled() && lands_low(base, len) {
            // Every slot of the bloated range becomes the claimer's.
            let slots = self.low_slots(base, len)?;
            if let Some(s) = slots
                .clone()
                .find(|&s| held_by_other(&self.descs[s], Some(owner)))
            {
                return Err(self.busy_refusal(s, "claim"));
            }
            if attr.is_some_and(|a| !a.contains(MdfFlags::FORCE)) {
                if let Some(s) = slots.clone().find(|&s| unknown(self.descs[s].flags)) {
                    return Err(self.unknown_refusal(s));
                }
            }
            for s in slots {
                let d = &mut self.descs[s];
                if let Some(a) = attr {
                    d.flags = copyflags(d.flags - MdfFlags::FIRMWARE, a);
                }
                d.flags |= MdfFlags::BUSY;
                d.owner = req.owner;
            }
            return Ok(());
        }

        let exact = self.variable_slots().find(|&i| {
            let d = &self.descs[i];
            d.flags.contains(MdfFlags::ACTIVE) && d.base == base && d.len == len
        });
        let target = match (exact, attr) {
            // Only marks the range busy: its attribute stays.
            (Some(i), None) => {
                if held_by_other(&self.descs[i], Some(owner)) {
                    return Err(self.busy_refusal(i, "claim"));
                }
                i
            }
            // Establishes or retypes it: setvariable's rules.
            _ => {
                let i = self.variable_target(&req, Some(owner))?;
                self.establish(i, &req);
                i
            }
        };
        let d = &mut self.descs[target];
        d.flags |= MdfFlags::BUSY;
        d.owner = req.owner;
        Ok(())
    }

    /// setvariable's write: variable slot `i` takes the request's geometry,
    /// attribute and owner. FIRMWARE, BOGUS, BUSY and FIX* go (§4.4).
    fn establish(&mut self, i: usize, req: &MemRangeDesc) {
        let d = &mut self.descs[i];
        d.base = req.base;
        d.len = req.len;
        d.flags = MdfFlags::ACTIVE | MdfFlags::from_bits_retain(req.flags.attr());
        d.owner = req.owner;
    }

    // -- refusals -------------------------------------------------------------

    fn busy_refusal(&self, i: usize, verb: &str) -> Refusal {
        let d = &self.descs[i];
        (
            Errno::EBUSY,
            format!(
                "cannot {verb} {} {:#x}/{:#x}: it is busy, owned by \"{}\", and only its \
                 owner may {verb} it",
                self.slot_name(i),
                d.base,
                d.len,
                d.owner_str()
            ),
        )
    }

    fn unknown_refusal(&self, i: usize) -> Refusal {
        let d = &self.descs[i];
        (
            Errno::EACCES,
            format!(
                "cannot change {} {:#x}/{:#x} (owner \"{}\"): its attribute is unknown to \
                 the kernel; add MDF_FORCE (flag 'force') to change it",
                self.slot_name(i),
                d.base,
                d.len,
                d.owner_str()
            ),
        )
    }

    fn conflict_message(&self, i: usize, req: &MemRangeDesc, held: &MemRangeDesc) -> String {
        let lands = if held.base != req.base || held.len != req.len {
            format!(
                "on this {}-bit CPU the range lands at {:#x}/{:#x}, where ",
                self.maxphyaddr, held.base, held.len
            )
        } else {
            String::new()
        };
        format!(
            "{lands}'{}' would overlap {} {}, and the two attributes conflict; only equal \
             attributes, or write-back with uncacheable, may overlap",
            attr_name(req.flags),
            self.slot_name(i),
            describe(&self.descs[i])
        )
    }

    fn full_message(&self) -> String {
        let n = self.descs.len() - self.nfixed;
        if n == 0 {
            "this CPU has no variable-range MTRRs; only ranges below 1 MiB can be set".to_string()
        } else {
            format!("all {n} variable-range slots are in use; remove one with memrange.remove")
        }
    }

    // -- the hardware side ----------------------------------------------------

    /// `x86_mrstoreone`: writes every MTRR from the table. A descriptor
    /// whose attribute is no valid type keeps the old hardware type.
    fn store(&mut self) {
        let physmask = self.physmask;
        for (k, msr) in self.fixed_msrs.iter_mut().enumerate().take(self.nfixed / 8) {
            let old = *msr;
            *msr = (0..8).fold(0, |v, j| {
                let old_type = (old >> (8 * j)) & 0xff;
                let ty = mtrr_type(self.descs[8 * k + j].flags).map_or(old_type, u64::from);
                v | ty << (8 * j)
            });
        }
        for (d, regs) in self.descs[self.nfixed..].iter().zip(&mut self.var_msrs) {
            *regs = if d.flags.contains(MdfFlags::ACTIVE) {
                let ty = mtrr_type(d.flags).map_or(regs[0] & PHYSBASE_TYPE, u64::from);
                [phys_base(d.base, physmask, ty), phys_mask(d.len, physmask)]
            } else {
                [0, 0]
            };
        }
    }

    /// `x86_mrfetch`: reads the table back from the MTRRs (docs/MEM4.md §4.2).
    /// Keeps every flag outside the attribute (BUSY, FIRMWARE, BOGUS...).
    fn fetch(&mut self) {
        let physmask = self.physmask;
        let (fixed, variable) = self.descs.split_at_mut(self.nfixed);
        for (i, d) in fixed.iter_mut().enumerate() {
            let ty = (self.fixed_msrs[i / 8] >> (8 * (i % 8))) as u8;
            // Fixed ranges are always active.
            d.flags = d.flags.with_attr(attr_of_type(ty)) | MdfFlags::ACTIVE;
            name_bios_if_unowned(d);
        }
        for (d, &[base, mask]) in variable.iter_mut().zip(&self.var_msrs) {
            d.flags = d
                .flags
                .with_attr(attr_of_type((base & PHYSBASE_TYPE) as u8));
            d.base = base & physmask;
            d.flags.set(MdfFlags::ACTIVE, mask & PHYSMASK_VALID != 0);
            d.len = len_of_mask(mask, physmask);
            // Never cleared here: only a take-over clears BOGUS.
            if !mrvalid(d.base, d.len) {
                d.flags |= MdfFlags::BOGUS;
            }
            if d.flags.contains(MdfFlags::ACTIVE) {
                name_bios_if_unowned(d);
            }
        }
    }
}

/// "If unclaimed, must be the BIOS": strcpy of "BIOS" over an owner whose
/// first byte is NUL (bytes after the NUL it writes stay as they were).
fn name_bios_if_unowned(d: &mut MemRangeDesc) {
    if d.owner[0] == 0 {
        d.owner[..5].copy_from_slice(b"BIOS\0");
    }
}

/// The owner and claim the firmware gave a range, before the first fetch.
fn mark_firmware_owner(d: &mut MemRangeDesc, r: &FirmwareRange) {
    if let Some(owner) = &r.owner {
        d.set_owner(owner);
    }
    if r.busy {
        d.flags |= MdfFlags::BUSY;
    }
}

// ---------------------------------------------------------------------------
// Checking a board's firmware table against the MTRR rules.

fn firmware_error(entry: FirmwareEntry, message: String) -> FirmwareError {
    FirmwareError { entry, message }
}

/// A firmware entry that passed the checks, with what programming it takes.
struct Checked<'a> {
    range: &'a FirmwareRange,
    /// The hardware type of its attribute.
    ty: u8,
    /// The descriptors it covers: fixed slots, or its one variable slot
    /// (counted from the first variable slot).
    slots: RangeInclusive<usize>,
}

/// The range as a descriptor, for the overlap predicate.
fn span_of(r: &FirmwareRange) -> MemRangeDesc {
    MemRangeDesc::new(r.base, r.len, r.attr, "")
}

/// What both kinds of entry must get right: the type and the owner.
fn check_attr_and_owner(r: &FirmwareRange) -> Result<u8, String> {
    let ty = mtrr_type(r.attr)
        .filter(|_| r.attr.attr() == r.attr.bits())
        .ok_or_else(|| {
            format!(
                "attr {:#x} ('{}') is not {VALID_ATTRS}",
                r.attr.bits(),
                r.attr.names()
            )
        })?;
    if let Some(owner) = r
        .owner
        .as_deref()
        .filter(|o| o.len() > MemRangeDesc::OWNER_MAX)
    {
        return Err(format!(
            "owner \"{owner}\" is {} bytes long; an owner has at most {}",
            owner.len(),
            MemRangeDesc::OWNER_MAX
        ));
    }
    Ok(ty)
}

/// Fixed entries: inside the first MiB, on slot boundaries, each slot
/// described once. Returns each entry with its slots and hardware type.
fn check_fixed_ranges(cfg: &MtrrConfig) -> Result<Vec<Checked<'_>>, FirmwareError> {
    let mut out: Vec<Checked> = Vec::new();
    for (i, r) in cfg.fixed_ranges.iter().enumerate() {
        let fail = |message: String| firmware_error(FirmwareEntry::Fixed(i), message);
        if !cfg.fixed {
            return Err(fail(
                "the board's fixed-range MTRRs are off (fixed = false); turn them on or \
                 describe the range as a variable one"
                    .to_string(),
            ));
        }
        let end = r
            .base
            .checked_add(r.len)
            .filter(|&e| r.len > 0 && e <= FIXTOP);
        let (Some(end), Some(first), Some(last)) = (
            end,
            fixed_slot(r.base),
            fixed_slot(r.base.wrapping_add(r.len).wrapping_sub(1)),
        ) else {
            return Err(fail(format!(
                "{:#x}/{:#x} is not inside the first MiB, which is all the fixed-range MTRRs cover",
                r.base, r.len
            )));
        };
        let (last_base, last_len) = fixed_geometry(last);
        if fixed_geometry(first).0 != r.base || last_base + last_len != end {
            return Err(fail(format!(
                "{:#x}/{:#x} does not start and end on fixed-slot boundaries (64 KiB slots \
                 below 0x80000, 16 KiB below 0xc0000, 4 KiB below 0x100000)",
                r.base, r.len
            )));
        }
        let ty = check_attr_and_owner(r).map_err(fail)?;
        if let Some(j) = out
            .iter()
            .position(|c| *c.slots.start() <= last && first <= *c.slots.end())
        {
            return Err(fail(format!(
                "{:#x}/{:#x} overlaps fixed range {j}; describe each fixed slot once",
                r.base, r.len
            )));
        }
        out.push(Checked {
            range: r,
            ty,
            slots: first..=last,
        });
    }
    Ok(out)
}

/// Variable entries: one per slot, valid MTRR geometry below the address
/// width, one type, no conflicting overlap. Returns each with its type.
fn check_variable_ranges(cfg: &MtrrConfig) -> Result<Vec<Checked<'_>>, FirmwareError> {
    let top = 1u64 << cfg.maxphyaddr;
    let mut out: Vec<Checked> = Vec::new();
    for (i, r) in cfg.variable_ranges.iter().enumerate() {
        let fail = |message: String| firmware_error(FirmwareEntry::Variable(i), message);
        if i >= cfg.variable_slots {
            return Err(fail(format!(
                "the board has only {} variable-range slots but {} variable ranges",
                cfg.variable_slots,
                cfg.variable_ranges.len()
            )));
        }
        if !mrvalid(r.base, r.len) {
            return Err(fail(bad_geometry(r.base, r.len)));
        }
        if r.len > top || r.base > top - r.len {
            return Err(fail(format!(
                "{:#x}/{:#x} reaches beyond the {}-bit physical address space (top {top:#x})",
                r.base, r.len, cfg.maxphyaddr
            )));
        }
        let ty = check_attr_and_owner(r).map_err(fail)?;
        if let Some(j) = out
            .iter()
            .position(|c| overlap(&span_of(c.range), &span_of(r)) && conflict(c.range.attr, r.attr))
        {
            return Err(fail(format!(
                "{:#x}/{:#x} ({}) overlaps variable range {j} ({}) and the attributes conflict; \
                 only equal attributes, or write-back with uncacheable, may overlap",
                r.base,
                r.len,
                r.attr.names(),
                out[j].range.attr.names()
            )));
        }
        out.push(Checked {
            range: r,
            ty,
            slots: i..=i,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "memrange_tests.rs"]
mod tests;
