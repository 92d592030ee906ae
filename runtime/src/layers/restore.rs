//! Memory ranges put back: a [`Journal`] of the descriptors this run
//! changed, and `--restore-ranges`, the layer that gives them back when
//! the run ends (`memrange.scoped` keeps a journal of its own in the
//! bindings' session).
//!
//! The journal is kept per descriptor slot, from the whole table read
//! before and after each MEMRANGE_SET: a set also changes slots it did not
//! name (a fixed range widened to whole slots, a base truncated by the
//! hardware), and those are given back too. For each slot it keeps what
//! the slot was before this run first changed it and what this run last
//! left there.
//!
//! Putting back uses the backend's own MEMRANGE_SET (the simulator's, the
//! FreeBSD ioctls, Linux's /proc/mtrr), so the kernel's rules hold: first
//! the ranges this run added are removed, then the ranges it changed or
//! removed are set again in slot order, so each lands back in its slot. A
//! slot that no longer holds what this run left (another owner changed it
//! meanwhile) is left alone, with a warning. What MEMRANGE_SET cannot give
//! back is said too: MDF_FIRMWARE (set-by-firmware), which only the boot
//! sets, is the one flag a range given back does not regain.

use std::collections::BTreeMap;

use crate::range_rules::attr_name;
use crate::{Backend, Layer, MdfFlags, MemRangeDesc, RangeOp, Result, Say, Space, Width};

/// What a slot was before the first change and what the last one left.
#[derive(Debug, Clone)]
struct Change {
    before: Option<MemRangeDesc>,
    ours: Option<MemRangeDesc>,
}

/// The descriptors a run (or a `memrange.scoped` call) changed.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    slots: BTreeMap<usize, Change>,
}

/// What putting back did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Slots given back their descriptor.
    pub put_back: usize,
    /// What was left alone, or could not be given back, and why.
    pub warnings: Vec<String>,
}

/// Two descriptors as MEMRANGE_GET shows them (the owner up to its NUL).
fn same(a: Option<&MemRangeDesc>, b: Option<&MemRangeDesc>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.base == b.base
                && a.len == b.len
                && a.flags == b.flags
                && a.owner_bytes() == b.owner_bytes()
        }
        (None, None) => true,
        _ => false,
    }
}

/// `same`, but for MDF_FIRMWARE, which no MEMRANGE_SET gives back.
fn same_but_firmware(a: Option<&MemRangeDesc>, b: Option<&MemRangeDesc>) -> bool {
    let strip = |d: Option<&MemRangeDesc>| {
        d.map(|d| MemRangeDesc {
            flags: d.flags - MdfFlags::FIRMWARE,
            ..*d
        })
    };
    same(strip(a).as_ref(), strip(b).as_ref())
}

fn active(d: Option<&MemRangeDesc>) -> bool {
    d.is_some_and(|d| d.flags.contains(MdfFlags::ACTIVE))
}

/// A descriptor in a message.
pub fn describe(d: Option<&MemRangeDesc>) -> String {
    match d {
        Some(d) if d.flags.contains(MdfFlags::ACTIVE) => format!(
            "{:#x}/{:#x} {} owner \"{}\"",
            d.base,
            d.len,
            attr_name(d.flags),
            d.owner_str()
        ),
        _ => "an unused slot".to_string(),
    }
}

/// MEMRANGE_SET through `b`; when it succeeds, `note` gets the whole
/// table as it was before and after (when both could be read).
pub fn tracked_set(
    b: &mut dyn Backend,
    d: &MemRangeDesc,
    op: RangeOp,
    note: &mut dyn FnMut(&[MemRangeDesc], &[MemRangeDesc]),
) -> Result<()> {
    // Without a table before, the set fails the same way (no ranges here).
    let before = b.ranges().ok();
    b.range_set(d, op)?;
    if let (Some(before), Ok(after)) = (before, b.ranges()) {
        note(&before, &after);
    }
    Ok(())
}

impl Journal {
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// One successful MEMRANGE_SET: every slot it changed.
    pub fn note(&mut self, before: &[MemRangeDesc], after: &[MemRangeDesc]) {
        for i in 0..before.len().max(after.len()) {
            let (b, a) = (before.get(i), after.get(i));
            if !same(b, a) {
                self.slots
                    .entry(i)
                    .or_insert(Change {
                        before: b.copied(),
                        ours: None,
                    })
                    .ours = a.copied();
            }
        }
    }

    /// Gives back every slot this journal changed (see the module's
    /// comment), and forgets them. Every MEMRANGE_SET it makes is handed to
    /// `note` as in [`tracked_set`], so other journals see it.
    pub fn restore(
        &mut self,
        b: &mut dyn Backend,
        note: &mut dyn FnMut(&[MemRangeDesc], &[MemRangeDesc]),
    ) -> Restored {
        let mut out = Restored::default();
        let slots = std::mem::take(&mut self.slots);
        if slots.is_empty() {
            return out;
        }
        let current = match b.ranges() {
            Ok(c) => c,
            Err(e) => {
                out.warnings.push(format!(
                    "could not read the memory ranges to put {} back: {e}",
                    slots.len()
                ));
                return out;
            }
        };
        let mut removals = Vec::new();
        let mut sets = Vec::new();
        for (&i, ch) in &slots {
            let (cur, before) = (current.get(i), ch.before.as_ref());
            if same_but_firmware(cur, before) {
                continue; // back already (put back by hand, or by a scope)
            }
            if !same(cur, ch.ours.as_ref()) {
                out.warnings.push(format!(
                    "slot {i} left alone: another owner changed it after this run did (it \
                     holds {}; this run left {}; before the run it held {})",
                    describe(cur),
                    describe(ch.ours.as_ref()),
                    describe(before)
                ));
                continue;
            }
            let fixed = cur.is_some_and(|c| c.flags.contains(MdfFlags::FIXACTIVE));
            let moved = match (cur, before) {
                (Some(c), Some(b)) => (c.base, c.len) != (b.base, b.len),
                _ => true,
            };
            if active(cur) && !fixed && (!active(before) || moved) {
                removals.push((i, *cur.expect("active")));
            }
            if active(before) {
                sets.push((i, *before.expect("active")));
            }
        }
        let mut done = std::collections::BTreeSet::new();
        let failed = |i: usize, what: &str, d: &MemRangeDesc, e: crate::Error| {
            format!(
                "slot {i} could not be put back ({what} {}): {e}",
                describe(Some(d))
            )
        };
        for (i, d) in &removals {
            let req = MemRangeDesc {
                flags: MdfFlags::empty(),
                ..*d
            };
            match tracked_set(b, &req, RangeOp::Remove, note) {
                Ok(()) => {
                    done.insert(*i);
                }
                Err(e) => out.warnings.push(failed(*i, "removing", d, e)),
            }
        }
        for (i, d) in &sets {
            let mut req = MemRangeDesc::new(
                d.base,
                d.len,
                MdfFlags::from_bits_retain(d.flags.attr()),
                "",
            );
            req.set_owner_bytes(d.owner_bytes());
            match tracked_set(b, &req, RangeOp::Update, note) {
                Ok(()) => {
                    done.insert(*i);
                }
                Err(e) => out.warnings.push(failed(*i, "setting", d, e)),
            }
        }
        // Say where MEMRANGE_SET could not make a slot what it was (the
        // kernel put a range in another free slot, say).
        if let Ok(now) = b.ranges() {
            for &i in &done {
                let before = slots[&i].before.as_ref();
                if same_but_firmware(now.get(i), before) {
                    out.put_back += 1;
                } else {
                    out.warnings.push(format!(
                        "slot {i} could not be made as it was: it holds {}, before the run {}",
                        describe(now.get(i)),
                        describe(before)
                    ));
                }
            }
        }
        out
    }
}

/// `--restore-ranges`: every memory range the run changed is given back
/// when it ends (`Backend::finish`: normal exit, a script error, Ctrl-C,
/// os.exit).
pub struct RestoreRanges {
    inner: Box<dyn Backend>,
    journal: Journal,
    say: Say,
}

impl RestoreRanges {
    pub fn new(inner: Box<dyn Backend>, say: Say) -> RestoreRanges {
        RestoreRanges {
            inner,
            journal: Journal::default(),
            say,
        }
    }
}

impl Layer for RestoreRanges {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }

    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        let journal = &mut self.journal;
        tracked_set(&mut *self.inner, d, op, &mut |b, a| journal.note(b, a))
    }

    // It looks at no access.
    #[inline]
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.inner.read_cleared(space, addr, w)
    }
    #[inline]
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.inner.write_cleared(space, addr, w, v)
    }

    fn finish(&mut self) {
        if !self.journal.is_empty() {
            let r = self.journal.restore(&mut *self.inner, &mut |_, _| {});
            for w in &r.warnings {
                (self.say)(&format!("memlua: warning: --restore-ranges: {w}"));
            }
            if r.put_back > 0 {
                (self.say)(&format!(
                    "memlua: --restore-ranges: put back {} memory range descriptor{}",
                    r.put_back,
                    if r.put_back == 1 { "" } else { "s" }
                ));
            }
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

    fn layer() -> (RestoreRanges, Rc<RefCell<Vec<String>>>) {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let l = lines.clone();
        let say: Say = Rc::new(move |s: &str| l.borrow_mut().push(s.to_string()));
        let sim = Sim::from_board_name("pc").unwrap();
        (RestoreRanges::new(Box::new(sim), say), lines)
    }

    fn set(b: &mut dyn Backend, base: u64, len: u64, flags: MdfFlags, owner: &str) {
        b.range_set(&MemRangeDesc::new(base, len, flags, owner), RangeOp::Update)
            .unwrap();
    }

    fn remove(b: &mut dyn Backend, base: u64, len: u64) {
        b.range_set(
            &MemRangeDesc::new(base, len, MdfFlags::empty(), ""),
            RangeOp::Remove,
        )
        .unwrap();
    }

    /// The table as a script compares it: owners up to the NUL, and
    /// MDF_FIRMWARE set aside (no MEMRANGE_SET gives it back).
    fn table(b: &mut dyn Backend) -> Vec<(u64, u64, u32, Vec<u8>)> {
        b.ranges()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d.base,
                    d.len,
                    (d.flags - MdfFlags::FIRMWARE).bits(),
                    d.owner_bytes().to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn sets_removes_and_overwrites_are_given_back() {
        let (mut r, lines) = layer();
        let before = table(&mut r);
        let full = Backend::ranges(&mut r).unwrap();
        // New ranges, one removed again and one overwritten; a firmware
        // range removed, another overwritten; a fixed range changed.
        set(
            &mut r,
            0xC000_0000,
            0x1000_0000,
            MdfFlags::WRITECOMBINE,
            "fb",
        );
        set(&mut r, 0xD000_0000, 0x1000, MdfFlags::UNCACHEABLE, "mmio");
        remove(&mut r, 0xD000_0000, 0x1000);
        set(
            &mut r,
            0xC000_0000,
            0x1000_0000,
            MdfFlags::UNCACHEABLE,
            "fb2",
        );
        remove(&mut r, 0x1_0000_0000, 0x1_0000_0000);
        set(
            &mut r,
            0x2_0000_0000,
            0x8000_0000,
            MdfFlags::WRITETHROUGH,
            "wt",
        );
        set(&mut r, 0xA0000, 0x20000, MdfFlags::WRITECOMBINE, "vga");
        assert_ne!(table(&mut r), before);
        Backend::finish(&mut r);
        assert_eq!(table(&mut r), before);
        assert_eq!(
            *lines.borrow(),
            ["memlua: --restore-ranges: put back 11 memory range descriptors"]
        );
        // Only MDF_FIRMWARE differs, and only where firmware ranges were set.
        let after = Backend::ranges(&mut r).unwrap();
        for (a, b) in after.iter().zip(&full) {
            if a.flags != b.flags {
                assert_eq!(b.flags - a.flags, MdfFlags::FIRMWARE, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn a_range_another_owner_changed_is_left_alone() {
        let (mut r, lines) = layer();
        set(
            &mut r,
            0xC000_0000,
            0x1000_0000,
            MdfFlags::WRITECOMBINE,
            "fb",
        );
        set(&mut r, 0xD000_0000, 0x1000, MdfFlags::UNCACHEABLE, "mmio");
        Backend::as_sim(&mut r)
            .unwrap()
            .claim(0xC000_0000, 0x1000_0000, "drm", None)
            .unwrap();
        Backend::finish(&mut r);
        let now = Backend::ranges(&mut r).unwrap();
        assert!(now
            .iter()
            .any(|d| d.base == 0xC000_0000 && d.owner_bytes() == b"drm"));
        assert!(!now
            .iter()
            .any(|d| d.base == 0xD000_0000 && d.flags.contains(MdfFlags::ACTIVE)));
        let lines = lines.borrow();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].starts_with(
                "memlua: warning: --restore-ranges: slot 92 left alone: another owner changed it"
            ),
            "{lines:?}"
        );
        assert!(lines[0].contains("owner \"drm\""), "{lines:?}");
        assert_eq!(
            lines[1],
            "memlua: --restore-ranges: put back 1 memory range descriptor"
        );
    }

    #[test]
    fn nothing_changed_says_nothing() {
        let (mut r, lines) = layer();
        set(
            &mut r,
            0xC000_0000,
            0x1000_0000,
            MdfFlags::WRITECOMBINE,
            "fb",
        );
        remove(&mut r, 0xC000_0000, 0x1000_0000);
        Backend::finish(&mut r);
        assert!(lines.borrow().is_empty(), "{:?}", lines.borrow());
    }
}
