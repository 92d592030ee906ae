//! Boards: TOML files that lay out a simulated machine (RAM, ROM, devices,
//! NUMA domains, the kernel image and the firmware's MTRR table).
//!
//! A board is checked whole before anything is built, and every refusal
//! names the file, line and column of the entry at fault and what was
//! expected there. Built-in boards live in runtime/boards/.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::devices;
use super::kernel::{KernelConfig, KernelMap};
use super::memrange::{FirmwareEntry, FirmwareRange, MemRanges, MtrrConfig, MAX_VARIABLE_SLOTS};
use super::space::HolePolicy;
use crate::{Errno, Error, MdfFlags, MemRangeDesc, PAGE_SIZE};

/// The boards compiled into memlua: (name, TOML text).
pub const BUILTIN: [(&str, &str); 4] = [
    ("pc", include_str!("../../boards/pc.toml")),
    ("pc-nomtrr", include_str!("../../boards/pc-nomtrr.toml")),
    ("arm64-virt", include_str!("../../boards/arm64-virt.toml")),
    ("q35", include_str!("../../boards/q35.toml")),
];

/// A board refused, with where and why.
///
/// `line` and `column` are 1-based (the column counts bytes). Both are 0
/// when the refusal has no place in the text: the file could not be read,
/// or there is no such built-in board. Display then gives the message alone,
/// which names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl BoardError {
    /// A refusal that no line of the board is to blame for.
    fn unplaced(file: &str, message: String) -> BoardError {
        BoardError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message,
        }
    }
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for BoardError {}

impl From<BoardError> for Error {
    fn from(e: BoardError) -> Error {
        Error::new(Errno::EINVAL, "board", e.to_string())
    }
}

// ---- the limits a board is held to -----------------------------------------

/// RAM, ROM and framebuffers are sparse, but each costs its page directory
/// up front (8 bytes per 2 MiB): 16 TiB in all costs 64 MiB.
pub const MAX_BACKING: u64 = 1 << 44;

/// How far one device access moves the virtual clock. A clock that stands
/// still hangs every delay loop on a timer; one that saturates u64 within
/// a few accesses does the same.
const CLOCK_STEP_NS: RangeInclusive<u64> = 1..=1_000_000_000;

/// NUMA domain numbers: small indexes (mem_affinity's); -1 is what memlua
/// reports for memory in no domain, so a board may not name it.
const DOMAINS: RangeInclusive<i32> = 0..=255;

/// `hz` is a C int in the kernel.
const HZ: RangeInclusive<u32> = 1..=i32::MAX as u32;

/// A board file is a page or two of TOML; this only stops `--board
/// /dev/zero` (or a disk image given by mistake) from eating memory.
const MAX_FILE_BYTES: u64 = 16 << 20;

// ---- the file format -------------------------------------------------------

fn default_true() -> bool {
    true
}
fn default_device_size() -> u64 {
    PAGE_SIZE
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    maxphyaddr: Spanned<u32>,
    holes: Option<Spanned<String>>,
    clock_step_ns: Option<Spanned<u64>>,
    kernel: Option<Spanned<KernelFile>>,
    #[serde(default)]
    ram: Vec<Spanned<RamFile>>,
    #[serde(default)]
    rom: Vec<Spanned<RomFile>>,
    #[serde(default)]
    device: Vec<Spanned<DeviceFile>>,
    mtrr: Option<MtrrFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KernelFile {
    phys: Option<Spanned<u64>>,
    size: Option<Spanned<u64>>,
    version: Option<Spanned<String>>,
    hz: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RamFile {
    name: Option<String>,
    base: u64,
    size: u64,
    domain: Option<i32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RomFile {
    name: String,
    base: u64,
    size: u64,
    #[serde(default)]
    data: Vec<Spanned<RomData>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RomData {
    offset: u64,
    bytes: Option<Vec<u8>>,
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFile {
    name: String,
    kind: Spanned<String>,
    base: u64,
    #[serde(default = "default_device_size")]
    size: u64,
    frequency: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MtrrFile {
    #[serde(default = "default_true")]
    enabled: bool,
    #[serde(default = "default_true")]
    fixed: bool,
    variable_slots: Spanned<u64>,
    #[serde(default)]
    fixed_ranges: Vec<Spanned<RangeFile>>,
    #[serde(default)]
    variable: Vec<Spanned<RangeFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeFile {
    base: u64,
    len: u64,
    #[serde(rename = "type")]
    kind: String,
    owner: Option<String>,
    #[serde(default)]
    busy: bool,
}

// ---- the checked board -----------------------------------------------------

/// What fills one region of a checked board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSpec {
    Ram {
        domain: Option<i32>,
    },
    /// Contents as (offset, bytes).
    Rom {
        data: Vec<(u64, Vec<u8>)>,
    },
    Device {
        kind: String,
        frequency: Option<u64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionEntry {
    pub name: String,
    pub base: u64,
    pub size: u64,
    pub spec: RegionSpec,
}

/// A board that passed every check, ready to build a simulator from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub name: String,
    pub description: String,
    pub maxphyaddr: u32,
    pub holes: HolePolicy,
    pub clock_step_ns: u64,
    pub kernel: KernelConfig,
    /// Sorted by base.
    pub regions: Vec<RegionEntry>,
    /// None: the platform has no memory-range support (EOPNOTSUPP).
    pub mtrr: Option<MtrrConfig>,
}

impl Board {
    /// A built-in board by name, or a TOML file by path (its bytes as
    /// given: a path need not be UTF-8).
    pub fn load(name_or_path: impl AsRef<Path>) -> Result<Board, BoardError> {
        let path = name_or_path.as_ref();
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| path.to_str() == Some(*n)) {
            return Board::parse(text, &format!("<built-in board {name}>"));
        }
        // For messages only; the file opened is `path` itself.
        let shown = path.display().to_string();
        let name_or_path = shown.as_str();
        let builtins = BUILTIN.map(|(n, _)| n).join(", ");
        let unreadable = |e: std::io::Error| {
            BoardError::unplaced(
                name_or_path,
                if e.kind() == std::io::ErrorKind::NotFound
                    && (name_or_path.contains('/') || name_or_path.ends_with(".toml"))
                {
                    format!("{name_or_path}: no such board file (built-in boards: {builtins})")
                } else if e.kind() == std::io::ErrorKind::NotFound {
                    format!(
                        "no built-in board or file named '{name_or_path}' (built-in: {builtins})"
                    )
                } else {
                    format!("cannot read board file '{name_or_path}': {e} (built-in boards: {builtins})")
                },
            )
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(BoardError::unplaced(
                name_or_path,
                format!(
                    "board file '{name_or_path}' is larger than {} MiB; expected a TOML board description",
                    MAX_FILE_BYTES >> 20
                ),
            ));
        }
        Board::parse_bytes(&bytes, name_or_path)
    }

    /// Checks a board's file contents, which must be UTF-8; `file` names it
    /// in errors.
    pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Board, BoardError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Board::parse(text, file),
            Err(e) => {
                let at = e.valid_up_to();
                let (line, column) = line_col(bytes, at);
                Err(BoardError {
                    file: file.to_string(),
                    line,
                    column,
                    message: format!(
                        "byte {:#04x} is not UTF-8; expected a TOML board description, which is UTF-8 text",
                        bytes[at]
                    ),
                })
            }
        }
    }

    /// Checks a board's TOML text; `file` names it in errors. Every value
    /// is checked before anything is built from it, so a board that parses
    /// builds a simulator (`Sim::new`) without failing.
    pub fn parse(text: &str, file: &str) -> Result<Board, BoardError> {
        let at = |span: Span, message: String| {
            let (line, column) = line_col(text.as_bytes(), span.start);
            BoardError {
                file: file.to_string(),
                line,
                column,
                message,
            }
        };
        let raw: BoardFile = toml::from_str(text).map_err(|e| {
            at(
                e.span().unwrap_or(0..0),
                format!("{} in the board description", e.message().trim_end()),
            )
        })?;

        // A mistyped kind explains whatever else looks wrong with the entry
        // (a timer's `frequency` on a "timr"), so it is reported first.
        for d in &raw.device {
            let kind = &d.get_ref().kind;
            if let Err(msg) = devices::check_kind(kind.get_ref()) {
                return Err(at(
                    kind.span(),
                    format!("device '{}': {msg}", d.get_ref().name),
                ));
            }
        }

        let maxphyaddr = *raw.maxphyaddr.get_ref();
        if !(32..=52).contains(&maxphyaddr) {
            return Err(at(
                raw.maxphyaddr.span(),
                format!("maxphyaddr {maxphyaddr} is out of range; expected a physical-address width from 32 to 52 bits"),
            ));
        }
        let top = 1u64 << maxphyaddr;
        if raw.name.get_ref().is_empty() {
            return Err(at(
                raw.name.span(),
                "the board's name is empty; expected a name".into(),
            ));
        }
        let holes = match &raw.holes {
            None => HolePolicy::Ones,
            Some(h) => match h.get_ref().as_str() {
                "ones" => HolePolicy::Ones,
                "fault" => HolePolicy::Fault,
                other => {
                    return Err(at(
                        h.span(),
                        format!("holes = \"{other}\" is unknown; expected \"ones\" or \"fault\""),
                    ))
                }
            },
        };
        let clock_step_ns = match &raw.clock_step_ns {
            None => 100,
            Some(s) => {
                let step = *s.get_ref();
                if !CLOCK_STEP_NS.contains(&step) {
                    return Err(at(
                        s.span(),
                        format!(
                            "clock_step_ns = {step} is out of range; expected {} to {} ns (a clock that stands still or saturates hangs timer delay loops)",
                            CLOCK_STEP_NS.start(),
                            CLOCK_STEP_NS.end()
                        ),
                    ));
                }
                step
            }
        };

        // Every region with the span of the entry that made it.
        let mut regions: Vec<(RegionEntry, Span)> = Vec::new();
        for (i, r) in raw.ram.iter().enumerate() {
            let v = r.get_ref();
            regions.push((
                RegionEntry {
                    name: v.name.clone().unwrap_or_else(|| format!("ram{i}")),
                    base: v.base,
                    size: v.size,
                    spec: RegionSpec::Ram { domain: v.domain },
                },
                r.span(),
            ));
        }
        for r in &raw.rom {
            let v = r.get_ref();
            regions.push((
                RegionEntry {
                    name: v.name.clone(),
                    base: v.base,
                    size: v.size,
                    spec: RegionSpec::Rom { data: Vec::new() },
                },
                r.span(),
            ));
        }
        for d in &raw.device {
            let v = d.get_ref();
            regions.push((
                RegionEntry {
                    name: v.name.clone(),
                    base: v.base,
                    size: v.size,
                    spec: RegionSpec::Device {
                        kind: v.kind.get_ref().clone(),
                        frequency: v.frequency,
                    },
                },
                d.span(),
            ));
        }

        // Geometry first: every size below is then known to fit the
        // address space, so no sum can wrap.
        for (r, span) in &regions {
            let what = region_label(r);
            if r.name.is_empty() {
                return Err(at(
                    span.clone(),
                    format!("{what} has an empty name; expected a name"),
                ));
            }
            if r.size == 0 {
                return Err(at(
                    span.clone(),
                    format!("{what} has size 0; expected a size of at least 0x1000"),
                ));
            }
            if !r.base.is_multiple_of(PAGE_SIZE) || !r.size.is_multiple_of(PAGE_SIZE) {
                return Err(at(
                    span.clone(),
                    format!(
                        "{what} at {:#x} size {:#x} is not aligned to 4 KiB; expected a base and size that are multiples of 0x1000",
                        r.base, r.size
                    ),
                ));
            }
            if r.base.checked_add(r.size).is_none_or(|end| end > top) {
                return Err(at(
                    span.clone(),
                    format!(
                        "{what} at {:#x} size {:#x} lies above maxphyaddr ({maxphyaddr} bits); expected it to end at or below {top:#x}",
                        r.base, r.size
                    ),
                ));
            }
        }

        // What each kind of region needs of its values.
        for r in &raw.ram {
            if let Some(d) = r.get_ref().domain.filter(|d| !DOMAINS.contains(d)) {
                return Err(at(
                    r.span(),
                    format!(
                        "ram domain {d} is out of range; expected a NUMA domain from {} to {}",
                        DOMAINS.start(),
                        DOMAINS.end()
                    ),
                ));
            }
        }
        let rom_regions = regions
            .iter_mut()
            .filter(|(r, _)| matches!(r.spec, RegionSpec::Rom { .. }));
        for ((entry, _), r) in rom_regions.zip(&raw.rom) {
            let v = r.get_ref();
            let mut data = Vec::new();
            for d in &v.data {
                let dv = d.get_ref();
                let bytes = match (&dv.bytes, &dv.text) {
                    (Some(b), None) => b.clone(),
                    (None, Some(t)) => t.as_bytes().to_vec(),
                    _ => {
                        return Err(at(
                            d.span(),
                            format!(
                                "rom '{}': each data entry needs exactly one of `bytes` or `text`",
                                v.name
                            ),
                        ))
                    }
                };
                if dv
                    .offset
                    .checked_add(bytes.len() as u64)
                    .is_none_or(|e| e > v.size)
                {
                    return Err(at(
                        d.span(),
                        format!(
                            "rom '{}': {} bytes of data at offset {:#x} run past the ROM's {:#x} bytes; expected data inside the ROM",
                            v.name,
                            bytes.len(),
                            dv.offset,
                            v.size
                        ),
                    ));
                }
                data.push((dv.offset, bytes));
            }
            entry.spec = RegionSpec::Rom { data };
        }
        for d in &raw.device {
            let v = d.get_ref();
            if let Err(msg) = devices::check(v.kind.get_ref(), v.size, v.frequency) {
                return Err(at(d.span(), format!("device '{}': {msg}", v.name)));
            }
        }
        let mut backed = 0u64;
        for (r, span) in &regions {
            let sparse = match &r.spec {
                RegionSpec::Ram { .. } | RegionSpec::Rom { .. } => true,
                RegionSpec::Device { kind, .. } => kind == "framebuffer",
            };
            if !sparse {
                continue;
            }
            // Each size is below 2^52 here, so the sum cannot wrap.
            backed += r.size;
            if backed > MAX_BACKING {
                return Err(at(
                    span.clone(),
                    format!(
                        "{} size {:#x} brings the board's RAM, ROM and framebuffers to {backed:#x} bytes; expected at most {MAX_BACKING:#x} (16 TiB) in all",
                        region_label(r),
                        r.size
                    ),
                ));
            }
        }

        // By hash and by sorting, not pair by pair: a board file may hold
        // hundreds of thousands of entries.
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, (r, span)) in regions.iter().enumerate() {
            if let Some(&j) = names.get(r.name.as_str()) {
                return Err(at(
                    span.clone(),
                    format!(
                        "{} has the same name as {}; expected unique names",
                        region_label(r),
                        region_label(&regions[j].0)
                    ),
                ));
            }
            names.insert(&r.name, i);
        }
        let mut by_base: Vec<usize> = (0..regions.len()).collect();
        by_base.sort_by_key(|&i| (regions[i].0.base, i));
        // The region reaching highest so far: anything starting below its
        // end overlaps it. The one later in the file is blamed.
        let mut reach: Option<usize> = None;
        for &i in &by_base {
            let end = |k: usize| regions[k].0.base + regions[k].0.size;
            if let Some(o) = reach.filter(|&o| regions[i].0.base < end(o)) {
                let ((r, span), (o, _)) = if i > o {
                    (&regions[i], &regions[o])
                } else {
                    (&regions[o], &regions[i])
                };
                return Err(at(
                    span.clone(),
                    format!(
                        "overlapping regions: {} at {:#x}-{:#x} overlaps {} at {:#x}-{:#x}; expected regions that do not share addresses",
                        region_label(r),
                        r.base,
                        r.base + r.size - 1,
                        region_label(o),
                        o.base,
                        o.base + o.size - 1
                    ),
                ));
            }
            if reach.is_none_or(|o| end(i) > end(o)) {
                reach = Some(i);
            }
        }

        let ram_base = regions
            .iter()
            .filter(|(r, _)| matches!(r.spec, RegionSpec::Ram { .. }))
            .map(|(r, _)| r.base)
            .min();
        let Some(ram_base) = ram_base else {
            return Err(at(
                0..0,
                "the board has no RAM; expected at least one [[ram]] entry".into(),
            ));
        };
        let kernel = check_kernel(raw.kernel.as_ref(), &raw.name, ram_base, top, &regions, &at)?;

        let mtrr = match &raw.mtrr {
            None => None,
            Some(m) => Some(check_mtrr(m, maxphyaddr, &at)?),
        };

        let mut regions: Vec<RegionEntry> = regions.into_iter().map(|(r, _)| r).collect();
        regions.sort_by_key(|r| r.base);
        Ok(Board {
            name: raw.name.into_inner(),
            description: raw.description,
            maxphyaddr,
            holes,
            clock_step_ns,
            kernel,
            regions,
            mtrr,
        })
    }
}

type Span = std::ops::Range<usize>;

/// The kernel image, its defaults filled in: `phys` defaults to the lowest
/// RAM. Errors name the value at fault, else the [kernel] table, else the
/// start of the file (a default that cannot work).
fn check_kernel(
    raw: Option<&Spanned<KernelFile>>,
    board_name: &Spanned<String>,
    ram_base: u64,
    top: u64,
    regions: &[(RegionEntry, Span)],
    at: &impl Fn(Span, String) -> BoardError,
) -> Result<KernelConfig, BoardError> {
    let table = raw.map_or(0..0, |k| k.span());
    let kf = raw.map(|k| k.get_ref());
    let place = |field: Option<Span>| field.unwrap_or_else(|| table.clone());
    let phys_span = place(kf.and_then(|k| k.phys.as_ref()).map(|v| v.span()));
    let size_span = place(kf.and_then(|k| k.size.as_ref()).map(|v| v.span()));
    let kernel = KernelConfig {
        phys: kf
            .and_then(|k| k.phys.as_ref())
            .map_or(ram_base, |v| *v.get_ref()),
        size: kf
            .and_then(|k| k.size.as_ref())
            .map_or(0x200_0000, |v| *v.get_ref()),
        version: kf.and_then(|k| k.version.as_ref()).map_or_else(
            || format!("FreeBSD 15.0-RELEASE memlua-sim {}", board_name.get_ref()),
            |v| v.get_ref().clone(),
        ),
        hz: kf
            .and_then(|k| k.hz.as_ref())
            .map_or(1000, |v| *v.get_ref()),
    };

    let hz_span = place(kf.and_then(|k| k.hz.as_ref()).map(|v| v.span()));
    if !HZ.contains(&kernel.hz) {
        return Err(at(
            hz_span,
            format!(
                "hz = {} is out of range; expected a tick rate from {} to {} (hz is a C int)",
                kernel.hz,
                HZ.start(),
                HZ.end()
            ),
        ));
    }
    // The default version carries the board's name: blame that if so.
    let version_span = kf
        .and_then(|k| k.version.as_ref())
        .map_or_else(|| board_name.span(), |v| v.span());
    if kernel.version.contains('\0') {
        return Err(at(
            version_span,
            "version holds a NUL byte; expected text (kvm reads it as a C string)".into(),
        ));
    }
    if kernel.version.len() > KernelMap::max_version_len() {
        return Err(at(
            version_span,
            format!(
                "version is {} bytes long; expected at most {} (it lives in the kernel's data page)",
                kernel.version.len(),
                KernelMap::max_version_len()
            ),
        ));
    }
    // KERNBASE leaves 2 GiB below the top of the address space.
    let max_image = 0u64.wrapping_sub(super::kernel::KERNBASE);
    let min_image = KernelMap::min_image_size();
    if kernel.size > max_image {
        return Err(at(
            size_span,
            format!(
                "kernel image size {:#x} is too big; expected at most {max_image:#x} (KERNBASE {:#x} + size must stay below 2^64)",
                kernel.size,
                super::kernel::KERNBASE
            ),
        ));
    }
    if kernel.size < min_image || !kernel.size.is_multiple_of(PAGE_SIZE) {
        return Err(at(
            size_span,
            format!(
                "kernel image size {:#x} does not fit; expected a multiple of 0x1000 of at least {min_image:#x} (room for the symbols)",
                kernel.size
            ),
        ));
    }
    if !kernel.phys.is_multiple_of(PAGE_SIZE)
        || kernel
            .phys
            .checked_add(kernel.size)
            .is_none_or(|end| end > top)
    {
        return Err(at(
            phys_span,
            format!(
                "kernel image at {:#x} size {:#x} does not fit; expected a page-aligned phys with phys + size at or below {top:#x} (maxphyaddr)",
                kernel.phys, kernel.size
            ),
        ));
    }
    // phys + size fits the address space, so the data page's address does.
    let data_page = kernel.phys + min_image - PAGE_SIZE;
    let in_ram = regions.iter().any(|(r, _)| {
        matches!(r.spec, RegionSpec::Ram { .. })
            && data_page >= r.base
            && data_page + PAGE_SIZE <= r.base + r.size
    });
    if !in_ram {
        return Err(at(
            phys_span,
            format!(
                "kernel image at {:#x} has its data page (the symbols) at {data_page:#x}, outside RAM; expected phys + {:#x} in RAM",
                kernel.phys,
                min_image - PAGE_SIZE
            ),
        ));
    }
    Ok(kernel)
}

/// The firmware's MTRR table, checked as `MemRanges::new` will build it.
fn check_mtrr(
    m: &MtrrFile,
    maxphyaddr: u32,
    at: &impl Fn(Span, String) -> BoardError,
) -> Result<MtrrConfig, BoardError> {
    let slots = *m.variable_slots.get_ref();
    if slots > MAX_VARIABLE_SLOTS as u64 {
        return Err(at(
            m.variable_slots.span(),
            format!(
                "variable_slots = {slots} is out of range; expected 0 to {MAX_VARIABLE_SLOTS} (MTRRcap.VCNT is 8 bits)"
            ),
        ));
    }
    let range = |r: &Spanned<RangeFile>| -> Result<FirmwareRange, BoardError> {
        let v = r.get_ref();
        let attr = MdfFlags::parse_names(&v.kind)
            .ok()
            .filter(|f| is_one_type(*f))
            .ok_or_else(|| {
                at(
                    r.span(),
                    format!("memory range type \"{}\" is unknown; expected one of uncacheable, write-combine, write-through, write-protect, write-back", v.kind),
                )
            })?;
        if let Some(o) = &v.owner {
            if o.len() > MemRangeDesc::OWNER_MAX {
                return Err(at(
                    r.span(),
                    "owner is longer than 7 bytes; expected at most 7".into(),
                ));
            }
            if o.contains('\0') {
                return Err(at(
                    r.span(),
                    "owner holds a NUL byte; expected text (it is a C string)".into(),
                ));
            }
        }
        Ok(FirmwareRange {
            base: v.base,
            len: v.len,
            attr,
            owner: v.owner.clone(),
            busy: v.busy,
        })
    };
    let cfg = MtrrConfig {
        maxphyaddr,
        enabled: m.enabled,
        fixed: m.fixed,
        variable_slots: slots as usize,
        fixed_ranges: m.fixed_ranges.iter().map(range).collect::<Result<_, _>>()?,
        variable_ranges: m.variable.iter().map(range).collect::<Result<_, _>>()?,
    };
    if let Err(e) = MemRanges::new(&cfg) {
        let span = match e.entry {
            FirmwareEntry::Fixed(i) => m.fixed_ranges.get(i).map(|r| r.span()),
            FirmwareEntry::Variable(i) => m.variable.get(i).map(|r| r.span()),
        };
        return Err(at(
            span.unwrap_or_else(|| m.variable_slots.span()),
            format!("firmware memory range breaks the MTRR rules: {}", e.message),
        ));
    }
    Ok(cfg)
}

fn is_one_type(f: MdfFlags) -> bool {
    [
        MdfFlags::UNCACHEABLE,
        MdfFlags::WRITECOMBINE,
        MdfFlags::WRITETHROUGH,
        MdfFlags::WRITEPROTECT,
        MdfFlags::WRITEBACK,
    ]
    .contains(&f)
}

fn region_label(r: &RegionEntry) -> String {
    match &r.spec {
        RegionSpec::Ram { .. } => format!("ram '{}'", r.name),
        RegionSpec::Rom { .. } => format!("rom '{}'", r.name),
        RegionSpec::Device { kind, .. } => format!("{kind} '{}'", r.name),
    }
}

/// 1-based line and column (in bytes) of a byte offset. Works on bytes so
/// an offset inside a character, or text that is not UTF-8, cannot panic.
fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}
