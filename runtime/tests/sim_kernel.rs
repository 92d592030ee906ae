//! Kernel virtual memory on the `pc` board: the direct map, the kernel
//! image at KERNBASE and the symbol table (docs/MEM4.md §2.3, §6).

use memlua_runtime::sim::kernel::{DMAP_MIN, KERNBASE};
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno, Space, Width};

fn pc() -> Sim {
    Sim::from_board_name("pc").unwrap()
}

fn read_cstr(s: &mut Sim, addr: u64) -> String {
    let mut buf = [0u8; 128];
    s.read_bytes(Space::Kernel, addr, &mut buf).unwrap();
    let end = buf.iter().position(|&b| b == 0).unwrap();
    String::from_utf8(buf[..end].to_vec()).unwrap()
}

#[test]
fn symbols_hold_their_values() {
    let mut s = pc();
    assert_eq!(s.symbol("kernbase").unwrap(), KERNBASE);
    let hz = s.symbol("hz").unwrap();
    assert_eq!(s.read(Space::Kernel, hz, Width::W32).unwrap(), 1000);
    let physmem = s.symbol("physmem").unwrap();
    let ram = 0xA0000u64 + 0x7FF0_0000 + 0x1_8000_0000;
    assert_eq!(
        s.read(Space::Kernel, physmem, Width::W64).unwrap(),
        ram / 4096
    );
    let version = s.symbol("version").unwrap();
    assert!(read_cstr(&mut s, version).starts_with("FreeBSD"));
    assert_eq!(s.symbol("_hz").unwrap(), hz);
}

#[test]
fn unknown_symbol_is_enoent() {
    let e = pc().symbol("no_such_symbol").unwrap_err();
    assert_eq!(e.errno, Errno::ENOENT);
    assert_eq!(e.op, "kmem.symbol");
}

#[test]
fn direct_map_reaches_physical_memory() {
    let mut s = pc();
    s.write(Space::Phys, 0x2_0000_0000, Width::W32, 0xcafe)
        .unwrap();
    assert_eq!(
        s.read(Space::Kernel, DMAP_MIN + 0x2_0000_0000, Width::W32)
            .unwrap(),
        0xcafe
    );
    s.write(Space::Kernel, DMAP_MIN + 0x1000, Width::W16, 0xbeef)
        .unwrap();
    assert_eq!(s.read(Space::Phys, 0x1000, Width::W16).unwrap(), 0xbeef);
    // The BIOS through the direct map.
    assert_eq!(
        s.read(Space::Kernel, DMAP_MIN + 0xFFFF0, Width::W8)
            .unwrap(),
        0xEA
    );
}

#[test]
fn direct_map_ends_at_top_of_ram_rounded_to_a_gib() {
    let mut s = pc();
    let limit = 10u64 << 30;
    assert_eq!(s.kernel().dmap_limit(), limit);
    assert_eq!(
        s.read(Space::Kernel, DMAP_MIN + limit - 4, Width::W32)
            .unwrap(),
        0
    );
    let e = s
        .read(Space::Kernel, DMAP_MIN + limit, Width::W32)
        .unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(e.op, "kmem.read32");
    assert_eq!(e.addr(), Some(DMAP_MIN + limit));
}

#[test]
fn kernel_image_maps_kernbase_onto_physical_memory() {
    let mut s = pc();
    s.write(Space::Kernel, KERNBASE + 0x10_0000, Width::W64, 0x1234)
        .unwrap();
    assert_eq!(s.read(Space::Phys, 0x10_0000, Width::W64).unwrap(), 0x1234);
}

#[test]
fn kernbase_itself_maps_physical_zero_which_kmem_cannot_reach() {
    let mut s = pc();
    let e = s.read(Space::Kernel, KERNBASE, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(s.read(Space::Kernel, KERNBASE + 4, Width::W32).unwrap(), 0);
}

#[test]
fn unmapped_kernel_addresses_are_efault() {
    let mut s = pc();
    for va in [
        0u64,
        0x8_0000_0000,
        DMAP_MIN - 8,
        KERNBASE - 8,
        KERNBASE + 0x200_0000,
        u64::MAX - 7,
    ] {
        let e = s.read(Space::Kernel, va, Width::W64).unwrap_err();
        assert_eq!(e.errno, Errno::EFAULT, "{va:#x}");
        assert_eq!(
            s.write(Space::Kernel, va, Width::W64, 0).unwrap_err().errno,
            Errno::EFAULT
        );
    }
}

#[test]
fn bulk_kernel_read_failing_on_a_later_page_changes_nothing() {
    let mut s = pc();
    let end = KERNBASE + 0x200_0000;
    s.write(Space::Kernel, end - 8, Width::W64, 0x77).unwrap();
    let e = s
        .write_bytes(Space::Kernel, end - 8, &[0u8; 16])
        .unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(e.addr(), Some(end));
    assert_eq!(e.done, Some(0));
    assert_eq!(e.op, "kmem.write");
    assert_eq!(s.read(Space::Kernel, end - 8, Width::W64).unwrap(), 0x77);
    let mut buf = [0u8; 4];
    // A transfer that wraps the top of the address space.
    assert_eq!(
        s.read_bytes(Space::Kernel, u64::MAX - 1, &mut buf)
            .unwrap_err()
            .errno,
        Errno::EFAULT
    );
}

#[test]
fn bulk_kernel_read_spans_pages() {
    let mut s = pc();
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    s.write_bytes(Space::Kernel, DMAP_MIN + 0x50_0ff0, &data)
        .unwrap();
    let mut back = vec![0u8; data.len()];
    s.read_bytes(Space::Kernel, KERNBASE + 0x50_0ff0, &mut back)
        .unwrap();
    assert_eq!(back, data);
}

#[test]
fn arm64_kernel_lives_in_its_ram() {
    let mut s = Sim::from_board_name("arm64-virt").unwrap();
    let hz = s.symbol("hz").unwrap();
    assert_eq!(s.read(Space::Kernel, hz, Width::W32).unwrap(), 1000);
    // KERNBASE maps RAM at 1 GiB, so it is readable here.
    assert_eq!(s.read(Space::Kernel, KERNBASE, Width::W32).unwrap(), 0);
}
