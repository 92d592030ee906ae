//! Closing the Lua state when the process is about to exit.
//!
//! lua.c ends with `lua_close`, which closes pending to-be-closed variables,
//! runs every `__gc` finalizer and then frees each object one by one. The
//! first two are behaviour scripts can see; the freeing is not, and it is a
//! tenth of a short tool run such as `memlua devmem` (every string, table
//! and closure of the standard library and the API handed back to malloc
//! just before the kernel drops the whole heap anyway). So at exit the
//! state's allocator is swapped for one that still allocates (finalizers
//! may) but ignores frees, and then the state is closed as usual.

use std::ffi::c_void;

use mlua::ffi;

/// The allocator the state had, which still serves every allocation.
struct Original {
    alloc: ffi::lua_Alloc,
    ud: *mut c_void,
}

/// A `lua_Alloc` that forwards allocations and resizes to the original
/// allocator and drops frees (nsize == 0) on the floor.
unsafe extern "C" fn alloc_without_free(
    ud: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    if nsize == 0 {
        return std::ptr::null_mut();
    }
    // SAFETY: `ud` is the `Original` leaked in `skip_frees_on_close`; it
    // lives until the process exits.
    let original = unsafe { &*(ud as *const Original) };
    // SAFETY: the same contract the original allocator was installed with:
    // `ptr` was allocated by it (frees never reach it, so it is still live)
    // and `osize` is the block's size.
    unsafe { (original.alloc)(original.ud, ptr, osize, nsize) }
}

/// Makes the coming `lua_close` of `main` leave memory to the OS. Call only
/// when the process exits right after the state is closed.
///
/// # Safety
/// `main` is the main thread of a live state, with no Lua code running.
pub unsafe fn skip_frees_on_close(main: *mut ffi::lua_State) {
    let mut ud = std::ptr::null_mut();
    // SAFETY: the caller guarantees `main` is a live state.
    let alloc = unsafe { ffi::lua_getallocf(main, &mut ud) };
    let original = Box::into_raw(Box::new(Original { alloc, ud }));
    // SAFETY: as above; the new allocator serves every block the old one
    // made, since it forwards to it.
    unsafe { ffi::lua_setallocf(main, alloc_without_free, original.cast()) };
}
