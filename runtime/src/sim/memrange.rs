//! PLACEHOLDER: being written by the memrange helper. The public types and
//! signatures below are the agreed interface.

use crate::{Error, MdfFlags, MemRangeDesc, RangeOp, Result};

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

/// The MTRR hardware of a board (mem4.md §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtrrConfig {
    /// CPUID physical-address width (cpu_maxphyaddr).
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

/// The memory range descriptor table and the MSRs behind it.
pub struct MemRanges {
    descs: Vec<MemRangeDesc>,
}

impl MemRanges {
    pub fn new(_cfg: &MtrrConfig) -> Result<MemRanges, FirmwareError> {
        Ok(MemRanges { descs: Vec::new() })
    }

    pub fn count(&self) -> Result<usize> {
        Ok(self.descs.len())
    }

    pub fn get(&self) -> Result<&[MemRangeDesc]> {
        Ok(&self.descs)
    }

    pub fn set(&mut self, _req: &MemRangeDesc, _op: RangeOp) -> Result<()> {
        Err(Error::new(crate::Errno::EOPNOTSUPP, "memrange.set", "not yet"))
    }

    pub fn claim(&mut self, _base: u64, _len: u64, _owner: &str, _attr: Option<MdfFlags>) -> Result<()> {
        Err(Error::new(crate::Errno::EOPNOTSUPP, "sim.claim", "not yet"))
    }
}
