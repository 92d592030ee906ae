//! MEM_EXTRACT_PADDR on Linux through /proc/self/pagemap, on real pages of
//! this process. Frame numbers need CAP_SYS_ADMIN; without it the tests
//! say `skipped: TEST: needs CAP_SYS_ADMIN for frame numbers`.
#![cfg(target_os = "linux")]

#[path = "support/skip.rs"]
mod skip;

use memlua_runtime::native::{Native, Options};
use memlua_runtime::{Backend, MemExtract, PageState, PAGE_SIZE};

/// The tests map and unmap memory of this one process: run one at a time,
/// or a freed range may be mapped again by another test before it is
/// looked up.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn backend() -> Native {
    Native::open(&Options {
        mem: Some("/dev/null".into()),
        ..Default::default()
    })
    .unwrap()
}

fn extract(n: &mut Native, vaddrs: &[u64]) -> Vec<MemExtract> {
    let mut out: Vec<MemExtract> = vaddrs.iter().map(|&v| MemExtract::invalid(v)).collect();
    n.extract(&mut out).unwrap();
    out
}

/// Whether frame numbers of our pages are visible; false (the test
/// skipped, saying why) when they are hidden from this process.
fn frames_visible(n: &mut Native) -> bool {
    let b = n.process_map(PAGE_SIZE).unwrap();
    n.process_lock(b, 0).unwrap();
    let e = extract(n, &[b])[0];
    n.process_unmap(b, 0).unwrap();
    assert_eq!(e.state, PageState::Mapped);
    if e.hidden {
        assert_eq!(e.paddr, None, "never a silent 0");
        assert!(e.why().unwrap().contains("CAP_SYS_ADMIN"));
        skip::skip("needs CAP_SYS_ADMIN for frame numbers");
        return false;
    }
    true
}

#[test]
fn two_mappings_of_one_memfd_page_share_the_frame() {
    let _serial = serial();
    let mut n = backend();
    if !frames_visible(&mut n) {
        return;
    }
    // SAFETY: a fresh memfd of one page mapped twice, shared; both
    // mappings are unmapped before the test ends and nothing else uses them.
    unsafe {
        let fd = libc::memfd_create(c"memlua-test".as_ptr(), 0);
        assert!(fd >= 0);
        assert_eq!(libc::ftruncate(fd, PAGE_SIZE as i64), 0);
        let map = || {
            libc::mmap(
                std::ptr::null_mut(),
                PAGE_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        let (a, b) = (map(), map());
        assert!(a != libc::MAP_FAILED && b != libc::MAP_FAILED && a != b);
        std::ptr::write_volatile(a as *mut u32, 0x1234);
        assert_eq!(std::ptr::read_volatile(b as *const u32), 0x1234);
        let e = extract(&mut n, &[a as u64 + 0x10, b as u64 + 0x10]);
        assert_eq!(e[0].state, PageState::Mapped);
        assert_eq!(e[1].state, PageState::Mapped);
        assert!(e[0].paddr.is_some());
        assert_eq!(e[0].paddr, e[1].paddr, "one page, one frame");
        assert_eq!(e[0].paddr.unwrap() & 0xfff, 0x10, "the page offset is kept");
        libc::munmap(a, PAGE_SIZE as usize);
        libc::munmap(b, PAGE_SIZE as usize);
        libc::close(fd);
    }
}

#[test]
fn locked_pages_are_mapped_in_domain_0_with_different_frames() {
    let _serial = serial();
    let mut n = backend();
    if !frames_visible(&mut n) {
        return;
    }
    let b = n.process_map(2 * PAGE_SIZE).unwrap();
    n.process_lock(b, 0).unwrap();
    let e = extract(&mut n, &[b, b + PAGE_SIZE]);
    for x in &e {
        assert_eq!(x.state, PageState::Mapped);
        assert_eq!(x.domain, Some(0), "one NUMA node on this machine");
        assert!(!x.hidden);
    }
    assert_ne!(e[0].paddr, e[1].paddr);
    n.process_unlock(b, 0).unwrap();
    n.process_unmap(b, 0).unwrap();
}

#[test]
fn unmapped_is_invalid_and_untouched_is_valid() {
    let _serial = serial();
    // These states need no privilege.
    let mut n = backend();
    let b = n.process_map(4 * PAGE_SIZE).unwrap();
    // Page 0 touched, pages 1-3 untouched.
    n.write(
        memlua_runtime::Space::Process,
        b,
        memlua_runtime::Width::W8,
        1,
    )
    .unwrap();
    let pages: Vec<u64> = (0..4).map(|i| b + i * PAGE_SIZE).collect();
    let e = extract(&mut n, &pages);
    assert_eq!(e[0].state, PageState::Mapped);
    for x in &e[1..] {
        assert_eq!(
            x.state,
            PageState::Valid,
            "a fresh untouched anonymous page"
        );
        assert_eq!((x.paddr, x.domain), (None, None));
    }
    n.process_unmap(b, 0).unwrap();
    let e = extract(&mut n, &pages);
    assert!(
        e.iter().all(|x| x.state == PageState::Invalid),
        "freed: {e:?}"
    );
    let e = extract(&mut n, &[0, 0x1000, 0xffff_ffff_8000_0000]);
    assert!(e.iter().all(|x| x.state == PageState::Invalid));
    assert_eq!(e[2].vaddr, 0xffff_ffff_8000_0000);
}
