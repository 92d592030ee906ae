//! Width-exact volatile accesses through a pointer: what "a read32 is one
//! 32-bit load" means in code. Used by the native layer's mappings and by
//! the bindings' fast paths over a backend's direct mapping.
//!
//! Memory behind a mapping can fault: a file another program shrinks, a
//! device region nothing answers. The mappings the native layer makes are
//! guarded (`guard`): a fault inside one completes the access harmlessly
//! and is counted instead of killing the process, and the checked
//! accesses here turn it into a [`Fault`] for that access:
//!
//! - one load or store: [`load_checked`], [`store_checked`];
//! - anything else that reads or writes through a mapping (a bulk copy):
//!   take [`faults()`] before, call [`check`] after, or wrap it in
//!   [`guarded`].
//!
//! A mapping that faulted once is poisoned: every later access through it
//! faults too ([`Fault::earlier`]), so nothing reads zeros silently. Its
//! holder should drop it and go through the backend, which maps afresh
//! and sees the file's new size or the device's answer.

use crate::{Errno, Error, Width};

#[cfg(unix)]
mod guard;
#[cfg(unix)]
pub(crate) use guard::{Registration, RESERVE};

/// What faulted: a regular file's pages (it shrank: EFAULT) or device
/// memory (a bus error: EIO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    File,
    Device,
}

/// A fault (SIGBUS or SIGSEGV) during an access through a guarded mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The device address (file offset) that faulted.
    pub addr: u64,
    pub kind: FaultKind,
    /// The mapping had faulted before this access, which met only the
    /// poison and never reached memory: the same access through a fresh
    /// mapping (the backend's read/write) may well succeed, and repeating
    /// it is safe.
    pub earlier: bool,
}

impl Fault {
    /// The error for the access: EFAULT for a file, EIO for a device, at
    /// the address; the caller names the operation (`with_op`).
    pub fn error(&self) -> Error {
        let (errno, message) = match self.kind {
            FaultKind::File => (
                Errno::EFAULT,
                "the file standing in for memory no longer reaches this address (another \
                 program shrank it while memlua had it mapped); nothing was read or written",
            ),
            FaultKind::Device => (
                Errno::EIO,
                "the device raised a bus error at this address: nothing answers there (an \
                 unclaimed or powered-down region, such as a PCI BAR no device decodes)",
            ),
        };
        Error::new(errno, "", message).at(self.addr)
    }
}

/// The number of faults caught so far (in any guarded mapping): take it
/// before an access through a mapping and pass it to [`check`] after.
#[inline(always)]
pub fn faults() -> u64 {
    #[cfg(unix)]
    let n = guard::FAULTS.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(unix))]
    let n = 0;
    // The access that follows stays after this read (a signal handler on
    // this thread is what changes the count).
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    n
}

/// After an access to `[p, p + n)` that began when [`faults()`] was
/// `before`: Err if it faulted. Costs one load when nothing faulted.
#[inline(always)]
pub fn check(p: *const u8, n: usize, before: u64) -> Result<(), Fault> {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(unix)]
    if guard::FAULTS.load(std::sync::atomic::Ordering::Relaxed) != before {
        return match guard::settle(p as usize, n, before) {
            Some(f) => Err(f),
            None => Ok(()),
        };
    }
    let _ = (p, n, before);
    Ok(())
}

/// Runs `f`, which reads or writes `[p, p + n)` through a mapping (a bulk
/// copy), and says whether that faulted. What `f` returns is then
/// worthless (zeros where memory was missing) and should be dropped.
#[inline]
pub fn guarded<T>(p: *const u8, n: usize, f: impl FnOnce() -> T) -> Result<T, Fault> {
    let before = faults();
    let r = f();
    check(p, n, before).map(|()| r)
}

/// [`load`], and Err instead of a value if the load faulted.
///
/// # Safety
/// As for [`load`].
#[inline(always)]
pub unsafe fn load_checked(p: *const u8, w: Width) -> Result<u64, Fault> {
    let before = faults();
    // SAFETY: the caller's promise.
    let v = unsafe { load(p, w) };
    check(p, w.bytes() as usize, before).map(|()| v)
}

/// [`store`], and Err if the store faulted (it then reached nothing).
///
/// # Safety
/// As for [`store`].
#[inline(always)]
pub unsafe fn store_checked(p: *mut u8, w: Width, v: u64) -> Result<(), Fault> {
    let before = faults();
    // SAFETY: the caller's promise.
    unsafe { store(p, w, v) };
    check(p, w.bytes() as usize, before)
}

/// One load of exactly `w` bytes at `p`, unchecked: a fault in a guarded
/// mapping reads 0 and is noticed only by a later [`check`]; prefer
/// [`load_checked`].
///
/// # Safety
/// `p` must be valid for a read of `w` bytes and aligned to `w`.
#[inline(always)]
pub unsafe fn load(p: *const u8, w: Width) -> u64 {
    // SAFETY: the caller's promise; each arm is one access of that width.
    unsafe {
        match w {
            Width::W8 => std::ptr::read_volatile(p) as u64,
            Width::W16 => std::ptr::read_volatile(p as *const u16) as u64,
            Width::W32 => std::ptr::read_volatile(p as *const u32) as u64,
            Width::W64 => std::ptr::read_volatile(p as *const u64),
        }
    }
}

/// One store of exactly `w` bytes at `p`, unchecked (see [`load`]);
/// prefer [`store_checked`].
///
/// # Safety
/// `p` must be valid for a write of `w` bytes and aligned to `w`.
#[inline(always)]
pub unsafe fn store(p: *mut u8, w: Width, v: u64) {
    // SAFETY: the caller's promise; each arm is one access of that width.
    unsafe {
        match w {
            Width::W8 => std::ptr::write_volatile(p, v as u8),
            Width::W16 => std::ptr::write_volatile(p as *mut u16, v as u16),
            Width::W32 => std::ptr::write_volatile(p as *mut u32, v as u32),
            Width::W64 => std::ptr::write_volatile(p as *mut u64, v),
        }
    }
}
