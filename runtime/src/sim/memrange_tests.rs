//! Tests of the simulated MTRR layer against docs/MEM4.md §4: one named test per
//! errno path of x86_mrset, the hardware effects of the store and re-fetch,
//! firmware-table checks, sim.claim, and property suites over random
//! sequences of operations.

use super::*;
use proptest::prelude::*;

const UC: MdfFlags = MdfFlags::UNCACHEABLE;
const WC: MdfFlags = MdfFlags::WRITECOMBINE;
const WT: MdfFlags = MdfFlags::WRITETHROUGH;
const WP: MdfFlags = MdfFlags::WRITEPROTECT;
const WB: MdfFlags = MdfFlags::WRITEBACK;
const FORCE: MdfFlags = MdfFlags::FORCE;
const ACTIVE: MdfFlags = MdfFlags::ACTIVE;
const FIRMWARE: MdfFlags = MdfFlags::FIRMWARE;
const BUSY: MdfFlags = MdfFlags::BUSY;
const FIXED_BITS: MdfFlags = MdfFlags::FIXBASE
    .union(MdfFlags::FIXLEN)
    .union(MdfFlags::FIXACTIVE);
const TOP39: u64 = 1 << 39;
/// Index of variable slot 0 on a board with fixed ranges.
const V: usize = 88;

fn fw(base: u64, len: u64, attr: MdfFlags) -> FirmwareRange {
    FirmwareRange {
        base,
        len,
        attr,
        owner: None,
        busy: false,
    }
}

/// The `pc` board's MTRRs.
fn pc_config() -> MtrrConfig {
    MtrrConfig {
        maxphyaddr: 39,
        enabled: true,
        fixed: true,
        variable_slots: 8,
        fixed_ranges: vec![
            fw(0, 0xA0000, WB),
            fw(0xA0000, 0x20000, UC),
            fw(0xC0000, 0x40000, WP),
        ],
        variable_ranges: vec![
            fw(0, 0x8000_0000, WB),
            fw(0x1_0000_0000, 0x1_0000_0000, WB),
            fw(0x2_0000_0000, 0x8000_0000, WB),
            FirmwareRange {
                owner: Some("acpi".into()),
                busy: true,
                ..fw(0xFE00_0000, 0x4000, UC)
            },
        ],
    }
}

fn pc() -> MemRanges {
    MemRanges::new(&pc_config()).expect("the pc table is valid")
}

fn req(base: u64, len: u64, flags: MdfFlags) -> MemRangeDesc {
    MemRangeDesc::new(base, len, flags, "test")
}

fn update(m: &mut MemRanges, base: u64, len: u64, flags: MdfFlags) -> Result<()> {
    m.set(&req(base, len, flags), RangeOp::Update)
}

fn d(m: &MemRanges, i: usize) -> MemRangeDesc {
    m.get().unwrap()[i]
}

/// Asserts the request is refused with `errno`, names its op and range, and
/// changes nothing at all (table and MSRs).
fn refused(m: &mut MemRanges, r: &MemRangeDesc, op: RangeOp, errno: Errno) -> Error {
    let before = m.clone();
    let e = m.set(r, op).expect_err("the request should be refused");
    assert_eq!(e.errno, errno, "{e}");
    let name = match op {
        RangeOp::Update => "memrange.set",
        RangeOp::Remove => "memrange.remove",
    };
    assert_eq!(e.op, name);
    assert_eq!(
        e.subject,
        Some(crate::Subject::Range {
            base: r.base,
            len: r.len
        })
    );
    assert!(*m == before, "a refused request changed the state");
    e
}

fn refused_update(m: &mut MemRanges, base: u64, len: u64, flags: MdfFlags, errno: Errno) -> Error {
    refused(m, &req(base, len, flags), RangeOp::Update, errno)
}

fn refused_claim(
    m: &mut MemRanges,
    base: u64,
    len: u64,
    owner: &str,
    attr: Option<MdfFlags>,
    errno: Errno,
) -> Error {
    let before = m.clone();
    let e = m
        .claim(base, len, owner, attr)
        .expect_err("the claim should be refused");
    assert_eq!(e.errno, errno, "{e}");
    assert_eq!(e.op, "sim.claim");
    assert!(*m == before, "a refused claim changed the state");
    e
}

/// Puts hardware type `ty` into fixed slot `i` behind the kernel's back.
fn poke_fixed_type(m: &mut MemRanges, i: usize, ty: u8) {
    let msr = FIXED_MSRS[i / 8];
    let old = m.rdmsr(msr).unwrap();
    let shift = 8 * (i % 8);
    m.poke_msr(msr, (old & !(0xff << shift)) | u64::from(ty) << shift);
}

/// Programs variable slot `n` behind the kernel's back, mask first so the
/// fetch in between does not see a misaligned base (which would be BOGUS).
fn poke_variable(m: &mut MemRanges, n: u32, base: u64, mask: u64) {
    m.poke_msr(0x201 + 2 * n, mask);
    m.poke_msr(0x200 + 2 * n, base);
}

// ---------------------------------------------------------------------------
// Boot

#[test]
fn pc_table_boots_as_x86_mrinit_builds_it() {
    let m = pc();
    assert_eq!(m.count().unwrap(), 96);
    let t = m.get().unwrap();
    for (i, d) in t[..88].iter().enumerate() {
        let (base, len) = fixed_geometry(i);
        assert_eq!((d.base, d.len), (base, len), "slot {i}");
        let attr = match base {
            0..0xA0000 => WB,
            0xA0000..0xC0000 => UC,
            _ => WP,
        };
        assert_eq!(d.flags, FIXED_BITS | ACTIVE | FIRMWARE | attr, "slot {i}");
        assert_eq!(d.owner_str(), "BIOS");
    }
    assert_eq!((t[8].base, t[8].len), (0x80000, 0x4000));
    assert_eq!((t[24].base, t[24].len), (0xC0000, 0x1000));
    assert_eq!((t[87].base, t[87].len), (0xFF000, 0x1000));
    for (n, (base, len)) in [
        (0, 0x8000_0000),
        (0x1_0000_0000, 0x1_0000_0000),
        (0x2_0000_0000, 0x8000_0000),
    ]
    .into_iter()
    .enumerate()
    {
        let v = t[V + n];
        assert_eq!(
            (v.base, v.len, v.flags),
            (base, len, ACTIVE | FIRMWARE | WB)
        );
        assert_eq!(v.owner_str(), "BIOS");
    }
    let acpi = t[V + 3];
    assert_eq!((acpi.base, acpi.len), (0xFE00_0000, 0x4000));
    assert_eq!(acpi.flags, ACTIVE | FIRMWARE | BUSY | UC);
    assert_eq!(acpi.owner_str(), "acpi");
    let free: Vec<_> = t[V..]
        .iter()
        .filter(|d| !d.flags.contains(ACTIVE))
        .collect();
    assert_eq!(free.len(), 4);
    for d in free {
        assert_eq!((d.base, d.len, d.flags, d.owner), (0, TOP39, UC, [0; 8]));
    }
}

#[test]
fn pc_msrs_hold_the_firmware_types() {
    let m = pc();
    assert_eq!(m.rdmsr(0x250), Some(0x0606_0606_0606_0606));
    assert_eq!(m.rdmsr(0x258), Some(0x0606_0606_0606_0606));
    assert_eq!(m.rdmsr(0x259), Some(0));
    for msr in 0x268..=0x26F {
        assert_eq!(m.rdmsr(msr), Some(0x0505_0505_0505_0505));
    }
    assert_eq!(m.rdmsr(0x200), Some(6));
    assert_eq!(m.rdmsr(0x201), Some(0x7F_8000_0800));
    assert_eq!(m.rdmsr(0x206), Some(0xFE00_0000));
    assert_eq!(m.rdmsr(0x207), Some(0x7F_FFFF_C800));
    assert_eq!(m.rdmsr(0x208), Some(0));
    assert_eq!(m.rdmsr(0x20F), Some(0));
    assert_eq!(m.rdmsr(0x210), None);
    assert_eq!(m.rdmsr(0x251), None);
}

#[test]
fn uncovered_fixed_bytes_default_to_uncacheable() {
    let mut cfg = pc_config();
    cfg.fixed_ranges = vec![fw(0xC0000, 0x1000, WT)];
    let m = MemRanges::new(&cfg).unwrap();
    assert_eq!(d(&m, 0).flags.attr(), UC.bits());
    assert_eq!(d(&m, 24).flags.attr(), WT.bits());
    assert_eq!(d(&m, 25).flags.attr(), UC.bits());
}

#[test]
fn count_get_set_claim_are_enxio_when_mtrrs_are_disabled() {
    let mut cfg = pc_config();
    cfg.enabled = false;
    let mut m = MemRanges::new(&cfg).unwrap();
    let e = m.count().unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::ENXIO, "memrange.count"));
    assert!(e.message.contains("MTRRdefType.E"), "{e}");
    let e = m.get().unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::ENXIO, "memrange.get"));
    refused_update(&mut m, 0x4000_0000, 0x1000, WB, Errno::ENXIO);
    refused(
        &mut m,
        &req(0, 0x8000_0000, WB),
        RangeOp::Remove,
        Errno::ENXIO,
    );
    refused_claim(&mut m, 0x4000_0000, 0x1000, "gpu", None, Errno::ENXIO);
}

#[test]
fn no_fixed_and_no_variable_slots_is_enxio_too() {
    let cfg = MtrrConfig {
        maxphyaddr: 36,
        enabled: true,
        fixed: false,
        variable_slots: 0,
        fixed_ranges: vec![],
        variable_ranges: vec![],
    };
    let m = MemRanges::new(&cfg).unwrap();
    assert_eq!(m.count().unwrap_err().errno, Errno::ENXIO);
}

#[test]
fn more_variable_slots_than_vcnt_holds_are_refused_unallocated() {
    for slots in [usize::MAX, 1_000_000_000, MAX_VARIABLE_SLOTS + 1] {
        let cfg = MtrrConfig {
            variable_slots: slots,
            ..pc_config()
        };
        let e = MemRanges::new(&cfg).unwrap_err();
        assert!(e.message.contains("8-bit VCNT"), "{e}");
    }
    let cfg = MtrrConfig {
        variable_slots: MAX_VARIABLE_SLOTS,
        ..pc_config()
    };
    assert_eq!(MemRanges::new(&cfg).unwrap().count().unwrap(), V + 255);
}

// ---------------------------------------------------------------------------
// UPDATE: the request itself

#[test]
fn update_bad_geometry_is_einval() {
    let mut m = pc();
    for (base, len) in [
        (0x4000_0000, 0),
        (0x4000_0000, 0x800),
        (0x4000_0000, 0x3000),
        (0x4000_0800, 0x1000),
        (0x4000_1000, 0x2000),
        (0x1000, 0x2000),
    ] {
        let e = refused_update(&mut m, base, len, WB, Errno::EINVAL);
        assert!(e.message.contains("power-of-two length"), "{e}");
    }
}

#[test]
fn update_bad_type_is_einval() {
    let mut m = pc();
    for flags in [
        MdfFlags::empty(),
        WB | UC,
        MdfFlags::UNKNOWN,
        WC | MdfFlags::UNKNOWN,
    ] {
        let e = refused_update(&mut m, 0x4000_0000, 0x1000, flags, Errno::EINVAL);
        assert!(e.message.contains("exactly one of"), "{e}");
    }
    // Also below 1 MiB, before any slot is looked at.
    refused_update(&mut m, 0, 0x1000, MdfFlags::empty(), Errno::EINVAL);
}

#[test]
fn update_bits_6_to_23_make_the_type_invalid() {
    let mut m = pc();
    for bit in 6..24 {
        let flags = WB | MdfFlags::from_bits_retain(1 << bit);
        let e = refused_update(&mut m, 0x4000_0000, 0x1000, flags, Errno::EINVAL);
        assert!(e.message.contains("bits 6-23"), "{e}");
    }
}

#[test]
fn update_bits_24_to_30_are_ignored_and_not_stored() {
    let mut m = pc();
    let noise = MdfFlags::from_bits_retain(0x7F00_0000);
    update(&mut m, 0x4000_0000, 0x1000, WB | noise).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | WB);
    update(&mut m, 0x10000, 0x10000, UC | noise).unwrap();
    assert_eq!(d(&m, 1).flags, FIXED_BITS | ACTIVE | UC);
}

#[test]
fn update_force_and_active_are_never_stored() {
    let mut m = pc();
    update(&mut m, 0x4000_0000, 0x1000, WB | FORCE | ACTIVE).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | WB);
    update(&mut m, 0, 0x10000, UC | FORCE).unwrap();
    assert_eq!(d(&m, 0).flags, FIXED_BITS | ACTIVE | UC);
    assert!(m.get().unwrap().iter().all(|d| !d.flags.contains(FORCE)));
}

#[test]
fn update_forces_owner_byte_7_to_nul() {
    let mut m = pc();
    let mut r = req(0x4000_0000, 0x1000, WB);
    r.owner = *b"abcdefgh";
    m.set(&r, RangeOp::Update).unwrap();
    assert_eq!(d(&m, V + 4).owner, *b"abcdefg\0");
    r.base = 0;
    r.len = 0x10000;
    m.set(&r, RangeOp::Update).unwrap();
    assert_eq!(d(&m, 0).owner, *b"abcdefg\0");
}

// ---------------------------------------------------------------------------
// UPDATE below 1 MiB: setlow

#[test]
fn setlow_bloats_to_whole_slots_and_clears_firmware() {
    let mut m = pc();
    update(&mut m, 0x1000, 0x1000, UC).unwrap();
    let s0 = d(&m, 0);
    assert_eq!((s0.base, s0.len), (0, 0x10000));
    assert_eq!(s0.flags, FIXED_BITS | ACTIVE | UC);
    assert_eq!(s0.owner_str(), "test");
    assert_eq!(m.rdmsr(0x250), Some(0x0606_0606_0606_0600));
    // The slot next door is untouched.
    assert_eq!(d(&m, 1).flags, FIXED_BITS | ACTIVE | FIRMWARE | WB);
    assert_eq!(d(&m, 1).owner_str(), "BIOS");
}

#[test]
fn setlow_spans_slot_sizes() {
    let mut m = pc();
    // 0x80000..0xC0000 is exactly the 16 KiB slots 8..=23.
    update(&mut m, 0x80000, 0x40000, WT).unwrap();
    for i in 8..24 {
        assert_eq!(d(&m, i).flags, FIXED_BITS | ACTIVE | WT, "slot {i}");
    }
    assert!(d(&m, 7).flags.contains(FIRMWARE));
    assert!(d(&m, 24).flags.contains(FIRMWARE));
    assert_eq!(m.rdmsr(0x258), Some(0x0404_0404_0404_0404));
    assert_eq!(m.rdmsr(0x259), Some(0x0404_0404_0404_0404));
}

#[test]
fn setlow_with_empty_owner_reads_back_as_bios() {
    let mut m = pc();
    m.set(&MemRangeDesc::new(0, 0x10000, UC, ""), RangeOp::Update)
        .unwrap();
    assert_eq!(d(&m, 0).owner_str(), "BIOS");
    assert!(!d(&m, 0).flags.contains(FIRMWARE));
}

#[test]
fn setlow_wrap_leaves_first_or_last_missing_einval() {
    let mut m = pc();
    let e = refused_update(&mut m, u64::MAX - 0xFFF, 0x1000, WB, Errno::EINVAL);
    assert!(e.message.contains("wraps"), "{e}");
    refused_update(&mut m, 1 << 63, 1 << 63, WB, Errno::EINVAL);
}

#[test]
fn setlow_unknown_without_force_is_eacces() {
    let mut m = pc();
    poke_fixed_type(&mut m, 3, 2);
    assert_eq!(d(&m, 3).flags.attr(), MdfFlags::UNKNOWN.bits());
    let e = refused_update(&mut m, 0, 0x80000, WB, Errno::EACCES);
    assert!(e.message.contains("add MDF_FORCE (flag 'force')"), "{e}");
    assert!(e.message.contains("fixed slot 3"), "{e}");
}

#[test]
fn setlow_unknown_with_force_succeeds() {
    let mut m = pc();
    poke_fixed_type(&mut m, 3, 2);
    update(&mut m, 0, 0x80000, WB | FORCE).unwrap();
    assert_eq!(d(&m, 3).flags, FIXED_BITS | ACTIVE | WB);
    assert_eq!(m.rdmsr(0x250), Some(0x0606_0606_0606_0606));
}

#[test]
fn store_keeps_the_hardware_type_of_an_unknown_fixed_slot() {
    let mut m = pc();
    poke_fixed_type(&mut m, 3, 7);
    update(&mut m, 0, 0x10000, UC).unwrap();
    assert_eq!(m.rdmsr(0x250), Some(0x0606_0606_0706_0600));
    assert_eq!(d(&m, 3).flags.attr(), MdfFlags::UNKNOWN.bits());
}

#[test]
fn setlow_busy_fixed_slot_is_ebusy() {
    // DEVIATION 1: FreeBSD's setlow would overwrite it.
    let mut m = pc();
    m.claim(0xA0000, 0x4000, "vga", None).unwrap();
    assert!(d(&m, 16).flags.contains(BUSY));
    let e = refused_update(&mut m, 0xA0000, 0x20000, WC, Errno::EBUSY);
    assert!(e.message.contains("\"vga\""), "{e}");
    // The bloated request touches it too.
    refused_update(&mut m, 0xA1000, 0x1000, WC, Errno::EBUSY);
    // Neighbours are free.
    update(&mut m, 0xA4000, 0x4000, WC).unwrap();
}

#[test]
fn setlow_busy_is_checked_before_unknown() {
    let mut m = pc();
    poke_fixed_type(&mut m, 0, 2);
    m.claim(0x10000, 0x10000, "smm", None).unwrap();
    refused_update(&mut m, 0, 0x20000, WB, Errno::EBUSY);
    refused_update(&mut m, 0, 0x20000, WB | FORCE, Errno::EBUSY);
}

#[test]
fn busy_firmware_fixed_range_is_ebusy() {
    let mut cfg = pc_config();
    cfg.fixed_ranges[1].busy = true;
    cfg.fixed_ranges[1].owner = Some("vga".into());
    let mut m = MemRanges::new(&cfg).unwrap();
    assert_eq!(d(&m, 16).flags, FIXED_BITS | ACTIVE | FIRMWARE | BUSY | UC);
    assert_eq!(d(&m, 16).owner_str(), "vga");
    refused_update(&mut m, 0xB0000, 0x1000, WC, Errno::EBUSY);
}

// ---------------------------------------------------------------------------
// UPDATE above 1 MiB: setvariable

#[test]
fn setvariable_takes_the_first_free_slot() {
    let mut m = pc();
    update(&mut m, 0xC000_0000, 0x1000_0000, WC).unwrap();
    let v = d(&m, V + 4);
    assert_eq!(
        (v.base, v.len, v.flags),
        (0xC000_0000, 0x1000_0000, ACTIVE | WC)
    );
    assert_eq!(v.owner_str(), "test");
    assert_eq!(m.rdmsr(0x208), Some(0xC000_0001));
    assert_eq!(m.rdmsr(0x209), Some(0x7F_F000_0800));
}

#[test]
fn setvariable_takeover_of_exact_match() {
    let mut m = pc();
    update(&mut m, 0x2_0000_0000, 0x8000_0000, UC).unwrap();
    let v = d(&m, V + 2);
    assert_eq!(v.flags, ACTIVE | UC, "FIRMWARE cleared by the take-over");
    assert_eq!(v.owner_str(), "test");
    assert!(!d(&m, V + 4).flags.contains(ACTIVE));
}

#[test]
fn setvariable_takeover_of_busy_slot_is_ebusy() {
    let mut m = pc();
    let e = refused_update(&mut m, 0xFE00_0000, 0x4000, WC, Errno::EBUSY);
    assert!(e.message.contains("\"acpi\""), "{e}");
    // Even with the same attribute, and with FORCE.
    refused_update(&mut m, 0xFE00_0000, 0x4000, UC | FORCE, Errno::EBUSY);
}

#[test]
fn setvariable_takeover_of_unknown_without_force_is_eacces() {
    let mut m = pc();
    poke_variable(&mut m, 4, 0x4_0000_0000 | 2, 0x7F_0000_0800);
    let v = d(&m, V + 4);
    assert_eq!((v.base, v.len), (0x4_0000_0000, 0x1_0000_0000));
    assert_eq!(v.flags, ACTIVE | MdfFlags::UNKNOWN);
    assert_eq!(v.owner_str(), "BIOS");
    let e = refused_update(&mut m, 0x4_0000_0000, 0x1_0000_0000, WB, Errno::EACCES);
    assert!(e.message.contains("add MDF_FORCE (flag 'force')"), "{e}");
}

#[test]
fn setvariable_takeover_of_unknown_with_force_succeeds() {
    let mut m = pc();
    poke_variable(&mut m, 4, 0x4_0000_0000 | 2, 0x7F_0000_0800);
    update(&mut m, 0x4_0000_0000, 0x1_0000_0000, WB | FORCE).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | WB);
    assert_eq!(m.rdmsr(0x208), Some(0x4_0000_0006));
}

#[test]
fn setvariable_conflicting_overlap_is_einval() {
    let mut m = pc();
    let e = refused_update(&mut m, 0x4000_0000, 0x1000, WC, Errno::EINVAL);
    assert!(e.message.contains("variable slot 0"), "{e}");
    assert!(e.message.contains("conflict"), "{e}");
    // Bigger than and around an existing range.
    refused_update(&mut m, 0, 0x1_0000_0000, WT, Errno::EINVAL);
    // The variable path for a range that reaches into the first MiB looks
    // at variable slots only.
    refused_update(&mut m, 0, 0x200000, WP, Errno::EINVAL);
}

#[test]
fn setvariable_wb_uc_overlap_is_allowed() {
    let mut m = pc();
    update(&mut m, 0x4000_0000, 0x1000, UC).unwrap();
    update(&mut m, 0xFE00_0000, 0x200_0000, WB).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | UC);
    assert_eq!(d(&m, V + 5).flags, ACTIVE | WB);
    // Equal types may overlap too.
    update(&mut m, 0x1_0000_0000, 0x1000, WB).unwrap();
}

#[test]
fn setvariable_all_slots_in_use_is_enospc() {
    let mut m = pc();
    for n in 0..4u64 {
        update(&mut m, 0x10_0000_0000 + n * 0x1000, 0x1000, WC).unwrap();
    }
    let e = refused_update(&mut m, 0x20_0000_0000, 0x1000, WC, Errno::ENOSPC);
    assert!(
        e.message
            .contains("all 8 variable-range slots are in use; remove one with memrange.remove"),
        "{e}"
    );
    // A take-over still works when every slot is in use.
    update(&mut m, 0x10_0000_0000, 0x1000, WT).unwrap();
}

#[test]
fn setvariable_conflict_is_chosen_before_enospc() {
    let mut m = pc();
    for n in 0..4u64 {
        update(&mut m, 0x10_0000_0000 + n * 0x1000, 0x1000, WC).unwrap();
    }
    refused_update(&mut m, 0x4000_0000, 0x1000, WC, Errno::EINVAL);
}

#[test]
fn setvariable_takeover_still_checks_later_slots() {
    // DEVIATION 2: FreeBSD breaks out at the exact match (slot 4) and would
    // let slot 5's UC range overlap a WC one.
    let mut m = pc();
    update(&mut m, 0x3_0000_0000, 0x10000, WB).unwrap();
    update(&mut m, 0x3_0000_0000, 0x1000, UC).unwrap();
    let e = refused_update(&mut m, 0x3_0000_0000, 0x10000, WC, Errno::EINVAL);
    assert!(e.message.contains("variable slot 5"), "{e}");
    // A type that agrees with slot 5 takes the slot over.
    update(&mut m, 0x3_0000_0000, 0x10000, UC).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | UC);
}

#[test]
fn setvariable_checks_the_geometry_the_hardware_will_hold() {
    // DEVIATION 3: 1<<39 + 0x4000_0000 is 0x4000_0000 to a 39-bit CPU,
    // inside the WB range of slot 0.
    let mut m = pc();
    let e = refused_update(&mut m, TOP39 + 0x4000_0000, 0x1000, WC, Errno::EINVAL);
    assert!(e.message.contains("0x40000000/0x1000"), "{e}");
    // A length past the width covers everything.
    refused_update(&mut m, 1 << 40, 1 << 40, WT, Errno::EINVAL);
}

// ---------------------------------------------------------------------------
// The re-fetch

#[test]
fn refetch_truncates_base_to_maxphyaddr() {
    let mut m = pc();
    update(&mut m, TOP39, 0x1000, WB).unwrap();
    let v = d(&m, V + 4);
    assert_eq!((v.base, v.len, v.flags), (0, 0x1000, ACTIVE | WB));
}

#[test]
fn refetch_caps_len_at_one_shl_maxphyaddr() {
    let mut m = pc();
    update(&mut m, 1 << 40, 1 << 40, UC).unwrap();
    let v = d(&m, V + 4);
    assert_eq!((v.base, v.len, v.flags), (0, TOP39, ACTIVE | UC));
    assert_eq!(m.rdmsr(0x209), Some(0x800));
}

#[test]
fn refetch_follows_maxphyaddr() {
    for bits in [32u32, 36, 46, 52] {
        let cfg = MtrrConfig {
            maxphyaddr: bits,
            enabled: true,
            fixed: false,
            variable_slots: 2,
            fixed_ranges: vec![],
            variable_ranges: vec![fw(0, 0x8000_0000, WB)],
        };
        let mut m = MemRanges::new(&cfg).unwrap();
        assert_eq!(d(&m, 1).len, 1 << bits, "{bits}");
        update(&mut m, (1 << bits) + 0x1000, 0x1000, WB).unwrap();
        assert_eq!((d(&m, 1).base, d(&m, 1).len), (0x1000, 0x1000), "{bits}");
        m.set(&req(0x1000, 0x1000, WB), RangeOp::Remove).unwrap();
        update(&mut m, 1 << 60, 1 << 60, WB).unwrap();
        assert_eq!((d(&m, 1).base, d(&m, 1).len), (0, 1 << bits), "{bits}");
    }
}

#[test]
fn bogus_is_never_cleared_by_a_fetch() {
    let mut m = pc();
    // A mask with a hole: the length reads back as 0x3000.
    poke_variable(&mut m, 4, 0x4_0000_0000 | 6, 0x7F_FFFF_D800);
    let v = d(&m, V + 4);
    assert_eq!(v.len, 0x3000);
    assert_eq!(v.flags, ACTIVE | MdfFlags::BOGUS | WB);
    m.set(&req(0x4_0000_0000, 0x3000, WB), RangeOp::Remove)
        .unwrap();
    let v = d(&m, V + 4);
    assert_eq!((v.base, v.len), (0, TOP39));
    assert_eq!(v.flags, MdfFlags::BOGUS | UC, "removed, still bogus");
    update(&mut m, 0x8_0000_0000, 0x1000, WB).unwrap();
    assert_eq!(d(&m, V + 4).flags, ACTIVE | WB, "a take-over clears it");
}

// ---------------------------------------------------------------------------
// REMOVE

#[test]
fn remove_without_exact_match_is_enoent() {
    let mut m = pc();
    let e = refused(
        &mut m,
        &req(0x4000_0000, 0x1000, WB),
        RangeOp::Remove,
        Errno::ENOENT,
    );
    assert!(e.message.contains("exact"), "{e}");
    // The geometry must match exactly; flags do not matter.
    refused(
        &mut m,
        &req(0, 0x4000_0000, WB),
        RangeOp::Remove,
        Errno::ENOENT,
    );
}

#[test]
fn remove_fixed_range_is_eperm() {
    let mut m = pc();
    let e = refused(&mut m, &req(0, 0x10000, WB), RangeOp::Remove, Errno::EPERM);
    assert!(
        e.message
            .contains("fixed ranges cannot be removed; set another attribute instead"),
        "{e}"
    );
    refused(
        &mut m,
        &req(0xFF000, 0x1000, WB),
        RangeOp::Remove,
        Errno::EPERM,
    );
}

#[test]
fn remove_fixed_is_eperm_even_when_busy() {
    let mut m = pc();
    m.claim(0, 0x10000, "smm", None).unwrap();
    refused(&mut m, &req(0, 0x10000, WB), RangeOp::Remove, Errno::EPERM);
}

#[test]
fn remove_busy_range_is_ebusy() {
    let mut m = pc();
    let e = refused(
        &mut m,
        &req(0xFE00_0000, 0x4000, UC),
        RangeOp::Remove,
        Errno::EBUSY,
    );
    assert!(e.message.contains("\"acpi\""), "{e}");
}

#[test]
fn remove_reads_back_as_an_empty_slot_with_firmware_kept() {
    let mut m = pc();
    m.set(&req(0, 0x8000_0000, UC), RangeOp::Remove).unwrap();
    let v = d(&m, V);
    assert_eq!((v.base, v.len, v.flags), (0, 0x80_0000_0000, FIRMWARE | UC));
    // Only the first owner byte is cleared.
    assert_eq!(v.owner, *b"\0IOS\0\0\0\0");
    assert_eq!(v.owner_str(), "");
    assert_eq!((m.rdmsr(0x200), m.rdmsr(0x201)), (Some(0), Some(0)));
    // The freed slot is the first free one now.
    update(&mut m, 0x4_0000_0000, 0x1000, WC).unwrap();
    assert_eq!(d(&m, V).flags, ACTIVE | WC);
}

#[test]
fn remove_matches_an_inactive_slot_too() {
    let mut m = pc();
    m.set(&req(0, TOP39, UC), RangeOp::Remove).unwrap();
    assert!(!d(&m, V + 4).flags.contains(ACTIVE));
}

// ---------------------------------------------------------------------------
// Firmware table checks

fn firmware_error_of(cfg: &MtrrConfig) -> FirmwareError {
    MemRanges::new(cfg).expect_err("the table should be refused")
}

#[test]
fn firmware_fixed_range_outside_first_mib() {
    let mut cfg = pc_config();
    cfg.fixed_ranges.push(fw(0xF0000, 0x20000, WB));
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Fixed(3));
    assert!(e.message.contains("first MiB"), "{e}");
    cfg.fixed_ranges[3] = fw(u64::MAX - 0xFFF, 0x2000, WB);
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(3));
    cfg.fixed_ranges[3] = fw(0, 0, WB);
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(3));
}

#[test]
fn firmware_fixed_range_off_slot_boundaries() {
    let mut cfg = pc_config();
    cfg.fixed_ranges = vec![fw(0x1000, 0x10000, WB)];
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Fixed(0));
    assert!(e.message.contains("fixed-slot boundaries"), "{e}");
    cfg.fixed_ranges = vec![fw(0x80000, 0x2000, WB)];
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(0));
    cfg.fixed_ranges = vec![fw(0xC0000, 0x1000, WB), fw(0, 0x8000, WB)];
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(1));
}

#[test]
fn firmware_fixed_ranges_overlapping() {
    let mut cfg = pc_config();
    cfg.fixed_ranges.push(fw(0xC0000, 0x1000, WB));
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Fixed(3));
    assert!(e.message.contains("fixed range 2"), "{e}");
}

#[test]
fn firmware_fixed_ranges_without_fixed_mtrrs() {
    let mut cfg = pc_config();
    cfg.fixed = false;
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Fixed(0));
    assert!(e.message.contains("fixed = false"), "{e}");
}

#[test]
fn firmware_variable_range_not_mrvalid() {
    let mut cfg = pc_config();
    cfg.variable_ranges[2].len = 0x3000;
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Variable(2));
    assert!(e.message.contains("power of two"), "{e}");
}

#[test]
fn firmware_variable_range_beyond_maxphyaddr() {
    let mut cfg = pc_config();
    cfg.variable_ranges.push(fw(TOP39, 0x1000, WB));
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Variable(4));
    assert!(e.message.contains("39-bit"), "{e}");
    cfg.variable_ranges[4] = fw(0, TOP39 * 2, WB);
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Variable(4));
    // Exactly the whole space is fine.
    cfg.variable_ranges[4] = fw(0, TOP39, WB);
    MemRanges::new(&cfg).unwrap();
}

#[test]
fn firmware_attr_must_be_exactly_one_valid_type() {
    for attr in [
        MdfFlags::empty(),
        WB | UC,
        MdfFlags::UNKNOWN,
        WB | ACTIVE,
        WB | FORCE,
        MdfFlags::from_bits_retain(0x40),
    ] {
        let mut cfg = pc_config();
        cfg.variable_ranges[1].attr = attr;
        let e = firmware_error_of(&cfg);
        assert_eq!(e.entry, FirmwareEntry::Variable(1), "{attr:?}");
        assert!(e.message.contains("exactly one of"), "{e}");
        let mut cfg = pc_config();
        cfg.fixed_ranges[0].attr = attr;
        assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(0));
    }
}

#[test]
fn firmware_more_variable_ranges_than_slots() {
    let mut cfg = pc_config();
    cfg.variable_slots = 3;
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Variable(3));
    assert!(e.message.contains("only 3 variable-range slots"), "{e}");
}

#[test]
fn firmware_variable_ranges_conflicting() {
    let mut cfg = pc_config();
    cfg.variable_ranges.push(fw(0x4000_0000, 0x1000, WC));
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Variable(4));
    assert!(e.message.contains("variable range 0"), "{e}");
    // WB under UC is the usual firmware layout and fine.
    cfg.variable_ranges[4].attr = UC;
    MemRanges::new(&cfg).unwrap();
}

#[test]
fn firmware_owner_over_seven_bytes() {
    let mut cfg = pc_config();
    cfg.variable_ranges[3].owner = Some("acpi-tables".into());
    let e = firmware_error_of(&cfg);
    assert_eq!(e.entry, FirmwareEntry::Variable(3));
    assert!(e.message.contains("at most 7"), "{e}");
    let mut cfg = pc_config();
    cfg.fixed_ranges[2].owner = Some("12345678".into());
    assert_eq!(firmware_error_of(&cfg).entry, FirmwareEntry::Fixed(2));
}

#[test]
fn firmware_maxphyaddr_out_of_range() {
    for bits in [0, 31, 53, 64] {
        let mut cfg = pc_config();
        cfg.maxphyaddr = bits;
        cfg.variable_ranges.clear();
        assert!(firmware_error_of(&cfg).message.contains("maxphyaddr"));
    }
}

#[test]
fn firmware_error_displays_the_entry() {
    let e = FirmwareError {
        entry: FirmwareEntry::Variable(2),
        message: "bad".into(),
    };
    assert_eq!(e.to_string(), "variable range 2: bad");
}

// ---------------------------------------------------------------------------
// sim.claim

#[test]
fn claim_fixed_marks_every_bloated_slot_busy() {
    let mut m = pc();
    m.claim(0xA0000, 0x8000, "vga", None).unwrap();
    for i in 16..18 {
        assert_eq!(
            d(&m, i).flags,
            FIXED_BITS | ACTIVE | FIRMWARE | BUSY | UC,
            "slot {i}"
        );
        assert_eq!(d(&m, i).owner_str(), "vga");
    }
    assert!(!d(&m, 18).flags.contains(BUSY));
    // With an attribute, FIRMWARE goes as with a set.
    m.claim(0xC0000, 0x1000, "vbios", Some(WC)).unwrap();
    assert_eq!(d(&m, 24).flags, FIXED_BITS | ACTIVE | BUSY | WC);
    assert_eq!(m.rdmsr(0x268), Some(0x0505_0505_0505_0501));
}

#[test]
fn claim_exact_variable_range() {
    let mut m = pc();
    m.claim(0x2_0000_0000, 0x8000_0000, "gpu", None).unwrap();
    let v = d(&m, V + 2);
    assert_eq!(v.flags, ACTIVE | FIRMWARE | BUSY | WB);
    assert_eq!(v.owner_str(), "gpu");
    refused_update(&mut m, 0x2_0000_0000, 0x8000_0000, UC, Errno::EBUSY);
    m.claim(0x2_0000_0000, 0x8000_0000, "gpu", Some(WC))
        .unwrap();
    assert_eq!(d(&m, V + 2).flags, ACTIVE | BUSY | WC);
}

#[test]
fn claim_new_variable_range_defaults_to_uncacheable() {
    let mut m = pc();
    m.claim(0xD000_0000, 0x1000_0000, "fb", None).unwrap();
    let v = d(&m, V + 4);
    assert_eq!(
        (v.base, v.len, v.flags),
        (0xD000_0000, 0x1000_0000, ACTIVE | BUSY | UC)
    );
    assert_eq!(v.owner_str(), "fb");
    refused(
        &mut m,
        &req(0xD000_0000, 0x1000_0000, UC),
        RangeOp::Remove,
        Errno::EBUSY,
    );
    m.claim(0xE000_0000, 0x1000_0000, "fb", Some(WC)).unwrap();
    assert_eq!(d(&m, V + 5).flags, ACTIVE | BUSY | WC);
}

#[test]
fn claim_range_held_by_another_owner_is_ebusy() {
    let mut m = pc();
    let e = refused_claim(&mut m, 0xFE00_0000, 0x4000, "gpu", None, Errno::EBUSY);
    assert!(e.message.contains("\"acpi\""), "{e}");
    refused_claim(&mut m, 0xFE00_0000, 0x4000, "gpu", Some(UC), Errno::EBUSY);
    m.claim(0xA0000, 0x4000, "vga", None).unwrap();
    refused_claim(&mut m, 0xA0000, 0x20000, "smm", None, Errno::EBUSY);
    // The holder may claim again.
    m.claim(0xFE00_0000, 0x4000, "acpi", Some(UC)).unwrap();
    m.claim(0xA0000, 0x4000, "vga", Some(WC)).unwrap();
}

#[test]
fn claim_refuses_what_setvariable_refuses() {
    let mut m = pc();
    refused_claim(&mut m, 0x4000_0000, 0x1000, "gpu", Some(WC), Errno::EINVAL);
    refused_claim(&mut m, 0x4000_0000, 0x3000, "gpu", None, Errno::EINVAL);
    refused_claim(
        &mut m,
        0x4000_0000,
        0x1000,
        "gpu",
        Some(WB | UC),
        Errno::EINVAL,
    );
    refused_claim(&mut m, u64::MAX - 0xFFF, 0x1000, "gpu", None, Errno::EINVAL);
    for n in 0..4u64 {
        m.claim(0x10_0000_0000 + n * 0x1000, 0x1000, "gpu", None)
            .unwrap();
    }
    let e = refused_claim(&mut m, 0x20_0000_0000, 0x1000, "gpu", None, Errno::ENOSPC);
    assert!(e.message.contains("all 8 variable-range slots"), "{e}");
}

#[test]
fn claim_unknown_attr_change_needs_force() {
    let mut m = pc();
    poke_fixed_type(&mut m, 0, 2);
    refused_claim(&mut m, 0, 0x10000, "smm", Some(WB), Errno::EACCES);
    m.claim(0, 0x10000, "smm", None).unwrap();
    m.claim(0, 0x10000, "smm", Some(WB | FORCE)).unwrap();
    assert_eq!(d(&m, 0).flags, FIXED_BITS | ACTIVE | BUSY | WB);
}

#[test]
fn claim_owner_must_be_one_to_seven_bytes() {
    let mut m = pc();
    let e = refused_claim(&mut m, 0x4000_0000, 0x1000, "graphics", None, Errno::EINVAL);
    assert!(e.message.contains("1 to 7 bytes"), "{e}");
    refused_claim(&mut m, 0x4000_0000, 0x1000, "", None, Errno::EINVAL);
    m.claim(0x4000_0000, 0x1000, "graphic", None).unwrap();
}

// ---------------------------------------------------------------------------
// Properties over random sequences of operations

/// Geometries around the interesting edges: inside the first MiB, the pc
/// table's ranges exactly, above maxphyaddr, wrapping, and invalid ones.
fn geometries(maxphyaddr: u32) -> Vec<(u64, u64)> {
    let top = 1u64 << maxphyaddr;
    vec![
        (0, 0x1000),
        (0x1000, 0x1000),
        (0, 0x10000),
        (0x80000, 0x4000),
        (0xA0000, 0x20000),
        (0xC0000, 0x1000),
        (0xF0000, 0x10000),
        (0, 0x100000),
        (0, 0x200000),
        (0x100000, 0x100000),
        (0, 0x8000_0000),
        (0x4000_0000, 0x1000),
        (0x8000_0000, 0x8000_0000),
        (0xFE00_0000, 0x4000),
        (0xFE00_0000, 0x1000),
        (0xFE00_0000, 0x200_0000),
        (0x1_0000_0000, 0x1_0000_0000),
        (0x1_0000_0000, 0x1000),
        (0x2_0000_0000, 0x8000_0000),
        (0x10_0000_0000, 0x1000),
        (0x10_0000_1000, 0x1000),
        (0x10_0000_2000, 0x1000),
        (0x10_0000_0000, 0x10000),
        (top, 0x1000),
        (top + 0x4000_0000, 0x1000),
        (top, top),
        (top << 1, top << 1),
        (0, top),
        (u64::MAX - 0xFFF, 0x1000),
        (1 << 63, 1 << 63),
        (0x1000, 0x3000),
        (0x800, 0x1000),
        (0x1000, 0x2000),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Set {
        geom: usize,
        flags: u32,
        owner: usize,
    },
    Remove {
        geom: usize,
    },
    Claim {
        geom: usize,
        owner: usize,
        attr: Option<u32>,
    },
}

const OWNERS: [&str; 4] = ["", "test", "gpu", "acpi"];

fn attr_strategy() -> impl Strategy<Value = u32> {
    let attr = prop_oneof![
        6 => prop::sample::select(vec![UC, WC, WT, WP, WB]).prop_map(|f| f.bits()),
        1 => Just(0u32),
        1 => Just(MdfFlags::UNKNOWN.bits()),
        1 => Just((WB | UC).bits()),
        1 => (6u32..24).prop_map(|b| WB.bits() | 1 << b),
    ];
    let extra = prop::sample::select(vec![
        0u32,
        0,
        FORCE.bits(),
        ACTIVE.bits(),
        (BUSY | FIRMWARE | MdfFlags::FIXACTIVE).bits(),
    ]);
    (attr, extra).prop_map(|(a, e)| a | e)
}

fn op_strategy(ngeoms: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..ngeoms, attr_strategy(), 0..OWNERS.len())
            .prop_map(|(geom, flags, owner)| Op::Set { geom, flags, owner }),
        2 => (0..ngeoms).prop_map(|geom| Op::Remove { geom }),
        2 => (0..ngeoms, 1..OWNERS.len(), prop::option::of(attr_strategy()))
            .prop_map(|(geom, owner, attr)| Op::Claim { geom, owner, attr }),
    ]
}

/// A board's MTRRs: pc's firmware table trimmed to what fits.
fn config_strategy() -> impl Strategy<Value = MtrrConfig> {
    (
        prop::sample::select(vec![32u32, 36, 39, 46, 52]),
        any::<bool>(),
        0usize..=10,
    )
        .prop_map(|(maxphyaddr, fixed, slots)| {
            let pc = pc_config();
            let top = 1u64 << maxphyaddr;
            MtrrConfig {
                maxphyaddr,
                enabled: true,
                fixed,
                variable_slots: slots,
                fixed_ranges: if fixed { pc.fixed_ranges } else { vec![] },
                variable_ranges: pc
                    .variable_ranges
                    .into_iter()
                    .filter(|r| r.base + r.len <= top)
                    .take(slots)
                    .collect(),
            }
        })
}

/// What must hold after any operation.
fn check_invariants(m: &MemRanges, ndesc: usize, nfixed: usize) {
    let t = m.get().unwrap();
    assert_eq!(t.len(), ndesc);
    for d in &t[..nfixed] {
        assert!(d.flags.contains(FIXED_BITS | ACTIVE), "{d:?}");
    }
    for d in t {
        assert_eq!(d.owner[7], 0);
        assert!(!d.flags.contains(FORCE), "{d:?}");
        let attr = MdfFlags::from_bits_retain(d.flags.attr());
        assert!(
            mtrr_type(attr).is_some() || attr == MdfFlags::UNKNOWN,
            "{d:?}"
        );
    }
    let active: Vec<_> = t[nfixed..]
        .iter()
        .filter(|d| d.flags.contains(ACTIVE))
        .collect();
    for (i, a) in active.iter().enumerate() {
        for b in &active[i + 1..] {
            assert!(
                !(overlap(a, b) && conflict(a.flags, b.flags)),
                "conflicting overlap: {a:?} {b:?}"
            );
        }
    }
    // The table is what the MSRs hold: writing it back and reading it
    // again changes nothing.
    let mut again = m.clone();
    again.store();
    again.fetch();
    assert!(again == *m, "store + fetch is not idempotent");
}

/// Runs one op; on error, checks the op name and that nothing changed; on
/// success, checks the op had its effect.
fn run(m: &mut MemRanges, op: &Op, geoms: &[(u64, u64)]) {
    let before = m.clone();
    let physmask = m.physmask;
    let (result, name) = match *op {
        Op::Set { geom, flags, owner } => {
            let (base, len) = geoms[geom];
            let r = MemRangeDesc::new(base, len, MdfFlags::from_bits_retain(flags), OWNERS[owner]);
            (m.set(&r, RangeOp::Update), "memrange.set")
        }
        Op::Remove { geom } => {
            let (base, len) = geoms[geom];
            (
                m.set(&req(base, len, UC), RangeOp::Remove),
                "memrange.remove",
            )
        }
        Op::Claim { geom, owner, attr } => {
            let (base, len) = geoms[geom];
            let attr = attr.map(MdfFlags::from_bits_retain);
            (m.claim(base, len, OWNERS[owner], attr), "sim.claim")
        }
    };
    match result {
        Err(e) => {
            assert_eq!(e.op, name);
            assert!(*m == before, "{e} changed the state");
        }
        Ok(()) => {
            let (base, len) = match *op {
                Op::Set { geom, .. } | Op::Remove { geom } | Op::Claim { geom, .. } => geoms[geom],
            };
            let held = (base & physmask, len.min(1 << m.maxphyaddr));
            let t = m.get().unwrap();
            let low = m.nfixed > 0 && lands_low(base, len);
            match *op {
                Op::Set { flags, .. } => {
                    let attr = MdfFlags::from_bits_retain(flags).attr();
                    if low {
                        let s = fixed_slot(base).unwrap();
                        assert_eq!(t[s].flags.attr(), attr);
                    } else {
                        assert!(t[m.nfixed..].iter().any(|d| d.flags.contains(ACTIVE)
                            && (d.base, d.len) == held
                            && d.flags.attr() == attr));
                    }
                }
                Op::Remove { .. } => {
                    let was = before
                        .descs
                        .iter()
                        .position(|d| (d.base, d.len) == (base, len));
                    assert!(!t[was.unwrap()].flags.contains(ACTIVE));
                }
                Op::Claim { owner, .. } => {
                    let holder = |d: &&MemRangeDesc| {
                        d.flags.contains(ACTIVE | BUSY) && d.owner_str() == OWNERS[owner]
                    };
                    if low {
                        assert!(holder(&&t[fixed_slot(base).unwrap()]));
                    } else {
                        assert!(t[m.nfixed..]
                            .iter()
                            .filter(holder)
                            .any(|d| (d.base, d.len) == held));
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pc_random_sequences_keep_the_invariants(
        ops in prop::collection::vec(op_strategy(geometries(39).len()), 1..40)
    ) {
        let geoms = geometries(39);
        let mut m = pc();
        check_invariants(&m, 96, 88);
        for op in &ops {
            run(&mut m, op, &geoms);
            check_invariants(&m, 96, 88);
        }
    }

    #[test]
    fn any_board_random_sequences_keep_the_invariants(
        cfg in config_strategy(),
        ops in prop::collection::vec(op_strategy(geometries(32).len()), 1..30)
    ) {
        let geoms = geometries(cfg.maxphyaddr);
        let nfixed = if cfg.fixed { 88 } else { 0 };
        let ndesc = nfixed + cfg.variable_slots;
        let mut m = MemRanges::new(&cfg).unwrap();
        if ndesc == 0 {
            prop_assert_eq!(m.count().unwrap_err().errno, Errno::ENXIO);
            return Ok(());
        }
        check_invariants(&m, ndesc, nfixed);
        for op in &ops {
            run(&mut m, op, &geoms);
            check_invariants(&m, ndesc, nfixed);
        }
    }

    #[test]
    fn errors_depend_on_the_request_alone_in_freebsd_order(
        geom in 0..geometries(39).len(),
        flags in attr_strategy()
    ) {
        // The first checks of x86_mrset look at the request only: a bad
        // geometry or type is EINVAL whatever the table holds.
        let (base, len) = geometries(39)[geom];
        let flags = MdfFlags::from_bits_retain(flags);
        let mut m = pc();
        let r = m.set(&req(base, len, flags), RangeOp::Update);
        if !mrvalid(base, len) || mtrr_type(flags).is_none() {
            prop_assert_eq!(r.unwrap_err().errno, Errno::EINVAL);
        }
    }
}
