//! `memlua --map` on the native backend. Physical memory through /dev/mem
//! is the machine's: its map is what /proc/iomem shows (Linux; the kernel
//! shows the addresses to root only). A regular file given with `--mem`
//! stands in for memory from address 0 to its size; it has no other map.

use std::fmt::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use memlua_runtime::native::iomem::parse;

use super::size;

const DEV_MEM: &str = "/dev/mem";

/// The description for `--mem` (None: /dev/mem), ending in a newline; an
/// error when the file named cannot be looked at.
pub fn describe(mem: Option<&Path>) -> Result<String, String> {
    let mut out = String::new();
    let w = &mut out;
    let file = mem.unwrap_or(DEV_MEM.as_ref());
    let meta = std::fs::metadata(file);
    let path = file.display();
    if mem.is_some() {
        let meta = meta
            .as_ref()
            .map_err(|e| format!("cannot open {path}: {e}"))?;
        if meta.is_file() {
            let len = meta.len();
            let _ = writeln!(w, "native backend: physical memory is the file {path}");
            if len == 0 {
                let _ = writeln!(w, "  empty: every address is past its end (EFAULT)");
            } else {
                let _ = writeln!(
                    w,
                    "  {:#012x}-{:#012x}  {:>8}  the file; past its end is EFAULT",
                    0,
                    len - 1,
                    size(len)
                );
            }
            return Ok(out);
        }
        if !is_dev_mem(meta) {
            let _ = writeln!(
                w,
                "native backend: physical memory is the device {path}\n  \
                 no map: memlua knows the machine's map (/proc/iomem) only for {DEV_MEM}"
            );
            return Ok(out);
        }
    }
    let _ = write!(w, "native backend: physical memory through {path}");
    if let Err(e) = &meta {
        let _ = write!(w, " (not usable here: {e})");
    }
    let _ = writeln!(w);
    iomem(w);
    Ok(out)
}

/// `n` bytes, exactly when a unit divides them, else to a tenth of the
/// largest unit below them (the kernel's regions seldom end on a unit).
fn about(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    if n < 1 << 10 || n.is_multiple_of(1 << 10) {
        return size(n);
    }
    let (unit, name) = UNITS
        .iter()
        .find(|(unit, _)| n >= *unit)
        .unwrap_or(&UNITS[2]);
    format!("{:.1} {name}", n as f64 / *unit as f64)
}

/// Whether `meta` is /dev/mem itself, under whatever name.
fn is_dev_mem(meta: &std::fs::Metadata) -> bool {
    meta.file_type().is_char_device()
        && std::fs::metadata(DEV_MEM).is_ok_and(|m| m.rdev() == meta.rdev())
}

/// The regions of /proc/iomem, nested as the kernel nests them, or why
/// there are none to show.
fn iomem(w: &mut String) {
    let text = match std::fs::read_to_string("/proc/iomem") {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(
                w,
                "no map: /proc/iomem cannot be read ({e}); memlua reads the map from it (Linux)"
            );
            return;
        }
    };
    let regions = parse(&text);
    if regions.iter().all(|r| r.start == 0 && r.end == 0) {
        let _ = writeln!(
            w,
            "no map: the kernel shows /proc/iomem's addresses to root only (all read as 0 here)"
        );
        return;
    }
    let _ = writeln!(w, "\nphysical memory map (/proc/iomem):");
    for r in regions {
        let _ = writeln!(
            w,
            "  {:#012x}-{:#012x}  {:>10}  {:indent$}{}",
            r.start,
            r.end,
            about(r.end.wrapping_sub(r.start).wrapping_add(1)),
            "",
            r.name,
            indent = 2 * r.depth
        );
    }
}
