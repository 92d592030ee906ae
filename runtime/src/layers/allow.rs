//! `--allow`, `--allow-write` and `--policy`: lists of physical ranges
//! outside which accesses (or, for `--allow-write`, writes and memory-range
//! changes) are refused with EACCES naming the list, before they reach the
//! layers below or the device.
//!
//! A RANGE is `BASE-LAST` (both inclusive) or `BASE+LEN`, hex (`0x`) or
//! decimal, or a region name the backend knows (`Backend::region`: a board
//! region, an /proc/iomem name, a PCI device). Several lists (the command
//! line's and a policy file's) all apply: an access must be inside each.
//!
//! The check is made when a window is made wherever it can be: a window
//! wholly inside every list gets the backend's direct map and is cleared
//! (`Backend::cleared`), so its accesses pay nothing here; only accesses
//! of windows that reach outside, and the `mem.*` calls, are checked one
//! by one (a binary search of the merged ranges).
//!
//! Kernel addresses (`kmem`) are refused while a list is in force: the
//! lists name physical ranges, and a kernel address says nothing of the
//! physical one behind it. Buffers (`mem.alloc`) are this process's own
//! memory and pass.

use crate::{
    ops, Backend, Cleared, DirectMap, Errno, Error, Layer, MemRangeDesc, RangeOp, Result, Space,
    Width,
};

/// One entry of a list as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `[base, last]`, inclusive.
    Span { base: u64, last: u64 },
    /// A region the backend names.
    Name(String),
}

/// A number as the command line takes it: `0x` hex or decimal
/// (underscores allowed between digits).
fn number(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        None => None,
    }
}

/// One RANGE: `BASE-LAST`, `BASE+LEN`, or a name.
pub fn parse_item(text: &str) -> Result<Item, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("an empty range (two commas in a row, or one at an end)".into());
    }
    // A PCI address (0000:00:02.0) starts with a digit but is a name.
    if !t.starts_with(|c: char| c.is_ascii_digit()) || t.contains(':') {
        return Ok(Item::Name(t.to_string()));
    }
    let bad = |why: &str| Err(format!("'{t}': {why}"));
    if let Some((b, n)) = t.split_once('+') {
        let (Some(base), Some(len)) = (number(b), number(n)) else {
            return bad("expected BASE+LEN with numbers in hex (0x...) or decimal");
        };
        if len == 0 {
            return bad("the length is 0");
        }
        return match base.checked_add(len - 1) {
            Some(last) => Ok(Item::Span { base, last }),
            None => bad("runs past the end of the address space"),
        };
    }
    if let Some((b, l)) = t.split_once('-') {
        let (Some(base), Some(last)) = (number(b), number(l)) else {
            return bad("expected BASE-LAST with numbers in hex (0x...) or decimal");
        };
        if last < base {
            return bad("LAST is below BASE (BASE-LAST names the last byte; BASE+LEN a length)");
        }
        return Ok(Item::Span { base, last });
    }
    bad("expected BASE-LAST, BASE+LEN or a region name")
}

/// A list as given: where it came from and its text, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSpec {
    /// `--allow`, `--allow-write`, `allow in lab.toml`.
    pub source: String,
    pub text: String,
    pub items: Vec<Item>,
    /// Limits writes (and range changes) only.
    pub writes_only: bool,
}

impl ListSpec {
    /// A list from a comma-separated RANGE[,RANGE...].
    pub fn parse(source: &str, text: &str, writes_only: bool) -> Result<ListSpec, String> {
        let items = text
            .split(',')
            .map(parse_item)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{source}: {e}"))?;
        Ok(ListSpec {
            source: source.to_string(),
            text: text.to_string(),
            items,
            writes_only,
        })
    }
}

/// `--policy FILE`: a TOML file with `allow` and `allow-write`, each an
/// array of RANGE strings (or one string of them, comma-separated).
pub fn parse_policy(name: &str, text: &str) -> Result<Vec<ListSpec>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| format!("{name}: {}", e.message()))?;
    let mut out = Vec::new();
    for (key, value) in &table {
        let writes_only = match key.as_str() {
            "allow" => false,
            "allow-write" => true,
            other => {
                return Err(format!(
                    "{name}: unknown key '{other}' (a policy holds allow and allow-write)"
                ))
            }
        };
        let entries: Vec<String> = match value {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("{name}: '{key}' must hold strings (\"0x1000+0x100\")"))?,
            _ => {
                return Err(format!(
                    "{name}: '{key}' must be an array of ranges (\"0xfe000000+0x1000\", \"uart0\")"
                ))
            }
        };
        if entries.is_empty() {
            return Err(format!(
                "{name}: '{key}' is empty, which would refuse every access; leave it out instead"
            ));
        }
        out.push(ListSpec::parse(
            &format!("{key} in {name}"),
            &entries.join(","),
            writes_only,
        )?);
    }
    Ok(out)
}

/// A list with its names resolved: sorted, merged inclusive spans.
#[derive(Debug, Clone)]
struct List {
    source: String,
    text: String,
    writes_only: bool,
    spans: Vec<(u64, u64)>,
    /// The span the last access fell in: a loop over one device looks
    /// there first and never searches.
    hint: std::cell::Cell<usize>,
}

impl List {
    /// Whether `[addr, addr + n)` (n >= 1) lies inside one merged span.
    #[inline]
    fn contains(&self, addr: u64, n: u64) -> bool {
        let Some(last) = addr.checked_add(n.max(1) - 1) else {
            return false;
        };
        if let Some(&(b, l)) = self.spans.get(self.hint.get()) {
            if b <= addr && last <= l {
                return true;
            }
        }
        let i = self.spans.partition_point(|&(b, _)| b <= addr);
        if i > 0 && last <= self.spans[i - 1].1 {
            self.hint.set(i - 1);
            return true;
        }
        false
    }

    fn applies(&self, write: bool) -> bool {
        write || !self.writes_only
    }
}

/// Sorted and merged, so that adjacent and overlapping ranges count as one.
fn merge(mut spans: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    spans.sort();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
    for (b, l) in spans {
        match out.last_mut() {
            Some(prev) if b <= prev.1.saturating_add(1) => prev.1 = prev.1.max(l),
            _ => out.push((b, l)),
        }
    }
    out
}

pub struct Allow {
    inner: Box<dyn Backend>,
    lists: Vec<List>,
}

impl Allow {
    /// The layer over `inner`; names are resolved by `inner` now. The
    /// error names the list and the entry.
    pub fn new(mut inner: Box<dyn Backend>, specs: &[ListSpec]) -> Result<Allow, String> {
        let mut lists = Vec::new();
        for spec in specs {
            let mut spans = Vec::new();
            for item in &spec.items {
                match item {
                    Item::Span { base, last } => spans.push((*base, *last)),
                    Item::Name(name) => {
                        let found = inner
                            .region(name)
                            .map_err(|e| format!("{}: '{name}': {}", spec.source, e.message))?;
                        for (base, len) in found.into_iter().filter(|&(_, len)| len > 0) {
                            spans.push((base, base.saturating_add(len - 1)));
                        }
                    }
                }
            }
            lists.push(List {
                source: spec.source.clone(),
                text: spec.text.clone(),
                writes_only: spec.writes_only,
                spans: merge(spans),
                hint: std::cell::Cell::new(0),
            });
        }
        Ok(Allow { inner, lists })
    }

    /// Every access of `[addr, addr + n)` passes, or EACCES naming the
    /// first list it is outside of.
    #[inline]
    fn check(&self, space: Space, addr: u64, n: u64, write: bool) -> Result<()> {
        if space == Space::Process {
            return Ok(());
        }
        for l in &self.lists {
            if l.applies(write) && (space != Space::Phys || !l.contains(addr, n)) {
                return Err(refused(l, space, addr, n, write));
            }
        }
        Ok(())
    }

    fn clears(&self, space: Space, addr: u64, len: u64, write: bool) -> bool {
        self.check(space, addr, len, write).is_ok()
    }
}

/// EACCES for an access outside `l`, in words.
#[cold]
#[inline(never)]
fn refused(l: &List, space: Space, addr: u64, n: u64, write: bool) -> Error {
    let what = if write { "written" } else { "read" };
    let msg = if space == Space::Phys {
        let span = match n {
            0 | 1 => format!("{addr:#x}"),
            n => format!("{addr:#x}..{:#x}", addr.saturating_add(n - 1)),
        };
        format!(
            "{span} is outside {} ({}); nothing was {what}",
            l.source, l.text
        )
    } else {
        format!(
            "{} limits accesses to physical ranges ({}), and a kernel address does not say \
             which physical memory it reaches; nothing was {what}",
            l.source, l.text
        )
    };
    Error::new(Errno::EACCES, "", msg)
}

impl Layer for Allow {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }
    fn inner_mut(&mut self) -> &mut dyn Backend {
        &mut *self.inner
    }

    #[inline]
    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.check(space, addr, w.bytes(), false)
            .map_err(|e| e.at(addr))?;
        self.inner.read(space, addr, w)
    }
    #[inline]
    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.check(space, addr, w.bytes(), true)
            .map_err(|e| e.at(addr))?;
        self.inner.write(space, addr, w, v)
    }
    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        if !buf.is_empty() {
            self.check(space, addr, buf.len() as u64, false)
                .map_err(|e| {
                    e.with_op(ops::bulk(space, false))
                        .span(addr, buf.len() as u64)
                        .done(0)
                })?;
        }
        self.inner.read_bytes(space, addr, buf)
    }
    fn write_bytes(&mut self, space: Space, addr: u64, data: &[u8]) -> Result<()> {
        if !data.is_empty() {
            self.check(space, addr, data.len() as u64, true)
                .map_err(|e| {
                    e.with_op(ops::bulk(space, true))
                        .span(addr, data.len() as u64)
                        .done(0)
                })?;
        }
        self.inner.write_bytes(space, addr, data)
    }

    /// A change of a range's caching is a change to the memory it covers:
    /// the range must lie inside every list, `--allow-write`'s included.
    fn range_set(&mut self, d: &MemRangeDesc, op: RangeOp) -> Result<()> {
        for l in &self.lists {
            if !l.contains(d.base, d.len) {
                return Err(Error::new(
                    Errno::EACCES,
                    ops::range_set(op),
                    format!(
                        "the range {:#x}/{:#x} reaches outside {} ({}); nothing was changed",
                        d.base, d.len, l.source, l.text
                    ),
                )
                .range(d.base, d.len));
            }
        }
        self.inner.range_set(d, op)
    }

    /// Only for a window wholly inside the lists (its stores only if inside
    /// the write lists too): its accesses then skip this layer, which has
    /// checked them all here.
    fn map_direct(&mut self, space: Space, addr: u64, len: u64) -> Option<DirectMap> {
        if !self.clears(space, addr, len, false) {
            return None;
        }
        let write = self.clears(space, addr, len, true);
        let mut d = self.inner.map_direct(space, addr, len)?;
        d.writable &= write;
        Some(d)
    }

    fn cleared(&mut self, space: Space, addr: u64, len: u64) -> Cleared {
        let own = Cleared {
            read: self.clears(space, addr, len, false),
            write: self.clears(space, addr, len, true),
        };
        own.and(self.inner.cleared(space, addr, len))
    }
    #[inline]
    fn read_cleared(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.inner.read_cleared(space, addr, w)
    }
    #[inline]
    fn write_cleared(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.inner.write_cleared(space, addr, w, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Sim;

    fn allow(specs: &[(&str, &str, bool)]) -> Allow {
        let specs: Vec<ListSpec> = specs
            .iter()
            .map(|(src, text, w)| ListSpec::parse(src, text, *w).unwrap())
            .collect();
        Allow::new(Box::new(Sim::from_board_name("pc").unwrap()), &specs).unwrap()
    }

    #[test]
    fn ranges_parse_both_ways_and_names_pass_through() {
        assert_eq!(
            parse_item("0x1000-0x1fff"),
            Ok(Item::Span {
                base: 0x1000,
                last: 0x1fff
            })
        );
        assert_eq!(
            parse_item(" 4096+4096 "),
            Ok(Item::Span {
                base: 0x1000,
                last: 0x1fff
            })
        );
        assert_eq!(parse_item("uart0"), Ok(Item::Name("uart0".into())));
        assert_eq!(
            parse_item("0000:00:02.0"),
            Ok(Item::Name("0000:00:02.0".into()))
        );
        for bad in [
            "0x2000-0x1000",
            "0x1000+0",
            "0x1000",
            "0xffffffffffffffff+2",
            "0x-1",
            "",
        ] {
            assert!(parse_item(bad).is_err(), "{bad}");
        }
        assert!(ListSpec::parse("--allow", "0x1000+1,,uart0", false)
            .unwrap_err()
            .starts_with("--allow: "));
    }

    #[test]
    fn adjacent_ranges_merge() {
        assert_eq!(
            merge(vec![(0x2000, 0x2fff), (0x1000, 0x1fff), (0x5000, 0x5000)]),
            [(0x1000, 0x2fff), (0x5000, 0x5000)]
        );
        assert_eq!(merge(vec![(0, u64::MAX), (5, 6)]), [(0, u64::MAX)]);
    }

    #[test]
    fn one_byte_outside_either_edge_is_eacces_for_every_width() {
        let mut a = allow(&[("--allow", "0x1000-0x1fff", false)]);
        for w in [Width::W8, Width::W16, Width::W32, Width::W64] {
            let n = w.bytes();
            assert!(Backend::read(&mut a, Space::Phys, 0x1000, w).is_ok());
            assert!(Backend::read(&mut a, Space::Phys, 0x2000 - n, w).is_ok());
            for addr in [0x1000 - n, 0x2000] {
                let e = Backend::read(&mut a, Space::Phys, addr, w).unwrap_err();
                assert_eq!(e.errno, Errno::EACCES);
                assert!(e.message.contains("--allow (0x1000-0x1fff)"), "{e}");
                let e = Backend::write(&mut a, Space::Phys, addr, w, 0).unwrap_err();
                assert_eq!(e.errno, Errno::EACCES);
            }
        }
        let mut buf = [0u8; 0x1000];
        assert!(Backend::read_bytes(&mut a, Space::Phys, 0x1000, &mut buf).is_ok());
        let mut more = [0u8; 0x1001];
        let e = Backend::read_bytes(&mut a, Space::Phys, 0x1000, &mut more).unwrap_err();
        assert_eq!((e.errno, e.done), (Errno::EACCES, Some(0)));
        assert!(Backend::read_bytes(&mut a, Space::Phys, 0xfff, &mut buf).is_err());
        assert!(Backend::read(&mut a, Space::Kernel, 0xffffffff80000000, Width::W8).is_err());
    }

    #[test]
    fn allow_write_lets_reads_through() {
        let mut a = allow(&[("--allow-write", "uart0", true)]);
        assert!(Backend::read(&mut a, Space::Phys, 0x1000, Width::W32).is_ok());
        let e = Backend::write(&mut a, Space::Phys, 0x1000, Width::W32, 1).unwrap_err();
        assert_eq!(e.errno, Errno::EACCES);
        assert!(e.message.contains("--allow-write (uart0)"), "{e}");
        assert!(Backend::write(&mut a, Space::Phys, 0xfe000000, Width::W8, 0x41).is_ok());
        assert!(Backend::write(&mut a, Space::Phys, 0xfe000fff, Width::W8, 0).is_ok());
        assert!(Backend::write(&mut a, Space::Phys, 0xfe001000, Width::W8, 0).is_err());
    }

    #[test]
    fn every_list_applies() {
        let mut a = allow(&[
            ("--allow", "0x1000-0x2fff", false),
            ("allow in lab.toml", "0x2000+0x2000", false),
        ]);
        assert!(Backend::read(&mut a, Space::Phys, 0x1000, Width::W8).is_err());
        assert!(Backend::read(&mut a, Space::Phys, 0x2000, Width::W8).is_ok());
        assert!(Backend::read(&mut a, Space::Phys, 0x3000, Width::W8).is_err());
    }

    #[test]
    fn windows_are_cleared_once() {
        let mut a = allow(&[
            ("--allow", "0x1000-0x1fff", false),
            ("--allow-write", "0x1800+0x800", true),
        ]);
        assert_eq!(
            Backend::cleared(&mut a, Space::Phys, 0x1000, 0x1000),
            Cleared {
                read: true,
                write: false
            }
        );
        assert_eq!(
            Backend::cleared(&mut a, Space::Phys, 0x1800, 0x800),
            Cleared::ALL
        );
        assert_eq!(
            Backend::cleared(&mut a, Space::Phys, 0xfff, 2),
            Cleared::NONE
        );
    }

    #[test]
    fn unknown_names_and_range_changes() {
        let e = Allow::new(
            Box::new(Sim::from_board_name("pc").unwrap()),
            &[ListSpec::parse("--allow", "uart9", false).unwrap()],
        )
        .err()
        .unwrap();
        assert!(e.starts_with("--allow: 'uart9': "), "{e}");
        assert!(e.contains("uart0"), "{e}");
        let mut a = allow(&[("--allow-write", "vga", true)]);
        let wc = MemRangeDesc::new(0xA0000, 0x20000, crate::MdfFlags::WRITECOMBINE, "fb");
        assert!(Backend::range_set(&mut a, &wc, RangeOp::Update).is_ok());
        let big = MemRangeDesc::new(0x80000, 0x80000, crate::MdfFlags::WRITECOMBINE, "fb");
        let e = Backend::range_set(&mut a, &big, RangeOp::Update).unwrap_err();
        assert_eq!(e.errno, Errno::EACCES);
    }

    #[test]
    fn policies_hold_the_same_lists() {
        let p = parse_policy(
            "lab.toml",
            "allow = [\"0xfe000000+0x4000\", \"vga\"]\nallow-write = \"uart0\"\n",
        )
        .unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].source, "allow in lab.toml");
        assert!(p[1].writes_only);
        assert!(parse_policy("lab.toml", "deny = []")
            .unwrap_err()
            .contains("unknown key 'deny'"));
        assert!(parse_policy("lab.toml", "allow = [1]").is_err());
        assert!(parse_policy("lab.toml", "allow = []").is_err());
        assert!(parse_policy("lab.toml", "allow = [").is_err());
    }
}
