//! Physical space on the `pc` board: the bounds rules of docs/MEM4.md §2.3, the
//! board's layout, holes, ROM and devices, widths and alignment.

use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Errno, Space, Width};

fn pc() -> Sim {
    Sim::from_board_name("pc").expect("pc board builds")
}

fn errno<T: std::fmt::Debug>(r: memlua_runtime::Result<T>) -> Errno {
    r.expect_err("expected an error").errno
}

#[test]
fn untouched_ram_reads_zero_and_writes_read_back() {
    let mut s = pc();
    assert_eq!(s.read(Space::Phys, 0x100000, Width::W32).unwrap(), 0);
    s.write(Space::Phys, 0x100000, Width::W32, 0xdeadbeef)
        .unwrap();
    assert_eq!(
        s.read(Space::Phys, 0x100000, Width::W32).unwrap(),
        0xdeadbeef
    );
    assert_eq!(s.read(Space::Phys, 0x100001, Width::W8).unwrap(), 0xbe);
    s.write(Space::Phys, 0x2_7fff_fff8, Width::W64, u64::MAX)
        .unwrap();
    assert_eq!(
        s.read(Space::Phys, 0x2_7fff_fff8, Width::W64).unwrap(),
        u64::MAX
    );
}

#[test]
fn every_width_round_trips_in_ram() {
    let mut s = pc();
    for w in Width::ALL {
        let v = 0x8877_6655_4433_2211 & w.mask();
        s.write(Space::Phys, 0x200000, w, v).unwrap();
        assert_eq!(s.read(Space::Phys, 0x200000, w).unwrap(), v, "width {w}");
    }
}

#[test]
fn negative_values_store_their_low_bits() {
    let mut s = pc();
    s.write(Space::Phys, 0x1000, Width::W8, -1i64 as u64)
        .unwrap();
    assert_eq!(s.read(Space::Phys, 0x1000, Width::W8).unwrap(), 0xff);
    s.write(Space::Phys, 0x1000, Width::W16, -2i64 as u64)
        .unwrap();
    assert_eq!(s.read(Space::Phys, 0x1000, Width::W16).unwrap(), 0xfffe);
}

#[test]
fn value_wider_than_width_is_einval_and_writes_nothing() {
    let mut s = pc();
    s.write(Space::Phys, 0x1000, Width::W8, 0x5a).unwrap();
    let e = s.write(Space::Phys, 0x1000, Width::W8, 0x100).unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL);
    assert_eq!(e.op, "mem.write8");
    assert_eq!(s.read(Space::Phys, 0x1000, Width::W8).unwrap(), 0x5a);
    assert_eq!(
        errno(s.write(Space::Phys, 0x1000, Width::W32, 0x1_0000_0000)),
        Errno::EINVAL
    );
}

#[test]
fn unaligned_wide_access_is_einval() {
    let mut s = pc();
    for (w, a) in [
        (Width::W16, 0x1001),
        (Width::W32, 0x1002),
        (Width::W64, 0x1004),
    ] {
        let e = s.read(Space::Phys, a, w).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL, "{w}");
        assert_eq!(e.addr(), Some(a));
        assert_eq!(errno(s.write(Space::Phys, a, w, 0)), Errno::EINVAL);
    }
    assert_eq!(s.read(Space::Phys, 0x1001, Width::W8).unwrap(), 0);
}

#[test]
fn above_maxphyaddr_is_efault_never_einval() {
    let mut s = pc();
    let top = (1u64 << 39) - 1;
    // The last byte below the width is fine (a hole: all ones).
    assert_eq!(s.read(Space::Phys, top, Width::W8).unwrap(), 0xff);
    assert_eq!(s.read(Space::Phys, top - 7, Width::W64).unwrap(), u64::MAX);
    let e = s.read(Space::Phys, 1 << 39, Width::W8).unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert!(e.message.contains("39-bit"), "{e}");
    assert_eq!(
        errno(s.write(Space::Phys, 1 << 39, Width::W32, 0)),
        Errno::EFAULT
    );
    assert_eq!(
        errno(s.read(Space::Phys, u64::MAX - 7, Width::W64)),
        Errno::EFAULT
    );
}

#[test]
fn holes_read_ones_and_drop_writes_on_pc() {
    let mut s = pc();
    for a in [
        0xC8000u64,
        0xEFFFC,
        0x8000_0000,
        0xFDFF_FFFC,
        0x30_0000_0000,
    ] {
        assert_eq!(
            s.read(Space::Phys, a, Width::W32).unwrap(),
            0xffff_ffff,
            "{a:#x}"
        );
        s.write(Space::Phys, a, Width::W32, 0).unwrap();
        assert_eq!(s.read(Space::Phys, a, Width::W32).unwrap(), 0xffff_ffff);
    }
}

#[test]
fn holes_fault_on_boards_that_say_so() {
    let mut s = Sim::from_board_name("arm64-virt").unwrap();
    assert_eq!(
        errno(s.read(Space::Phys, 0x0800_0000, Width::W32)),
        Errno::EFAULT
    );
    assert_eq!(
        errno(s.write(Space::Phys, 0x0800_0000, Width::W32, 1)),
        Errno::EFAULT
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        errno(s.read_bytes(Space::Phys, 0x08ff_fff8, &mut buf)),
        Errno::EFAULT
    );
}

#[test]
fn bios_rom_holds_reset_vector_and_date_and_ignores_writes() {
    let mut s = pc();
    assert_eq!(s.read(Space::Phys, 0xFFFF0, Width::W8).unwrap(), 0xEA);
    let mut date = [0u8; 8];
    s.read_bytes(Space::Phys, 0xFFFF5, &mut date).unwrap();
    assert_eq!(&date, b"11/26/26");
    s.write(Space::Phys, 0xFFFF0, Width::W8, 0x90).unwrap();
    s.write_bytes(Space::Phys, 0xFFFF5, b"xxxxxxxx").unwrap();
    assert_eq!(s.read(Space::Phys, 0xFFFF0, Width::W8).unwrap(), 0xEA);
    let bios = s.regions().into_iter().find(|r| r.name == "bios").unwrap();
    assert_eq!(bios.ignored_writes, Some(2));
    assert_eq!(s.read(Space::Phys, 0xC0000, Width::W16).unwrap(), 0xAA55);
}

#[test]
fn device_width_not_declared_is_einval() {
    let mut s = pc();
    let e = s.read(Space::Phys, 0xFE00_0000, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL);
    assert!(e.message.contains("uart0"), "{e}");
    assert_eq!(
        errno(s.write(Space::Phys, 0xFE00_2000, Width::W8, 1)),
        Errno::EINVAL
    );
}

#[test]
fn uart_captures_what_is_sent() {
    let mut s = pc();
    assert_eq!(
        s.read(Space::Phys, 0xFE00_0005, Width::W8).unwrap() & 0x60,
        0x60
    );
    for b in b"hi" {
        s.write(Space::Phys, 0xFE00_0000, Width::W8, *b as u64)
            .unwrap();
    }
    assert_eq!(s.output("uart0").unwrap(), b"hi");
    assert_eq!(errno(s.output("nosuch")), Errno::ENOENT);
    assert_eq!(errno(s.output("timer0")), Errno::EINVAL);
}

#[test]
fn timer_counts_virtual_time() {
    let mut s = pc();
    assert_eq!(
        s.read(Space::Phys, 0xFE00_1008, Width::W32).unwrap(),
        10_000_000
    );
    let t0 = s.read(Space::Phys, 0xFE00_1000, Width::W64).unwrap();
    s.advance(1_000_000);
    let t1 = s.read(Space::Phys, 0xFE00_1000, Width::W64).unwrap();
    // 1 ms at 10 MHz, plus one clock step of 100 ns.
    assert_eq!(t1 - t0, 10_000 + 1);
    assert!(s.clock() >= 1_000_000);
}

#[test]
fn dma_copies_in_physical_space_and_reports_faults() {
    let mut s = pc();
    let dma = 0xFE00_2000u64;
    s.write_bytes(Space::Phys, 0x300000, b"pattern!").unwrap();
    s.write(Space::Phys, dma, Width::W64, 0x300000).unwrap();
    s.write(Space::Phys, dma + 8, Width::W64, 0x400000).unwrap();
    s.write(Space::Phys, dma + 0x10, Width::W32, 8).unwrap();
    s.write(Space::Phys, dma + 0x14, Width::W32, 1).unwrap();
    assert_eq!(s.read(Space::Phys, dma + 0x18, Width::W32).unwrap() & 3, 1);
    let mut back = [0u8; 8];
    s.read_bytes(Space::Phys, 0x400000, &mut back).unwrap();
    assert_eq!(&back, b"pattern!");
    // Clear done, then copy to above maxphyaddr: error, nothing copied.
    s.write(Space::Phys, dma + 0x18, Width::W32, 1).unwrap();
    s.write(Space::Phys, dma + 8, Width::W64, 1 << 39).unwrap();
    s.write(Space::Phys, dma + 0x14, Width::W32, 1).unwrap();
    assert_eq!(s.read(Space::Phys, dma + 0x18, Width::W32).unwrap() & 3, 2);
}

#[test]
fn scratch_and_framebuffer_take_every_width() {
    let mut s = pc();
    for w in Width::ALL {
        s.write(
            Space::Phys,
            0xFE00_3000,
            w,
            0x1122_3344_5566_7788 & w.mask(),
        )
        .unwrap();
        assert_eq!(
            s.read(Space::Phys, 0xFE00_3000, w).unwrap(),
            0x1122_3344_5566_7788 & w.mask()
        );
        s.write(Space::Phys, 0xA0000, w, 0x7766_5544_3322_1100 & w.mask())
            .unwrap();
        assert_eq!(
            s.read(Space::Phys, 0xA0000, w).unwrap(),
            0x7766_5544_3322_1100 & w.mask()
        );
    }
    let fill = vec![0x5au8; 0x20000];
    s.write_bytes(Space::Phys, 0xA0000, &fill).unwrap();
    let mut back = vec![0u8; 0x20000];
    s.read_bytes(Space::Phys, 0xA0000, &mut back).unwrap();
    assert_eq!(back, fill);
}

#[test]
fn bulk_crosses_regions_and_holes() {
    let mut s = pc();
    // Last bytes of low RAM, then the framebuffer.
    s.write_bytes(Space::Phys, 0x9FFFC, b"abcdefgh").unwrap();
    let mut back = [0u8; 8];
    s.read_bytes(Space::Phys, 0x9FFFC, &mut back).unwrap();
    assert_eq!(&back, b"abcdefgh");
    // RAM below 2 GiB into the hole above it.
    let mut b = [0u8; 8];
    s.read_bytes(Space::Phys, 0x7FFF_FFFC, &mut b).unwrap();
    assert_eq!(b, [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert!(s.read_bytes(Space::Phys, 0, &mut []).is_ok());
}

#[test]
fn failing_bulk_transfer_changes_nothing() {
    let mut s = pc();
    let top = 1u64 << 39;
    s.write(Space::Phys, 0x2_7fff_fff0, Width::W64, 0x1111)
        .unwrap();
    // Starts in RAM, runs into the hole and past maxphyaddr: EFAULT.
    let e = s.write_bytes(Space::Phys, top - 8, &[0u8; 16]).unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(e.done, Some(0));
    assert_eq!(e.op, "mem.write");
    // A bulk write through a device it cannot split is refused whole.
    let before = s.read(Space::Phys, 0x7FFF_FFF8, Width::W64).unwrap();
    let e = s
        .write_bytes(Space::Phys, 0xFE00_1FFE, &[1, 2, 3, 4])
        .unwrap_err();
    assert_eq!(e.errno, Errno::EINVAL, "{e}");
    assert_eq!(
        s.read(Space::Phys, 0x7FFF_FFF8, Width::W64).unwrap(),
        before
    );
}

#[test]
fn bulk_through_byte_registers_goes_register_by_register() {
    let mut s = pc();
    s.write_bytes(Space::Phys, 0xFE00_0000, b"Z").unwrap();
    assert_eq!(s.output("uart0").unwrap(), b"Z");
}

#[test]
fn errors_name_op_errno_and_address() {
    let mut s = pc();
    let e = s.read(Space::Phys, 1 << 40, Width::W32).unwrap_err();
    assert_eq!(e.op, "mem.read32");
    assert_eq!(e.addr(), Some(1 << 40));
    assert!(e.to_string().starts_with("mem.read32: EFAULT: "), "{e}");
}

#[test]
fn pc_board_is_sparse() {
    let mut s = pc();
    let resident: usize = s.regions().iter().filter_map(|r| r.resident_pages).sum();
    // The BIOS, the option ROM and the kernel's symbol page.
    assert!(resident <= 4, "{resident} pages resident after boot");
}

#[test]
fn bulk_write_running_into_a_faulting_hole_writes_nothing() {
    let mut s = Sim::from_board_name("arm64-virt").unwrap();
    let ram_end = 0x4000_0000u64 + 0x8000_0000;
    let e = s
        .write_bytes(Space::Phys, ram_end - 8, &[0xaa; 16])
        .unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(e.addr(), Some(ram_end));
    assert_eq!(s.read(Space::Phys, ram_end - 8, Width::W64).unwrap(), 0);
}

#[test]
fn bulk_past_the_top_names_the_first_missing_byte() {
    let mut s = pc();
    let mut buf = [0u8; 32];
    let e = s
        .read_bytes(Space::Phys, (1 << 39) - 16, &mut buf)
        .unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert_eq!(e.addr(), Some(1 << 39));
    assert_eq!(e.done, Some(0));
}

#[test]
fn a_dma_of_untouched_ram_leaves_the_destination_sparse() {
    // 256 MiB from never-written RAM: the copy reads zeros, writes zeros
    // into pages that hold none, and allocates nothing.
    let mut s = Sim::from_board_name("pc").unwrap();
    let resident =
        |s: &mut Sim| -> usize { s.regions().iter().filter_map(|r| r.resident_pages).sum() };
    let before = resident(&mut s);
    let dma = 0xFE002000u64;
    s.write(Space::Phys, dma, Width::W64, 0x1_0000_0000)
        .unwrap(); // SRC
    s.write(Space::Phys, dma + 0x08, Width::W64, 0x1_8000_0000)
        .unwrap(); // DST
    s.write(Space::Phys, dma + 0x10, Width::W32, 0x4000_0000)
        .unwrap(); // LEN
    s.write(Space::Phys, dma + 0x14, Width::W32, 1).unwrap(); // CTRL: start
    assert_eq!(resident(&mut s), before);
}
