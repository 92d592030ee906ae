//! The recorder: a layer that writes every operation that passes through
//! it to a trace file (mod.rs has the format), then passes it on.
//!
//! Lines collect in a block of [`BLOCK`] bytes that is written whole, so
//! the file only ever holds whole lines: a crash loses at most the block
//! being filled, never the file's structure. A read identical to the one
//! before it (same space, address, width and value: a poll loop) adds to
//! that line's `repeat` count instead of writing a line, and costs a
//! comparison. The recorder refuses direct maps so that window accesses
//! come through it too.

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::rc::Rc;
use std::time::Instant;

use serde_json::json;

use super::file::Header;
use super::line::Line;
use super::{hex, owner_text, space_name, Control, End, How};
use crate::{
    Backend, DirectMap, Layer, MemExtract, MemRangeDesc, Position, RangeOp, Result, Space, Width,
};

/// Lines are written to the file in blocks of this size.
pub const BLOCK: usize = 64 << 10;

/// A run of identical reads not written yet.
struct Run {
    seq: u64,
    space: Space,
    addr: u64,
    w: Width,
    value: u64,
    t_ns: u64,
    count: u64,
}

/// The recording's state, shared by the layer and the program's handle.
struct Rec {
    path: String,
    out: Option<File>,
    buf: Vec<u8>,
    seq: u64,
    start: Instant,
    run: Option<Run>,
    /// The position of the run's first read.
    run_src: String,
    /// Where the script is (`Backend::set_position`).
    position: Option<Position>,
    /// The first write that failed.
    failed: Option<String>,
    finished: bool,
}

impl Rec {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn t_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn read_ok(&mut self, space: Space, addr: u64, w: Width, value: u64) {
        if let Some(r) = &mut self.run {
            if r.addr == addr && r.value == value && r.w == w && r.space == space {
                r.count += 1;
                return;
            }
        }
        if self.finished {
            return;
        }
        self.close_run();
        self.run_src = self.src();
        self.run = Some(Run {
            seq: self.next_seq(),
            space,
            addr,
            w,
            value,
            t_ns: self.t_ns(),
            count: 1,
        });
    }

    /// The script position, asked for each line written (never for a
    /// read that only adds to a run).
    fn src(&self) -> String {
        self.position.as_ref().and_then(|p| p()).unwrap_or_default()
    }

    /// Writes the pending run of reads, if any.
    fn close_run(&mut self) {
        let Some(r) = self.run.take() else { return };
        let mut l = Line::start(&mut self.buf, r.seq, "read");
        l.str("space", space_name(r.space))
            .hex("addr", r.addr)
            .num("width", u64::from(r.w.bits()))
            .hex("value", r.value);
        if r.count > 1 {
            l.num("repeat", r.count);
        }
        l.end(r.t_ns, &self.run_src);
        self.spill();
    }

    /// One line for an operation: `members` adds what it carries.
    fn line(&mut self, op: &str, members: impl FnOnce(&mut Line)) {
        if self.finished {
            return;
        }
        self.close_run();
        let src = self.src();
        let seq = self.next_seq();
        let t = self.t_ns();
        let mut l = Line::start(&mut self.buf, seq, op);
        members(&mut l);
        l.end(t, &src);
        self.spill();
    }

    /// Writes the block once it is full.
    fn spill(&mut self) {
        if self.buf.len() >= BLOCK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if let Some(f) = &mut self.out {
            if let Err(e) = f.write_all(&self.buf) {
                self.failed = Some(format!("cannot write the trace {}: {e}", self.path));
                self.out = None;
            }
        }
        self.buf.clear();
    }

    fn finish(&mut self, end: &End) -> std::result::Result<(), String> {
        if !self.finished {
            self.close_run();
            self.line("end", |l| {
                l.int("status", i64::from(end.status))
                    .str("how", end.how.name());
                if let How::Failed(m) = &end.how {
                    l.str("message", m);
                }
            });
            self.finished = true;
            self.flush();
        }
        match &self.failed {
            Some(m) => Err(m.clone()),
            None => Ok(()),
        }
    }
}

impl Drop for Rec {
    fn drop(&mut self) {
        // Without an end line: the run did not say how it ended.
        self.close_run();
        self.flush();
    }
}

/// The recording layer around a backend.
pub struct Recorder {
    inner: Box<dyn Backend>,
    rec: Rc<RefCell<Rec>>,
}

/// The program's handle on a recording.
pub struct Recording(Rc<RefCell<Rec>>);

impl Recorder {
    /// Creates (or truncates) `path`, writes `header` and wraps `inner`.
    pub fn create(
        inner: Box<dyn Backend>,
        path: &str,
        header: &Header,
    ) -> std::result::Result<(Recorder, Rc<Recording>), String> {
        let mut file =
            File::create(path).map_err(|e| format!("cannot create the trace {path}: {e}"))?;
        let mut head = serde_json::to_vec(header).map_err(|e| e.to_string())?;
        head.push(b'\n');
        file.write_all(&head)
            .map_err(|e| format!("cannot write the trace {path}: {e}"))?;
        let rec = Rc::new(RefCell::new(Rec {
            path: path.to_string(),
            out: Some(file),
            buf: Vec::with_capacity(BLOCK + 4096),
            seq: 0,
            start: Instant::now(),
            run: None,
            run_src: String::new(),
            position: None,
            failed: None,
            finished: false,
        }));
        Ok((
            Recorder {
                inner,
                rec: rec.clone(),
            },
            Rc::new(Recording(rec)),
        ))
    }

    /// Records one operation's line, unless the state is busy (it never
    /// is: nothing the recorder calls can reach it again).
    fn note(&self, op: &str, members: impl FnOnce(&mut Line)) {
        if let Ok(mut rec) = self.rec.try_borrow_mut() {
            rec.line(op, members);
        }
    }
}

fn access<'l, 'b>(l: &'l mut Line<'b>, space: Space, addr: u64) -> &'l mut Line<'b> {
    l.str("space", space_name(space)).hex("addr", addr)
}

/// The members of an outcome: nothing more, or the failure.
fn outcome<T>(l: &mut Line, r: &Result<T>) {
    if let Err(e) = r {
        l.error(e);
    }
}

/// The outcome of a write or a memory-range change: also
/// `"performed":false` for one the backend below accepted without making
/// it (a dry run).
fn written(l: &mut Line, r: &Result<()>, performed: bool) {
    if r.is_ok() && !performed {
        l.bool("performed", false);
    }
    outcome(l, r);
}

fn range_json(d: &MemRangeDesc) -> serde_json::Value {
    json!({
        "base": hex(d.base),
        "len": hex(d.len),
        "flags": hex(u64::from(d.flags.bits())),
        "owner": owner_text(d.owner_bytes()),
    })
}

fn pages_json(pages: &[MemExtract]) -> Vec<u8> {
    let list: Vec<serde_json::Value> = pages
        .iter()
        .map(|p| {
            let mut v = json!({ "vaddr": hex(p.vaddr), "state": p.state.name() });
            if let Some(pa) = p.paddr {
                v["paddr"] = hex(pa).into();
            }
            if let Some(d) = p.domain {
                v["domain"] = d.into();
            }
            if p.hidden {
                v["hidden"] = true.into();
            }
            v
        })
        .collect();
    serde_json::to_vec(&list).unwrap_or_else(|_| b"[]".to_vec())
}

impl Layer for Recorder {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }

    #[inline]
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        let r = self.inner.read(space, addr, w);
        match &r {
            Ok(v) => {
                if let Ok(mut rec) = self.rec.try_borrow_mut() {
                    rec.read_ok(space, addr, w, *v);
                }
            }
            Err(e) => self.note("read", |l| {
                access(l, space, addr)
                    .num("width", u64::from(w.bits()))
                    .error(e);
            }),
        }
        r
    }

    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        let r = self.inner.write(space, addr, w, v);
        let performed = self.inner.performs_writes();
        self.note("write", |l| {
            access(l, space, addr)
                .num("width", u64::from(w.bits()))
                .hex("value", v);
            written(l, &r, performed);
        });
        r
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        let r = self.inner.read_bytes(space, addr, buf);
        let moved = match &r {
            Ok(()) => buf.len(),
            Err(e) => e.done.map_or(0, |d| d.min(buf.len() as u64) as usize),
        };
        self.note("read_bytes", |l| {
            access(l, space, addr).hex("len", buf.len() as u64);
            if r.is_ok() || moved > 0 {
                l.b64("data", &buf[..moved]);
            }
            outcome(l, &r);
        });
        r
    }

    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        let r = self.inner.write_bytes(space, addr, buf);
        let performed = self.inner.performs_writes();
        self.note("write_bytes", |l| {
            access(l, space, addr)
                .hex("len", buf.len() as u64)
                .b64("data", buf);
            written(l, &r, performed);
        });
        r
    }

    fn extract(&mut self, pages: &mut [MemExtract]) -> Result<()> {
        let r = self.inner.extract(pages);
        self.note("extract", |l| {
            l.raw("pages", &pages_json(pages));
            outcome(l, &r);
        });
        r
    }

    fn range_count(&mut self) -> Result<usize> {
        let r = self.inner.range_count();
        self.note("range_count", |l| match &r {
            Ok(n) => {
                l.hex("value", *n as u64);
            }
            Err(e) => {
                l.error(e);
            }
        });
        r
    }

    fn ranges(&mut self) -> Result<Vec<MemRangeDesc>> {
        let r = self.inner.ranges();
        self.note("range_get", |l| match &r {
            Ok(list) => {
                let v: Vec<_> = list.iter().map(range_json).collect();
                l.raw("ranges", &serde_json::to_vec(&v).unwrap_or_default());
            }
            Err(e) => {
                l.error(e);
            }
        });
        r
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let r = self.inner.range_set(d, op);
        let performed = self.inner.performs_writes();
        self.note("range_set", |l| {
            let action = match op {
                RangeOp::Update => "update",
                RangeOp::Remove => "remove",
            };
            l.str("action", action).raw(
                "range",
                &serde_json::to_vec(&range_json(d)).unwrap_or_default(),
            );
            written(l, &r, performed);
        });
        r
    }

    fn symbol(&mut self, name: &str) -> Result<u64> {
        let r = self.inner.symbol(name);
        self.note("symbol", |l| {
            l.str("name", name);
            match &r {
                Ok(v) => {
                    l.hex("value", *v);
                }
                Err(e) => {
                    l.error(e);
                }
            }
        });
        r
    }

    fn process_map(&mut self, len: u64) -> Result<u64> {
        let r = self.inner.process_map(len);
        self.note("process_map", |l| {
            l.hex("len", len);
            match &r {
                Ok(base) => {
                    l.hex("value", *base);
                }
                Err(e) => {
                    l.error(e);
                }
            }
        });
        r
    }

    fn process_unmap(&mut self, base: u64, len: u64) -> Result<()> {
        let r = self.inner.process_unmap(base, len);
        self.note("process_unmap", |l| {
            l.hex("addr", base).hex("len", len);
            outcome(l, &r);
        });
        r
    }

    fn process_lock(&mut self, base: u64, len: u64) -> Result<()> {
        let r = self.inner.process_lock(base, len);
        self.note("process_lock", |l| {
            l.hex("addr", base).hex("len", len);
            outcome(l, &r);
        });
        r
    }

    fn process_unlock(&mut self, base: u64, len: u64) -> Result<()> {
        let r = self.inner.process_unlock(base, len);
        self.note("process_unlock", |l| {
            l.hex("addr", base).hex("len", len);
            outcome(l, &r);
        });
        r
    }

    /// Kept for the lines' `src`, and passed on.
    fn set_position(&mut self, position: Position) {
        if let Ok(mut rec) = self.rec.try_borrow_mut() {
            rec.position = Some(position.clone());
        }
        self.inner.set_position(position);
    }

    /// None: a window's accesses must come through `read`/`write` to be
    /// recorded.
    fn map_direct(&mut self, _space: Space, _addr: u64, _len: u64) -> Option<DirectMap> {
        None
    }
}

impl Control for Recording {
    fn mark(&self, text: &str) {
        if let Ok(mut rec) = self.0.try_borrow_mut() {
            rec.line("mark", |l| {
                l.str("text", text);
            });
        }
    }

    fn finish(&self, end: &End) -> std::result::Result<(), String> {
        match self.0.try_borrow_mut() {
            Ok(mut rec) => rec.finish(end),
            Err(_) => Err("the trace was busy at the end of the run".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Sim;
    use crate::trace::file::{self, Kind};
    use crate::Errno;

    fn temp(name: &str) -> String {
        let dir = std::env::temp_dir().join(format!("memlua-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name).display().to_string()
    }

    #[test]
    fn records_in_order_with_runs_and_failures() {
        let path = temp("order.jsonl");
        let sim = Sim::from_board_name("pc").unwrap();
        let header = Header::new("sim", Some("pc"), true, vec!["memlua".into()]);
        let (r, handle) = Recorder::create(Box::new(sim), &path, &header).unwrap();
        let mut r: Box<dyn Backend> = Box::new(r);
        r.set_position(Rc::new(|| Some("t.lua:1".to_string())));
        assert!(r.map_direct(Space::Phys, 0, 4096).is_none());
        r.write(Space::Phys, 0x1000, Width::W32, 0x1234).unwrap();
        for _ in 0..5 {
            assert_eq!(r.read(Space::Phys, 0x1000, Width::W32).unwrap(), 0x1234);
        }
        r.read(Space::Phys, 0x1004, Width::W32).unwrap();
        let e = r.read(Space::Phys, 0x1001, Width::W32).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        r.write_bytes(Space::Phys, 0x2000, b"hello").unwrap();
        let mut buf = [0u8; 5];
        r.read_bytes(Space::Phys, 0x2000, &mut buf).unwrap();
        handle.mark("done");
        handle
            .finish(&End {
                status: 0,
                how: How::Returned,
            })
            .unwrap();
        drop(r);
        let t = file::load(&path).unwrap();
        assert_eq!(t.header, header);
        let kinds: Vec<Kind> = t.entries.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Write,
                Kind::Read,
                Kind::Read,
                Kind::Read,
                Kind::WriteBytes,
                Kind::ReadBytes,
                Kind::Mark,
                Kind::End
            ]
        );
        assert_eq!(t.entries[1].repeat, 5);
        assert_eq!(t.entries[1].value, 0x1234);
        assert_eq!(t.entries[3].error.as_ref().unwrap().errno, Errno::EINVAL);
        assert_eq!(t.entries[5].data(), b"hello");
        assert_eq!(t.entries[0].src(), "t.lua:1");
        assert_eq!(t.accesses(), 10);
    }

    #[test]
    fn without_finish_the_file_still_parses() {
        let path = temp("dropped.jsonl");
        let sim = Sim::from_board_name("pc").unwrap();
        let header = Header::new("sim", Some("pc"), true, vec![]);
        let (r, handle) = Recorder::create(Box::new(sim), &path, &header).unwrap();
        let mut r: Box<dyn Backend> = Box::new(r);
        for i in 0..20_000u64 {
            r.read(Space::Phys, i * 8, Width::W64).unwrap();
        }
        // A full block or more is on disk while recording.
        let partial = std::fs::read(&path).unwrap();
        assert!(partial.len() > BLOCK && partial.ends_with(b"\n"));
        assert!(file::parse(&partial).is_ok());
        drop(r);
        drop(handle);
        let t = file::load(&path).unwrap();
        assert_eq!(t.entries.len(), 20_000);
        assert!(t.end().is_none());
    }

    #[test]
    fn writes_a_dry_run_swallows_are_marked_not_performed_and_replay() {
        use crate::layers::DryRun;
        use crate::trace::replay::{Mode, Replay};
        use crate::{MdfFlags, MemRangeDesc, RangeOp};

        let path = temp("dry.jsonl");
        let sim = Sim::from_board_name("pc").unwrap();
        let dry = DryRun::new(Box::new(sim), Rc::new(|_: &str| {}));
        let header = Header::new("sim", Some("pc"), true, vec![]);
        let (r, handle) = Recorder::create(Box::new(dry), &path, &header).unwrap();
        let mut r: Box<dyn Backend> = Box::new(r);
        let wc = MemRangeDesc::new(0xA0000, 0x20000, MdfFlags::WRITECOMBINE, "fb");
        // Each operation of the run, made on the recorder and the replay alike.
        let run = |b: &mut dyn Backend| {
            b.write(Space::Phys, 0x1000, Width::W32, 0x1234).unwrap();
            assert_eq!(b.read(Space::Phys, 0x1000, Width::W32).unwrap(), 0);
            b.write_bytes(Space::Phys, 0x2000, b"abc").unwrap();
            let buf = b.process_map(4096).unwrap();
            b.write(Space::Process, buf, Width::W8, 7).unwrap();
            b.range_set(&wc, RangeOp::Update).unwrap();
            // Refused for its shape: a failure, not a write left undone.
            assert!(b.write(Space::Phys, 0x1001, Width::W32, 1).is_err());
            b.process_unmap(buf, 4096).unwrap();
        };
        run(&mut *r);
        let ended = End {
            status: 0,
            how: How::Returned,
        };
        handle.finish(&ended).unwrap();
        drop(r);
        let t = file::load(&path).unwrap();
        let not_performed: Vec<(Kind, Space)> = t
            .entries
            .iter()
            .filter(|e| !e.performed)
            .map(|e| (e.kind, e.space))
            .collect();
        assert_eq!(
            not_performed,
            [
                (Kind::Write, Space::Phys),
                (Kind::WriteBytes, Space::Phys),
                (Kind::Write, Space::Process),
                (Kind::RangeSet, Space::Phys),
            ]
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(r#""performed":false"#).count(), 4, "{text}");
        // The replay answers the same run: the writes succeed, the read
        // gives what the dry run read.
        let (replay, h) = Replay::open(&path, Mode::Strict).unwrap();
        let mut replay: Box<dyn Backend> = Box::new(replay);
        run(&mut *replay);
        h.finish(&ended).unwrap();
    }
}
