//! `memlua --map` on the qemu backend: the machine's regions as QEMU
//! renders them (`info mtree -f`, the flat views), for the CPU's physical
//! address space and, on x86, the I/O ports.

use std::fmt::Write;

use memlua_runtime::qemu::Qemu;
use memlua_runtime::Result;

use super::size;

/// One flat view of `info mtree -f`: the address spaces that share it and
/// its regions.
#[derive(Debug, Default, PartialEq, Eq)]
struct FlatView {
    spaces: Vec<String>,
    regions: Vec<Region>,
}

#[derive(Debug, PartialEq, Eq)]
struct Region {
    start: u64,
    end: u64,
    kind: String,
    name: String,
}

/// The flat views in `info mtree -f`'s text.
fn flat_views(text: &str) -> Vec<FlatView> {
    let mut views: Vec<FlatView> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("FlatView #") {
            views.push(FlatView::default());
            continue;
        }
        let Some(v) = views.last_mut() else { continue };
        if let Some(rest) = t.strip_prefix("AS \"") {
            if let Some((name, _)) = rest.split_once('"') {
                v.spaces.push(name.to_string());
            }
        } else if let Some(r) = region(t) {
            v.regions.push(r);
        }
    }
    views
}

/// `0000000000000000-000000000009ffff (prio 0, ram): pc.ram @0000... KVM`.
fn region(line: &str) -> Option<Region> {
    let (range, rest) = line.split_once(" (")?;
    let (start, end) = range.split_once('-')?;
    let start = u64::from_str_radix(start, 16).ok()?;
    let end = u64::from_str_radix(end, 16).ok()?;
    let (attrs, name) = rest.split_once("): ")?;
    let kind = attrs.rsplit(", ").next()?.to_string();
    // The offset into the region it shows (" @0000...") is QEMU's detail.
    let name = name.split(" @").next()?.trim().to_string();
    Some(Region {
        start,
        end,
        kind,
        name,
    })
}

/// The view's regions with the gaps between them, one line each.
fn print_view(w: &mut String, v: &FlatView, digits: usize, top: u64) {
    let mut next = 0u64;
    let hole = |w: &mut String, a: u64, b: u64| {
        let _ = writeln!(w, "  {a:#0digits$x}-{b:#0digits$x}  unassigned");
    };
    for r in &v.regions {
        if r.start > next {
            hole(w, next, r.start - 1);
        }
        let len = (r.end - r.start).saturating_add(1);
        let _ = writeln!(
            w,
            "  {:#0digits$x}-{:#0digits$x}  {:<5} {:<22} {:>8}",
            r.start,
            r.end,
            r.kind,
            r.name,
            size(len)
        );
        next = r.end.saturating_add(1);
    }
    if next != 0 && next < top {
        hole(w, next, top - 1);
    }
}

/// The whole description, ending in a newline.
pub fn describe(q: &mut Qemu) -> Result<String> {
    let version = q.version()?;
    let text = q.mtree()?;
    let views = flat_views(&text);
    let mut out = String::new();
    let w = &mut out;
    let bits = q.phys_bits();
    let top = if bits >= 64 { u64::MAX } else { 1u64 << bits };
    let _ = writeln!(
        w,
        "machine {} on QEMU {version} ({}): physical address width {bits} bits (highest address {:#x})",
        q.machine().unwrap_or("(attached)"),
        q.arch().unwrap_or("unknown CPU"),
        top - 1
    );
    let _ = writeln!(
        w,
        "unassigned addresses are QEMU's to answer (reads give 0 or all ones, writes are dropped)"
    );
    let memory = views
        .iter()
        .find(|v| v.spaces.iter().any(|s| s == "memory"));
    let _ = writeln!(w, "\nphysical memory map (info mtree -f):");
    match memory {
        Some(v) => print_view(w, v, 12, top),
        None => {
            let _ = writeln!(
                w,
                "  (QEMU showed no flat view of address space \"memory\")"
            );
        }
    }
    if let Some(io) = views.iter().find(|v| v.spaces.iter().any(|s| s == "I/O")) {
        let _ = writeln!(w, "\nI/O ports (qemu.io_read8 and friends):");
        print_view(w, io, 6, 0x10000);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MTREE: &str = "FlatView #0\n AS \"memory\", root: system\n AS \"cpu-memory-0\", root: system\n Root memory region: system\n  0000000000000000-000000000009ffff (prio 0, ram): pc.ram KVM\n  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000\n  00000000fed00000-00000000fed003ff (prio 0, i/o): hpet\n\nFlatView #1\n AS \"I/O\", root: io\n Root memory region: io\n  0000000000000070-0000000000000071 (prio 0, i/o): rtc-index\n";

    #[test]
    fn flat_views_are_read_with_their_spaces_and_regions() {
        let v = flat_views(MTREE);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].spaces, ["memory", "cpu-memory-0"]);
        assert_eq!(
            v[0].regions[1],
            Region {
                start: 0xe0000,
                end: 0xfffff,
                kind: "rom".into(),
                name: "pc.bios".into()
            }
        );
        assert_eq!(v[0].regions[0].name, "pc.ram KVM");
        assert_eq!(v[1].regions[0].kind, "i/o");
    }

    #[test]
    fn gaps_print_as_unassigned() {
        let v = flat_views(MTREE);
        let mut s = String::new();
        print_view(&mut s, &v[0], 12, 1 << 40);
        assert!(
            s.contains("  0x00000a0000-0x00000dffff  unassigned\n"),
            "{s}"
        );
        assert!(s.contains("0x00fed00000-0x00fed003ff  i/o   hpet"), "{s}");
        assert!(
            s.ends_with("  0x00fed00400-0xffffffffff  unassigned\n"),
            "{s}"
        );
    }
}
