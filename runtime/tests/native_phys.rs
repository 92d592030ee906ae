//! The native backend's physical memory over a 64 MiB file on tmpfs
//! (`--mem FILE`): every width, windows, bulk transfers, unaligned and
//! out-of-range accesses, read-only refusal, and a tearing test proving a
//! 32-bit read is one 32-bit load.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use memlua_runtime::native::{Native, Options};
use memlua_runtime::{Backend, Errno, Space, Width};

#[path = "support/skip.rs"]
mod skip;

const SIZE: u64 = 64 << 20;

/// A 64 MiB file on tmpfs, removed when dropped; None (the test skipped,
/// saying why) where there is no tmpfs.
struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str) -> Option<Fixture> {
        let dir = PathBuf::from("/dev/shm");
        if !dir.is_dir() {
            skip::skip("no tmpfs at /dev/shm");
            return None;
        }
        // A tmpfs that cannot hold the file is a failure, not a skip.
        let p = dir.join(format!("memlua-{name}-{}", std::process::id()));
        let f = std::fs::File::create(&p).expect("a file on /dev/shm");
        f.set_len(SIZE).expect("64 MiB on /dev/shm");
        Some(Fixture(p))
    }

    fn path(&self) -> PathBuf {
        self.0.clone()
    }

    fn open(&self, write: bool) -> Native {
        Native::open(&Options {
            mem: Some(self.path()),
            write,
            ..Default::default()
        })
        .expect("the fixture opens")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn every_width_reads_what_was_written() {
    let Some(f) = Fixture::new("widths") else {
        return;
    };
    let mut n = f.open(true);
    assert_eq!(n.name(), "native");
    assert!(n.writable());
    n.write(Space::Phys, 0x2000, Width::W64, 0x1122334455667788)
        .unwrap();
    assert_eq!(
        n.read(Space::Phys, 0x2000, Width::W64).unwrap(),
        0x1122334455667788
    );
    assert_eq!(n.read(Space::Phys, 0x2000, Width::W32).unwrap(), 0x55667788);
    assert_eq!(n.read(Space::Phys, 0x2004, Width::W32).unwrap(), 0x11223344);
    assert_eq!(n.read(Space::Phys, 0x2002, Width::W16).unwrap(), 0x5566);
    assert_eq!(n.read(Space::Phys, 0x2007, Width::W8).unwrap(), 0x11);
    n.write(Space::Phys, 0x3001, Width::W8, -1i64 as u64)
        .unwrap();
    assert_eq!(n.read(Space::Phys, 0x3001, Width::W8).unwrap(), 0xff);
    n.write(Space::Phys, 0x3002, Width::W16, 0xbeef).unwrap();
    // Far apart: several windows of the cache, the last byte of the file.
    for addr in [0u64, 0x10_0000, 0x200_0000, SIZE - 8] {
        n.write(Space::Phys, addr, Width::W64, addr ^ 0xa5a5)
            .unwrap();
    }
    for addr in [0u64, 0x10_0000, 0x200_0000, SIZE - 8] {
        assert_eq!(
            n.read(Space::Phys, addr, Width::W64).unwrap(),
            addr ^ 0xa5a5
        );
    }
    // The writes reached the file itself.
    let bytes = std::fs::read(&f.0).unwrap();
    assert_eq!(&bytes[0x2000..0x2008], &0x1122334455667788u64.to_le_bytes());
    assert_eq!(bytes[0x3001], 0xff);
    assert_eq!(&bytes[0x3002..0x3004], &[0xef, 0xbe]);
}

#[test]
fn unaligned_too_wide_and_out_of_range_are_refused() {
    let Some(f) = Fixture::new("range") else {
        return;
    };
    let mut n = f.open(true);
    let e = n.read(Space::Phys, 0x1002, Width::W32).unwrap_err();
    assert_eq!(
        (e.errno, e.op.as_str(), e.addr()),
        (Errno::EINVAL, "mem.read32", Some(0x1002))
    );
    assert_eq!(
        n.write(Space::Phys, 0x1001, Width::W16, 0)
            .unwrap_err()
            .errno,
        Errno::EINVAL
    );
    let e = n.write(Space::Phys, 0x1000, Width::W8, 0x100).unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::EINVAL, "mem.write8"));
    // Past the end: EFAULT, never SIGBUS, for single and bulk accesses.
    for addr in [SIZE, SIZE - 4 + 8, 1 << 40, u64::MAX - 7] {
        let e = n.read(Space::Phys, addr & !7, Width::W64).unwrap_err();
        assert_eq!(e.errno, Errno::EFAULT, "{addr:#x}: {e}");
        assert!(e.message.contains("past the end"), "{e}");
    }
    let e = n.write(Space::Phys, SIZE, Width::W32, 1).unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::EFAULT, "mem.write32"));
    let mut buf = [0u8; 16];
    let e = n.read_bytes(Space::Phys, SIZE - 8, &mut buf).unwrap_err();
    assert_eq!(
        (e.errno, e.op.as_str(), e.done),
        (Errno::EFAULT, "mem.read", Some(0))
    );
    assert_eq!(buf, [0; 16], "nothing was read");
    n.write_bytes(Space::Phys, SIZE - 8, &[7; 8]).unwrap();
    let e = n.write_bytes(Space::Phys, SIZE - 8, &[9; 16]).unwrap_err();
    assert_eq!((e.errno, e.done), (Errno::EFAULT, Some(0)));
    assert_eq!(
        n.read(Space::Phys, SIZE - 8, Width::W64).unwrap(),
        0x0707070707070707,
        "unchanged"
    );
    // A file that grows is seen to grow.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&f.0)
        .unwrap()
        .set_len(SIZE + 4096)
        .unwrap();
    assert_eq!(n.read(Space::Phys, SIZE, Width::W32).unwrap(), 0);
}

#[test]
fn bulk_transfers_any_alignment() {
    let Some(f) = Fixture::new("bulk") else {
        return;
    };
    let mut n = f.open(true);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + 3) as u8).collect();
    n.write_bytes(Space::Phys, 0x12345, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    n.read_bytes(Space::Phys, 0x12345, &mut back).unwrap();
    assert_eq!(back, data);
    // Single accesses see what bulk wrote (the mmap and pread agree).
    assert_eq!(n.read(Space::Phys, 0x12345, Width::W8).unwrap(), 3);
    let w = n.read(Space::Phys, 0x12348, Width::W32).unwrap();
    assert_eq!(w.to_le_bytes()[..4], data[3..7]);
    n.read_bytes(Space::Phys, 5, &mut []).unwrap();
    // The whole file in one read.
    let mut all = vec![0u8; SIZE as usize];
    n.read_bytes(Space::Phys, 0, &mut all).unwrap();
    assert_eq!(&all[0x12345..0x12345 + data.len()], &data[..]);
}

#[test]
fn read_only_refuses_every_write_before_touching_anything() {
    let Some(f) = Fixture::new("ro") else { return };
    f.open(true)
        .write(Space::Phys, 0x40, Width::W32, 0x600d)
        .unwrap();
    let mut n = f.open(false);
    assert!(!n.writable());
    for w in Width::ALL {
        let e = n.write(Space::Phys, 0x40, w, 0).unwrap_err();
        assert_eq!(e.errno, Errno::EROFS, "{e}");
        assert!(e.message.contains("-w"), "says how to allow writes: {e}");
    }
    let e = n.write_bytes(Space::Phys, 0x40, b"x").unwrap_err();
    assert_eq!(
        (e.errno, e.op.as_str(), e.done),
        (Errno::EROFS, "mem.write", Some(0))
    );
    assert_eq!(
        n.write_bytes(Space::Phys, 0x40, b"").unwrap_err().errno,
        Errno::EROFS
    );
    // Refused before the range check too: EROFS even past the end.
    assert_eq!(
        n.write(Space::Phys, SIZE, Width::W32, 0).unwrap_err().errno,
        Errno::EROFS
    );
    assert_eq!(n.read(Space::Phys, 0x40, Width::W32).unwrap(), 0x600d);
    // A direct window of a read-only session cannot be written through.
    let d = n
        .map_direct(Space::Phys, 0x40, 16)
        .expect("a direct mapping");
    assert!(!d.writable);
    // A window past the end gets no direct mapping.
    assert!(n.map_direct(Space::Phys, SIZE - 8, 16).is_none());
    assert!(n.map_direct(Space::Kernel, 0, 16).is_none());
}

#[test]
fn a_named_file_that_is_missing_fails_at_open() {
    let e = Native::open(&Options {
        mem: Some("/nonexistent/mem".into()),
        ..Default::default()
    })
    .err()
    .expect("a named file that is missing fails at open");
    assert_eq!(e.errno, Errno::ENOENT);
}

#[test]
fn without_mem_a_missing_dev_mem_fails_each_access_not_the_session() {
    if std::path::Path::new("/dev/mem").exists() {
        skip::skip("this machine has /dev/mem");
        return;
    }
    let mut n = Native::open(&Options::default()).unwrap();
    let e = n.read(Space::Phys, 0, Width::W32).unwrap_err();
    assert_eq!((e.errno, e.op.as_str()), (Errno::ENOENT, "mem.read32"));
    assert!(n.process_map(4096).is_ok(), "buffers still work");
}

#[test]
fn a_read32_is_one_32_bit_load() {
    let Some(f) = Fixture::new("tearing") else {
        return;
    };
    const AT: u64 = 0x5000;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path) = (stop.clone(), f.path());
        std::thread::spawn(move || {
            // Its own backend and mapping of the same shared page.
            let mut w = Native::open(&Options {
                mem: Some(path),
                write: true,
                ..Default::default()
            })
            .unwrap();
            let mut stores = 0u64;
            while !stop.load(Ordering::Relaxed) {
                w.write(Space::Phys, AT, Width::W32, 0).unwrap();
                w.write(Space::Phys, AT, Width::W32, 0xffff_ffff).unwrap();
                stores += 2;
            }
            stores
        })
    };
    let mut n = f.open(false);
    let (mut zeros, mut ones) = (0u32, 0u32);
    for _ in 0..1_000_000 {
        match n.read(Space::Phys, AT, Width::W32).unwrap() {
            0 => zeros += 1,
            0xffff_ffff => ones += 1,
            v => panic!("a torn read: {v:#x}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let stores = writer.join().unwrap();
    assert!(stores > 0);
    println!("1000000 reads: {zeros} zeros, {ones} ones, {stores} stores by the other thread");
}

#[test]
fn the_end_of_a_file_that_ends_mid_page_holds_after_the_page_was_mapped() {
    // 0x24c bytes: the last page is partly file, partly nothing. Touching
    // byte 0 maps that page; what lies past the end must stay EFAULT.
    let p = std::env::temp_dir().join(format!("memlua-midpage-{}", std::process::id()));
    std::fs::write(&p, vec![0xa5u8; 0x24c]).unwrap();
    let mut n = Native::open(&Options {
        mem: Some(p.clone()),
        write: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(n.read(Space::Phys, 0, Width::W16).unwrap(), 0xa5a5);
    assert_eq!(n.read(Space::Phys, 0x248, Width::W32).unwrap(), 0xa5a5_a5a5);
    for (addr, w) in [
        (0x250, Width::W16),
        (0x24c, Width::W32),
        (0x248, Width::W64),
    ] {
        let e = n.read(Space::Phys, addr, w).unwrap_err();
        assert_eq!(e.errno, Errno::EFAULT, "read at {addr:#x}: {e}");
        let e = n.write(Space::Phys, addr, w, 1).unwrap_err();
        assert_eq!(e.errno, Errno::EFAULT, "write at {addr:#x}: {e}");
    }
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        0x24c,
        "nothing written past the end"
    );
    std::fs::remove_file(&p).unwrap();
}

#[test]
fn a_path_swapped_for_a_fifo_while_opening_never_hangs() {
    // Another program flips the path between a file and a FIFO as fast as
    // it can; a look at the path followed by an open of it would, now and
    // then, open the FIFO and wait forever for a writer.
    let dir = std::env::temp_dir().join(format!("memlua-fifo-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, fifo, link) = (dir.join("file"), dir.join("fifo"), dir.join("mem"));
    std::fs::write(&file, vec![0u8; 4096]).unwrap();
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, dir, link) = (stop.clone(), dir.clone(), link.clone());
        std::thread::spawn(move || {
            let tmp = dir.join("tmp");
            let mut flips = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let to = if flips.is_multiple_of(2) {
                    "file"
                } else {
                    "fifo"
                };
                let _ = std::fs::remove_file(&tmp);
                std::os::unix::fs::symlink(to, &tmp).unwrap();
                std::fs::rename(&tmp, &link).unwrap();
                flips += 1;
            }
        })
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let opener = link.clone();
    std::thread::spawn(move || {
        let (mut files, mut fifos) = (0, 0);
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(2) {
            match Native::open(&Options {
                mem: Some(opener.clone()),
                ..Default::default()
            }) {
                Ok(_) => files += 1,
                Err(e) if e.errno == Errno::EINVAL && e.message.contains("a FIFO") => fifos += 1,
                // The link mid-swap.
                Err(e) if e.errno == Errno::ENOENT => {}
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        let _ = tx.send((files, fifos));
    });
    let outcome = rx.recv_timeout(std::time::Duration::from_secs(30));
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (files, fifos) = outcome.expect("an open hung on the FIFO swapped in");
    println!("{files} opens of the file, {fifos} of the FIFO refused");
}

/// A file of `len` bytes of `byte` in the temp folder, for one test.
fn filled(name: &str, len: usize, byte: u8) -> PathBuf {
    let p = std::env::temp_dir().join(format!("memlua-{name}-{}", std::process::id()));
    std::fs::write(&p, vec![byte; len]).unwrap();
    p
}

#[test]
fn a_file_shrunk_under_its_mappings_faults_the_access_not_the_process() {
    use memlua_runtime::direct::{self, Fault, FaultKind};
    let p = filled("shrunk", 4 << 20, 0x5a);
    let mut n = Native::open(&Options {
        mem: Some(p.clone()),
        write: true,
        ..Default::default()
    })
    .unwrap();
    // Live before the file shrinks: a cached window of single accesses,
    // a window's direct mapping, and one for a bulk copy.
    assert_eq!(
        n.read(Space::Phys, 0x10_0000, Width::W32).unwrap(),
        0x5a5a_5a5a
    );
    let win = n.map_direct(Space::Phys, 0, 2 << 20).unwrap();
    let bulk = n.map_direct(Space::Phys, 2 << 20, 1 << 20).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(4096)
        .unwrap();

    // Single accesses: an error for the access, then the next ones map
    // afresh and see the new end; the first page is still there.
    for write in [false, true] {
        let e = if write {
            n.write(Space::Phys, 0x10_0000, Width::W32, 1).unwrap_err()
        } else {
            n.read(Space::Phys, 0x10_0000, Width::W32).unwrap_err()
        };
        assert_eq!(e.errno, Errno::EFAULT, "{e}");
        assert!(e.to_string().contains("0x100000"), "{e}");
    }
    assert_eq!(n.read(Space::Phys, 0, Width::W32).unwrap(), 0x5a5a_5a5a);
    n.write(Space::Phys, 0, Width::W8, 0x11).unwrap();
    assert_eq!(n.read(Space::Phys, 0, Width::W8).unwrap(), 0x11);
    assert!(n.map_direct(Space::Phys, 0, 2 << 20).is_none());

    // A window's own loads and stores: the fault, then the poison on every
    // later access through that mapping, never zeros served silently.
    // SAFETY: inside the live mapping `win` holds, aligned.
    let at = |off: usize| unsafe { win.ptr.add(off) };
    let fault = |addr, earlier| Fault {
        addr,
        kind: FaultKind::File,
        earlier,
    };
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            direct::load_checked(at(0x10_0000), Width::W32),
            Err(fault(0x10_0000, false))
        );
        for _ in 0..3 {
            assert_eq!(
                direct::load_checked(at(0x10_0000), Width::W64),
                Err(fault(0x10_0000, true))
            );
        }
        assert_eq!(
            direct::store_checked(at(0x10_0008), Width::W16, 7),
            Err(fault(0x10_0008, true))
        );
        assert_eq!(
            direct::load_checked(at(0x40), Width::W8),
            Err(fault(0x40, true))
        );
    }
    // A bulk copy out of a mapping.
    // SAFETY: `bulk` maps 1 MiB and is alive.
    let src = unsafe { std::slice::from_raw_parts(bulk.ptr, 1 << 20) };
    assert_eq!(
        direct::guarded(bulk.ptr, 1 << 20, || src.to_vec()).map(|v| v.len()),
        Err(fault(2 << 20, false))
    );
    drop((win, bulk));
    // And the backend is still whole.
    assert_eq!(n.read(Space::Phys, 0, Width::W8).unwrap(), 0x11);
    std::fs::remove_file(&p).unwrap();
}

/// Runs test `name` of this file again in a child process with
/// MEMLUA_GUARD_CHILD set, and returns how the child ended.
fn in_child(name: &str) -> std::process::ExitStatus {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("MEMLUA_GUARD_CHILD", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
}

#[test]
fn faults_outside_memlua_mappings_still_kill_as_before() {
    use std::os::unix::process::ExitStatusExt;
    const NAME: &str = "faults_outside_memlua_mappings_still_kill_as_before";
    if std::env::var_os("MEMLUA_GUARD_CHILD").is_some() {
        let which = std::env::var("MEMLUA_GUARD_SIGNAL").unwrap_or_default();
        if which != "segv" {
            // As in the memlua program, which has no Rust runtime handler:
            // the guard then finds the default action to fall back on.
            for sig in [libc::SIGBUS, libc::SIGSEGV] {
                // SAFETY: restoring a default disposition.
                unsafe { libc::signal(sig, libc::SIG_DFL) };
            }
        }
        let p = filled("outside", 8192, 1);
        let mut n = Native::open(&Options {
            mem: Some(p.clone()),
            ..Default::default()
        })
        .unwrap();
        // The guard is installed with the first mapping.
        n.read(Space::Phys, 0, Width::W32).unwrap();
        std::fs::remove_file(&p).unwrap();
        match which.as_str() {
            // A wild read: chained to the handler there was before (the
            // Rust runtime's, or the default action), which kills.
            // SAFETY: deliberately not; the child is meant to die here.
            "segv" | "segv-default" => unsafe {
                std::ptr::read_volatile(16 as *const u64);
            },
            // A signal sent, not a fault.
            // SAFETY: raise has no preconditions.
            _ => unsafe {
                libc::raise(libc::SIGBUS);
            },
        }
        unreachable!("the child survived");
    }
    for (which, sig) in [
        ("segv", libc::SIGSEGV),
        ("segv-default", libc::SIGSEGV),
        ("kill", libc::SIGBUS),
    ] {
        std::env::set_var("MEMLUA_GUARD_SIGNAL", which);
        let st = in_child(NAME);
        assert_eq!(st.signal(), Some(sig), "{which}: {st:?}");
    }
}
