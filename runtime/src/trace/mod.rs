//! Access traces: a [`record::Recorder`] layer writes every operation a
//! script makes on a backend to a JSON Lines file, and a
//! [`replay::Replay`] backend answers a later run from that file, checking
//! that the run makes the same operations. [`file`] reads traces,
//! [`tool`] prints, compares and exports them (`memlua trace`).
//!
//! The format (version [`FORMAT`]), one JSON object per line:
//!
//! - a header: `{"memlua_trace": 1, "backend": "sim", "board": "pc",
//!   "writable": true, "argv": [...], "started": "<RFC 3339>",
//!   "regions": [{"base": "0x..", "size": "0x..", "name": "uart0", ...}]}`;
//! - then one line per operation, in order: `seq` (1, 2, ... with no gap),
//!   `op` ([`file::Kind`]'s names), `space` (`phys`, `kmem`, `process`),
//!   `addr`, `value`, `len` as `"0x..."` strings, `width` in bits, `data`
//!   in base64 for bulk transfers, `t_ns` since the start, `src` (the
//!   script position, `probe.lua:12`), `repeat` for a run of identical
//!   reads that returned the same value, and for a failure `errno`,
//!   `message` (and `error_op`, `subject`, `done` when the backend gave
//!   them), so a replay fails the same way; `"performed": false` on a
//!   `write`, `write_bytes` or `range_set` that succeeded without being
//!   made, because a dry run below the recorder swallowed it (absent: it
//!   was made). A replay answers such a line like any other: the write
//!   must come again, and succeeds without effect, as every write of a
//!   replay does;
//! - `mark` lines (`trace.mark(text)`) and a last `end` line with the
//!   run's exit status.
//!
//! Every 64-bit quantity is a `"0x..."` string, since JSON numbers lose
//! precision past 2^53.

pub mod file;
mod line;
pub mod record;
pub mod replay;
pub mod tool;

/// The trace format this memlua writes and reads.
pub const FORMAT: u64 = 1;

/// How a run ended, for the trace's last line and the replay's final check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// The process's exit status.
    pub status: i32,
    pub how: How,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// The script (and the REPL, if any) ran to its end.
    Returned,
    /// The script called `os.exit`.
    Exit,
    /// The run stopped with this error (an uncaught error, Ctrl-C).
    Failed(String),
}

impl How {
    pub fn name(&self) -> &'static str {
        match self {
            How::Returned => "returned",
            How::Exit => "os.exit",
            How::Failed(_) => "error",
        }
    }
}

/// The program's hold on a recording or a replay in progress.
pub trait Control {
    /// `trace.mark(text)`: a marker line in a recording; nothing in a
    /// replay.
    fn mark(&self, text: &str);
    /// The run is over: a recording writes its end line and flushes; a
    /// replay reports a divergence it raised and, in strict mode after a
    /// run that reached its end, recorded operations left over. Calls
    /// after the first do nothing.
    fn finish(&self, end: &End) -> Result<(), String>;
}

/// `v` as a trace writes it: `0x` and lowercase hex digits.
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// A `"0x..."` string of a trace (decimal digits are taken too).
pub fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) if !h.is_empty() && h.len() <= 16 => u64::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None => s.parse().ok(),
    }
}

/// The name a trace gives a space.
pub fn space_name(space: crate::Space) -> &'static str {
    match space {
        crate::Space::Phys => "phys",
        crate::Space::Kernel => "kmem",
        crate::Space::Process => "process",
    }
}

pub fn space_named(name: &str) -> Option<crate::Space> {
    match name {
        "phys" => Some(crate::Space::Phys),
        "kmem" => Some(crate::Space::Kernel),
        "process" => Some(crate::Space::Process),
        _ => None,
    }
}

/// An owner tag as text without losing a byte: each byte is the character
/// of the same number (ASCII owners read as themselves).
pub fn owner_text(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The bytes of `owner_text`; None if a character is past U+00FF.
pub fn owner_bytes(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// The current time as RFC 3339 (UTC, seconds), for the header.
pub fn now_rfc3339() -> String {
    format!("{}Z", crate::civil_time::utc(std::time::SystemTime::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for v in [0, 1, 0xfe00_0000, u64::MAX] {
            assert_eq!(parse_u64(&hex(v)), Some(v));
        }
        assert_eq!(parse_u64("12"), Some(12));
        assert_eq!(parse_u64("0x"), None);
        assert_eq!(parse_u64("0x1ffffffffffffffff"), None);
    }

    #[test]
    fn owners_keep_every_byte() {
        let b = [b'g', b'p', b'u', 0xff, 0x01];
        assert_eq!(owner_bytes(&owner_text(&b)).unwrap(), b);
        assert_eq!(owner_text(b"gpu"), "gpu");
    }

    #[test]
    fn the_time_is_rfc3339() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }
}
