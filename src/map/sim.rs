//! `memlua --map` on the simulator: the board's memory map, kernel layout
//! and memory-range table, printed for a person.

use std::fmt::Write;

use memlua_runtime::sim::kernel::{DMAP_MIN, KERNBASE};
use memlua_runtime::sim::space::HolePolicy;
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, MdfFlags, Result};

use super::size;

/// The whole description, ending in a newline.
pub fn describe(sim: &mut Sim) -> Result<String> {
    let mut out = String::new();
    let board = sim.board_spec().clone();
    let w = &mut out;
    let _ = writeln!(w, "board {}: {}", board.name, board.description);
    let _ = writeln!(
        w,
        "physical address width {} bits (highest address {:#x}); holes {}",
        board.maxphyaddr,
        (1u64 << board.maxphyaddr) - 1,
        match board.holes {
            HolePolicy::Ones => "read as all ones, writes dropped",
            HolePolicy::Fault => "fault (EFAULT)",
        }
    );
    let _ = writeln!(w, "\nphysical memory map:");
    let mut next = 0u64;
    for r in sim.regions() {
        if r.base > next {
            let _ = writeln!(w, "  {:#012x}-{:#012x}  hole", next, r.base - 1);
        }
        let mut line = format!(
            "  {:#012x}-{:#012x}  {:<12} {:<14} {:>8}",
            r.base,
            r.base + r.size - 1,
            r.kind,
            r.name,
            size(r.size)
        );
        if let Some(d) = r.domain {
            let _ = write!(line, "  domain {d}");
        }
        let _ = writeln!(w, "{}", line.trim_end());
        next = r.base + r.size;
    }
    let top = 1u64 << board.maxphyaddr;
    if next < top {
        let _ = writeln!(w, "  {:#012x}-{:#012x}  hole", next, top - 1);
    }

    let k = &board.kernel;
    let _ = writeln!(
        w,
        "\nkernel: image {:#x}-{:#x} -> physical {:#x} ({}); direct map {:#x} covers {}",
        KERNBASE,
        KERNBASE.wrapping_add(k.size - 1),
        k.phys,
        size(k.size),
        DMAP_MIN,
        size(sim.kernel().dmap_limit())
    );
    let symbols: Vec<String> = sim
        .kernel()
        .symbols()
        .iter()
        .map(|(n, a)| format!("{n}={a:#x}"))
        .collect();
    let _ = writeln!(w, "symbols: {}", symbols.join(" "));

    let _ = writeln!(w, "\nmemory ranges:");
    match sim.ranges() {
        Err(e) => {
            let _ = writeln!(w, "  none: {} ({})", e.message, e.errno);
        }
        Ok(ranges) => {
            let free = ranges
                .iter()
                .filter(|d| {
                    !d.flags.contains(MdfFlags::FIXACTIVE) && !d.flags.contains(MdfFlags::ACTIVE)
                })
                .count();
            let _ = writeln!(
                w,
                "  {} descriptors, {free} variable slots free; the active ones:",
                ranges.len()
            );
            // Runs of fixed slots alike in everything but place print as one
            // line: 88 lines of 4 KiB slots would hide the variable ranges.
            let mut i = 0;
            while i < ranges.len() {
                let d = &ranges[i];
                let mut run = 1;
                if d.flags.contains(MdfFlags::FIXACTIVE) {
                    while let Some(n) = ranges.get(i + run) {
                        let prev = &ranges[i + run - 1];
                        if n.flags != d.flags || n.owner != d.owner || n.base != prev.end() {
                            break;
                        }
                        run += 1;
                    }
                }
                i += run;
                if !d.flags.contains(MdfFlags::ACTIVE) {
                    continue;
                }
                let len = ranges[i - 1].end() - d.base;
                let owner = if d.owner[0] == 0 {
                    "-".into()
                } else {
                    d.owner_str()
                };
                let mut notes = String::new();
                if run > 1 {
                    let _ = write!(notes, " ({run} fixed slots)");
                }
                if d.flags.contains(MdfFlags::BUSY) {
                    notes.push_str(" (busy)");
                }
                let _ = writeln!(
                    w,
                    "  {:#x}/{:#x} {owner} {}{notes}",
                    d.base,
                    len,
                    d.flags.names()
                );
            }
        }
    }
    Ok(out)
}
