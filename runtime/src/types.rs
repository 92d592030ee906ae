//! The mem(4) vocabulary shared by every backend: access widths, address
//! spaces, MEM_EXTRACT_PADDR results and memory range descriptors
//! (docs/MEM4.md §1).

use bitflags::bitflags;
use std::fmt;

/// The width of one access. A read32 is one 32-bit load, never four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Width {
    W8,
    W16,
    W32,
    W64,
}

impl Width {
    pub const ALL: [Width; 4] = [Width::W8, Width::W16, Width::W32, Width::W64];

    pub const fn bytes(self) -> u64 {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
            Width::W64 => 8,
        }
    }

    pub const fn bits(self) -> u32 {
        (self.bytes() * 8) as u32
    }

    /// All ones in this width.
    pub const fn mask(self) -> u64 {
        match self {
            Width::W64 => u64::MAX,
            w => (1u64 << w.bits()) - 1,
        }
    }

    /// Natural alignment: 16/32/64-bit accesses need it (docs/API.md, Numbers).
    pub const fn is_aligned(self, addr: u64) -> bool {
        addr & (self.bytes() - 1) == 0
    }

    /// EINVAL unless `at` (an "address" or an "offset", as `what` says) is
    /// naturally aligned for this width (docs/API.md, Numbers); op and address
    /// are the caller's to fill in.
    pub fn check_aligned(self, at: u64, what: &str) -> crate::Result<()> {
        if self.is_aligned(at) {
            return Ok(());
        }
        Err(crate::Error::new(
            crate::Errno::EINVAL,
            "",
            format!(
                "a {}-bit access needs an {what} aligned to {} bytes",
                self.bits(),
                self.bytes()
            ),
        ))
    }

    /// EINVAL unless `v` fits this width (op and address are the caller's
    /// to fill in).
    pub fn check_value(self, v: u64) -> crate::Result<()> {
        if self.fits(v) {
            return Ok(());
        }
        Err(crate::Error::new(
            crate::Errno::EINVAL,
            "",
            format!("value {v:#x} does not fit in {} bits", self.bits()),
        ))
    }

    /// Whether `v` fits, read as signed or unsigned: `write8(a, -1)` and
    /// `write8(a, 0xff)` both store 0xff, `write8(a, 0x100)` does not fit.
    pub const fn fits(self, v: u64) -> bool {
        match self {
            Width::W64 => true,
            w => {
                let high = v >> (w.bits() - 1);
                // Unsigned fit, or a sign-extended negative value.
                v <= w.mask() || high == u64::MAX >> (w.bits() - 1)
            }
        }
    }
}

impl fmt::Display for Width {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bits())
    }
}

/// Which address space an access is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    /// Physical memory, /dev/mem.
    Phys,
    /// Kernel virtual memory, /dev/kmem.
    Kernel,
    /// This process's own memory: the buffers `mem.alloc` hands out. The
    /// bindings' buffer table checks every access before a backend sees
    /// it; backends only find the page behind the address.
    Process,
}

impl Space {
    /// The Lua object that reaches this space: `mem`, `kmem` or `buffer`.
    pub const fn table(self) -> &'static str {
        match self {
            Space::Phys => "mem",
            Space::Kernel => "kmem",
            Space::Process => "buffer",
        }
    }
}

/// ME_STATE_*: what MEM_EXTRACT_PADDR found at an address (docs/MEM4.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PageState {
    /// Not part of the address space.
    #[default]
    Invalid = 0,
    /// Part of the address space, but no page is resident right now.
    Valid = 1,
    /// Backed by a physical page.
    Mapped = 2,
}

impl PageState {
    pub const fn name(self) -> &'static str {
        match self {
            PageState::Invalid => "invalid",
            PageState::Valid => "valid",
            PageState::Mapped => "mapped",
        }
    }
}

/// The answer of MEM_EXTRACT_PADDR for one virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemExtract {
    pub vaddr: u64,
    pub state: PageState,
    /// Physical address including the page offset; `None` unless mapped, or
    /// when the platform hides frame numbers (see `hidden`).
    pub paddr: Option<u64>,
    /// NUMA domain, -1 when no NUMA range holds the page; only when mapped.
    pub domain: Option<i32>,
    /// Mapped, but the kernel would not tell the frame (Linux without
    /// CAP_SYS_ADMIN): the answer is not a silent 0.
    pub hidden: bool,
}

impl MemExtract {
    pub fn invalid(vaddr: u64) -> Self {
        MemExtract {
            vaddr,
            ..Default::default()
        }
    }

    pub fn valid(vaddr: u64) -> Self {
        MemExtract {
            vaddr,
            state: PageState::Valid,
            ..Default::default()
        }
    }

    pub fn mapped(vaddr: u64, paddr: u64, domain: i32) -> Self {
        MemExtract {
            vaddr,
            state: PageState::Mapped,
            paddr: Some(paddr),
            domain: Some(domain),
            hidden: false,
        }
    }

    /// Why `paddr` is missing for a mapped page, in words.
    pub fn why(&self) -> Option<&'static str> {
        self.hidden.then_some(
            "the kernel hides page frame numbers from this process (needs CAP_SYS_ADMIN)",
        )
    }
}

bitflags! {
    /// MDF_* flags of `struct mem_range_desc`, with docs/MEM4.md §1.2's exact bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct MdfFlags: u32 {
        const UNCACHEABLE  = 1 << 0;
        const WRITECOMBINE = 1 << 1;
        const WRITETHROUGH = 1 << 2;
        const WRITEBACK    = 1 << 3;
        const WRITEPROTECT = 1 << 4;
        const UNKNOWN      = 1 << 5;
        const FIXBASE      = 1 << 24;
        const FIXLEN       = 1 << 25;
        const FIRMWARE     = 1 << 26;
        const ACTIVE       = 1 << 27;
        const BOGUS        = 1 << 28;
        const FIXACTIVE    = 1 << 29;
        const BUSY         = 1 << 30;
        const FORCE        = 1 << 31;
        // Bits 6-23 are not named but are part of the attribute field: keep
        // them so a request carrying them is refused, not silently cleaned.
        const _ = !0;
    }
}

impl MdfFlags {
    /// MDF_ATTRMASK: the attribute part of the flags.
    pub const ATTRMASK: u32 = 0x00ff_ffff;

    /// memcontrol(8)'s names, in its print order (docs/MEM4.md §5), and whether
    /// `set` accepts each one.
    pub const NAMES: [(&'static str, MdfFlags, bool); 12] = [
        ("uncacheable", MdfFlags::UNCACHEABLE, true),
        ("write-combine", MdfFlags::WRITECOMBINE, true),
        ("write-through", MdfFlags::WRITETHROUGH, true),
        ("write-back", MdfFlags::WRITEBACK, true),
        ("write-protect", MdfFlags::WRITEPROTECT, true),
        ("force", MdfFlags::FORCE, true),
        ("unknown", MdfFlags::UNKNOWN, false),
        ("fixed-base", MdfFlags::FIXBASE, false),
        ("fixed-length", MdfFlags::FIXLEN, false),
        ("set-by-firmware", MdfFlags::FIRMWARE, false),
        ("active", MdfFlags::ACTIVE, true),
        ("bogus", MdfFlags::BOGUS, false),
    ];

    /// The attribute bits alone (`flags & MDF_ATTRMASK`).
    pub const fn attr(self) -> u32 {
        self.bits() & Self::ATTRMASK
    }

    /// The same flags with the attribute replaced by `attr`'s.
    pub fn with_attr(self, attr: MdfFlags) -> MdfFlags {
        MdfFlags::from_bits_retain((self.bits() & !Self::ATTRMASK) | attr.attr())
    }

    /// memcontrol's words for the set flags, space-separated, in its order.
    /// FIXACTIVE and BUSY have no name and are never printed.
    pub fn names(self) -> String {
        Self::NAMES
            .iter()
            .filter(|(_, f, _)| self.contains(*f))
            .map(|(n, _, _)| *n)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses memcontrol's names, separated by commas or white space.
    /// Unknown words are returned as the error.
    pub fn parse_names(s: &str) -> Result<MdfFlags, String> {
        let mut flags = MdfFlags::empty();
        for word in s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match Self::NAMES.iter().find(|(n, _, _)| *n == word) {
                Some((_, f, _)) => flags |= *f,
                None => return Err(word.to_string()),
            }
        }
        Ok(flags)
    }
}

/// `struct mem_range_desc`: one memory range and its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemRangeDesc {
    pub base: u64,
    pub len: u64,
    pub flags: MdfFlags,
    /// NUL-padded owner tag; byte 7 is always NUL (the kernel forces it).
    pub owner: [u8; 8],
}

impl MemRangeDesc {
    /// The longest owner, in bytes: the 8th holds the terminating NUL.
    pub const OWNER_MAX: usize = 7;

    pub fn new(base: u64, len: u64, flags: MdfFlags, owner: &str) -> Self {
        let mut d = MemRangeDesc {
            base,
            len,
            flags,
            owner: [0; 8],
        };
        d.set_owner(owner);
        d
    }

    /// The owner's bytes, up to the first NUL (the kernel's C string).
    pub fn owner_bytes(&self) -> &[u8] {
        let end = self.owner.iter().position(|&b| b == 0).unwrap_or(8);
        &self.owner[..end]
    }

    /// The owner as text, for messages (bytes that are not UTF-8 shown as
    /// U+FFFD); compare owners with `owner_bytes`.
    pub fn owner_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.owner_bytes())
    }

    /// Sets the owner, truncating to 7 bytes as the kernel does
    /// (`mr_owner[7] = 0`); callers that must refuse long owners check
    /// `OWNER_MAX` first.
    pub fn set_owner(&mut self, owner: &str) {
        self.set_owner_bytes(owner.as_bytes());
    }

    /// `set_owner` for any bytes: an owner is a C string, not text.
    pub fn set_owner_bytes(&mut self, bytes: &[u8]) {
        self.owner = [0; 8];
        let n = bytes.len().min(Self::OWNER_MAX);
        self.owner[..n].copy_from_slice(&bytes[..n]);
    }

    pub fn end(&self) -> u64 {
        self.base.wrapping_add(self.len)
    }
}

/// The action of MEMRANGE_SET (`mo_arg[0]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    /// MEMRANGE_SET_UPDATE: update or establish a range.
    Update = 0,
    /// MEMRANGE_SET_REMOVE: remove the range with this base and length.
    Remove = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdf_bits_are_mem4s() {
        assert_eq!(MdfFlags::UNCACHEABLE.bits(), 0x1);
        assert_eq!(MdfFlags::WRITEPROTECT.bits(), 0x10);
        assert_eq!(MdfFlags::UNKNOWN.bits(), 0x20);
        assert_eq!(MdfFlags::FIXBASE.bits(), 0x0100_0000);
        assert_eq!(MdfFlags::ACTIVE.bits(), 0x0800_0000);
        assert_eq!(MdfFlags::BUSY.bits(), 0x4000_0000);
        assert_eq!(MdfFlags::FORCE.bits(), 0x8000_0000);
        assert_eq!(MdfFlags::FORCE.bits() as i32, i32::MIN);
    }

    #[test]
    fn names_follow_memcontrol_order() {
        let f = MdfFlags::ACTIVE | MdfFlags::WRITEPROTECT | MdfFlags::FIXBASE | MdfFlags::BUSY;
        assert_eq!(f.names(), "write-protect fixed-base active");
        assert_eq!(
            MdfFlags::parse_names("write-combine,active").unwrap(),
            MdfFlags::WRITECOMBINE | MdfFlags::ACTIVE
        );
        assert_eq!(MdfFlags::parse_names("fast").unwrap_err(), "fast");
    }

    #[test]
    fn width_fit_accepts_signed_and_unsigned() {
        assert!(Width::W8.fits(0xff));
        assert!(Width::W8.fits(-1i64 as u64));
        assert!(Width::W8.fits(-128i64 as u64));
        assert!(!Width::W8.fits(-129i64 as u64));
        assert!(!Width::W8.fits(0x100));
        assert!(Width::W32.fits(0xffff_ffff));
        assert!(!Width::W32.fits(0x1_0000_0000));
        assert!(Width::W64.fits(u64::MAX));
    }

    #[test]
    fn owner_is_nul_terminated_and_truncated() {
        let d = MemRangeDesc::new(0, 0x1000, MdfFlags::empty(), "toolongowner");
        assert_eq!(d.owner_str(), "toolong");
        assert_eq!(d.owner[7], 0);
    }
}
