//! Width-exact volatile accesses through a pointer: what "a read32 is one
//! 32-bit load" means in code. Used by the native layer's mappings and by
//! the bindings' fast paths over a backend's direct mapping.

use crate::Width;

/// One load of exactly `w` bytes at `p`.
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

/// One store of exactly `w` bytes at `p`.
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
