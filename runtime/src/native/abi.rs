//! The binary interfaces the native layer talks to, written down once and
//! checked on every platform: FreeBSD's `<sys/memrange.h>` structs and
//! ioctl numbers (docs/MEM4.md §1), and Linux's `<asm/mtrr.h>` ones for
//! /proc/mtrr (docs/MEM4.md §7). The FreeBSD code can only be compiled on
//! FreeBSD, so its layouts are asserted here, where CI runs.

/// `struct mem_range_desc` (FreeBSD, LP64): 32 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemRangeDescC {
    pub mr_base: u64,
    pub mr_len: u64,
    pub mr_flags: i32,
    pub mr_owner: [u8; 8],
}

/// `struct mem_range_op` (FreeBSD, LP64): 16 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MemRangeOp {
    pub mo_desc: *mut MemRangeDescC,
    pub mo_arg: [i32; 2],
}

/// `struct mem_extract` (FreeBSD): 64 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemExtractC {
    pub me_vaddr: u64,
    pub me_paddr: u64,
    pub me_domain: i32,
    pub me_state: i32,
    pub pad1: [u64; 5],
}

/// FreeBSD's `_IOC` (sys/ioccom.h): direction in the top 3 bits, the
/// parameter length in 13 bits at 16, the group and the number below.
pub const fn freebsd_ioc(inout: u32, group: u8, num: u8, len: usize) -> u32 {
    inout | (((len as u32) & 0x1fff) << 16) | ((group as u32) << 8) | num as u32
}

pub const FREEBSD_IOC_OUT: u32 = 0x4000_0000;
pub const FREEBSD_IOC_IN: u32 = 0x8000_0000;
pub const FREEBSD_IOC_INOUT: u32 = FREEBSD_IOC_IN | FREEBSD_IOC_OUT;

/// `_IOWR('m', 50, struct mem_range_op)`.
pub const MEMRANGE_GET: u32 = freebsd_ioc(
    FREEBSD_IOC_INOUT,
    b'm',
    50,
    std::mem::size_of::<MemRangeOp>(),
);
/// `_IOW('m', 51, struct mem_range_op)`.
pub const MEMRANGE_SET: u32 =
    freebsd_ioc(FREEBSD_IOC_IN, b'm', 51, std::mem::size_of::<MemRangeOp>());
/// `_IOWR('m', 52, struct mem_extract)`.
pub const MEM_EXTRACT_PADDR: u32 = freebsd_ioc(
    FREEBSD_IOC_INOUT,
    b'm',
    52,
    std::mem::size_of::<MemExtractC>(),
);

pub const MEMRANGE_SET_UPDATE: i32 = 0;
pub const MEMRANGE_SET_REMOVE: i32 = 1;

/// `struct mtrr_sentry` (Linux, 64-bit): base and size in bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MtrrSentry {
    pub base: u64,
    pub size: u32,
    pub kind: u32,
}

/// `struct mtrr_gentry` (Linux, 64-bit): `regnum` in, the rest out; a
/// `size` of 0 is an unused register.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MtrrGentry {
    pub base: u64,
    pub size: u32,
    pub regnum: u32,
    pub kind: u32,
    pub pad: u32,
}

/// Linux's generic `_IOC` (asm-generic/ioctl.h, x86 and arm64): number in
/// bits 0-7, type 8-15, size 16-29, direction 30-31 (1 write, 2 read).
pub const fn linux_ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | (((size as u32) & 0x3fff) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `_IOW('M', 1, struct mtrr_sentry)`.
pub const MTRRIOC_SET_ENTRY: u32 = linux_ioc(1, b'M', 1, std::mem::size_of::<MtrrSentry>());
/// `_IOW('M', 2, struct mtrr_sentry)`.
pub const MTRRIOC_DEL_ENTRY: u32 = linux_ioc(1, b'M', 2, std::mem::size_of::<MtrrSentry>());
/// `_IOWR('M', 3, struct mtrr_gentry)`.
pub const MTRRIOC_GET_ENTRY: u32 = linux_ioc(3, b'M', 3, std::mem::size_of::<MtrrGentry>());

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of, size_of};

    #[test]
    fn freebsd_struct_layouts_are_mem4s() {
        assert_eq!(size_of::<MemRangeDescC>(), 32);
        assert_eq!(align_of::<MemRangeDescC>(), 8);
        assert_eq!(offset_of!(MemRangeDescC, mr_base), 0);
        assert_eq!(offset_of!(MemRangeDescC, mr_len), 8);
        assert_eq!(offset_of!(MemRangeDescC, mr_flags), 16);
        assert_eq!(offset_of!(MemRangeDescC, mr_owner), 20);

        assert_eq!(size_of::<MemRangeOp>(), 16);
        assert_eq!(offset_of!(MemRangeOp, mo_desc), 0);
        assert_eq!(offset_of!(MemRangeOp, mo_arg), 8);

        assert_eq!(size_of::<MemExtractC>(), 64);
        assert_eq!(offset_of!(MemExtractC, me_vaddr), 0);
        assert_eq!(offset_of!(MemExtractC, me_paddr), 8);
        assert_eq!(offset_of!(MemExtractC, me_domain), 16);
        assert_eq!(offset_of!(MemExtractC, me_state), 20);
        assert_eq!(offset_of!(MemExtractC, pad1), 24);
    }

    #[test]
    fn freebsd_ioctl_numbers_are_mem4s() {
        assert_eq!(MEMRANGE_GET, 0xC010_6D32);
        assert_eq!(MEMRANGE_SET, 0x8010_6D33);
        assert_eq!(MEM_EXTRACT_PADDR, 0xC040_6D34);
        // MEM_KERNELDUMP and the compat32 forms, from the same encoder.
        assert_eq!(freebsd_ioc(FREEBSD_IOC_IN, b'm', 53, 32), 0x8020_6D35);
        assert_eq!(freebsd_ioc(FREEBSD_IOC_INOUT, b'm', 50, 12), 0xC00C_6D32);
    }

    #[test]
    fn linux_mtrr_layouts_and_numbers() {
        assert_eq!(size_of::<MtrrSentry>(), 16);
        assert_eq!(size_of::<MtrrGentry>(), 24);
        assert_eq!(offset_of!(MtrrGentry, regnum), 12);
        assert_eq!(offset_of!(MtrrGentry, kind), 16);
        assert_eq!(MTRRIOC_SET_ENTRY, 0x4010_4D01);
        assert_eq!(MTRRIOC_DEL_ENTRY, 0x4010_4D02);
        assert_eq!(MTRRIOC_GET_ENTRY, 0xC018_4D03);
    }
}
