//! The replay backend: answers every operation from a trace, checking
//! that the run makes the operations the recording made.
//!
//! - **Strict** (the default): each operation must be the next one
//!   recorded, with the same op, space, address and width (length for
//!   bulk transfers), and a write the same value (bytes). A read gets the
//!   recorded value, a failure the recorded error. Reaching the end of
//!   the run with recorded operations left is an error too.
//! - **Relaxed**: each address (and each kind of call without one: memory
//!   ranges, symbols by name, buffers by address) keeps its own order, so
//!   a run that reorders independent accesses still replays; a poll loop
//!   may read more or fewer times than recorded (a run of identical reads
//!   ends when the next recorded operation there comes, and the last one
//!   answers again when there is nothing after it). Leftovers are fine.
//!
//! In both modes buffer unmaps are matched by address wherever they are:
//! the garbage collector, not the script, decides when an unfreed buffer
//! goes. The first difference is an EIO that names the step (`seq`), the
//! recorded and the actual operation and the script position of each;
//! every operation after it fails the same way, and `finish` reports it,
//! so a script that catches the error still ends with it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::file::{self, Entry, Kind, More, Trace};
use super::{Control, End, How};
use crate::{
    Backend, Errno, Error, MemExtract, MemRangeDesc, Position, RangeOp, Result, Space, Width,
};

/// How closely a run must follow its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Strict,
    Relaxed,
}

impl Mode {
    pub fn named(name: &str) -> Option<Mode> {
        match name {
            "strict" => Some(Mode::Strict),
            "relaxed" => Some(Mode::Relaxed),
            _ => None,
        }
    }
}

/// An operation of this run, to match against the trace.
struct Actual<'a> {
    kind: Kind,
    space: Space,
    addr: u64,
    width: Option<Width>,
    value: u64,
    len: u64,
    data: &'a [u8],
    pages: &'a [MemExtract],
    range: Option<(&'a MemRangeDesc, RangeOp)>,
    name: &'a str,
}

impl<'a> Actual<'a> {
    fn new(kind: Kind) -> Self {
        Actual {
            kind,
            space: Space::Phys,
            addr: 0,
            width: None,
            value: 0,
            len: 0,
            data: &[],
            pages: &[],
            range: None,
            name: "",
        }
    }

    fn access(kind: Kind, space: Space, addr: u64, w: Width, value: u64) -> Self {
        Actual {
            space,
            addr,
            width: Some(w),
            value,
            ..Actual::new(kind)
        }
    }

    fn bulk(kind: Kind, space: Space, addr: u64, data: &'a [u8], len: u64) -> Self {
        Actual {
            space,
            addr,
            len,
            data,
            ..Actual::new(kind)
        }
    }

    fn buffer(kind: Kind, base: u64, len: u64) -> Self {
        Actual {
            addr: base,
            len,
            ..Actual::new(kind)
        }
    }

    /// As an entry, to describe it in a message.
    fn entry(&self) -> Entry {
        let more = match self.kind {
            Kind::WriteBytes => Some(More::Data(self.data.to_vec())),
            Kind::Extract => Some(More::Pages(self.pages.to_vec())),
            Kind::RangeSet => self.range.map(|(d, op)| More::Range(*d, op)),
            Kind::Symbol => Some(More::Name(self.name.to_string())),
            _ => None,
        };
        Entry {
            seq: 0,
            line: 0,
            kind: self.kind,
            space: self.space,
            addr: self.addr,
            width: self.width,
            value: self.value,
            len: self.len,
            repeat: 1,
            t_ns: 0,
            src: None,
            error: None,
            more: more.map(Box::new),
            performed: true,
        }
    }

    /// Whether `e` records this operation (a read's value is the trace's
    /// to give, so it is not compared).
    fn is(&self, e: &Entry) -> bool {
        if e.kind != self.kind {
            return false;
        }
        let at = e.space == self.space && e.addr == self.addr;
        match self.kind {
            Kind::Read => at && e.width == self.width,
            Kind::Write => at && e.width == self.width && e.value == self.value,
            Kind::ReadBytes => at && e.len == self.len,
            Kind::WriteBytes => at && e.len == self.len && e.data() == self.data,
            Kind::Extract => match e.more.as_deref() {
                Some(More::Pages(p)) => {
                    p.len() == self.pages.len()
                        && p.iter().zip(self.pages).all(|(a, b)| a.vaddr == b.vaddr)
                }
                _ => false,
            },
            Kind::RangeCount | Kind::RangeGet => true,
            Kind::RangeSet => match (e.more.as_deref(), self.range) {
                (Some(More::Range(d, op)), Some((d2, op2))) => d == d2 && *op == op2,
                _ => false,
            },
            Kind::Symbol => matches!(e.more.as_deref(), Some(More::Name(n)) if n == self.name),
            Kind::ProcessMap => e.len == self.len,
            Kind::ProcessUnmap | Kind::ProcessLock | Kind::ProcessUnlock => {
                e.addr == self.addr && e.len == self.len
            }
            Kind::Mark | Kind::End => false,
        }
    }

    /// Where relaxed mode keeps this operation's order.
    fn key(&self) -> Key {
        key(self.kind, self.space, self.addr, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    At(u8, u64),
    Extract(u64),
    Ranges,
    Symbol(String),
    Alloc,
    Buffer(u64),
    None,
}

fn key(kind: Kind, space: Space, addr: u64, name: &str) -> Key {
    match kind {
        Kind::Read | Kind::Write | Kind::ReadBytes | Kind::WriteBytes => Key::At(space as u8, addr),
        Kind::Extract => Key::Extract(addr),
        Kind::RangeCount | Kind::RangeGet | Kind::RangeSet => Key::Ranges,
        Kind::Symbol => Key::Symbol(name.to_string()),
        Kind::ProcessMap => Key::Alloc,
        Kind::ProcessUnmap | Kind::ProcessLock | Kind::ProcessUnlock => Key::Buffer(addr),
        Kind::Mark | Kind::End => Key::None,
    }
}

fn entry_key(e: &Entry) -> Key {
    let name = match e.more.as_deref() {
        Some(More::Name(n)) => n.as_str(),
        _ => "",
    };
    key(e.kind, e.space, e.addr, name)
}

/// One address's operations in relaxed mode.
#[derive(Default)]
struct Queue {
    entries: Vec<usize>,
    pos: usize,
    /// Reads of the run at `pos` used so far.
    used: u64,
}

struct State {
    path: String,
    trace: Trace,
    mode: Mode,
    /// Strict: the next entry, and the reads of its run used so far.
    cursor: usize,
    used: u64,
    /// Unmaps matched (by address) before the cursor reached them.
    unmapped: Vec<bool>,
    /// Unmaps the cursor passed before the run made them.
    owed_unmaps: Vec<usize>,
    queues: HashMap<Key, Queue>,
    diverged: Option<Error>,
    position: Option<Position>,
    finished: bool,
}

impl State {
    /// Where the script is, asked only when reporting a difference.
    fn position(&self) -> String {
        self.position
            .as_ref()
            .and_then(|p| p())
            .unwrap_or_else(|| "an unknown place".into())
    }

    fn place(&self, e: &Entry) -> String {
        format!("{}:{}", self.path, e.line)
    }

    /// The divergence error: the step, both operations, both positions.
    fn differs(&mut self, e: Option<usize>, a: &Actual, why: &str) -> Error {
        let now = a.entry().describe();
        let here = self.position();
        let message = match e.map(|i| &self.trace.entries[i]) {
            Some(e) if e.kind == Kind::End => {
                let how = match e.more.as_deref() {
                    Some(More::End {
                        status,
                        how,
                        message,
                    }) => match message {
                        Some(m) => format!("{how}, status {status}: {m}"),
                        None => format!("{how}, status {status}"),
                    },
                    _ => String::new(),
                };
                format!(
                    "replay diverged at seq {} ({}): the recording ended there ({how}), \
                     but this run went on with {now} at {here}",
                    e.seq,
                    self.place(e)
                )
            }
            Some(e) => format!(
                "replay diverged at seq {} ({}): the trace has {}{} at {}, \
                 this run made {now} at {here}{why}",
                e.seq,
                self.place(e),
                e.describe(),
                e.outcome(),
                e.place_in_script(),
            ),
            None => {
                let last = self.trace.entries.last().map_or(0, |e| e.seq);
                format!(
                    "replay diverged after seq {last}: the trace {} ends there without an end \
                     line (the recording was cut off), but this run went on with {now} at {here}",
                    self.path
                )
            }
        };
        let e = Error::new(Errno::EIO, "", message);
        self.diverged = Some(e.clone());
        e
    }

    /// The entry answering `a`, or the divergence.
    fn step(&mut self, a: &Actual) -> std::result::Result<usize, Error> {
        if let Some(e) = &self.diverged {
            return Err(e.clone());
        }
        if self.finished {
            // Finalizers after os.exit: nothing is checked any more.
            return Err(Error::new(Errno::EIO, "", "the replay is over"));
        }
        if a.kind == Kind::ProcessUnmap {
            return self.unmap(a);
        }
        match self.mode {
            Mode::Strict => self.strict(a),
            Mode::Relaxed => self.relaxed(a),
        }
    }

    /// Moves the cursor past marks and unmaps (matched by address).
    fn skip(&mut self) {
        while let Some(e) = self.trace.entries.get(self.cursor) {
            match e.kind {
                Kind::Mark => {}
                Kind::ProcessUnmap if self.mode == Mode::Strict => {
                    if !self.unmapped[self.cursor] {
                        self.owed_unmaps.push(self.cursor);
                    }
                }
                _ => return,
            }
            self.cursor += 1;
            self.used = 0;
        }
    }

    fn strict(&mut self, a: &Actual) -> std::result::Result<usize, Error> {
        self.skip();
        let i = self.cursor;
        let Some(e) = self.trace.entries.get(i) else {
            return Err(self.differs(None, a, ""));
        };
        if !a.is(e) {
            let why = if self.used > 0 {
                format!(
                    " (after {} of the trace's {} identical reads)",
                    self.used, e.repeat
                )
            } else {
                String::new()
            };
            return Err(self.differs(Some(i), a, &why));
        }
        self.used += 1;
        if self.used >= e.repeat {
            self.cursor += 1;
            self.used = 0;
        }
        Ok(i)
    }

    fn relaxed(&mut self, a: &Actual) -> std::result::Result<usize, Error> {
        let entries = &self.trace.entries;
        // Err: the entry that should have come, or how many were recorded
        // here (all used up).
        let found: std::result::Result<usize, std::result::Result<usize, usize>> = match self
            .queues
            .get_mut(&a.key())
        {
            None => Err(Err(0)),
            Some(q) => loop {
                let Some(&i) = q.entries.get(q.pos) else {
                    // Past the last: a poll loop reading once more.
                    match q.entries.last() {
                        Some(&last) if entries[last].kind == Kind::Read && a.is(&entries[last]) => {
                            break Ok(last)
                        }
                        _ => break Err(Err(q.entries.len())),
                    }
                };
                let e = &entries[i];
                if a.is(e) {
                    if e.kind != Kind::Read {
                        q.pos += 1;
                        q.used = 0;
                        break Ok(i);
                    }
                    if q.used < e.repeat {
                        q.used += 1;
                        break Ok(i);
                    }
                    // The run is used up: the next read there, or this
                    // run's value again.
                    match q.entries.get(q.pos + 1) {
                        Some(&next) if a.is(&entries[next]) => {
                            q.pos += 1;
                            q.used = 1;
                            break Ok(next);
                        }
                        _ => break Ok(i),
                    }
                }
                if e.kind == Kind::Read && q.used > 0 {
                    // Fewer reads than recorded: the run is over.
                    q.pos += 1;
                    q.used = 0;
                    continue;
                }
                break Err(Ok(i));
            },
        };
        found.map_err(|miss| match miss {
            Ok(i) => self.differs(
                Some(i),
                a,
                " (relaxed mode: the next operation recorded at this address)",
            ),
            Err(n) => {
                let what = if n == 0 {
                    "records nothing like it at this address".to_string()
                } else {
                    format!("has {n} operation(s) like it at this address, all used")
                };
                let m = format!(
                    "replay diverged: this run made {} at {}, and the trace {} {what} \
                     (relaxed mode)",
                    a.entry().describe(),
                    self.position(),
                    self.path
                );
                let e = Error::new(Errno::EIO, "", m);
                self.diverged = Some(e.clone());
                e
            }
        })
    }

    /// A buffer unmap: the first one recorded for this buffer that no
    /// unmap matched yet, wherever it is.
    fn unmap(&mut self, a: &Actual) -> std::result::Result<usize, Error> {
        if let Some(at) = self
            .owed_unmaps
            .iter()
            .position(|&i| a.is(&self.trace.entries[i]))
        {
            return Ok(self.owed_unmaps.remove(at));
        }
        let from = match self.mode {
            Mode::Strict => self.cursor,
            Mode::Relaxed => 0,
        };
        let found = (from..self.trace.entries.len())
            .find(|&i| !self.unmapped[i] && a.is(&self.trace.entries[i]));
        match found {
            Some(i) => {
                self.unmapped[i] = true;
                Ok(i)
            }
            None => {
                self.skip();
                let next = (self.cursor < self.trace.entries.len()).then_some(self.cursor);
                Err(self.differs(next, a, " (no unmap of this buffer is left in the trace)"))
            }
        }
    }

    /// What was left over at the end of a strict replay.
    fn leftovers(&mut self) -> Option<String> {
        self.skip();
        let mut left: Vec<usize> = self.owed_unmaps.clone();
        let mut count = 0u64;
        let mut i = self.cursor;
        while let Some(e) = self.trace.entries.get(i) {
            let unmatched = match e.kind {
                Kind::Mark | Kind::End => false,
                Kind::ProcessUnmap => !self.unmapped[i],
                _ => true,
            };
            if unmatched {
                left.push(i);
                count += if i == self.cursor {
                    e.repeat - self.used
                } else {
                    e.repeat
                };
            }
            i += 1;
        }
        count += self.owed_unmaps.len() as u64;
        left.sort_unstable();
        let first = *left.first()?;
        let e = &self.trace.entries[first];
        Some(format!(
            "replay: the run ended with {count} recorded operation{} left over, the first at \
             seq {} ({}): {}{} at {}",
            if count == 1 { "" } else { "s" },
            e.seq,
            self.place(e),
            e.describe(),
            e.outcome(),
            e.place_in_script(),
        ))
    }
}

/// The backend that answers from a trace.
pub struct Replay {
    board: Option<String>,
    writable: bool,
    state: Rc<RefCell<State>>,
}

/// The program's handle on a replay.
pub struct Replaying(Rc<RefCell<State>>);

impl Replay {
    /// Loads the trace at `path`.
    pub fn open(path: &str, mode: Mode) -> std::result::Result<(Replay, Rc<Replaying>), String> {
        let trace = file::load(path)?;
        Ok(Self::new(path, trace, mode))
    }

    /// Replays `trace` (read from `path`, for messages).
    pub fn new(path: &str, trace: Trace, mode: Mode) -> (Replay, Rc<Replaying>) {
        let mut queues: HashMap<Key, Queue> = HashMap::new();
        if mode == Mode::Relaxed {
            for (i, e) in trace.entries.iter().enumerate() {
                if !matches!(e.kind, Kind::Mark | Kind::End | Kind::ProcessUnmap) {
                    queues.entry(entry_key(e)).or_default().entries.push(i);
                }
            }
        }
        let state = State {
            path: path.to_string(),
            unmapped: vec![false; trace.entries.len()],
            owed_unmaps: Vec::new(),
            cursor: 0,
            used: 0,
            queues,
            mode,
            diverged: None,
            position: None,
            finished: false,
            trace,
        };
        let replay = Replay {
            board: state.trace.header.board.clone(),
            writable: state.trace.header.writable,
            state: Rc::new(RefCell::new(state)),
        };
        let handle = Rc::new(Replaying(replay.state.clone()));
        (replay, handle)
    }

    /// Matches `a` and answers with `f` of the entry (or its error).
    #[inline]
    fn answer<T>(&self, a: &Actual, f: impl FnOnce(&Entry) -> T) -> Result<T> {
        let mut s = self.state.try_borrow_mut().map_err(|_| {
            Error::new(
                Errno::EBUSY,
                "",
                "the replay is busy with another operation",
            )
        })?;
        let i = s.step(a)?;
        let e = &s.trace.entries[i];
        match &e.error {
            Some(err) => Err((**err).clone()),
            None => Ok(f(e)),
        }
    }
}

impl Backend for Replay {
    fn name(&self) -> &str {
        "replay"
    }
    fn writable(&self) -> bool {
        self.writable
    }
    fn board(&self) -> Option<&str> {
        self.board.as_deref()
    }

    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.answer(&Actual::access(Kind::Read, space, addr, w, 0), |e| e.value)
    }

    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.answer(&Actual::access(Kind::Write, space, addr, w, v), |_| ())
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        let a = Actual::bulk(Kind::ReadBytes, space, addr, &[], buf.len() as u64);
        let mut s = self.state.try_borrow_mut().map_err(|_| {
            Error::new(
                Errno::EBUSY,
                "",
                "the replay is busy with another operation",
            )
        })?;
        let i = s.step(&a)?;
        let e = &s.trace.entries[i];
        let data = e.data();
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        match &e.error {
            Some(err) => Err((**err).clone()),
            None => Ok(()),
        }
    }

    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        let a = Actual::bulk(Kind::WriteBytes, space, addr, buf, buf.len() as u64);
        self.answer(&a, |_| ())
    }

    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        let recorded = {
            let a = Actual {
                addr: pages.first().map_or(0, |p| p.vaddr),
                pages,
                ..Actual::new(Kind::Extract)
            };
            self.answer(&a, |e| match e.more.as_deref() {
                Some(More::Pages(p)) => p.clone(),
                _ => Vec::new(),
            })?
        };
        for (out, r) in pages.iter_mut().zip(recorded) {
            *out = r;
        }
        Ok(())
    }

    fn range_count(&mut self) -> Result<usize> {
        self.answer(&Actual::new(Kind::RangeCount), |e| e.value as usize)
    }

    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        self.answer(&Actual::new(Kind::RangeGet), |e| match e.more.as_deref() {
            Some(More::Ranges(r)) => r.clone(),
            _ => Vec::new(),
        })
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let a = Actual {
            addr: d.base,
            len: d.len,
            range: Some((d, op)),
            ..Actual::new(Kind::RangeSet)
        };
        self.answer(&a, |_| ())
    }

    fn symbol(&mut self, name: &str) -> Result<u64> {
        let a = Actual {
            name,
            ..Actual::new(Kind::Symbol)
        };
        self.answer(&a, |e| e.value)
    }

    fn process_map(&mut self, len: u64) -> Result<u64> {
        let a = Actual {
            len,
            ..Actual::new(Kind::ProcessMap)
        };
        self.answer(&a, |e| e.value)
    }

    fn process_unmap(&mut self, base: u64, len: u64) -> Result<()> {
        self.answer(&Actual::buffer(Kind::ProcessUnmap, base, len), |_| ())
    }

    fn process_lock(&mut self, base: u64, len: u64) -> Result<()> {
        self.answer(&Actual::buffer(Kind::ProcessLock, base, len), |_| ())
    }

    fn process_unlock(&mut self, base: u64, len: u64) -> Result<()> {
        self.answer(&Actual::buffer(Kind::ProcessUnlock, base, len), |_| ())
    }

    fn set_position(&mut self, position: Position) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            s.position = Some(position);
        }
    }
}

impl Control for Replaying {
    fn mark(&self, _text: &str) {}

    fn finish(&self, end: &End) -> std::result::Result<(), String> {
        let Ok(mut s) = self.0.try_borrow_mut() else {
            return Err("the replay was busy at the end of the run".into());
        };
        if s.finished {
            return Ok(());
        }
        s.finished = true;
        if let Some(e) = &s.diverged {
            return Err(e.message.clone());
        }
        if s.mode == Mode::Strict && !matches!(end.how, How::Failed(_)) {
            if let Some(m) = s.leftovers() {
                return Err(m);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::file::parse;

    const HEAD: &str = r#"{"memlua_trace":1,"backend":"sim","board":"pc","argv":[],"started":""}"#;

    fn replay(mode: Mode, lines: &[&str]) -> (Replay, Rc<Replaying>) {
        let mut t = String::from(HEAD);
        for (i, l) in lines.iter().enumerate() {
            t.push_str(&format!("\n{{\"seq\":{},{l}}}", i + 1));
        }
        t.push('\n');
        Replay::new("t.jsonl", parse(t.as_bytes()).unwrap(), mode)
    }

    const W: &str =
        r#""op":"write","space":"phys","addr":"0x10","width":32,"value":"0x1","src":"a.lua:1""#;
    const W2: &str =
        r#""op":"write","space":"phys","addr":"0x20","width":32,"value":"0x2","src":"a.lua:2""#;
    const POLL0: &str =
        r#""op":"read","space":"phys","addr":"0x30","width":32,"value":"0x0","repeat":3"#;
    const POLL1: &str = r#""op":"read","space":"phys","addr":"0x30","width":32,"value":"0x1""#;
    const END: &str = r#""op":"end","status":0,"how":"returned""#;

    fn ended() -> End {
        End {
            status: 0,
            how: How::Returned,
        }
    }

    #[test]
    fn strict_answers_in_order_and_refuses_a_changed_write() {
        let (mut r, h) = replay(Mode::Strict, &[W, POLL0, POLL1, W2, END]);
        assert_eq!(r.name(), "replay");
        assert_eq!(r.board(), Some("pc"));
        r.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        let mut reads = 0;
        while r.read(Space::Phys, 0x30, Width::W32).unwrap() == 0 {
            reads += 1;
        }
        assert_eq!(reads, 3);
        r.set_position(Rc::new(|| Some("b.lua:9".to_string())));
        let e = r.write(Space::Phys, 0x20, Width::W32, 3).unwrap_err();
        assert_eq!(e.errno, Errno::EIO);
        for part in [
            "seq 4",
            "mem.write32(0x20, 0x2) at a.lua:2",
            "mem.write32(0x20, 0x3) at b.lua:9",
        ] {
            assert!(e.message.contains(part), "{part}: {}", e.message);
        }
        // Everything after fails the same way, and the end says so.
        assert_eq!(r.write(Space::Phys, 0x20, Width::W32, 2).unwrap_err(), e);
        assert_eq!(h.finish(&ended()).unwrap_err(), e.message);
    }

    #[test]
    fn strict_refuses_leftovers_and_extra_operations() {
        let (mut r, h) = replay(Mode::Strict, &[W, W2, END]);
        r.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        let m = h.finish(&ended()).unwrap_err();
        assert!(
            m.contains("1 recorded operation left over") && m.contains("seq 2"),
            "{m}"
        );

        let (mut r, _) = replay(Mode::Strict, &[W, END]);
        r.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        let e = r.read(Space::Phys, 0x10, Width::W32).unwrap_err();
        assert!(
            e.message.contains("the recording ended there"),
            "{}",
            e.message
        );
    }

    #[test]
    fn relaxed_takes_reordered_writes_and_longer_or_shorter_polls() {
        let (mut r, h) = replay(Mode::Relaxed, &[W, W2, POLL0, POLL1, END]);
        r.write(Space::Phys, 0x20, Width::W32, 2).unwrap();
        r.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        // Two zeros of three, then the one, then the one again.
        assert_eq!(r.read(Space::Phys, 0x30, Width::W32).unwrap(), 0);
        assert_eq!(r.read(Space::Phys, 0x30, Width::W32).unwrap(), 0);
        let (mut r2, _) = replay(Mode::Relaxed, &[POLL0, W, END]);
        assert_eq!(r2.read(Space::Phys, 0x30, Width::W32).unwrap(), 0);
        r2.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        let mut ones = 0;
        for _ in 0..5 {
            ones += r.read(Space::Phys, 0x30, Width::W32).unwrap();
        }
        assert!(ones >= 4, "{ones}");
        h.finish(&ended()).unwrap();
        // A changed value still fails.
        let (mut r, _) = replay(Mode::Relaxed, &[W, END]);
        assert!(r.write(Space::Phys, 0x10, Width::W32, 9).is_err());
    }

    #[test]
    fn unmaps_match_by_address_wherever_they_are() {
        let map = r#""op":"process_map","len":"0x1000","value":"0x7000""#;
        let unmap = r#""op":"process_unmap","addr":"0x7000","len":"0x1000""#;
        let (mut r, h) = replay(Mode::Strict, &[map, unmap, W, END]);
        assert_eq!(r.process_map(0x1000).unwrap(), 0x7000);
        r.write(Space::Phys, 0x10, Width::W32, 1).unwrap();
        r.process_unmap(0x7000, 0x1000).unwrap();
        h.finish(&ended()).unwrap();
    }

    #[test]
    fn failures_come_back_with_their_errno() {
        let f = r#""op":"read","space":"phys","addr":"0x1","width":32,"errno":"EINVAL","message":"misaligned""#;
        let (mut r, _) = replay(Mode::Strict, &[f, END]);
        let e = r.read(Space::Phys, 0x1, Width::W32).unwrap_err();
        assert_eq!((e.errno, e.message.as_str()), (Errno::EINVAL, "misaligned"));
    }
}
