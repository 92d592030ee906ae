pub use memlua_runtime;
