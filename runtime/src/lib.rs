//! memlua's device layer: one small trait, [`Backend`], over the ways of
//! reaching a machine's memory that FreeBSD's mem(4) describes, and the
//! backends behind it. Nothing here knows Lua; the bindings crate puts this
//! API into a Lua state.

pub mod b64;
pub mod buffers;
pub mod civil_time;
pub mod direct;
pub mod error;
pub mod gdb;
pub mod layer;
pub mod layers;
#[cfg(unix)]
pub mod native;
pub mod ops;
#[cfg(unix)]
pub mod qemu;
pub mod range_rules;
pub mod sim;
pub mod trace;
pub mod types;

pub use error::{Errno, Error, Result, Subject};
pub use layer::{Layer, Position, Say};
pub use types::{MdfFlags, MemExtract, MemRangeDesc, PageState, RangeOp, Space, Width};

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

/// What a backend's (and every layer's) own checks say of a whole span,
/// asked once when a window is made ([`Backend::cleared`]): where `read`
/// (`write`) is true, every access of the span may skip those checks
/// through [`Backend::read_cleared`] ([`Backend::write_cleared`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    pub read: bool,
    pub write: bool,
}

impl Cleared {
    /// Nothing checked: what a backend without layers answers.
    pub const ALL: Cleared = Cleared {
        read: true,
        write: true,
    };
    pub const NONE: Cleared = Cleared {
        read: false,
        write: false,
    };

    pub fn and(self, other: Cleared) -> Cleared {
        Cleared {
            read: self.read && other.read,
            write: self.write && other.write,
        }
    }
}

/// The page size every backend works in (mem(4)'s PAGE_SIZE on amd64).
pub const PAGE_SIZE: u64 = 4096;

/// One way of reaching memory: a target that moves bytes, and whatever
/// else it can do. Windows, page lists, hexdumps and register maps are
/// built above it (docs/DESIGN.md, "The Backend trait").
///
/// Six methods are required; everything a target may lack has a default
/// that refuses with EOPNOTSUPP in a sentence naming the backend, so a
/// backend that only moves bytes is short and every `mem.*` call still
/// answers on it. Errors carry mem(4)'s errno for the same request and
/// name the operation with [`ops`]'s names.
pub trait Backend {
    /// "sim", "native", ...: `backend.name`.
    fn name(&self) -> &str;
    /// Whether writes are allowed (the native backend is read-only unless
    /// started with `--write`).
    fn writable(&self) -> bool;

    /// One access of exactly `w`; 16/32/64-bit accesses must be aligned.
    /// `Space::Process` addresses are inside a buffer this backend mapped
    /// (`process_map`), already checked by the buffer table.
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64>;
    /// One access of exactly `w`; `v` must fit in `w` (signed or unsigned).
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()>;
    /// Bulk read, any alignment and length.
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()>;
    /// Bulk write, any alignment and length.
    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()>;

    /// The simulated board's name, if this backend has one.
    fn board(&self) -> Option<&str> {
        None
    }

    /// MEM_EXTRACT_PADDR for each entry's `vaddr` (an address of the
    /// calling process), in one batch; the backend fills in the rest. An
    /// invalid address is a state, not an error.
    fn extract(&mut self, _pages: &mut [MemExtract]) -> Result<()> {
        Err(Error::unsupported(
            self.name(),
            ops::MEM_EXTRACT,
            "look up this process's pages",
        ))
    }

    /// MEMRANGE_GET with mo_arg[0] = 0: the number of descriptors.
    fn range_count(&mut self) -> Result<usize> {
        Err(no_ranges(self.name(), ops::MEMRANGE_COUNT))
    }
    /// MEMRANGE_GET: every descriptor, active or not, in index order.
    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        Err(no_ranges(self.name(), ops::MEMRANGE_GET))
    }
    /// MEMRANGE_SET: update (establish) or remove a range.
    fn range_set(&mut self, _d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        Err(no_ranges(self.name(), ops::range_set(op)))
    }

    /// kvm_nlist: a kernel symbol's address (ENOENT when unknown).
    fn symbol(&mut self, _name: &str) -> Result<u64> {
        Err(Error::unsupported(
            self.name(),
            ops::KMEM_SYMBOL,
            "look up kernel symbols",
        ))
    }

    /// Maps `len` bytes (above 0) of page-aligned memory of this process
    /// for a buffer and returns its base; its pages are then reached as
    /// `Space::Process` addresses.
    fn process_map(&mut self, _len: u64) -> Result<u64> {
        Err(no_buffers(self.name(), ops::MEM_ALLOC))
    }
    /// Unmaps a buffer `process_map` gave: its addresses become invalid.
    fn process_unmap(&mut self, _base: u64, _len: u64) -> Result<()> {
        Err(no_buffers(self.name(), ops::BUFFER_FREE))
    }
    /// mlock: the buffer's pages become resident and wired.
    fn process_lock(&mut self, _base: u64, _len: u64) -> Result<()> {
        Err(no_buffers(self.name(), ops::BUFFER_LOCK))
    }
    /// munlock.
    fn process_unlock(&mut self, _base: u64, _len: u64) -> Result<()> {
        Err(no_buffers(self.name(), ops::BUFFER_UNLOCK))
    }

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

    /// The QEMU machine behind this backend, for the `qemu.*` calls; `None`
    /// elsewhere (those calls then fail with EOPNOTSUPP).
    #[cfg(unix)]
    fn as_qemu(&mut self) -> Option<&mut qemu::Qemu> {
        None
    }

    /// What the checks of this backend's layers say of every access in
    /// `[addr, addr + len)`, asked once when a window is made. A backend
    /// has no such checks; a layer that refuses some accesses (an
    /// allow-list) answers for its own and asks the backend it wraps.
    fn cleared(&mut self, _space: Space, _addr: u64, _len: u64) -> Cleared {
        Cleared::ALL
    }
    /// `read` for an access inside a span [`Backend::cleared`] cleared for
    /// reading: a layer whose check cleared it may skip that check. A
    /// layer that does not override this runs its own `read`.
    #[inline]
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.read(space, addr, w)
    }
    /// `write` for an access inside a span cleared for writing.
    #[inline]
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.write(space, addr, w, v)
    }

    /// The physical ranges a region name stands for: a board region on the
    /// simulator; an /proc/iomem name or a PCI device (`0000:00:02.0`,
    /// `0000:00:02.0:1` for one BAR) on the native backend. Each is
    /// `(base, len)`; ENOENT when the name is unknown.
    fn region(&mut self, _name: &str) -> Result<Vec<(u64, u64)>> {
        Err(Error::unsupported(
            self.name(),
            "region",
            "name memory regions",
        ))
    }

    /// `uio.wait_irq`: waits up to `timeout` (forever when None) for the
    /// UIO device's interrupt; the interrupt count, or None when the time
    /// ran out (or a signal cut the wait short).
    fn wait_irq(&mut self, _timeout: Option<std::time::Duration>) -> Result<Option<u32>> {
        Err(Error::unsupported(
            self.name(),
            ops::UIO_WAIT_IRQ,
            "wait for UIO interrupts (start memlua with --uio uioN)",
        ))
    }

    /// Hands the backend a way to say where the running script is
    /// (`uart.lua:12`), once the Lua state exists; layers that report
    /// accesses keep it (and pass it on), a backend ignores it.
    fn set_position(&mut self, _position: Position) {}

    /// Whether the writes and memory-range changes this backend accepts
    /// are made: false under a dry run, which accepts them and makes none.
    /// A recorder above marks their lines `"performed": false`.
    fn performs_writes(&self) -> bool {
        true
    }

    /// The run is ending (normal exit, a script error, Ctrl-C, os.exit):
    /// layers give back what they hold and say what they did. Called once,
    /// by the program; a backend has nothing to do.
    fn finish(&mut self) {}

    /// The GDB stub connection behind this backend, for the `gdb.*`
    /// controls; `None` elsewhere (those calls then fail with EOPNOTSUPP).
    fn as_gdb(&mut self) -> Option<&mut gdb::Gdb> {
        None
    }
}

fn no_ranges(backend: &str, op: &str) -> Error {
    Error::unsupported(backend, op, "reach memory range attributes (MTRRs)")
}

fn no_buffers(backend: &str, op: &str) -> Error {
    Error::unsupported(backend, op, "hand out buffers of this process")
}
