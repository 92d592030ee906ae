//! Keeps large buffers' memory in the process between bulk transfers.
//!
//! glibc serves every allocation over 32 MiB with a fresh mmap and gives it
//! back on free, so each big `mem.read` pays a page fault per 4 KiB of the
//! Lua string it builds: on this kind of machine 30 ms for 64 MiB, more
//! than the copy itself. Served from the heap and not trimmed, the memory
//! of one big transfer is reused by the next. The cost is that the process
//! keeps its largest transfer's memory until it exits, which for a
//! memory-poking tool is the better trade.

/// Tunes the C allocator as above; a no-op off glibc. Call it once, early.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation policy; called before
    // other threads exist, with documented parameters and values.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}
