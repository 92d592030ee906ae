//! The API at a glance: one entry per call with its signature and one line
//! saying what it does (docs/API.md is the full text). `:help` prints this
//! table and completion offers its names, so the two never disagree.

/// One call of the API.
pub struct Entry {
    /// How it is written: `mem.read32`, `window:read32`, `:board`.
    pub name: &'static str,
    /// Its arguments and result.
    pub args: &'static str,
    pub does: &'static str,
}

const fn e(name: &'static str, args: &'static str, does: &'static str) -> Entry {
    Entry { name, args, does }
}

pub const ENTRIES: &[Entry] = &[
    e(
        "mem.read8",
        "(addr) -> int",
        "one 8-bit read of physical memory",
    ),
    e(
        "mem.read16",
        "(addr) -> int",
        "one 16-bit read (aligned) of physical memory",
    ),
    e(
        "mem.read32",
        "(addr) -> int",
        "one 32-bit read (aligned) of physical memory",
    ),
    e(
        "mem.read64",
        "(addr) -> int",
        "one 64-bit read (aligned) of physical memory",
    ),
    e(
        "mem.write8",
        "(addr, v)",
        "one 8-bit write of physical memory",
    ),
    e(
        "mem.write16",
        "(addr, v)",
        "one 16-bit write (aligned) of physical memory",
    ),
    e(
        "mem.write32",
        "(addr, v)",
        "one 32-bit write (aligned) of physical memory",
    ),
    e(
        "mem.write64",
        "(addr, v)",
        "one 64-bit write (aligned) of physical memory",
    ),
    e(
        "mem.read",
        "(addr, len) -> string",
        "len bytes of physical memory, any alignment",
    ),
    e(
        "mem.write",
        "(addr, s)",
        "writes the string's bytes to physical memory",
    ),
    e(
        "mem.map",
        "(addr, len) -> window",
        "a bounds-checked window, the fast path for loops",
    ),
    e(
        "mem.extract",
        "(vaddr) -> {vaddr, state, paddr, domain}",
        "virtual-to-physical lookup of this process (MEM_EXTRACT_PADDR)",
    ),
    e(
        "mem.extract_range",
        "(vaddr, len) -> pagelist",
        "looks up every page of a range in one batch",
    ),
    e(
        "mem.alloc",
        "(len) -> buffer",
        "page-aligned memory of this process, to look up and use as a DMA target",
    ),
    e(
        "kmem.read8",
        "(addr) -> int",
        "one 8-bit read of kernel virtual memory",
    ),
    e(
        "kmem.read16",
        "(addr) -> int",
        "one 16-bit read of kernel virtual memory",
    ),
    e(
        "kmem.read32",
        "(addr) -> int",
        "one 32-bit read of kernel virtual memory",
    ),
    e(
        "kmem.read64",
        "(addr) -> int",
        "one 64-bit read of kernel virtual memory",
    ),
    e(
        "kmem.write8",
        "(addr, v)",
        "one 8-bit write of kernel virtual memory",
    ),
    e(
        "kmem.write16",
        "(addr, v)",
        "one 16-bit write of kernel virtual memory",
    ),
    e(
        "kmem.write32",
        "(addr, v)",
        "one 32-bit write of kernel virtual memory",
    ),
    e(
        "kmem.write64",
        "(addr, v)",
        "one 64-bit write of kernel virtual memory",
    ),
    e(
        "kmem.read",
        "(addr, len) -> string",
        "len bytes of kernel virtual memory",
    ),
    e(
        "kmem.write",
        "(addr, s)",
        "writes the string's bytes to kernel virtual memory",
    ),
    e(
        "kmem.map",
        "(addr, len) -> window",
        "a bounds-checked window on kernel memory",
    ),
    e(
        "kmem.symbol",
        "(name) -> addr",
        "a kernel symbol's address (ENOENT when unknown)",
    ),
    e(
        "window:read8",
        "(off) -> int",
        "8-bit read at w.base + off (also read16/32/64)",
    ),
    e(
        "window:read16",
        "(off) -> int",
        "16-bit read at w.base + off",
    ),
    e(
        "window:read32",
        "(off) -> int",
        "32-bit read at w.base + off",
    ),
    e(
        "window:read64",
        "(off) -> int",
        "64-bit read at w.base + off",
    ),
    e(
        "window:write8",
        "(off, v)",
        "8-bit write at w.base + off (also write16/32/64)",
    ),
    e("window:write16", "(off, v)", "16-bit write at w.base + off"),
    e("window:write32", "(off, v)", "32-bit write at w.base + off"),
    e("window:write64", "(off, v)", "64-bit write at w.base + off"),
    e(
        "window:read",
        "(off, len) -> string",
        "bytes inside the window",
    ),
    e("window:write", "(off, s)", "writes bytes inside the window"),
    e("window.base", "", "the window's first address"),
    e("window.len", "", "the window's length"),
    e(
        "buffer:read8",
        "(off) -> int",
        "reads the buffer (also read16/32/64, read(off, n))",
    ),
    e(
        "buffer:write8",
        "(off, v)",
        "writes the buffer (also write16/32/64, write(off, s))",
    ),
    e("buffer:lock", "()", "wires the pages (mlock)"),
    e("buffer:unlock", "()", "unwires the pages"),
    e(
        "buffer:free",
        "()",
        "unmaps the buffer: its addresses become invalid",
    ),
    e(
        "buffer:pages",
        "() -> pagelist",
        "mem.extract_range(b.addr, b.len)",
    ),
    e("buffer.addr", "", "the buffer's virtual address"),
    e("buffer.len", "", "the buffer's length"),
    e(
        "pagelist:state",
        "(i) -> string",
        "page i's state: invalid, valid or mapped",
    ),
    e(
        "pagelist:paddr",
        "(i) -> addr",
        "page i's physical address, or nil",
    ),
    e(
        "pagelist:domain",
        "(i) -> int",
        "page i's NUMA domain, or nil",
    ),
    e(
        "memrange.count",
        "() -> n",
        "the number of memory-range descriptors",
    ),
    e(
        "memrange.get",
        "([n]) -> {d...}",
        "every descriptor {base, len, flags, owner}, in index order",
    ),
    e(
        "memrange.set",
        "(d)",
        "updates or establishes a range (MEMRANGE_SET_UPDATE)",
    ),
    e(
        "memrange.remove",
        "(d)",
        "removes the range with d's base and len",
    ),
    e(
        "memrange.flags",
        "(s) -> bits",
        "\"write-combine,active\" to MDF bits",
    ),
    e(
        "memrange.names",
        "(bits) -> string",
        "MDF bits to \"write-combine active\"",
    ),
    e(
        "backend.name",
        "",
        "\"sim\", \"native\", \"qemu\", \"gdb\" or \"replay\"",
    ),
    e("backend.writable", "", "whether writes are allowed"),
    e("backend.board", "", "the simulator's board name"),
    e(
        "sim.regions",
        "() -> {r...}",
        "every region {name, kind, base, size, domain, ...}",
    ),
    e("sim.devices", "() -> {r...}", "the device regions only"),
    e(
        "sim.device",
        "{name, base, len, read, write}",
        "adds a device modelled in Lua",
    ),
    e(
        "sim.reclaim",
        "()",
        "pages out every process page that is not wired",
    ),
    e(
        "sim.claim",
        "{base, len, owner}",
        "another owner takes a memory range (it becomes busy)",
    ),
    e(
        "sim.output",
        "(name) -> string",
        "what a UART has transmitted",
    ),
    e("sim.clock", "() -> ns", "the virtual clock"),
    e("sim.advance", "(ns) -> ns", "moves the virtual clock"),
    e(
        "trace.mark",
        "(text)",
        "a marker line in the --record trace (nothing without one)",
    ),
    e(
        "qemu.io_read8",
        "(port) -> int",
        "one 8-bit x86 port read (io_read16, io_read32 alike)",
    ),
    e(
        "qemu.io_read16",
        "(port) -> int",
        "one 16-bit x86 port read",
    ),
    e(
        "qemu.io_read32",
        "(port) -> int",
        "one 32-bit x86 port read",
    ),
    e(
        "qemu.io_write8",
        "(port, v)",
        "one 8-bit x86 port write (io_write16, io_write32 alike)",
    ),
    e("qemu.io_write16", "(port, v)", "one 16-bit x86 port write"),
    e("qemu.io_write32", "(port, v)", "one 32-bit x86 port write"),
    e(
        "qemu.qmp",
        "(command [, args]) -> value",
        "a QMP command; its decoded return",
    ),
    e(
        "qemu.hmp",
        "(cmdline) -> string",
        "a human monitor command (\"info mtree -f\"); its text",
    ),
    e(
        "qemu.irq_intercept",
        "(path [, \"in\"|\"out\"])",
        "report the IRQ lines of the device at a QOM path",
    ),
    e(
        "qemu.irqs",
        "() -> {[n] = level}",
        "the last level seen on each intercepted line",
    ),
    e(
        "qemu.run",
        "(ns)",
        "lets the machine run for ns of its time",
    ),
    e(
        "qemu.timeout",
        "([seconds]) -> seconds",
        "how long QEMU has to answer each command",
    ),
    e(
        "qemu.pid",
        "() -> pid",
        "the QEMU memlua started (nil when attached)",
    ),
    e(
        "gdb.monitor",
        "(cmd) -> string",
        "runs a GDB stub's monitor command, returns its output",
    ),
    e("gdb.halt", "()", "stops the target behind the GDB stub"),
    e("gdb.resume", "()", "lets the target run"),
    e(
        "gdb.registers",
        "() -> {name=value}",
        "the target's general registers by name",
    ),
    e(
        "hex",
        "(v [, width]) -> string",
        "unsigned hex: hex(255) is 0xff, hex(255, 32) is 0x000000ff",
    ),
    e(
        "require",
        "\"memlua.NAME\"",
        "loads a stdlib module (TAB after memlua. lists them)",
    ),
    e(
        ":help",
        "[name]",
        "this list, or one entry (:help mem.read32)",
    ),
    e(
        ":hex",
        "on|off",
        "integers print in hex and decimal (on) or decimal only",
    ),
    e(":board", "", "the memory map of the simulated board"),
    e(":quit", "", "leaves memlua (so does Ctrl-D)"),
];

/// The entry for `name`; `w:read32` finds `window:read32` when no entry has
/// that exact name, so a user's variable name works too.
pub fn find(name: &str) -> Option<&'static Entry> {
    if let Some(e) = ENTRIES.iter().find(|e| e.name == name) {
        return Some(e);
    }
    let (_, method) = name.rsplit_once(':')?;
    ["window", "buffer", "pagelist"]
        .iter()
        .find_map(|t| ENTRIES.iter().find(|e| e.name == format!("{t}:{method}")))
}

fn line(e: &Entry) -> String {
    let call = format!("{} {}", e.name, e.args);
    format!("{}\n    {}", call.trim_end(), e.does)
}

/// `:help` and `:help NAME`: the text to print.
pub fn text(arg: &str) -> String {
    let arg = arg.trim();
    if arg.is_empty() {
        let mut out = String::from("memlua's API (docs/API.md has it all; :help NAME for one):\n");
        for e in ENTRIES {
            let call = format!("{} {}", e.name, e.args);
            out.push_str(&format!("  {:<38} {}\n", call.trim_end(), e.does));
        }
        return out;
    }
    if let Some(e) = find(arg) {
        return format!("{}\n", line(e));
    }
    // A table name: every entry under it.
    let under: Vec<&Entry> = ENTRIES
        .iter()
        .filter(|e| {
            e.name.starts_with(&format!("{arg}.")) || e.name.starts_with(&format!("{arg}:"))
        })
        .collect();
    if under.is_empty() {
        return format!("no help for '{arg}'; :help lists every call\n");
    }
    under.iter().map(|e| format!("{}\n", line(e))).collect()
}
