//! /proc/iomem: which region a physical address lies in, so that the
//! kernel refusing an address (CONFIG_STRICT_DEVMEM) can be reported with
//! the region's name ("System RAM", "Kernel code", a device's name).

/// One line of /proc/iomem: `[start, end]` (end inclusive), its name and
/// its nesting depth (two spaces per level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IomemRegion {
    pub start: u64,
    pub end: u64,
    pub name: String,
    pub depth: usize,
}

/// Parses /proc/iomem's text; lines it cannot read are skipped.
pub fn parse(text: &str) -> Vec<IomemRegion> {
    text.lines()
        .filter_map(|line| {
            let depth = (line.len() - line.trim_start().len()) / 2;
            let (range, name) = line.trim_start().split_once(" : ")?;
            let (s, e) = range.split_once('-')?;
            Some(IomemRegion {
                start: u64::from_str_radix(s, 16).ok()?,
                end: u64::from_str_radix(e, 16).ok()?,
                name: name.trim().to_string(),
                depth,
            })
        })
        .collect()
}

/// The innermost region holding `addr`, as `"outer > inner"`, or None.
/// Without root every range reads as 0, so nothing is found (None).
pub fn region_of(regions: &[IomemRegion], addr: u64) -> Option<String> {
    let mut path: Vec<&str> = Vec::new();
    for r in regions {
        if r.start <= addr && addr <= r.end && !(r.start == 0 && r.end == 0) {
            path.truncate(r.depth);
            if path.len() == r.depth {
                path.push(&r.name);
            }
        }
    }
    (!path.is_empty()).then(|| path.join(" > "))
}

/// The region of `addr` on this machine (reads /proc/iomem).
pub fn lookup(addr: u64) -> Option<String> {
    let text = std::fs::read_to_string("/proc/iomem").ok()?;
    region_of(&parse(&text), addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from a PC (root's view).
    const PC: &str = "\
00000000-00000fff : Reserved
00001000-0009fbff : System RAM
000a0000-000bffff : PCI Bus 0000:00
000f0000-000fffff : System ROM
00100000-bffd9fff : System RAM
  2a000000-2b002666 : Kernel code
  2b200000-2b8d3fff : Kernel rodata
fe000000-febfffff : PCI Bus 0000:00
  fe000000-fe7fffff : 0000:00:02.0
    fe000000-fe7fffff : bochs-drm
";

    #[test]
    fn finds_the_innermost_region() {
        let r = parse(PC);
        assert_eq!(r.len(), 10);
        assert_eq!(region_of(&r, 0x2000).as_deref(), Some("System RAM"));
        assert_eq!(
            region_of(&r, 0x2a001000).as_deref(),
            Some("System RAM > Kernel code")
        );
        assert_eq!(
            region_of(&r, 0xfe001000).as_deref(),
            Some("PCI Bus 0000:00 > 0000:00:02.0 > bochs-drm")
        );
        assert_eq!(region_of(&r, 0xc0000000), None);
    }

    #[test]
    fn hidden_addresses_find_nothing() {
        let r = parse("00000000-00000000 : System RAM\n");
        assert_eq!(region_of(&r, 0x1000), None);
    }
}
