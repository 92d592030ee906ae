//! `--dry-run`: reads happen; every write and every memory-range change is
//! checked as the backend would check its shape, reported (`would write32
//! 0xfe000000 <- 0x1 (uart.lua:12)`) and counted, but not performed. The
//! script sees each succeed, so it runs to its end; `finish` says how many
//! were skipped.
//!
//! Writes to buffers (`mem.alloc`, Space::Process) are skipped too: on the
//! simulator a buffer is simulated RAM, and "nothing was written" must hold
//! for every address. Direct maps are handed out read-only, so a window's
//! stores come here as well.

use crate::range_rules::{attr_name, bad_shape};
use crate::{
    ops, Backend, DirectMap, Errno, Error, Layer, MemRangeDesc, Position, RangeOp, Result, Say,
    Space, Width,
};

use super::at;

pub struct DryRun {
    inner: Box<dyn Backend>,
    say: Say,
    position: Option<Position>,
    writes: u64,
    /// Of `writes`, the bulk ones, and the bytes they held.
    bulk: u64,
    bytes: u64,
    ranges: u64,
    finished: bool,
}

impl DryRun {
    /// The backend should be opened read-only (so nothing below can write
    /// even if a path were missed here).
    pub fn new(inner: Box<dyn Backend>, say: Say) -> DryRun {
        DryRun {
            inner,
            say,
            position: None,
            writes: 0,
            bulk: 0,
            bytes: 0,
            ranges: 0,
            finished: false,
        }
    }

    /// The closing line: what was not performed.
    pub fn summary(&self) -> String {
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = format!(
            "dry run: {} not performed",
            plural(self.writes, "write", "writes")
        );
        if self.bulk > 0 {
            s.push_str(&format!(
                " ({} bulk, {})",
                self.bulk,
                plural(self.bytes, "byte", "bytes")
            ));
        }
        if self.ranges > 0 {
            s.push_str(&format!(
                ", {} not made",
                plural(self.ranges, "memory range change", "memory range changes")
            ));
        }
        s
    }

    fn report(&self, what: String) {
        (self.say)(&format!("would {what}{}", at(&self.position)));
    }
}

/// `write32` for physical memory (the issue's own words), `kmem.write32`
/// and `buffer.write32` for the others.
fn verb(op: &str) -> &str {
    op.strip_prefix("mem.").unwrap_or(op)
}

impl Layer for DryRun {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }

    /// Writes succeed (without happening), whatever the backend below.
    fn writable(&self) -> bool {
        true
    }

    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        // What every backend refuses for the shape of the request alone.
        w.check_value(v)?;
        w.check_aligned(addr, "address")?;
        let op = ops::access(space, w, true);
        self.report(format!("{} {addr:#x} <- {:#x}", verb(op), v & w.mask()));
        self.writes += 1;
        Ok(())
    }

    fn write_bytes(&mut self, space: Space, addr: u64, data: &[u8]) -> Result<()> {
        let op = ops::bulk(space, true);
        self.report(format!("{} {addr:#x} <- {} bytes", verb(op), data.len()));
        self.writes += 1;
        self.bulk += 1;
        self.bytes += data.len() as u64;
        Ok(())
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let name = ops::range_set(op);
        // No memory ranges here (EOPNOTSUPP, ENXIO) is the same answer a
        // real run would give.
        let current = self.inner.ranges()?;
        let fail = |errno, msg: String| Err(Error::new(errno, name, msg).range(d.base, d.len));
        match op {
            RangeOp::Update => {
                if let Some(why) = bad_shape(d.base, d.len, d.flags) {
                    return fail(Errno::EINVAL, why);
                }
                self.report(format!(
                    "{name} {:#x}/{:#x} {} owner \"{}\"",
                    d.base,
                    d.len,
                    attr_name(d.flags),
                    d.owner_str()
                ));
            }
            RangeOp::Remove => {
                if !current.iter().any(|c| c.base == d.base && c.len == d.len) {
                    return fail(Errno::ENOENT, "no range has this base and length".into());
                }
                self.report(format!("{name} {:#x}/{:#x}", d.base, d.len));
            }
        }
        self.ranges += 1;
        Ok(())
    }

    /// None of them: a recorder above marks them not performed.
    fn performs_writes(&self) -> bool {
        false
    }

    /// Read-only, so a window's stores reach `write` above.
    fn map_direct(&mut self, space: Space, addr: u64, len: u64) -> Option<DirectMap> {
        let mut d = self.inner.map_direct(space, addr, len)?;
        d.writable = false;
        Some(d)
    }

    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.inner.read_cleared(space, addr, w)
    }

    fn set_position(&mut self, position: Position) {
        self.position = Some(position.clone());
        self.inner.set_position(position);
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            (self.say)(&format!("memlua: {}", self.summary()));
        }
        self.inner.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::sim::Sim;
    use crate::MdfFlags;

    fn dry() -> (DryRun, Rc<RefCell<Vec<String>>>) {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let l = lines.clone();
        let say: Say = Rc::new(move |s: &str| l.borrow_mut().push(s.to_string()));
        let sim = Sim::from_board_name("pc").unwrap();
        (DryRun::new(Box::new(sim), say), lines)
    }

    #[test]
    fn writes_are_reported_and_not_performed() {
        let (mut d, lines) = dry();
        Backend::set_position(&mut d, Rc::new(|| Some("uart.lua:12".to_string())));
        Backend::write(&mut d, Space::Phys, 0x1000, Width::W32, 0x1).unwrap();
        Backend::write_bytes(&mut d, Space::Phys, 0x2000, &[1, 2, 3]).unwrap();
        Backend::write(&mut d, Space::Kernel, 0x10, Width::W8, 0xff).unwrap();
        assert_eq!(
            Backend::read(&mut d, Space::Phys, 0x1000, Width::W32),
            Ok(0)
        );
        let mut buf = [9u8; 3];
        Backend::read_bytes(&mut d, Space::Phys, 0x2000, &mut buf).unwrap();
        assert_eq!(buf, [0, 0, 0]);
        Backend::finish(&mut d);
        assert_eq!(
            *lines.borrow(),
            [
                "would write32 0x1000 <- 0x1 (uart.lua:12)",
                "would write 0x2000 <- 3 bytes (uart.lua:12)",
                "would kmem.write8 0x10 <- 0xff (uart.lua:12)",
                "memlua: dry run: 3 writes not performed (1 bulk, 3 bytes)",
            ]
        );
        assert!(Backend::writable(&d));
        assert!(!Backend::performs_writes(&d));
    }

    #[test]
    fn the_shape_of_a_write_is_still_checked() {
        let (mut d, lines) = dry();
        let e = Backend::write(&mut d, Space::Phys, 0x1001, Width::W32, 1).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        let e = Backend::write(&mut d, Space::Phys, 0x1000, Width::W8, 0x100).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        assert!(lines.borrow().is_empty());
    }

    #[test]
    fn range_changes_are_reported_and_not_made() {
        let (mut d, lines) = dry();
        let before = Backend::ranges(&mut d).unwrap();
        let wc = MemRangeDesc::new(0xA0000, 0x20000, MdfFlags::WRITECOMBINE, "fbwc");
        Backend::range_set(&mut d, &wc, RangeOp::Update).unwrap();
        let gone = MemRangeDesc::new(0x1_0000_0000, 0x1_0000_0000, MdfFlags::empty(), "");
        Backend::range_set(&mut d, &gone, RangeOp::Remove).unwrap();
        assert_eq!(Backend::ranges(&mut d).unwrap(), before);
        let bad = MemRangeDesc::new(0x1000, 0x3000, MdfFlags::WRITEBACK, "");
        assert_eq!(
            Backend::range_set(&mut d, &bad, RangeOp::Update)
                .unwrap_err()
                .errno,
            Errno::EINVAL
        );
        let none = MemRangeDesc::new(0x5000_0000, 0x1000, MdfFlags::empty(), "");
        assert_eq!(
            Backend::range_set(&mut d, &none, RangeOp::Remove)
                .unwrap_err()
                .errno,
            Errno::ENOENT
        );
        assert_eq!(
            lines.borrow()[..],
            [
                "would memrange.set 0xa0000/0x20000 write-combine owner \"fbwc\"",
                "would memrange.remove 0x100000000/0x100000000",
            ]
        );
        Backend::finish(&mut d);
        Backend::finish(&mut d);
        assert_eq!(
            lines.borrow().last().unwrap(),
            "memlua: dry run: 0 writes not performed, 2 memory range changes not made"
        );
        assert_eq!(lines.borrow().len(), 3, "the closing line comes once");
    }
}
