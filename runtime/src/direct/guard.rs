//! The fault guard of memlua's own mappings of memory. A mapped file that
//! another program shrinks, or device memory that nothing answers (an
//! unclaimed PCI BAR on many SoCs), raises SIGBUS (or SIGSEGV) on the next
//! access, which would kill the process. Every mapping memlua makes of a
//! device or file is registered here; a handler, installed once and
//! chained to whatever handler was there before for every other fault,
//! turns a fault inside a registered mapping into a record the access's
//! caller checks afterwards ([`super::check`]):
//!
//! 1. The first fault in a mapping poisons it: the whole mapping becomes
//!    PROT_NONE, so every later access through it faults too and is
//!    reported, never served zeros silently.
//! 2. The faulting page is replaced with an anonymous zero page
//!    (MAP_FIXED), so the interrupted instruction completes harmlessly: a
//!    load gets 0, a store lands in the zero page, not the device.
//! 3. The fault count goes up. The checker sees it, finds the mapping the
//!    access went through poisoned and returns a [`Fault`]; it also puts
//!    the zero pages back to PROT_NONE.
//!
//! The handler is async-signal-safe: it uses atomics, mprotect, mmap and
//! sigaction only (no allocation, no lock, no thread-local), and keeps
//! errno as it found it. Registered mappings live in a fixed table, so the
//! handler never sees a structure mid-resize; one full table makes a
//! mapping fail (callers fall back to read/write), never go unguarded.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::Once;

use super::{Fault, FaultKind};

/// Registered mappings at most at once: far below Linux's default
/// vm.max_map_count (65530), which also bounds the process's heap and
/// every other mapping it makes.
const SLOTS: usize = 8192;
/// Slots kept free for the single-access window cache: a session with
/// thousands of live windows can still read a register.
pub const RESERVE: usize = 64;

// Slot state: flags in the low byte, a generation above it so a handler
// reading a slot while it is reused notices.
const USED: u64 = 1;
const POISONED: u64 = 2;
const OPEN: u64 = 4;
const DEVICE: u64 = 8;
const CLAIMED: u64 = 16;
const FLAGS: u64 = 0xff;

struct Slot {
    state: AtomicU64,
    /// `[start, end)`: the mapping's addresses in this process.
    start: AtomicUsize,
    end: AtomicUsize,
    /// The device address (file offset) at `start`.
    dev: AtomicU64,
    /// The device address of the fault that poisoned the mapping.
    first: AtomicU64,
    /// FAULTS when it was poisoned: a check that began later knows its
    /// access only met the poison, and never reached memory.
    poisoned_at: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU64::new(0),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            dev: AtomicU64::new(0),
            first: AtomicU64::new(0),
            poisoned_at: AtomicU64::new(0),
        }
    }
}

static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// One past the highest slot ever used: scans stop there.
static HIGH: AtomicUsize = AtomicUsize::new(0);
/// Slots in use, and how many may be (a quarter of vm.max_map_count where
/// that is lower than SLOTS).
static COUNT: AtomicUsize = AtomicUsize::new(0);
static CAP: AtomicUsize = AtomicUsize::new(SLOTS);
/// No slot below this is free (a hint: registration looks from here, so
/// thousands of live mappings do not make each new one scan them all).
static LOW: AtomicUsize = AtomicUsize::new(0);
/// Faults caught so far.
pub static FAULTS: AtomicU64 = AtomicU64::new(0);
/// The system's page size (the zero page replaces exactly one).
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The handlers that were installed before ours, for faults that are not
/// ours. Written once, before our handler is installed.
struct Previous(UnsafeCell<[Option<libc::sigaction>; 2]>);
// SAFETY: written only inside INSTALL.call_once, before the handler that
// reads it can run; read-only afterwards.
unsafe impl Sync for Previous {}
static PREVIOUS: Previous = Previous(UnsafeCell::new([None, None]));
static INSTALL: Once = Once::new();
const SIGNALS: [libc::c_int; 2] = [libc::SIGBUS, libc::SIGSEGV];

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            PAGE.store(page as usize, Relaxed);
        }
        if let Some(max) = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
        {
            CAP.store((max / 4).clamp(2 * RESERVE, SLOTS), Relaxed);
        }
        for (i, sig) in SIGNALS.into_iter().enumerate() {
            // SAFETY: sigaction with valid pointers; PREVIOUS is written
            // before our handler exists (see Previous).
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                    continue;
                }
                (*PREVIOUS.0.get())[i] = Some(old);
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler as *const () as libc::sighandler_t;
                // SA_ONSTACK: a stack overflow must still reach the
                // previous handler on the alternate stack.
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                libc::sigaction(sig, &new, std::ptr::null_mut());
            }
        }
    });
}

/// A mapping under the guard, registered until released (or dropped).
/// Release it before unmapping: the handler must never touch addresses
/// that may have been given to someone else.
#[derive(Debug)]
pub struct Registration {
    slot: Option<usize>,
}

impl Registration {
    /// Registers `[ptr, ptr + len)`, which shows device addresses from
    /// `dev` on; None when fewer than `reserve` slots would stay free.
    pub fn new(
        ptr: *mut u8,
        len: usize,
        dev: u64,
        kind: FaultKind,
        reserve: usize,
    ) -> Option<Self> {
        install();
        if COUNT.fetch_add(1, AcqRel) + reserve >= CAP.load(Relaxed) {
            COUNT.fetch_sub(1, AcqRel);
            return None;
        }
        let device = if kind == FaultKind::Device { DEVICE } else { 0 };
        let low = LOW.load(Relaxed).min(SLOTS);
        // From the hint, then from the start (the hint may be stale).
        for i in (low..SLOTS).chain(0..low) {
            let slot = &TABLE[i];
            let s = slot.state.load(Acquire);
            if s & (USED | CLAIMED) != 0 {
                continue;
            }
            let gen = (s & !FLAGS) + (FLAGS + 1);
            if slot
                .state
                .compare_exchange(s, gen | CLAIMED, AcqRel, Relaxed)
                .is_err()
            {
                continue;
            }
            slot.start.store(ptr as usize, Relaxed);
            slot.end.store(ptr as usize + len, Relaxed);
            slot.dev.store(dev, Relaxed);
            slot.state.store(gen | USED | device, Release);
            HIGH.fetch_max(i + 1, AcqRel);
            let _ = LOW.compare_exchange(low, i + 1, Relaxed, Relaxed);
            return Some(Registration { slot: Some(i) });
        }
        COUNT.fetch_sub(1, AcqRel);
        None
    }

    /// Whether a fault has poisoned the mapping: it answers nothing any
    /// more, and whoever caches it should map again.
    pub fn poisoned(&self) -> bool {
        self.slot
            .is_some_and(|i| TABLE[i].state.load(Acquire) & POISONED != 0)
    }

    /// Takes the mapping out of the guard (once; later calls do nothing).
    pub fn release(&mut self) {
        if let Some(i) = self.slot.take() {
            let slot = &TABLE[i];
            let s = slot.state.load(Acquire);
            slot.state.store(s & !FLAGS, Release);
            COUNT.fetch_sub(1, AcqRel);
            LOW.fetch_min(i, Relaxed);
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.release();
    }
}

/// The slot whose mapping holds `addr`, and its state, read consistently.
fn find(addr: usize) -> Option<(&'static Slot, u64)> {
    let high = HIGH.load(Acquire).min(SLOTS);
    TABLE[..high].iter().find_map(|slot| {
        let s = slot.state.load(Acquire);
        if s & USED == 0 {
            return None;
        }
        let (start, end) = (slot.start.load(Relaxed), slot.end.load(Relaxed));
        let again = slot.state.load(Acquire);
        let same = again & !FLAGS == s & !FLAGS && again & USED != 0;
        (same && start <= addr && addr < end).then_some((slot, again))
    })
}

/// The signal handler: see the module comment.
extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers;
    // the errno location is this thread's.
    let (addr, saved) = unsafe { ((*info).si_addr() as usize, *errno()) };
    if !recover(addr) {
        // SAFETY: the arguments are the kernel's, passed on unchanged.
        unsafe { chain(sig, info, ctx) };
    }
    // SAFETY: as above.
    unsafe { *errno() = saved };
}

/// Makes the access at `addr` complete if it is inside a registered
/// mapping (see the module comment); false if it is not ours.
fn recover(addr: usize) -> bool {
    let Some((slot, s)) = find(addr) else {
        return false;
    };
    let (start, end) = (slot.start.load(Relaxed), slot.end.load(Relaxed));
    if s & POISONED == 0 {
        slot.first
            .store(slot.dev.load(Relaxed) + (addr - start) as u64, Relaxed);
        slot.poisoned_at.store(FAULTS.load(Acquire), Relaxed);
        slot.state.fetch_or(POISONED, AcqRel);
        // SAFETY: the range is a live mapping of ours (it is registered,
        // and mappings are released before they are unmapped).
        unsafe { libc::mprotect(start as *mut libc::c_void, end - start, libc::PROT_NONE) };
    }
    let page = addr & !(PAGE.load(Relaxed) - 1);
    // SAFETY: the page lies inside that same mapping of ours; replacing it
    // with a private zero page leaves no Rust object dangling (only
    // volatile accesses and copies reach these addresses).
    let p = unsafe {
        libc::mmap(
            page as *mut libc::c_void,
            PAGE.load(Relaxed),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANON,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return false;
    }
    slot.state.fetch_or(OPEN, AcqRel);
    FAULTS.fetch_add(1, Release);
    true
}

/// Passes a fault that is not ours to the handler that was there before,
/// or, when that was the default, restores it so the fault kills the
/// process as it would have without memlua.
unsafe fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let i = SIGNALS.iter().position(|s| *s == sig).unwrap_or(0);
    // SAFETY: PREVIOUS is read-only once our handler is installed.
    let old = unsafe { (*PREVIOUS.0.get())[i] };
    let Some(old) =
        old.filter(|o| o.sa_sigaction != libc::SIG_DFL && o.sa_sigaction != libc::SIG_IGN)
    else {
        // SAFETY: sigaction and raise are async-signal-safe. Returning
        // re-runs a faulting instruction, now under the default action; a
        // signal sent with kill is raised again for it.
        unsafe {
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &dfl, std::ptr::null_mut());
            if (*info).si_code <= 0 {
                libc::raise(sig);
            }
        }
        return;
    };
    // SAFETY: calling the previous handler as it asked to be called.
    unsafe {
        if old.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(old.sa_sigaction);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
            f(sig);
        }
    }
}

/// This thread's errno.
unsafe fn errno() -> *mut libc::c_int {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: glibc/musl's errno location; async-signal-safe.
    return unsafe { libc::__errno_location() };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: the BSDs' errno location; async-signal-safe.
    return unsafe { libc::__error() };
}

/// After faults were counted during an access to `[p, p + n)` that began
/// when FAULTS was `before`: re-arms every zero page put in since (back to
/// PROT_NONE, so the next access faults again), and says whether the
/// access went through a poisoned mapping.
#[cold]
#[inline(never)]
pub fn settle(p: usize, n: usize, before: u64) -> Option<Fault> {
    std::sync::atomic::fence(Acquire);
    let high = HIGH.load(Acquire).min(SLOTS);
    let mut fault = None;
    for slot in &TABLE[..high] {
        let s = slot.state.load(Acquire);
        if s & USED == 0 {
            continue;
        }
        let (start, end) = (slot.start.load(Relaxed), slot.end.load(Relaxed));
        if s & OPEN != 0 {
            slot.state.fetch_and(!OPEN, AcqRel);
            // SAFETY: a registered, hence live, mapping of ours.
            unsafe { libc::mprotect(start as *mut libc::c_void, end - start, libc::PROT_NONE) };
        }
        if s & POISONED == 0 || p >= end || p.saturating_add(n.max(1)) <= start {
            continue;
        }
        let earlier = slot.poisoned_at.load(Relaxed) < before;
        let at = slot.dev.load(Relaxed) + (p.max(start) - start) as u64;
        fault = Some(Fault {
            addr: if earlier {
                at
            } else {
                slot.first.load(Relaxed)
            },
            kind: if s & DEVICE != 0 {
                FaultKind::Device
            } else {
                FaultKind::File
            },
            earlier,
        });
    }
    fault
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_table_refuses_and_a_released_slot_is_reused() {
        let mut x = 0u64;
        let p = &mut x as *mut u64 as *mut u8;
        // No room would be left for the reserve.
        assert!(Registration::new(p, 8, 0, FaultKind::File, SLOTS).is_none());
        let mut a = Registration::new(p, 8, 0, FaultKind::File, 0).unwrap();
        assert!(!a.poisoned());
        let i = a.slot.unwrap();
        a.release();
        a.release();
        assert_eq!(TABLE[i].state.load(Acquire) & FLAGS, 0);
        let b = Registration::new(p, 8, 0, FaultKind::Device, 0).unwrap();
        assert!(TABLE[b.slot.unwrap()].state.load(Acquire) & DEVICE != 0);
    }
}
