//! glibc's libm, loaded the first time a math function is called instead
//! of at every start. Each shared library the dynamic loader maps costs a
//! run about 0.09 ms on the project's machine (benches/RESULTS.md, issue
//! 11), and most runs (`memlua devmem`, `dump`) never call `math.sin` or
//! `^`. The functions below are the ones Lua and Rust's std take from
//! libm. build.rs links the binary with `--wrap` for each, so every call
//! to `sin` reaches `__wrap_sin` here, and the linker (`--as-needed`)
//! leaves libm out of the binary's needs; a function of libm's own name
//! would also have been exported, since libm defines it. Each looks up
//! glibc's function on its first call, so results are glibc's to the
//! bit. Other math functions (floor, fmod, sqrt...) come from Rust's
//! compiler-builtins already.

use std::ffi::{c_int, c_void, CStr};
use std::io::Write;
use std::sync::atomic::{AtomicPtr, Ordering};

/// libm's `name`, loading libm on first use. A glibc system without libm
/// cannot run a math function at all: the process stops with a message.
fn lookup(name: &CStr) -> *mut c_void {
    static LIBM: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    let mut lib = LIBM.load(Ordering::Acquire);
    if lib.is_null() {
        // SAFETY: a constant NUL-terminated name; dlopen is thread-safe and
        // reference-counted, so a race only opens it twice.
        lib = unsafe { libc::dlopen(c"libm.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        LIBM.store(lib, Ordering::Release);
    }
    let f = if lib.is_null() {
        std::ptr::null_mut()
    } else {
        // SAFETY: `lib` is an open handle, `name` a C string.
        unsafe { libc::dlsym(lib, name.as_ptr()) }
    };
    if f.is_null() {
        let _ = writeln!(
            std::io::stderr(),
            "memlua: cannot load {} from libm.so.6",
            name.to_string_lossy()
        );
        std::process::abort();
    }
    f
}

/// `__wrap_NAME` for each `NAME`: forwards to libm's function of that
/// name and signature, looked up once. build.rs reads the names from the
/// `from_libm!` list below.
macro_rules! from_libm {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[export_name = concat!("__wrap_", stringify!($name))]
        pub extern "C" fn $name($($arg: $ty),*) -> $ret {
            static F: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
            let mut f = F.load(Ordering::Relaxed);
            if f.is_null() {
                f = lookup(
                    CStr::from_bytes_with_nul(concat!(stringify!($name), "\0").as_bytes())
                        .expect("a name without NUL"),
                );
                F.store(f, Ordering::Relaxed);
            }
            // SAFETY: `f` is libm's function of this name, whose C signature
            // is the one declared here (C99 <math.h>).
            let f: extern "C" fn($($ty),*) -> $ret = unsafe { std::mem::transmute(f) };
            f($($arg),*)
        }
    )*};
}

from_libm! {
    acos(x: f64) -> f64;
    asin(x: f64) -> f64;
    atan2(y: f64, x: f64) -> f64;
    cos(x: f64) -> f64;
    cosh(x: f64) -> f64;
    exp(x: f64) -> f64;
    frexp(x: f64, exp: *mut c_int) -> f64;
    ldexp(x: f64, exp: c_int) -> f64;
    log(x: f64) -> f64;
    log10(x: f64) -> f64;
    log2(x: f64) -> f64;
    pow(x: f64, y: f64) -> f64;
    sin(x: f64) -> f64;
    sinh(x: f64) -> f64;
    tan(x: f64) -> f64;
    tanh(x: f64) -> f64;
}
