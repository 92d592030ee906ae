//! Kernel memory through `--kmem` on a synthetic ELF core (as /proc/kcore
//! is one), kernel symbols, and memory ranges on this machine.

use memlua_runtime::native::{Native, Options};
use memlua_runtime::{Backend, Errno, MdfFlags, MemRangeDesc, RangeOp, Space, Width};

const TEXT: u64 = 0xffff_ffff_8100_0000;
const DMAP: u64 = 0xffff_8880_0000_0000;

/// An ELF64 core with two PT_LOADs: TEXT (one page, at file offset
/// 0x2000) and DMAP (two pages, at 0x3000), each page filled with a
/// pattern naming it.
fn core() -> Vec<u8> {
    let mut f = vec![0u8; 0x5000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1;
    f[16] = 4; // ET_CORE
    f[18] = 62; // x86-64
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&3u16.to_le_bytes());
    let mut ph = |i: usize, ty: u32, off: u64, va: u64, len: u64| {
        let h = 64 + i * 56;
        f[h..h + 4].copy_from_slice(&ty.to_le_bytes());
        f[h + 8..h + 16].copy_from_slice(&off.to_le_bytes());
        f[h + 16..h + 24].copy_from_slice(&va.to_le_bytes());
        f[h + 32..h + 40].copy_from_slice(&len.to_le_bytes());
        f[h + 40..h + 48].copy_from_slice(&len.to_le_bytes());
    };
    ph(0, 4, 0x400, 0, 0x10); // PT_NOTE
    ph(1, 1, 0x2000, TEXT, 0x1000);
    ph(2, 1, 0x3000, DMAP, 0x2000);
    for (i, b) in f[0x2000..0x5000].iter_mut().enumerate() {
        *b = (i / 0x1000) as u8 * 0x10 + (i % 7) as u8;
    }
    f
}

fn with_core(test: impl FnOnce(&mut Native)) {
    // Tests run in parallel: each needs a core file of its own.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("memlua-kcore-{}-{n}", std::process::id()));
    std::fs::write(&path, core()).unwrap();
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kmem: Some(path.clone()),
        write: true,
        ..Default::default()
    })
    .unwrap();
    assert!(n.kmem_is_core());
    test(&mut n);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn mapped_kernel_addresses_read_from_their_segment() {
    let f = core();
    let le = |off: usize, n: usize| {
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(&f[off..off + n]);
        u64::from_le_bytes(b)
    };
    with_core(|n| {
        assert_eq!(
            n.read(Space::Kernel, TEXT, Width::W8).unwrap(),
            le(0x2000, 1)
        );
        assert_eq!(
            n.read(Space::Kernel, TEXT + 1, Width::W8).unwrap(),
            le(0x2001, 1)
        );
        assert_eq!(
            n.read(Space::Kernel, TEXT + 8, Width::W32).unwrap(),
            le(0x2008, 4)
        );
        assert_eq!(
            n.read(Space::Kernel, TEXT + 0xff8, Width::W64).unwrap(),
            le(0x2ff8, 8)
        );
        // The DMAP segment's second page is the file's 0x4000.
        assert_eq!(
            n.read(Space::Kernel, DMAP + 0x1000, Width::W16).unwrap(),
            le(0x4000, 2)
        );
        let mut buf = [0u8; 8];
        n.read_bytes(Space::Kernel, DMAP + 0xffc, &mut buf).unwrap();
        assert_eq!(&buf[..], &f[0x3ffc..0x4004]);
    });
}

#[test]
fn unmapped_kernel_addresses_are_efault() {
    with_core(|n| {
        for addr in [TEXT + 0x1000, TEXT - 8, DMAP + 0x2000, 0, 0x1000] {
            let e = n.read(Space::Kernel, addr, Width::W64).unwrap_err();
            assert_eq!(
                (e.errno, e.op.as_str(), e.addr()),
                (Errno::EFAULT, "kmem.read64", Some(addr))
            );
        }
        // A bulk read running off the end of a segment: EFAULT with done.
        let mut buf = [0u8; 32];
        let e = n
            .read_bytes(Space::Kernel, TEXT + 0x1000 - 16, &mut buf)
            .unwrap_err();
        assert_eq!(
            (e.errno, e.op.as_str(), e.done),
            (Errno::EFAULT, "kmem.read", Some(16))
        );
        assert_eq!(e.addr(), Some(TEXT + 0x1000));
        assert_eq!(
            n.read(Space::Kernel, TEXT + 2, Width::W32)
                .unwrap_err()
                .errno,
            Errno::EINVAL
        );
        // A single access is not a bulk transfer: no byte count, and the
        // text is docs/API.md's `op: ERRNO: message (addr=...)` exactly.
        let e = n
            .read(Space::Kernel, TEXT + 0x1000, Width::W64)
            .unwrap_err();
        assert_eq!(e.done, None);
        assert!(
            e.to_string()
                .ends_with(&format!("(addr={:#x})", TEXT + 0x1000)),
            "{e}"
        );
        // A bulk failure that moved bytes says so in its message.
        let e = n
            .read_bytes(Space::Kernel, TEXT + 0x1000 - 16, &mut buf)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("; 16 bytes were transferred before the failure ("),
            "{e}"
        );
    });
}

#[test]
fn without_write_kernel_writes_are_erofs_before_any_device_is_opened() {
    // The default device: /dev/kmem, else /proc/kcore, else none at all
    // (this build machine has neither). EROFS either way, never ENOENT.
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kmem: None,
        write: false,
        ..Default::default()
    })
    .unwrap();
    let e = n.write(Space::Kernel, TEXT, Width::W8, 1).unwrap_err();
    assert_eq!(
        (e.errno, e.op.as_str(), e.done),
        (Errno::EROFS, "kmem.write8", None)
    );
    let e = n.write_bytes(Space::Kernel, TEXT, b"x").unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::EROFS, "kmem.write"));
}

#[test]
fn a_core_is_read_only_even_with_write() {
    with_core(|n| {
        let e = n.write(Space::Kernel, TEXT, Width::W32, 1).unwrap_err();
        assert_eq!(
            (e.errno, e.op.as_str(), e.done),
            (Errno::EROFS, "kmem.write32", None)
        );
        let e = n.write_bytes(Space::Kernel, TEXT, b"abc").unwrap_err();
        assert_eq!(
            (e.errno, e.op.as_str(), e.done),
            (Errno::EROFS, "kmem.write", Some(0))
        );
        assert_eq!(
            n.read(Space::Kernel, TEXT, Width::W8).unwrap(),
            0,
            "unchanged"
        );
        assert!(n.map_direct(Space::Kernel, TEXT, 8).is_none());
    });
}

#[test]
fn symbols_from_a_kallsyms_file() {
    let path = std::env::temp_dir().join(format!("memlua-kallsyms-t-{}", std::process::id()));
    std::fs::write(
        &path,
        format!("{TEXT:016x} T _stext\n{DMAP:016x} D page_offset_base\n"),
    )
    .unwrap();
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kallsyms: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(n.symbol("_stext").unwrap(), TEXT);
    assert_eq!(n.symbol("page_offset_base").unwrap(), DMAP);
    let e = n.symbol("no_such_symbol").unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::ENOENT, "kmem.symbol"));
    std::fs::write(&path, "0000000000000000 T _stext\n").unwrap();
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kallsyms: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(n.symbol("_stext").unwrap_err().errno, Errno::EACCES);
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[cfg(target_os = "linux")]
fn memory_ranges_on_this_machine() {
    let text = std::fs::read_to_string("/proc/mtrr").ok();
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        ..Default::default()
    })
    .unwrap();
    match text.as_deref() {
        Some("") | None => {
            // /proc/mtrr present but empty (or absent): no descriptors.
            let e = n.range_count().unwrap_err();
            assert_eq!((e.errno, e.op.as_str()), (Errno::ENXIO, "memrange.count"));
            assert_eq!(n.ranges().unwrap_err().errno, Errno::ENXIO);
            let d = MemRangeDesc::new(0xd000_0000, 0x1000_0000, MdfFlags::WRITECOMBINE, "t");
            let e = n.range_set(&d, RangeOp::Update).unwrap_err();
            assert_eq!((e.errno, e.op.as_str()), (Errno::ENXIO, "memrange.set"));
        }
        Some(_) => {
            let ranges = n.ranges().unwrap();
            assert_eq!(n.range_count().unwrap(), ranges.len());
            // Read-only without -w.
            let d = MemRangeDesc::new(0xd000_0000, 0x1000_0000, MdfFlags::WRITECOMBINE, "t");
            assert_eq!(
                n.range_set(&d, RangeOp::Update).unwrap_err().errno,
                Errno::EROFS
            );
        }
    }
}

#[test]
fn nested_segments_and_non_core_elf_files() {
    // arm64's /proc/kcore: the kernel text's PT_LOAD lies inside the
    // vmalloc one. An address in the inner one past the outer's nearest
    // start must still be found.
    let mut f = core();
    let h = 64 + 3 * 56; // a fourth program header: inside TEXT's page
    f.resize(0x5000, 0);
    f[56..58].copy_from_slice(&4u16.to_le_bytes());
    let mut ph = |ty: u32, off: u64, va: u64, len: u64| {
        f[h..h + 4].copy_from_slice(&ty.to_le_bytes());
        f[h + 8..h + 16].copy_from_slice(&off.to_le_bytes());
        f[h + 16..h + 24].copy_from_slice(&va.to_le_bytes());
        f[h + 32..h + 40].copy_from_slice(&len.to_le_bytes());
        f[h + 40..h + 48].copy_from_slice(&len.to_le_bytes());
    };
    ph(1, 0x3000, TEXT + 0x100, 0x10);
    let path = std::env::temp_dir().join(format!("memlua-nested-{}", std::process::id()));
    std::fs::write(&path, &f).unwrap();
    let mut n = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kmem: Some(path.clone()),
        ..Default::default()
    })
    .unwrap();
    // Past the inner segment, inside the outer: the outer's bytes.
    assert_eq!(
        n.read(Space::Kernel, TEXT + 0x900, Width::W8).unwrap(),
        u64::from(f[0x2900])
    );
    // Inside the inner segment: the nearest start wins.
    assert_eq!(
        n.read(Space::Kernel, TEXT + 0x100, Width::W8).unwrap(),
        u64::from(f[0x3000])
    );
    // An ELF file that is not a core is refused at open.
    f[16] = 2; // ET_EXEC
    std::fs::write(&path, &f).unwrap();
    let e = Native::open(&Options {
        mem: Some("/dev/null".into()),
        kmem: Some(path.clone()),
        ..Default::default()
    })
    .err()
    .expect("not a core");
    assert!(e.message.contains("not a core"), "{e}");
    std::fs::remove_file(&path).unwrap();
}
