//! The one error type of the device layer.
//!
//! Every failure carries the errno name mem(4) would give for it (so a script
//! can branch on `e.errno` whatever the backend), the operation in the Lua
//! API's vocabulary, the address or range it concerned, the bytes a bulk
//! transfer had done before it failed, and a sentence a person can act on.

use std::fmt;

/// The errno values memlua reports, with mem(4)'s meanings (docs/MEM4.md
/// §2-4): the one list, each name written once with its meaning; the enum,
/// `name`, `code` and `from_code` are generated from it.
macro_rules! errnos {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Errno {
            $($(#[doc = $doc])* $name,)*
        }

        impl Errno {
            /// Every errno memlua reports.
            pub const ALL: &'static [Errno] = &[$(Errno::$name,)*];

            /// The symbolic name, as scripts see it in `e.errno`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Errno::$name => stringify!($name),)*
                }
            }

            /// The number this platform uses for it (`e.code`).
            pub fn code(self) -> i32 {
                match self {
                    $(Errno::$name => libc::$name,)*
                }
            }
        }
    };
}

errnos! {
    /// Address outside the space, or not mapped (docs/MEM4.md §2.3).
    EFAULT,
    /// Invalid argument: bad geometry, type, width or alignment.
    EINVAL,
    /// The range is owned by someone else.
    EBUSY,
    /// No free memory-range slot.
    ENOSPC,
    /// No such range or symbol.
    ENOENT,
    /// Not permitted: a fixed range, or the kernel refused the region.
    EPERM,
    /// No descriptors: firmware enabled no memory ranges.
    ENXIO,
    /// Not supported on this platform or backend.
    EOPNOTSUPP,
    /// Changing an UNKNOWN range without MDF_FORCE, or no privilege.
    EACCES,
    /// Write on a read-only backend.
    EROFS,
    /// Not enough (simulated) memory.
    ENOMEM,
    /// The device does not know this request.
    ENOTTY,
    /// A wait ran out of time.
    ETIMEDOUT,
    /// A device or file failed in a way none of the above describes.
    EIO,
}

impl Errno {
    /// The errno a script names (`"EFAULT"`), if memlua reports it.
    pub fn from_name(name: &str) -> Option<Errno> {
        Errno::ALL.iter().copied().find(|e| e.name() == name)
    }

    /// Maps an OS error number to the nearest name memlua reports.
    pub fn from_code(code: i32) -> Errno {
        Errno::ALL
            .iter()
            .copied()
            .find(|e| e.code() == code)
            .unwrap_or(Errno::EIO)
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an error was about: shown after the message, e.g. `(addr=0x1000)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// One address.
    Addr(u64),
    /// A transfer of `len` bytes at `addr`.
    Span { addr: u64, len: u64 },
    /// A memory range descriptor's geometry.
    Range { base: u64, len: u64 },
}

/// A failed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub errno: Errno,
    /// The operation in the Lua API's words: `mem.read32`, `memrange.set`.
    pub op: String,
    pub subject: Option<Subject>,
    /// Bytes a bulk transfer moved before it failed, where that applies.
    pub done: Option<u64>,
    /// What went wrong and, where it helps, what to do instead.
    pub message: String,
}

/// The longest message an error keeps, in bytes: a message quoting what a
/// script passed (a symbol name, a flag word) must not grow with it.
pub const MESSAGE_MAX: usize = 1024;

/// The longest operation name an error keeps (`host.error` takes any).
pub const OP_MAX: usize = 64;

/// `text` cut to at most `max` bytes at a character boundary, ending in
/// "..." when cut. Every error message and operation name passes here.
pub fn capped(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let keep = max.saturating_sub(3);
    let cut = (0..=keep)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text.truncate(cut);
    text.push_str("...");
    text
}

impl Error {
    pub fn new(errno: Errno, op: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            errno,
            op: capped(op.into(), OP_MAX),
            subject: None,
            done: None,
            message: capped(message.into(), MESSAGE_MAX),
        }
    }

    pub fn at(mut self, addr: u64) -> Self {
        self.subject = Some(Subject::Addr(addr));
        self
    }

    pub fn span(mut self, addr: u64, len: u64) -> Self {
        self.subject = Some(Subject::Span { addr, len });
        self
    }

    pub fn range(mut self, base: u64, len: u64) -> Self {
        self.subject = Some(Subject::Range { base, len });
        self
    }

    /// Marks a bulk transfer's failure with the bytes it moved first
    /// (`e.done`).
    pub fn done(mut self, bytes: u64) -> Self {
        self.done = Some(bytes);
        self
    }

    /// The message as scripts see it (`e.message`): when a bulk transfer
    /// moved bytes before failing, it says how many, so the text alone
    /// tells a person what happened.
    /// Capped as `message` is, keeping the count whole.
    pub fn full_message(&self) -> std::borrow::Cow<'_, str> {
        match self.done {
            Some(n) if n > 0 => {
                let tail = format!("; {n} bytes were transferred before the failure");
                let head = capped(self.message.clone(), MESSAGE_MAX - tail.len());
                (head + &tail).into()
            }
            _ => self.message.as_str().into(),
        }
    }

    /// Renames the operation, keeping everything else: the bindings use it
    /// when one runtime call serves several Lua names.
    pub fn with_op(mut self, op: impl Into<String>) -> Self {
        self.op = capped(op.into(), OP_MAX);
        self
    }

    /// EOPNOTSUPP for what a backend cannot do, in a sentence naming it:
    /// `mem.extract: EOPNOTSUPP: the 'qemu' backend cannot look up this
    /// process's pages`.
    pub fn unsupported(backend: &str, op: impl Into<String>, what: &str) -> Self {
        Error::new(
            Errno::EOPNOTSUPP,
            op,
            format!("the '{backend}' backend cannot {what}"),
        )
    }

    /// The address the error concerns, if any (`e.addr`).
    pub fn addr(&self) -> Option<u64> {
        match self.subject {
            Some(Subject::Addr(a)) | Some(Subject::Span { addr: a, .. }) => Some(a),
            Some(Subject::Range { base, .. }) => Some(base),
            None => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.op, self.errno, self.full_message())?;
        match self.subject {
            Some(Subject::Addr(a)) => write!(f, " (addr={a:#x})")?,
            Some(Subject::Span { addr, len }) => write!(f, " (addr={addr:#x} len={len:#x})")?,
            Some(Subject::Range { base, len }) => write!(f, " (base={base:#x} len={len:#x})")?,
            None => {}
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_op_errno_message_and_subject() {
        let e = Error::new(Errno::EINVAL, "memrange.set", "bad length").range(0xa0000, 0x1000);
        assert_eq!(
            e.to_string(),
            "memrange.set: EINVAL: bad length (base=0xa0000 len=0x1000)"
        );
        assert_eq!(e.addr(), Some(0xa0000));
    }

    #[test]
    fn messages_and_ops_are_capped() {
        let e = Error::new(Errno::ENOENT, "o".repeat(1000), "é".repeat(1 << 20));
        assert!(e.message.len() <= MESSAGE_MAX, "{}", e.message.len());
        assert!(e.message.ends_with("é..."));
        assert_eq!(e.op.len(), OP_MAX);
        assert!(e.clone().with_op("x".repeat(100)).op.len() <= OP_MAX);
        let done = Error::new(Errno::EIO, "mem.read", "d".repeat(5000)).done(7);
        assert!(done.full_message().len() <= MESSAGE_MAX);
        assert!(done
            .full_message()
            .ends_with("...; 7 bytes were transferred before the failure"));
        let short = Error::new(Errno::EINVAL, "mem.read32", "fine");
        assert_eq!(short.message, "fine");
    }

    #[test]
    fn codes_round_trip() {
        for e in [Errno::EFAULT, Errno::EBUSY, Errno::EOPNOTSUPP, Errno::EROFS] {
            assert_eq!(Errno::from_code(e.code()), e);
        }
    }
}
