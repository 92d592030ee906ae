//! The simulated process behind MEM_EXTRACT_PADDR and `mem.alloc`
//! (docs/MEM4.md §3): page states, frames in simulated RAM, lock and reclaim.

use memlua_runtime::sim::process::USER_BASE;
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno, MemExtract, PageState, Space, Width, PAGE_SIZE};

fn pc() -> Sim {
    Sim::from_board_name("pc").unwrap()
}

fn extract(s: &mut Sim, va: u64) -> MemExtract {
    let mut out = [MemExtract::invalid(va)];
    s.extract(&mut out).unwrap();
    out[0]
}

const P: Space = Space::Process;

#[test]
fn fresh_buffer_pages_are_valid_until_touched() {
    let mut s = pc();
    let b = s.process_map(3 * PAGE_SIZE).unwrap();
    assert_eq!(b % PAGE_SIZE, 0);
    assert!(b >= USER_BASE);
    for i in 0..3 {
        assert_eq!(extract(&mut s, b + i * PAGE_SIZE).state, PageState::Valid);
    }
    s.write(P, b + 0x1004, Width::W32, 7).unwrap();
    let e = extract(&mut s, b + 0x1004);
    assert_eq!(e.state, PageState::Mapped);
    assert_eq!(e.paddr.unwrap() % PAGE_SIZE, 4);
    assert_eq!(e.domain, Some(0));
    assert_eq!(extract(&mut s, b).state, PageState::Valid);
}

#[test]
fn addresses_outside_buffers_are_invalid_not_errors() {
    let mut s = pc();
    let b = s.process_map(100).unwrap();
    for va in [0, USER_BASE - 1, b + PAGE_SIZE, u64::MAX] {
        let e = extract(&mut s, va);
        assert_eq!(e.state, PageState::Invalid, "{va:#x}");
        assert_eq!(e.paddr, None);
    }
}

#[test]
fn mapped_pages_are_real_simulated_ram() {
    let mut s = pc();
    let b = s.process_map(PAGE_SIZE).unwrap();
    s.process_lock(b, 0).unwrap();
    let pa = extract(&mut s, b).paddr.unwrap();
    // A write to the physical page is seen through the buffer...
    s.write(Space::Phys, pa + 8, Width::W64, 0xfeed).unwrap();
    assert_eq!(s.read(P, b + 8, Width::W64).unwrap(), 0xfeed);
    // ...and a DMA into it too.
    s.write_bytes(Space::Phys, 0x300000, b"dma data").unwrap();
    let dma = 0xFE00_2000u64;
    s.write(Space::Phys, dma, Width::W64, 0x300000).unwrap();
    s.write(Space::Phys, dma + 8, Width::W64, pa + 0x100)
        .unwrap();
    s.write(Space::Phys, dma + 0x10, Width::W32, 8).unwrap();
    s.write(Space::Phys, dma + 0x14, Width::W32, 1).unwrap();
    let mut back = [0u8; 8];
    s.read_bytes(P, b + 0x100, &mut back).unwrap();
    assert_eq!(&back, b"dma data");
}

#[test]
fn fresh_pages_are_zero_even_over_dirty_frames() {
    let mut s = pc();
    let a = s.process_map(PAGE_SIZE).unwrap();
    s.write(P, a, Width::W64, u64::MAX).unwrap();
    let pa = extract(&mut s, a).paddr.unwrap();
    s.process_unmap(a, 0).unwrap();
    let b = s.process_map(PAGE_SIZE).unwrap();
    assert_eq!(s.read(P, b, Width::W64).unwrap(), 0);
    // The freed frame was reused for the new page.
    assert_eq!(extract(&mut s, b).paddr, Some(pa));
}

#[test]
fn reclaim_unmaps_unwired_pages_and_keeps_their_data() {
    let mut s = pc();
    let loose = s.process_map(PAGE_SIZE).unwrap();
    let wired = s.process_map(PAGE_SIZE).unwrap();
    s.write(P, loose, Width::W32, 0xabcd).unwrap();
    s.write(P, wired, Width::W32, 0x1234).unwrap();
    s.process_lock(wired, 0).unwrap();
    let wired_pa = extract(&mut s, wired).paddr;
    assert_eq!(s.reclaim(), 1);
    assert_eq!(extract(&mut s, loose).state, PageState::Valid);
    assert_eq!(extract(&mut s, wired).paddr, wired_pa);
    assert_eq!(s.read(P, loose, Width::W32).unwrap(), 0xabcd);
    assert_eq!(extract(&mut s, loose).state, PageState::Mapped);
    // Unlocked pages are reclaimable again.
    s.process_unlock(wired, 0).unwrap();
    assert_eq!(s.reclaim(), 2);
    assert_eq!(s.read(P, wired, Width::W32).unwrap(), 0x1234);
}

#[test]
fn locked_pages_are_all_mapped_to_distinct_frames() {
    let mut s = pc();
    let b = s.process_map(4 * PAGE_SIZE).unwrap();
    s.process_lock(b, 0).unwrap();
    let vas: Vec<u64> = (0..4).map(|i| b + i * PAGE_SIZE).collect();
    let mut out: Vec<MemExtract> = vas.iter().map(|&v| MemExtract::invalid(v)).collect();
    s.extract(&mut out).unwrap();
    let mut frames: Vec<u64> = out.iter().map(|e| e.paddr.unwrap()).collect();
    frames.sort();
    frames.dedup();
    assert_eq!(frames.len(), 4);
}

#[test]
fn freed_buffers_are_invalid_and_refuse_access() {
    let mut s = pc();
    let b = s.process_map(PAGE_SIZE).unwrap();
    s.process_lock(b, 0).unwrap();
    s.process_unmap(b, 0).unwrap();
    assert_eq!(extract(&mut s, b).state, PageState::Invalid);
    // The bindings' buffer table refuses these first; the backend's own
    // page-table walk finds nothing there either.
    assert_eq!(s.read(P, b, Width::W8).unwrap_err().errno, Errno::EFAULT);
    for e in [
        s.process_unmap(b, 0).unwrap_err(),
        s.process_lock(b, 0).unwrap_err(),
    ] {
        assert_eq!(e.errno, Errno::EINVAL);
    }
}

#[test]
fn alloc_larger_than_free_ram_is_enomem_and_changes_nothing() {
    let mut s = pc();
    let free = s.free_pages();
    let e = s.process_map((free + 1) * PAGE_SIZE).unwrap_err();
    assert_eq!(e.errno, Errno::ENOMEM);
    assert_eq!(s.free_pages(), free);
    assert_eq!(s.process_map(u64::MAX).unwrap_err().errno, Errno::ENOMEM);
    // All of it is fine, and then nothing more.
    let all = s.process_map(free * PAGE_SIZE).unwrap();
    assert_eq!(s.process_map(1).unwrap_err().errno, Errno::ENOMEM);
    s.process_unmap(all, 0).unwrap();
    assert!(s.process_map(1).is_ok());
}

#[test]
fn process_accesses_are_by_address_and_stay_in_buffers() {
    let mut s = pc();
    let b = s.process_map(100).unwrap();
    assert_eq!(
        s.read(P, b + 2, Width::W32).unwrap_err().errno,
        Errno::EINVAL
    );
    assert_eq!(
        s.write(P, b, Width::W16, 0x1_0000).unwrap_err().errno,
        Errno::EINVAL
    );
    assert_eq!(
        extract(&mut s, b).state,
        PageState::Valid,
        "a refused access touches nothing"
    );
    // Past the buffer's length (the guard page) is no buffer at all.
    let e = s.read(P, b + PAGE_SIZE, Width::W8).unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::EFAULT, "buffer.read8"));
    s.write_bytes(P, b + 90, b"0123456789").unwrap();
    let mut back = [0u8; 10];
    s.read_bytes(P, b + 90, &mut back).unwrap();
    assert_eq!(&back, b"0123456789");
}

#[test]
fn pages_outside_any_numa_domain_report_minus_one_and_non_numa_boards_zero() {
    let s = pc();
    assert_eq!(s.domain_of(0x1_0000_0000), 1);
    assert_eq!(s.domain_of(0x1000), 0);
    assert_eq!(s.domain_of(0xFE00_0000), -1);
    let arm = Sim::from_board_name("arm64-virt").unwrap();
    assert_eq!(arm.domain_of(0x4000_0000), 0);
}
