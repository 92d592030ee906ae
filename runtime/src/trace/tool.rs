//! `memlua trace`: traces read by a person (`show`, `stats`), compared
//! (`diff`) and turned into a QEMU qtest script (`qtest`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::file::{preview, Entry, Kind, More, Trace};
use super::space_name;
use crate::{Space, Width};

fn ms(t_ns: u64) -> String {
    format!("{:.3}", t_ns as f64 / 1e6)
}

/// The header in one line.
pub fn summary(t: &Trace) -> String {
    let h = &t.header;
    let mut s = format!("backend {}", h.backend);
    if let Some(b) = &h.board {
        s.push_str(&format!(" (board {b})"));
    }
    if !h.started.is_empty() {
        s.push_str(&format!(", recorded {}", h.started));
    }
    s.push_str(&format!(
        ", {} lines, {} accesses",
        t.entries.len(),
        t.accesses()
    ));
    let not_performed = t.entries.iter().filter(|e| !e.performed).count();
    if not_performed > 0 {
        s.push_str(&format!(", {not_performed} not performed (a dry run)"));
    }
    match t.end().and_then(|e| e.more.as_deref()) {
        Some(More::End { status, how, .. }) => {
            s.push_str(&format!(", ended: {how}, status {status}"))
        }
        _ => s.push_str(", no end line (the recording was cut off)"),
    }
    s
}

/// `trace show`: one row per line of the trace.
pub fn show(t: &Trace, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# {}", summary(t))?;
    if !t.header.argv.is_empty() {
        writeln!(out, "# argv: {}", t.header.argv.join(" "))?;
    }
    writeln!(
        out,
        "{:>7} {:>10}  {:<12} {:<7} {:<18} {:<14} {:>5}  {:<20} src",
        "seq", "ms", "op", "space", "address", "region", "width", "value"
    )?;
    for e in &t.entries {
        let time = ms(e.t_ns);
        let src = e.src();
        if !e.kind.has_space() {
            writeln!(
                out,
                "{:>7} {:>10}  {}{}  {src}",
                e.seq,
                time,
                e.describe(),
                e.outcome()
            )?;
            continue;
        }
        let mut op = e.kind.name().to_string();
        if e.repeat > 1 {
            op.push_str(&format!(" x{}", e.repeat));
        }
        let region = match e.space {
            Space::Phys => t.header.region_of(e.addr).unwrap_or("-"),
            _ => "-",
        };
        let width = match e.width {
            Some(w) => w.bits().to_string(),
            None => format!("{}B", e.len),
        };
        let mut value = match (&e.error, e.kind) {
            (Some(err), _) => err.errno.to_string(),
            (None, Kind::Read | Kind::Write) => format!("{:#x}", e.value),
            (None, _) => preview(e.data()),
        };
        if !e.performed {
            value.push_str(" not performed");
        }
        writeln!(
            out,
            "{:>7} {:>10}  {:<12} {:<7} {:<18} {:<14} {:>5}  {:<20} {src}",
            e.seq,
            time,
            op,
            space_name(e.space),
            format!("{:#x}", e.addr),
            region,
            width,
            value
        )?;
    }
    Ok(())
}

#[derive(Default)]
struct Count {
    accesses: u64,
    reads: u64,
    writes: u64,
    bytes: u64,
    failed: u64,
}

impl Count {
    fn add(&mut self, e: &Entry) {
        self.accesses += e.repeat;
        match e.kind {
            Kind::Read => self.reads += e.repeat,
            Kind::Write => self.writes += 1,
            Kind::ReadBytes | Kind::WriteBytes => self.bytes += e.len,
            _ => {}
        }
        if e.error.is_some() {
            self.failed += e.repeat;
        }
    }
}

/// `trace stats`: accesses per op and per region.
pub fn stats(t: &Trace, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", summary(t))?;
    let mut by_op: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut by_region: BTreeMap<String, Count> = BTreeMap::new();
    for e in &t.entries {
        if matches!(e.kind, Kind::Mark | Kind::End) {
            continue;
        }
        let op = by_op.entry(e.kind.name()).or_default();
        op.0 += e.repeat;
        op.1 += 1;
        if e.kind.has_space() {
            let region = match e.space {
                Space::Phys => t
                    .header
                    .region_of(e.addr)
                    .map_or("phys (no region)".to_string(), |r| r.to_string()),
                other => format!("{} space", space_name(other)),
            };
            by_region.entry(region).or_default().add(e);
        }
    }
    writeln!(
        out,
        "\nby op:\n  {:<16} {:>12} {:>10}",
        "op", "accesses", "lines"
    )?;
    for (op, (n, lines)) in &by_op {
        writeln!(out, "  {op:<16} {n:>12} {lines:>10}")?;
    }
    writeln!(
        out,
        "\nby region:\n  {:<24} {:>12} {:>10} {:>10} {:>12} {:>8}",
        "region", "accesses", "reads", "writes", "bulk bytes", "failed"
    )?;
    for (r, c) in &by_region {
        writeln!(
            out,
            "  {r:<24} {:>12} {:>10} {:>10} {:>12} {:>8}",
            c.accesses, c.reads, c.writes, c.bytes, c.failed
        )?;
    }
    Ok(())
}

/// Whether two entries record the same operation with the same outcome
/// (positions, times and line numbers aside).
fn same(a: &Entry, b: &Entry) -> bool {
    a.kind == b.kind
        && a.space == b.space
        && a.addr == b.addr
        && a.width == b.width
        && a.value == b.value
        && a.len == b.len
        && a.repeat == b.repeat
        && a.more == b.more
        && a.performed == b.performed
        && a.error.as_ref().map(|e| e.errno) == b.error.as_ref().map(|e| e.errno)
}

fn shown(name: &str, e: &Entry) -> String {
    let src = if e.src().is_empty() {
        String::new()
    } else {
        format!(" at {}", e.src())
    };
    format!(
        "  {name} seq {} (line {}): {}{}{src}",
        e.seq,
        e.line,
        e.describe(),
        e.outcome()
    )
}

/// `trace diff`: the first operation where the traces part (marks and the
/// end line aside), or None when they agree. Also the number of
/// operations they share.
pub fn diff(a: &Trace, b: &Trace) -> (u64, Option<String>) {
    let ops = |t: &Trace| -> Vec<usize> {
        (0..t.entries.len())
            .filter(|&i| !matches!(t.entries[i].kind, Kind::Mark | Kind::End))
            .collect()
    };
    let (oa, ob) = (ops(a), ops(b));
    for k in 0..oa.len().max(ob.len()) {
        let (ea, eb) = (
            oa.get(k).map(|&i| &a.entries[i]),
            ob.get(k).map(|&i| &b.entries[i]),
        );
        let message = match (ea, eb) {
            (Some(x), Some(y)) if same(x, y) => continue,
            (Some(x), Some(y)) => format!(
                "the traces part at their operation {}:\n{}\n{}",
                k + 1,
                shown("A", x),
                shown("B", y)
            ),
            (Some(x), None) => {
                format!("B ends after {k} operations; A goes on:\n{}", shown("A", x))
            }
            (None, Some(y)) => {
                format!("A ends after {k} operations; B goes on:\n{}", shown("B", y))
            }
            (None, None) => break,
        };
        return (k as u64, Some(message));
    }
    (oa.len() as u64, None)
}

/// What `qtest` wrote: commands, and trace lines left out (with why).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub commands: u64,
    pub failed: u64,
    pub other_space: u64,
    pub not_access: u64,
    /// Writes a dry run did not perform: not exported, so driving QEMU
    /// with the export does what the recorded run did.
    pub not_performed: u64,
}

fn qtest_suffix(w: Width) -> char {
    match w {
        Width::W8 => 'b',
        Width::W16 => 'w',
        Width::W32 => 'l',
        Width::W64 => 'q',
    }
}

/// `trace export --qtest`: the physical accesses as QEMU qtest commands,
/// one per access (a run of N identical reads is N commands). Accesses
/// that failed on the recorded machine, writes a dry run did not perform,
/// other spaces and the other operations are left out and counted.
pub fn qtest(t: &Trace, out: &mut dyn Write) -> io::Result<Exported> {
    let mut n = Exported::default();
    for e in &t.entries {
        if matches!(e.kind, Kind::Mark | Kind::End) {
            continue;
        }
        if !e.kind.has_space() {
            n.not_access += 1;
            continue;
        }
        if e.space != Space::Phys {
            n.other_space += 1;
            continue;
        }
        if e.error.is_some() {
            n.failed += 1;
            continue;
        }
        if !e.performed {
            n.not_performed += 1;
            continue;
        }
        match (e.kind, e.width) {
            (Kind::Read, Some(w)) => {
                let line = format!("read{} {:#x}\n", qtest_suffix(w), e.addr);
                for _ in 0..e.repeat {
                    out.write_all(line.as_bytes())?;
                }
                n.commands += e.repeat;
            }
            (Kind::Write, Some(w)) => {
                writeln!(out, "write{} {:#x} {:#x}", qtest_suffix(w), e.addr, e.value)?;
                n.commands += 1;
            }
            (Kind::ReadBytes, _) if e.len > 0 => {
                writeln!(out, "b64read {:#x} {:#x}", e.addr, e.len)?;
                n.commands += 1;
            }
            (Kind::WriteBytes, _) if e.len > 0 => {
                writeln!(
                    out,
                    "b64write {:#x} {:#x} {}",
                    e.addr,
                    e.len,
                    crate::b64::encode_string(e.data())
                )?;
                n.commands += 1;
            }
            _ => n.not_access += 1,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::file::parse;

    fn trace(body: &str) -> Trace {
        let head = r#"{"memlua_trace":1,"backend":"sim","board":"pc","regions":[{"base":"0xfe000000","size":"0x1000","name":"uart0"}]}"#;
        parse(format!("{head}\n{body}").as_bytes()).unwrap()
    }

    const A: &str = r#"{"seq":1,"op":"write","space":"phys","addr":"0xfe000003","width":8,"value":"0x80","t_ns":1000,"src":"u.lua:3"}
{"seq":2,"op":"read","space":"phys","addr":"0xfe000005","width":8,"value":"0x60","repeat":3,"t_ns":2000}
{"seq":3,"op":"write_bytes","space":"phys","addr":"0x1000","len":"0x3","data":"Zm9v","t_ns":3000}
{"seq":4,"op":"read","space":"kmem","addr":"0xffffffff80000000","width":64,"value":"0x1","t_ns":3000}
{"seq":5,"op":"read","space":"phys","addr":"0x1","width":32,"errno":"EINVAL","message":"m","t_ns":3000}
{"seq":6,"op":"end","status":0,"how":"returned","t_ns":4000}
"#;

    #[test]
    fn show_names_regions_and_stats_count() {
        let t = trace(A);
        let mut out = Vec::new();
        show(&t, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("uart0"), "{s}");
        assert!(s.contains("read x3"), "{s}");
        assert!(s.contains("u.lua:3"), "{s}");
        assert!(s.contains("EINVAL"), "{s}");
        let mut out = Vec::new();
        stats(&t, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("7 accesses"), "{s}");
        assert!(
            s.lines()
                .any(|l| l.trim_start().starts_with("uart0") && l.contains(" 4 ")),
            "{s}"
        );
    }

    #[test]
    fn qtest_has_one_command_per_phys_access() {
        let mut out = Vec::new();
        let n = qtest(&trace(A), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "writeb 0xfe000003 0x80\nreadb 0xfe000005\nreadb 0xfe000005\nreadb 0xfe000005\n\
             b64write 0x1000 0x3 Zm9v\n"
        );
        assert_eq!(
            n,
            Exported {
                commands: 5,
                failed: 1,
                other_space: 1,
                not_access: 0,
                not_performed: 0
            }
        );
    }

    #[test]
    fn diff_finds_the_first_parting() {
        let a = trace(A);
        assert_eq!(diff(&a, &a), (5, None));
        let b = trace(&A.replace("\"value\":\"0x80\"", "\"value\":\"0x81\""));
        let (same, d) = diff(&a, &b);
        let d = d.unwrap();
        assert_eq!(same, 0);
        assert!(
            d.contains("mem.write8(0xfe000003, 0x80)") && d.contains("0x81"),
            "{d}"
        );
        let short = trace(&A.lines().take(2).collect::<Vec<_>>().join("\n"));
        let d = diff(&a, &short).1.unwrap();
        assert!(d.starts_with("B ends after 2 operations"), "{d}");
    }

    #[test]
    fn qtest_export_leaves_out_writes_a_dry_run_did_not_perform() {
        let t = trace(&A.replace(
            "\"value\":\"0x80\",",
            "\"value\":\"0x80\",\"performed\":false,",
        ));
        let mut out = Vec::new();
        let n = qtest(&t, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("writeb 0xfe000003"), "{text}");
        assert_eq!((n.not_performed, n.commands), (1, 4));
    }

    #[test]
    fn writes_not_performed_are_shown_counted_and_compared() {
        let dry = A
            .replace(
                "\"value\":\"0x80\"",
                "\"value\":\"0x80\",\"performed\":false",
            )
            .replace("\"data\":\"Zm9v\"", "\"data\":\"Zm9v\",\"performed\":false");
        let t = trace(&dry);
        let mut out = Vec::new();
        show(&t, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("2 not performed (a dry run)"), "{s}");
        let rows: Vec<&str> = s.lines().filter(|l| l.contains("not performed")).collect();
        assert_eq!(rows.len(), 3, "{s}");
        assert!(rows[1].contains("0x80 not performed"), "{s}");
        assert!(rows[2].contains("666f6f not performed"), "{s}");
        // The same operations, one run performing them and one not.
        let d = diff(&trace(A), &t).1.unwrap();
        assert!(
            d.contains("mem.write8(0xfe000003, 0x80) -> not performed"),
            "{d}"
        );
    }
}
