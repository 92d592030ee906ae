//! The memory-range rules of the x86 MTRRs (docs/MEM4.md §4): which
//! geometries and attributes a range may have, when two ranges overlap or
//! conflict, the hardware type of each attribute, and the words memlua
//! uses to refuse a request. One home for them, used by the simulator
//! (sim/memrange.rs), the Linux layer (native/mtrr.rs) and the FreeBSD
//! layer (native/freebsd.rs), so every backend refuses the same request
//! the same way.

use crate::{ops, Errno, Error, MdfFlags, MemRangeDesc, RangeOp};

/// The hardware memory types the MTRRs know and their attributes
/// (docs/MEM4.md §4.2); every other type (2, 3, 7 and up) reads as UNKNOWN.
pub const TYPES: [(u8, MdfFlags); 5] = [
    (0, MdfFlags::UNCACHEABLE),
    (1, MdfFlags::WRITECOMBINE),
    (4, MdfFlags::WRITETHROUGH),
    (5, MdfFlags::WRITEPROTECT),
    (6, MdfFlags::WRITEBACK),
];
pub const VALID_ATTRS: &str =
    "exactly one of uncacheable, write-combine, write-through, write-protect or write-back";
/// Bits 6-23: inside MDF_ATTRMASK but naming no attribute.
pub const UNNAMED_ATTR_BITS: u32 = MdfFlags::ATTRMASK & !0x3f;

// The hardware rules, one predicate each (docs/MEM4.md §4.2, §4.3).

/// `mrvalid`: a 4 KiB-aligned base, a power-of-two length of at least 4 KiB,
/// and a base aligned to that length: the only shapes an MTRR can hold.
pub fn mrvalid(base: u64, len: u64) -> bool {
    base & 0xfff == 0 && len >= 0x1000 && len.is_power_of_two() && base & (len - 1) == 0
}

/// `within`: whether `addr` lies in the range. Written without the sum so a
/// range ending at 2^64 does not wrap (the table never holds one).
pub fn within(d: &MemRangeDesc, addr: u64) -> bool {
    addr >= d.base && addr - d.base < d.len
}

/// `mroverlap`: whether two ranges share a byte.
pub fn overlap(x: &MemRangeDesc, y: &MemRangeDesc) -> bool {
    within(x, y.base) || within(y, x.base)
}

/// `x86_mtrrconflict`: whether two attributes may not cover the same
/// memory. Equal types may; so may write-back with uncacheable (UC wins);
/// anything unknown conflicts with everything.
pub fn conflict(f1: MdfFlags, f2: MdfFlags) -> bool {
    let (a, b) = (f1.attr(), f2.attr());
    let (wb, uc) = (MdfFlags::WRITEBACK.bits(), MdfFlags::UNCACHEABLE.bits());
    if (a | b) & MdfFlags::UNKNOWN.bits() != 0 {
        return true;
    }
    !(a == b || (a == wb && b == uc) || (a == uc && b == wb))
}

/// `x86_mtrrtype`: the hardware type for the attribute bits, which must
/// equal one type exactly; bits 24-31 (FORCE, ACTIVE, ...) are not looked at.
pub fn mtrr_type(flags: MdfFlags) -> Option<u8> {
    TYPES
        .iter()
        .find(|(_, attr)| attr.bits() == flags.attr())
        .map(|&(t, _)| t)
}

/// `x86_mtrr2mrt`: the attribute a hardware type reads back as.
pub fn attr_of_type(t: u8) -> MdfFlags {
    TYPES
        .iter()
        .find(|&&(ty, _)| ty == t)
        .map_or(MdfFlags::UNKNOWN, |&(_, attr)| attr)
}

/// The attribute is one the kernel does not know (docs/MEM4.md §4.4's EACCES).
pub fn unknown(flags: MdfFlags) -> bool {
    flags.attr() == MdfFlags::UNKNOWN.bits()
}

// Words for messages.

/// The attribute part of the flags as memcontrol names it.
pub fn attr_name(flags: MdfFlags) -> String {
    let names = MdfFlags::from_bits_retain(flags.attr()).names();
    if names.is_empty() {
        "no attribute".to_string()
    } else {
        names
    }
}

/// Why `mrvalid` refused a geometry, in words.
pub fn bad_geometry(base: u64, len: u64) -> String {
    let why = if len < 0x1000 || !len.is_power_of_two() {
        format!("length {len:#x} is not a power of two of at least 4 KiB")
    } else if base & 0xfff != 0 {
        format!("base {base:#x} is not 4 KiB aligned")
    } else {
        format!("base {base:#x} is not a multiple of the length {len:#x}")
    };
    format!(
        "{why}; an MTRR range has a power-of-two length of at least 4 KiB and a base aligned to it"
    )
}

/// Why `x86_mtrrtype` refused the flags, in words.
pub fn bad_type(flags: MdfFlags) -> String {
    if flags.attr() & UNNAMED_ATTR_BITS != 0 {
        format!(
            "flags {:#x} set bits 6-23 (mask {UNNAMED_ATTR_BITS:#x}), which name no attribute; \
             clear them and give {VALID_ATTRS}",
            flags.bits()
        )
    } else {
        format!(
            "attribute '{}' is not one the MTRRs can hold; give {VALID_ATTRS}",
            attr_name(flags)
        )
    }
}

/// EROFS for a memory-range change on a read-only session, before anything
/// is asked of the kernel.
pub fn read_only(op: RangeOp, d: &MemRangeDesc) -> Error {
    Error::new(
        Errno::EROFS,
        ops::range_set(op),
        "the native backend is read-only: start memlua with -w (--write) to change memory ranges",
    )
    .range(d.base, d.len)
}

/// Why a request's geometry (`mrvalid`) or attribute (`mtrr_type`) cannot
/// be held, checked in x86_mrset's order; None when both are fine.
pub fn bad_shape(base: u64, len: u64, flags: MdfFlags) -> Option<String> {
    if !mrvalid(base, len) {
        Some(bad_geometry(base, len))
    } else if mtrr_type(flags).is_none() {
        Some(bad_type(flags))
    } else {
        None
    }
}
