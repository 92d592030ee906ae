//! memlua's device layer: one small trait, [`Backend`], over the ways of
//! reaching a machine's memory that FreeBSD's mem(4) describes, and the
//! backends behind it. Nothing here knows Lua; the bindings crate puts this
//! API into a Lua state.

pub mod direct;
pub mod error;
#[cfg(unix)]
pub mod native;
pub mod sim;
pub mod types;

pub use error::{Errno, Error, Result, Subject};
pub use types::{MdfFlags, MemExtract, MemRangeDesc, PageState, RangeOp, Space, Width};

/// A page of this process's memory that scripts can look up and use as a
/// DMA target: `mem.alloc`'s buffer. Identified by its base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// Page-aligned virtual address in the calling process.
    pub addr: u64,
    /// Length in bytes as asked for.
    pub len: u64,
}

/// A window's direct view of device memory (`Backend::map_direct`): `ptr`
/// is the first byte of the window, valid for aligned volatile accesses of
/// `len` bytes (and writes when `writable`) for as long as `keep` lives.
/// Whoever holds the pointer must hold `keep` too.
#[derive(Clone)]
pub struct DirectMap {
    pub ptr: *mut u8,
    pub len: u64,
    pub writable: bool,
    /// Plain memory (a regular file's pages) that a bulk read may copy
    /// with ordinary loads; false for device memory, which bulk transfers
    /// reach through the device's own read/write.
    pub copyable: bool,
    pub keep: std::rc::Rc<dyn std::any::Any>,
}

impl std::fmt::Debug for DirectMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectMap")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("writable", &self.writable)
            .field("copyable", &self.copyable)
            .finish()
    }
}

/// The page size every backend works in (mem(4)'s PAGE_SIZE on amd64).
pub const PAGE_SIZE: u64 = 4096;

/// One way of reaching memory. Everything else (windows, page lists,
/// hexdumps, register maps) is built above it.
///
/// Errors carry mem(4)'s errno for the same request; operations name
/// themselves in the Lua API's words (`mem.read32`, `memrange.set`).
pub trait Backend {
    /// "sim" or "native".
    fn name(&self) -> &str;
    /// Whether writes are allowed (the native backend is read-only unless
    /// started with `--write`).
    fn writable(&self) -> bool;
    /// The simulated board's name, if this backend has one.
    fn board(&self) -> Option<&str> {
        None
    }

    /// One access of exactly `w`; 16/32/64-bit accesses must be aligned.
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64>;
    /// One access of exactly `w`; `v` must fit in `w` (signed or unsigned).
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()>;
    /// Bulk read, any alignment and length.
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()>;
    /// Bulk write, any alignment and length.
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()>;

    /// MEM_EXTRACT_PADDR for each address of the calling process, in one
    /// batch; `out` has the same length as `vaddrs`. An invalid address is a
    /// state, not an error.
    fn extract(&mut self, vaddrs: &[u64], out: &mut [MemExtract]) -> Result<()>;

    /// MEMRANGE_GET with mo_arg[0] = 0: the number of descriptors.
    fn range_count(&mut self) -> Result<usize>;
    /// MEMRANGE_GET: every descriptor, active or not, in index order.
    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>>;
    /// MEMRANGE_SET: update (establish) or remove a range.
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()>;

    /// kvm_nlist: a kernel symbol's address (ENOENT when unknown).
    fn symbol(&mut self, name: &str) -> Result<u64>;

    /// Page-aligned memory of this process, `len` bytes (EINVAL for 0).
    fn alloc(&mut self, len: u64) -> Result<Buffer>;
    /// One access at `off` into the buffer whose base is `buf`.
    fn buffer_read(&mut self, buf: u64, off: u64, w: Width) -> Result<u64>;
    fn buffer_write(&mut self, buf: u64, off: u64, w: Width, v: u64) -> Result<()>;
    fn buffer_read_bytes(&mut self, buf: u64, off: u64, out: &mut [u8]) -> Result<()>;
    fn buffer_write_bytes(&mut self, buf: u64, off: u64, data: &[u8]) -> Result<()>;
    /// mlock: the pages become resident and wired (never reclaimed).
    fn buffer_lock(&mut self, buf: u64) -> Result<()>;
    /// munlock.
    fn buffer_unlock(&mut self, buf: u64) -> Result<()>;
    /// Unmaps the buffer: its addresses become invalid.
    fn buffer_free(&mut self, buf: u64) -> Result<()>;

    /// A direct mapping of `[addr, addr + len)` for a window (`mem.map`),
    /// so its accesses can skip the backend: `None` when the backend has
    /// none (the simulator, kernel memory) or cannot map all of it now;
    /// accesses then go through `read`/`write`, which give the errors.
    fn map_direct(&mut self, _space: Space, _addr: u64, _len: u64) -> Option<DirectMap> {
        None
    }

    /// The simulator behind this backend, for the `sim.*` controls; `None`
    /// elsewhere (those calls then fail with EOPNOTSUPP).
    fn as_sim(&mut self) -> Option<&mut sim::Sim> {
        None
    }
}
