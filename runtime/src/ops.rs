//! The Lua API's name of every operation (docs/API.md): the one table every
//! error takes its `op` from, so `mem.read32` or `memrange.set` is spelt the
//! same by every backend, layer and binding.

use crate::{RangeOp, Space, Width};

pub const MEM_EXTRACT: &str = "mem.extract";
pub const MEM_EXTRACT_RANGE: &str = "mem.extract_range";
pub const MEM_ALLOC: &str = "mem.alloc";
pub const KMEM_SYMBOL: &str = "kmem.symbol";
pub const MEMRANGE_COUNT: &str = "memrange.count";
pub const MEMRANGE_GET: &str = "memrange.get";
pub const MEMRANGE_SET: &str = "memrange.set";
pub const MEMRANGE_REMOVE: &str = "memrange.remove";
pub const MEMRANGE_FLAGS: &str = "memrange.flags";
pub const MEMRANGE_NAMES: &str = "memrange.names";
pub const BUFFER_LOCK: &str = "buffer.lock";
pub const BUFFER_UNLOCK: &str = "buffer.unlock";
pub const BUFFER_FREE: &str = "buffer.free";
pub const BUFFER_PAGES: &str = "buffer.pages";
pub const SIM_REGIONS: &str = "sim.regions";
pub const SIM_DEVICES: &str = "sim.devices";
pub const SIM_DEVICE: &str = "sim.device";
pub const SIM_RECLAIM: &str = "sim.reclaim";
pub const SIM_CLAIM: &str = "sim.claim";
pub const SIM_OUTPUT: &str = "sim.output";
pub const SIM_CLOCK: &str = "sim.clock";
pub const SIM_ADVANCE: &str = "sim.advance";
pub const QEMU_IRQ_INTERCEPT: &str = "qemu.irq_intercept";
pub const QEMU_IRQS: &str = "qemu.irqs";
pub const QEMU_QMP: &str = "qemu.qmp";
pub const QEMU_HMP: &str = "qemu.hmp";
pub const QEMU_RUN: &str = "qemu.run";
pub const QEMU_TIMEOUT: &str = "qemu.timeout";
pub const QEMU_PID: &str = "qemu.pid";

/// `qemu.io_read8` .. `qemu.io_write32`: x86 port I/O (no 64-bit ports).
const QEMU_IO: [&str; 8] = [
    "qemu.io_read8",
    "qemu.io_read16",
    "qemu.io_read32",
    "qemu.io_read64",
    "qemu.io_write8",
    "qemu.io_write16",
    "qemu.io_write32",
    "qemu.io_write64",
];

pub const MEMRANGE_SCOPED: &str = "memrange.scoped";
pub const UIO_WAIT_IRQ: &str = "uio.wait_irq";

pub const GDB_MONITOR: &str = "gdb.monitor";
pub const GDB_HALT: &str = "gdb.halt";
pub const GDB_RESUME: &str = "gdb.resume";
pub const GDB_REGISTERS: &str = "gdb.registers";

/// Single accesses per space (mem, kmem, buffer): reads by width, then
/// writes by width.
const ACCESS: [[&str; 8]; 3] = [
    [
        "mem.read8",
        "mem.read16",
        "mem.read32",
        "mem.read64",
        "mem.write8",
        "mem.write16",
        "mem.write32",
        "mem.write64",
    ],
    [
        "kmem.read8",
        "kmem.read16",
        "kmem.read32",
        "kmem.read64",
        "kmem.write8",
        "kmem.write16",
        "kmem.write32",
        "kmem.write64",
    ],
    [
        "buffer.read8",
        "buffer.read16",
        "buffer.read32",
        "buffer.read64",
        "buffer.write8",
        "buffer.write16",
        "buffer.write32",
        "buffer.write64",
    ],
];

const WINDOW: [&str; 8] = [
    "window.read8",
    "window.read16",
    "window.read32",
    "window.read64",
    "window.write8",
    "window.write16",
    "window.write32",
    "window.write64",
];

/// Bulk transfers per space: read, write.
const BULK: [[&str; 2]; 3] = [
    ["mem.read", "mem.write"],
    ["kmem.read", "kmem.write"],
    ["buffer.read", "buffer.write"],
];

pub const WINDOW_READ: &str = "window.read";
pub const WINDOW_WRITE: &str = "window.write";

const fn space_index(space: Space) -> usize {
    match space {
        Space::Phys => 0,
        Space::Kernel => 1,
        Space::Process => 2,
    }
}

const fn width_index(w: Width, write: bool) -> usize {
    let i = match w {
        Width::W8 => 0,
        Width::W16 => 1,
        Width::W32 => 2,
        Width::W64 => 3,
    };
    if write {
        i + 4
    } else {
        i
    }
}

/// `mem.read32`, `kmem.write8`, `buffer.read64`: one access of exactly `w`.
pub const fn access(space: Space, w: Width, write: bool) -> &'static str {
    ACCESS[space_index(space)][width_index(w, write)]
}

/// `mem.read`, `kmem.write`, `buffer.read`: a bulk transfer.
pub const fn bulk(space: Space, write: bool) -> &'static str {
    BULK[space_index(space)][write as usize]
}

/// `window.read32`: a window's own single access.
pub const fn window(w: Width, write: bool) -> &'static str {
    WINDOW[width_index(w, write)]
}

/// `qemu.io_read8`, `qemu.io_write32`: one port access.
pub const fn qemu_io(w: Width, write: bool) -> &'static str {
    QEMU_IO[width_index(w, write)]
}

/// `mem.map` or `kmem.map` (buffers are not mapped: `mem.alloc` makes them).
pub const fn map(space: Space) -> &'static str {
    match space {
        Space::Kernel => "kmem.map",
        Space::Phys | Space::Process => "mem.map",
    }
}

/// `memrange.set` or `memrange.remove`: MEMRANGE_SET's two actions.
pub const fn range_set(op: RangeOp) -> &'static str {
    match op {
        RangeOp::Update => MEMRANGE_SET,
        RangeOp::Remove => MEMRANGE_REMOVE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_api() {
        assert_eq!(access(Space::Phys, Width::W32, false), "mem.read32");
        assert_eq!(access(Space::Kernel, Width::W8, true), "kmem.write8");
        assert_eq!(access(Space::Process, Width::W64, true), "buffer.write64");
        assert_eq!(bulk(Space::Kernel, false), "kmem.read");
        assert_eq!(window(Width::W16, true), "window.write16");
        assert_eq!(range_set(RangeOp::Remove), "memrange.remove");
    }
}
