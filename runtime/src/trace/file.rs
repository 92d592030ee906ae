//! Reading a trace: the header and every operation, checked line by line,
//! so a damaged file is refused with the line that is wrong rather than
//! replayed wrongly.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{hex, parse_u64, space_named, FORMAT};
use crate::{
    ops, Errno, Error, MdfFlags, MemExtract, MemRangeDesc, PageState, RangeOp, Space, Subject,
    Width,
};

/// The first line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub memlua_trace: u64,
    /// The backend the recording ran on (`sim`, `native`, ...).
    pub backend: String,
    #[serde(default)]
    pub board: Option<String>,
    #[serde(default = "yes")]
    pub writable: bool,
    #[serde(default)]
    pub argv: Vec<String>,
    #[serde(default)]
    pub started: String,
    /// What the backend knew of its map: the board's regions, or
    /// /proc/iomem's, for `trace show` to name addresses.
    #[serde(default)]
    pub regions: Vec<Region>,
}

fn yes() -> bool {
    true
}

impl Header {
    pub fn new(backend: &str, board: Option<&str>, writable: bool, argv: Vec<String>) -> Self {
        Header {
            memlua_trace: FORMAT,
            backend: backend.to_string(),
            board: board.map(str::to_string),
            writable,
            argv,
            started: super::now_rfc3339(),
            regions: Vec::new(),
        }
    }

    /// The name of the innermost region holding `addr` (physical).
    pub fn region_of(&self, addr: u64) -> Option<&str> {
        self.regions
            .iter()
            .filter(|r| r.base <= addr && addr - r.base < r.size)
            .max_by_key(|r| r.depth)
            .map(|r| r.name.as_str())
    }
}

/// One region of the recorded machine's physical map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    #[serde(with = "hex_u64")]
    pub base: u64,
    #[serde(with = "hex_u64")]
    pub size: u64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Nesting (/proc/iomem's indentation); the deepest region names an
    /// address.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: usize,
}

fn is_zero(d: &usize) -> bool {
    *d == 0
}

mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        super::parse_u64(&s).ok_or_else(|| serde::de::Error::custom(format!("bad number {s:?}")))
    }
}

/// What an operation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Read,
    Write,
    ReadBytes,
    WriteBytes,
    Extract,
    RangeCount,
    RangeGet,
    RangeSet,
    Symbol,
    ProcessMap,
    ProcessUnmap,
    ProcessLock,
    ProcessUnlock,
    Mark,
    End,
}

impl Kind {
    const NAMES: [(Kind, &'static str); 15] = [
        (Kind::Read, "read"),
        (Kind::Write, "write"),
        (Kind::ReadBytes, "read_bytes"),
        (Kind::WriteBytes, "write_bytes"),
        (Kind::Extract, "extract"),
        (Kind::RangeCount, "range_count"),
        (Kind::RangeGet, "range_get"),
        (Kind::RangeSet, "range_set"),
        (Kind::Symbol, "symbol"),
        (Kind::ProcessMap, "process_map"),
        (Kind::ProcessUnmap, "process_unmap"),
        (Kind::ProcessLock, "process_lock"),
        (Kind::ProcessUnlock, "process_unlock"),
        (Kind::Mark, "mark"),
        (Kind::End, "end"),
    ];

    /// The `op` of a trace line.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    pub fn named(name: &str) -> Option<Kind> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
    }

    /// Whether the operation is an access to memory of a space.
    pub fn has_space(self) -> bool {
        matches!(
            self,
            Kind::Read | Kind::Write | Kind::ReadBytes | Kind::WriteBytes
        )
    }
}

/// What only some operations carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum More {
    /// Bulk data: what was read or written.
    Data(Vec<u8>),
    /// `extract`: each page as the backend filled it in.
    Pages(Vec<MemExtract>),
    /// `range_get`: every descriptor.
    Ranges(Vec<MemRangeDesc>),
    /// `range_set`: the request.
    Range(MemRangeDesc, RangeOp),
    /// `symbol`: its name.
    Name(String),
    /// `mark`: its text.
    Text(String),
    /// `end`: the exit status and how the run ended.
    End {
        status: i32,
        how: String,
        message: Option<String>,
    },
}

/// One operation of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    /// Its line in the file, for messages.
    pub line: usize,
    pub kind: Kind,
    /// Accesses' space (phys otherwise).
    pub space: Space,
    /// The address, base or first page's address.
    pub addr: u64,
    pub width: Option<Width>,
    /// The value read or written, the count, the symbol's or the new
    /// buffer's address.
    pub value: u64,
    /// Bulk and buffer lengths.
    pub len: u64,
    /// Identical reads this line stands for (1 for one).
    pub repeat: u64,
    pub t_ns: u64,
    pub src: Option<Rc<str>>,
    pub error: Option<Box<Error>>,
    pub more: Option<Box<More>>,
    /// False for a write or memory-range change the recorded run's backend
    /// accepted without making it (`"performed": false`: a dry run).
    pub performed: bool,
}

impl Entry {
    pub fn data(&self) -> &[u8] {
        match self.more.as_deref() {
            Some(More::Data(d)) => d,
            _ => &[],
        }
    }

    pub fn src(&self) -> &str {
        self.src.as_deref().unwrap_or("")
    }

    /// Where the recorded script made it, for messages.
    pub fn place_in_script(&self) -> &str {
        self.src
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or("an unknown place")
    }

    /// What the operation was, in the Lua API's words:
    /// `mem.write32(0xfe000000, 0x5)`.
    pub fn describe(&self) -> String {
        let (space, a) = (self.space, self.addr);
        let mut s = match (self.kind, self.width) {
            (Kind::Read, Some(w)) => format!("{}({a:#x})", ops::access(space, w, false)),
            (Kind::Write, Some(w)) => {
                format!("{}({a:#x}, {:#x})", ops::access(space, w, true), self.value)
            }
            (Kind::ReadBytes, _) => format!("{}({a:#x}, {})", ops::bulk(space, false), self.len),
            (Kind::WriteBytes, _) => format!(
                "{}({a:#x}, <{} bytes: {}>)",
                ops::bulk(space, true),
                self.len,
                preview(self.data())
            ),
            (Kind::Extract, _) => match self.more.as_deref() {
                Some(More::Pages(p)) if p.len() != 1 => {
                    format!("{}({a:#x}, {} pages)", ops::MEM_EXTRACT_RANGE, p.len())
                }
                _ => format!("{}({a:#x})", ops::MEM_EXTRACT),
            },
            (Kind::RangeCount, _) => format!("{}()", ops::MEMRANGE_COUNT),
            (Kind::RangeGet, _) => format!("{}()", ops::MEMRANGE_GET),
            (Kind::RangeSet, _) => match self.more.as_deref() {
                Some(More::Range(d, op)) => describe_range(d, *op),
                _ => format!("{}(?)", ops::MEMRANGE_SET),
            },
            (Kind::Symbol, _) => match self.more.as_deref() {
                Some(More::Name(n)) => format!("{}({n:?})", ops::KMEM_SYMBOL),
                _ => format!("{}(?)", ops::KMEM_SYMBOL),
            },
            (Kind::ProcessMap, _) => format!("{}({})", ops::MEM_ALLOC, self.len),
            (Kind::ProcessUnmap, _) => {
                format!("unmapping the buffer at {a:#x} ({} bytes)", self.len)
            }
            (Kind::ProcessLock, _) => {
                format!("{} at {a:#x} ({} bytes)", ops::BUFFER_LOCK, self.len)
            }
            (Kind::ProcessUnlock, _) => {
                format!("{} at {a:#x} ({} bytes)", ops::BUFFER_UNLOCK, self.len)
            }
            (Kind::Mark, _) => match self.more.as_deref() {
                Some(More::Text(t)) => format!("trace.mark({t:?})"),
                _ => "trace.mark()".into(),
            },
            (Kind::End, _) => match self.more.as_deref() {
                Some(More::End { status, how, .. }) => {
                    format!("the end of the run ({how}, status {status})")
                }
                _ => "the end of the run".into(),
            },
            (Kind::Read | Kind::Write, None) => format!("{}?", self.kind.name()),
        };
        if self.repeat > 1 {
            s.push_str(&format!(" x{}", self.repeat));
        }
        s
    }

    /// The answer as text: ` -> 0x5`, ` -> EFAULT`, ` -> not performed`,
    /// or nothing.
    pub fn outcome(&self) -> String {
        if let Some(e) = &self.error {
            return format!(" -> {}", e.errno);
        }
        if !self.performed {
            return " -> not performed".into();
        }
        match self.kind {
            Kind::Read | Kind::RangeCount | Kind::Symbol | Kind::ProcessMap => {
                format!(" -> {:#x}", self.value)
            }
            _ => String::new(),
        }
    }
}

fn describe_range(d: &MemRangeDesc, op: RangeOp) -> String {
    format!(
        "{}{{base={:#x}, len={:#x}, flags={:#x}, owner={:?}}}",
        ops::range_set(op),
        d.base,
        d.len,
        d.flags.bits(),
        d.owner_str()
    )
}

/// The first bytes of `data` in hex, for messages.
pub fn preview(data: &[u8]) -> String {
    let mut s: String = data.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if data.len() > 8 {
        s.push_str("..");
    }
    s
}

/// A whole trace.
#[derive(Debug, Clone)]
pub struct Trace {
    pub header: Header,
    pub entries: Vec<Entry>,
}

impl Trace {
    /// The accesses of every entry, repeats counted.
    pub fn accesses(&self) -> u64 {
        self.entries
            .iter()
            .filter(|e| !matches!(e.kind, Kind::Mark | Kind::End))
            .map(|e| e.repeat)
            .sum()
    }

    /// The `end` entry, if the recording wrote one.
    pub fn end(&self) -> Option<&Entry> {
        self.entries.last().filter(|e| e.kind == Kind::End)
    }
}

/// Reads the trace at `path`; the message names the file and the line.
pub fn load(path: &str) -> Result<Trace, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read the trace {path}: {e}"))?;
    parse(&text).map_err(|(line, msg)| match line {
        0 => format!("{path}: {msg}"),
        n => format!("{path}:{n}: {msg}"),
    })
}

/// One line as it is written; everything a kind does not use is absent.
#[derive(Deserialize)]
struct Raw<'a> {
    seq: u64,
    #[serde(borrow)]
    op: Cow<'a, str>,
    #[serde(borrow, default)]
    space: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    addr: Option<Cow<'a, str>>,
    #[serde(default)]
    width: Option<u32>,
    #[serde(borrow, default)]
    value: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    len: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
    #[serde(default, rename = "repeat")]
    repeat: Option<u64>,
    #[serde(default)]
    t_ns: u64,
    #[serde(borrow, default)]
    src: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    errno: Option<Cow<'a, str>>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_op: Option<String>,
    #[serde(default)]
    subject: Option<RawSubject>,
    #[serde(borrow, default)]
    done: Option<Cow<'a, str>>,
    #[serde(default)]
    pages: Option<Vec<RawPage>>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    range: Option<RawRange>,
    #[serde(borrow, default)]
    action: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    status: Option<i32>,
    #[serde(default)]
    how: Option<String>,
    #[serde(default)]
    performed: Option<bool>,
}

#[derive(Deserialize)]
struct RawSubject {
    kind: String,
    #[serde(default)]
    addr: Option<String>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    len: Option<String>,
}

#[derive(Deserialize)]
struct RawPage {
    vaddr: String,
    state: String,
    #[serde(default)]
    paddr: Option<String>,
    #[serde(default)]
    domain: Option<i32>,
    #[serde(default)]
    hidden: bool,
}

#[derive(Deserialize)]
struct RawRange {
    base: String,
    len: String,
    flags: String,
    #[serde(default)]
    owner: String,
}

type LineError = (usize, String);

fn num(field: &str, v: Option<&str>) -> Result<u64, String> {
    let s = v.ok_or_else(|| format!("'{field}' is missing"))?;
    parse_u64(s).ok_or_else(|| format!("'{field}' is not a \"0x...\" number: {s:?}"))
}

fn width_of(bits: Option<u32>) -> Result<Width, String> {
    match bits {
        Some(b) => Width::ALL
            .into_iter()
            .find(|w| w.bits() == b)
            .ok_or_else(|| format!("'width' {b} is not 8, 16, 32 or 64")),
        None => Err("'width' is missing".into()),
    }
}

fn range_of(r: &RawRange) -> Result<MemRangeDesc, String> {
    let flags = num("flags", Some(&r.flags))?;
    let flags =
        u32::try_from(flags).map_err(|_| format!("'flags' {flags:#x} is wider than 32 bits"))?;
    let owner = super::owner_bytes(&r.owner).ok_or("'owner' has a character past U+00FF")?;
    let mut d = MemRangeDesc::new(
        num("base", Some(&r.base))?,
        num("len", Some(&r.len))?,
        MdfFlags::from_bits_retain(flags),
        "",
    );
    d.set_owner_bytes(&owner);
    Ok(d)
}

fn error_of(raw: &Raw) -> Result<Option<Box<Error>>, String> {
    let Some(name) = raw.errno.as_deref() else {
        return Ok(None);
    };
    let errno = Errno::ALL
        .iter()
        .copied()
        .find(|e| e.name() == name)
        .ok_or_else(|| format!("unknown errno {name:?}"))?;
    let mut e = Error::new(
        errno,
        raw.error_op.clone().unwrap_or_default(),
        raw.message.clone().unwrap_or_default(),
    );
    if let Some(s) = &raw.subject {
        e.subject = Some(match s.kind.as_str() {
            "addr" => Subject::Addr(num("subject.addr", s.addr.as_deref())?),
            "span" => Subject::Span {
                addr: num("subject.addr", s.addr.as_deref())?,
                len: num("subject.len", s.len.as_deref())?,
            },
            "range" => Subject::Range {
                base: num("subject.base", s.base.as_deref())?,
                len: num("subject.len", s.len.as_deref())?,
            },
            other => return Err(format!("unknown subject kind {other:?}")),
        });
    }
    if let Some(d) = raw.done.as_deref() {
        e.done = Some(num("done", Some(d))?);
    }
    Ok(Some(Box::new(e)))
}

fn entry_of(raw: Raw, line: usize, srcs: &mut HashMap<String, Rc<str>>) -> Result<Entry, String> {
    let kind = Kind::named(&raw.op).ok_or_else(|| format!("unknown op {:?}", raw.op))?;
    let error = error_of(&raw)?;
    let failed = error.is_some();
    let space = if kind.has_space() {
        let s = raw.space.as_deref().ok_or("'space' is missing")?;
        space_named(s).ok_or_else(|| format!("unknown space {s:?}"))?
    } else {
        Space::Phys
    };
    let src = raw.src.as_deref().map(|s| match srcs.get(s) {
        Some(rc) => rc.clone(),
        None => {
            let rc: Rc<str> = s.into();
            srcs.insert(s.to_string(), rc.clone());
            rc
        }
    });
    let mut e = Entry {
        seq: raw.seq,
        line,
        kind,
        space,
        addr: 0,
        width: None,
        value: 0,
        len: 0,
        repeat: raw.repeat.unwrap_or(1),
        t_ns: raw.t_ns,
        src,
        error,
        more: None,
        performed: raw.performed.unwrap_or(true),
    };
    if e.repeat == 0 {
        return Err("'repeat' is 0".into());
    }
    if raw.performed.is_some() && !matches!(kind, Kind::Write | Kind::WriteBytes | Kind::RangeSet) {
        return Err(format!(
            "'performed' is for writes and memory-range changes, not {:?}",
            raw.op
        ));
    }
    let addr = raw.addr.as_deref();
    let data = |raw: &Raw| -> Result<Option<Box<More>>, String> {
        match raw.data.as_deref() {
            Some(d) => crate::b64::decode(d)
                .map(|d| Some(Box::new(More::Data(d))))
                .ok_or_else(|| "'data' is not base64".to_string()),
            None => Ok(None),
        }
    };
    match kind {
        Kind::Read | Kind::Write => {
            e.addr = num("addr", addr)?;
            let w = width_of(raw.width)?;
            e.width = Some(w);
            if kind == Kind::Write || !failed {
                e.value = num("value", raw.value.as_deref())?;
                // A write the backend refused may carry a value too wide.
                if !failed && !w.fits(e.value) {
                    return Err(format!(
                        "'value' {:#x} does not fit in {} bits",
                        e.value,
                        w.bits()
                    ));
                }
            }
        }
        Kind::ReadBytes | Kind::WriteBytes => {
            e.addr = num("addr", addr)?;
            e.len = num("len", raw.len.as_deref())?;
            e.more = data(&raw)?;
            let have = e.data().len() as u64;
            let want = if kind == Kind::ReadBytes && failed {
                e.error
                    .as_ref()
                    .and_then(|x| x.done)
                    .unwrap_or(0)
                    .min(e.len)
            } else {
                e.len
            };
            if have != want && !(failed && kind == Kind::ReadBytes && have <= e.len) {
                return Err(format!("'data' holds {have} bytes where {want} were moved"));
            }
        }
        Kind::Extract => {
            let pages = raw.pages.as_ref().ok_or("'pages' is missing")?;
            let mut out = Vec::with_capacity(pages.len());
            for p in pages {
                let vaddr = num("pages.vaddr", Some(&p.vaddr))?;
                let state = match p.state.as_str() {
                    "invalid" => PageState::Invalid,
                    "valid" => PageState::Valid,
                    "mapped" => PageState::Mapped,
                    other => return Err(format!("unknown page state {other:?}")),
                };
                out.push(MemExtract {
                    vaddr,
                    state,
                    paddr: p
                        .paddr
                        .as_deref()
                        .map(|a| num("pages.paddr", Some(a)))
                        .transpose()?,
                    domain: p.domain,
                    hidden: p.hidden,
                });
            }
            e.addr = out.first().map_or(0, |p| p.vaddr);
            e.more = Some(Box::new(More::Pages(out)));
        }
        Kind::RangeCount => {
            if !failed {
                e.value = num("value", raw.value.as_deref())?;
            }
        }
        Kind::RangeGet => {
            if !failed {
                let ranges = raw.ranges.as_ref().ok_or("'ranges' is missing")?;
                let list = ranges.iter().map(range_of).collect::<Result<Vec<_>, _>>()?;
                e.more = Some(Box::new(More::Ranges(list)));
            }
        }
        Kind::RangeSet => {
            let d = range_of(raw.range.as_ref().ok_or("'range' is missing")?)?;
            let op = match raw.action.as_deref() {
                Some("update") => RangeOp::Update,
                Some("remove") => RangeOp::Remove,
                other => {
                    return Err(format!(
                        "'action' is {other:?}, not \"update\" or \"remove\""
                    ))
                }
            };
            e.addr = d.base;
            e.len = d.len;
            e.more = Some(Box::new(More::Range(d, op)));
        }
        Kind::Symbol => {
            let name = raw.name.clone().ok_or("'name' is missing")?;
            if !failed {
                e.value = num("value", raw.value.as_deref())?;
            }
            e.more = Some(Box::new(More::Name(name)));
        }
        Kind::ProcessMap => {
            e.len = num("len", raw.len.as_deref())?;
            if !failed {
                e.value = num("value", raw.value.as_deref())?;
            }
        }
        Kind::ProcessUnmap | Kind::ProcessLock | Kind::ProcessUnlock => {
            e.addr = num("addr", addr)?;
            e.len = num("len", raw.len.as_deref())?;
        }
        Kind::Mark => {
            e.more = Some(Box::new(More::Text(raw.text.clone().unwrap_or_default())));
        }
        Kind::End => {
            e.more = Some(Box::new(More::End {
                status: raw.status.unwrap_or(0),
                how: raw.how.clone().unwrap_or_default(),
                message: raw.message.clone(),
            }));
        }
    }
    Ok(e)
}

/// The lines the recorder writes most, a single read or write that
/// succeeded, read without serde: with it, loading took most of a
/// replay's time. Only the exact form the recorder writes is taken (no
/// escapes, these keys in this order); anything else is None, for serde.
fn quick(line: &[u8]) -> Option<Raw<'_>> {
    struct Cur<'a>(&'a [u8]);
    impl<'a> Cur<'a> {
        fn lit(&mut self, s: &[u8]) -> Option<()> {
            self.0 = self.0.strip_prefix(s)?;
            Some(())
        }
        fn digits(&mut self) -> Option<u64> {
            let n = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 19 || (n > 1 && self.0[0] == b'0') {
                return None;
            }
            let (d, rest) = self.0.split_at(n);
            self.0 = rest;
            std::str::from_utf8(d).ok()?.parse().ok()
        }
        /// A string's text up to its closing quote; None if it has an
        /// escape or a control character.
        fn text(&mut self) -> Option<&'a str> {
            let n = self.0.iter().position(|&b| b == b'"')?;
            let (t, rest) = self.0.split_at(n);
            if t.iter().any(|&b| b == b'\\' || b < 0x20) {
                return None;
            }
            self.0 = &rest[1..];
            std::str::from_utf8(t).ok()
        }
    }
    let mut c = Cur(line);
    c.lit(b"{\"seq\":")?;
    let seq = c.digits()?;
    c.lit(b",\"op\":\"")?;
    let op = c.text()?;
    if op != "read" && op != "write" {
        return None;
    }
    c.lit(b",\"space\":\"")?;
    let space = c.text()?;
    c.lit(b",\"addr\":\"")?;
    let addr = c.text()?;
    c.lit(b",\"width\":")?;
    let width = u32::try_from(c.digits()?).ok()?;
    c.lit(b",\"value\":\"")?;
    let value = c.text()?;
    let performed = match c.lit(b",\"performed\":false") {
        Some(()) if op == "write" => Some(false),
        Some(()) => return None,
        None => None,
    };
    let repeat = match c.lit(b",\"repeat\":") {
        Some(()) => Some(c.digits()?),
        None => None,
    };
    c.lit(b",\"t_ns\":")?;
    let t_ns = c.digits()?;
    let src = match c.lit(b",\"src\":\"") {
        Some(()) => Some(c.text()?),
        None => None,
    };
    c.lit(b"}")?;
    if !c.0.is_empty() {
        return None;
    }
    Some(Raw {
        seq,
        op: Cow::Borrowed(op),
        space: Some(Cow::Borrowed(space)),
        addr: Some(Cow::Borrowed(addr)),
        width: Some(width),
        value: Some(Cow::Borrowed(value)),
        len: None,
        data: None,
        repeat,
        t_ns,
        src: src.map(Cow::Borrowed),
        errno: None,
        message: None,
        error_op: None,
        subject: None,
        done: None,
        pages: None,
        ranges: None,
        range: None,
        action: None,
        name: None,
        text: None,
        status: None,
        how: None,
        performed,
    })
}

/// Parses a whole trace; an error gives the line (1-based; 0 for the
/// file as a whole).
pub fn parse(text: &[u8]) -> Result<Trace, LineError> {
    let mut lines = text.split(|&b| b == b'\n').enumerate().peekable();
    let header = match lines.next() {
        Some((_, l)) if !l.is_empty() => l,
        _ => return Err((0, "empty: not a memlua trace".into())),
    };
    let value: serde_json::Value = serde_json::from_slice(header).map_err(|e| {
        (
            1,
            format!("not a memlua trace: the header is not JSON ({e})"),
        )
    })?;
    let version = value.get("memlua_trace").and_then(|v| v.as_u64());
    match version {
        None => {
            return Err((
                1,
                "not a memlua trace: the header has no \"memlua_trace\"".into(),
            ))
        }
        Some(v) if v > FORMAT => {
            return Err((
                1,
                format!("trace format {v} is newer than this memlua reads ({FORMAT})"),
            ))
        }
        Some(_) => {}
    }
    let header: Header =
        serde_json::from_value(value).map_err(|e| (1, format!("bad header: {e}")))?;
    // One entry a line: counting them first spares a million-line trace
    // the copies of a growing vector.
    let mut entries = Vec::with_capacity(text.iter().filter(|&&b| b == b'\n').count());
    let mut srcs = HashMap::new();
    let mut ended = false;
    while let Some((i, bytes)) = lines.next() {
        let line = i + 1;
        if bytes.is_empty() {
            if lines.peek().is_none() {
                break; // the newline ending the last line
            }
            return Err((line, "empty line".into()));
        }
        if ended {
            return Err((line, "a line after the \"end\" line".into()));
        }
        let fast = quick(bytes);
        let raw: Raw = match fast {
            Some(raw) => Ok(raw),
            None => serde_json::from_slice(bytes),
        }
        .map_err(|e| {
            if e.is_eof() {
                (
                    line,
                    format!("the line is cut short ({e}): the trace is truncated"),
                )
            } else {
                (line, format!("not a trace line: {e}"))
            }
        })?;
        let want = entries.last().map_or(1, |e: &Entry| e.seq + 1);
        if raw.seq != want {
            return Err((
                line,
                format!(
                    "seq {} where {want} was due: lines are missing or out of order",
                    raw.seq
                ),
            ));
        }
        let e = entry_of(raw, line, &mut srcs).map_err(|m| (line, m))?;
        ended = e.kind == Kind::End;
        entries.push(e);
    }
    Ok(Trace { header, entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"{"memlua_trace":1,"backend":"sim","board":"pc","argv":["memlua"],"started":"2026-01-01T00:00:00Z","regions":[{"base":"0xfe000000","size":"0x1000","name":"uart0","kind":"uart16550"}]}"#;

    fn trace(lines: &[&str]) -> Result<Trace, LineError> {
        let mut t = String::from(HEAD);
        for l in lines {
            t.push('\n');
            t.push_str(l);
        }
        t.push('\n');
        parse(t.as_bytes())
    }

    #[test]
    fn reads_every_kind() {
        let t = trace(&[
            r#"{"seq":1,"op":"write","space":"phys","addr":"0xfe000003","width":8,"value":"0x80","t_ns":5,"src":"u.lua:3"}"#,
            r#"{"seq":2,"op":"read","space":"phys","addr":"0xfe000005","width":8,"value":"0x60","repeat":4,"t_ns":6,"src":"u.lua:4"}"#,
            r#"{"seq":3,"op":"read","space":"phys","addr":"0x1","width":32,"errno":"EINVAL","message":"misaligned","subject":{"kind":"addr","addr":"0x1"},"t_ns":7}"#,
            r#"{"seq":4,"op":"write_bytes","space":"kmem","addr":"0x10","len":"0x3","data":"Zm9v","t_ns":8}"#,
            r#"{"seq":5,"op":"range_set","action":"update","range":{"base":"0x0","len":"0x1000","flags":"0x8000001","owner":"gpu"},"t_ns":9}"#,
            r#"{"seq":6,"op":"extract","pages":[{"vaddr":"0x7000","state":"mapped","paddr":"0x9000","domain":0}],"t_ns":9}"#,
            r#"{"seq":7,"op":"mark","text":"phase 2","t_ns":9}"#,
            r#"{"seq":8,"op":"end","status":3,"how":"os.exit","t_ns":10}"#,
        ])
        .unwrap();
        assert_eq!(t.header.region_of(0xfe000005), Some("uart0"));
        assert_eq!(t.entries.len(), 8);
        assert_eq!(t.entries[1].repeat, 4);
        assert_eq!(t.accesses(), 9);
        assert_eq!(t.entries[0].describe(), "mem.write8(0xfe000003, 0x80)");
        assert_eq!(t.entries[1].describe(), "mem.read8(0xfe000005) x4");
        assert_eq!(t.entries[2].error.as_ref().unwrap().errno, Errno::EINVAL);
        assert_eq!(t.entries[3].data(), b"foo");
        assert!(t.entries[4].describe().starts_with("memrange.set{base=0x0"));
        assert_eq!(t.entries[2].line, 4);
        assert!(t.end().is_some());
    }

    #[test]
    fn the_quick_reader_takes_only_what_serde_reads_the_same() {
        for line in [
            r#"{"seq":12,"op":"read","space":"phys","addr":"0xfe000005","width":8,"value":"0x60","repeat":4,"t_ns":6,"src":"u.lua:4"}"#,
            r#"{"seq":1,"op":"write","space":"kmem","addr":"0x10","width":64,"value":"0xffffffffffffffff","t_ns":0}"#,
            r#"{"seq":2,"op":"write","space":"phys","addr":"0x10","width":8,"value":"0x1","performed":false,"t_ns":0,"src":"d.lua:1"}"#,
        ] {
            let mut srcs = HashMap::new();
            let q = entry_of(quick(line.as_bytes()).unwrap(), 1, &mut srcs).unwrap();
            let s = entry_of(serde_json::from_str(line).unwrap(), 1, &mut srcs).unwrap();
            assert_eq!(q, s);
        }
        for line in [
            r#"{"seq":1,"op":"read","space":"phys","addr":"0x1","width":32,"errno":"EINVAL","message":"m","t_ns":3}"#,
            r#"{"seq":1,"op":"read","space":"phys","addr":"0x1","width":32,"value":"0x0","t_ns":3,"src":"a\"b"}"#,
            r#"{"seq":01,"op":"read","space":"phys","addr":"0x1","width":32,"value":"0x0","t_ns":3}"#,
            r#"{"seq":1,"op":"read","space":"phys","addr":"0x1","width":32,"value":"0x0","t_ns":3} "#,
            r#"{"seq":1,"op":"mark","text":"x","t_ns":3}"#,
        ] {
            assert!(quick(line.as_bytes()).is_none(), "{line}");
        }
    }

    #[test]
    fn damage_is_refused_with_its_line() {
        let cut = r#"{"seq":1,"op":"write","space":"phys","addr":"0xfe0"#;
        let (line, msg) = trace(&[cut]).unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("truncated"), "{msg}");
        let (line, msg) = trace(&[
            r#"{"seq":1,"op":"mark","t_ns":1}"#,
            r#"{"seq":3,"op":"mark","t_ns":1}"#,
        ])
        .unwrap_err();
        assert_eq!(line, 3);
        assert!(msg.contains("seq 3 where 2"), "{msg}");
        let (line, msg) = trace(&[
            r#"{"seq":1,"op":"read","space":"phys","addr":"0x0","width":12,"value":"0x0"}"#,
        ])
        .unwrap_err();
        assert_eq!(line, 2);
        assert!(msg.contains("width"), "{msg}");
        assert_eq!(parse(b"{\"x\":1}\n").unwrap_err().0, 1);
        assert!(parse(b"{\"memlua_trace\":9,\"backend\":\"sim\"}\n")
            .unwrap_err()
            .1
            .contains("newer"));
    }
}
