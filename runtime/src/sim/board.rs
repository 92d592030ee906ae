//! Boards: TOML files that lay out a simulated machine (RAM, ROM, devices,
//! NUMA domains, the kernel image and the firmware's MTRR table).
//!
//! A board is checked whole before anything is built, and every refusal
//! names the file, line and column of the entry at fault and what was
//! expected there. Built-in boards live in runtime/boards/.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::devices;
use super::kernel::{KernelConfig, KernelMap};
use super::memrange::{FirmwareEntry, FirmwareRange, MemRanges, MtrrConfig};
use super::space::HolePolicy;
use crate::{Errno, Error, MdfFlags, MemRangeDesc, PAGE_SIZE};

/// The boards compiled into memlua: (name, TOML text).
pub const BUILTIN: [(&str, &str); 3] = [
    ("pc", include_str!("../../boards/pc.toml")),
    ("pc-nomtrr", include_str!("../../boards/pc-nomtrr.toml")),
    ("arm64-virt", include_str!("../../boards/arm64-virt.toml")),
];

/// A board refused, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for BoardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

// ---- the file format -------------------------------------------------------

fn default_step() -> u64 {
    100
}
fn default_true() -> bool {
    true
}
fn default_device_size() -> u64 {
    PAGE_SIZE
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BoardFile {
    name: String,
    #[serde(default)]
    description: String,
    maxphyaddr: Spanned<u32>,
    holes: Option<Spanned<String>>,
    #[serde(default = "default_step")]
    clock_step_ns: u64,
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
    phys: Option<u64>,
    size: Option<u64>,
    version: Option<String>,
    hz: Option<u32>,
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
    data: Vec<RomData>,
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
    kind: String,
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
    variable_slots: usize,
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
    /// A built-in board by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Board, BoardError> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Board::parse(text, &format!("<built-in board {name}>"));
        }
        let path = Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|e| BoardError {
            file: name_or_path.to_string(),
            line: 0,
            column: 0,
            message: format!(
                "cannot read board file: {e} (built-in boards: {})",
                BUILTIN.map(|(n, _)| n).join(", ")
            ),
        })?;
        Board::parse(&text, name_or_path)
    }

    /// Checks a board's TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Board, BoardError> {
        let at = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = line_col(text, span.start);
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

        let maxphyaddr = *raw.maxphyaddr.get_ref();
        if !(32..=52).contains(&maxphyaddr) {
            return Err(at(
                raw.maxphyaddr.span(),
                format!("maxphyaddr {maxphyaddr} is out of range; expected a physical-address width from 32 to 52 bits"),
            ));
        }
        let top = 1u64 << maxphyaddr;
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

        // Every region with the span of the entry that made it.
        let mut regions: Vec<(RegionEntry, std::ops::Range<usize>)> = Vec::new();
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
            let mut data = Vec::new();
            for d in &v.data {
                let bytes = match (&d.bytes, &d.text) {
                    (Some(b), None) => b.clone(),
                    (None, Some(t)) => t.as_bytes().to_vec(),
                    _ => {
                        return Err(at(
                            r.span(),
                            format!(
                                "rom '{}': each data entry needs exactly one of `bytes` or `text`",
                                v.name
                            ),
                        ))
                    }
                };
                if d.offset
                    .checked_add(bytes.len() as u64)
                    .is_none_or(|e| e > v.size)
                {
                    return Err(at(
                        r.span(),
                        format!(
                            "rom '{}': data at offset {:#x} runs past the ROM's {:#x} bytes",
                            v.name, d.offset, v.size
                        ),
                    ));
                }
                data.push((d.offset, bytes));
            }
            regions.push((
                RegionEntry {
                    name: v.name.clone(),
                    base: v.base,
                    size: v.size,
                    spec: RegionSpec::Rom { data },
                },
                r.span(),
            ));
        }
        for d in &raw.device {
            let v = d.get_ref();
            if let Err(msg) = devices::build(&v.kind, v.size, v.frequency) {
                return Err(at(d.span(), format!("device '{}': {msg}", v.name)));
            }
            regions.push((
                RegionEntry {
                    name: v.name.clone(),
                    base: v.base,
                    size: v.size,
                    spec: RegionSpec::Device {
                        kind: v.kind.clone(),
                        frequency: v.frequency,
                    },
                },
                d.span(),
            ));
        }

        for (r, span) in &regions {
            let what = region_label(r);
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
        for (i, (r, span)) in regions.iter().enumerate() {
            if let Some((o, _)) = regions[..i].iter().find(|(o, _)| o.name == r.name) {
                return Err(at(
                    span.clone(),
                    format!(
                        "{} has the same name as {}; expected unique names",
                        region_label(r),
                        region_label(o)
                    ),
                ));
            }
            if let Some((o, _)) = regions[..i]
                .iter()
                .find(|(o, _)| r.base < o.base + o.size && o.base < r.base + r.size)
            {
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
        }

        let ram_top = regions
            .iter()
            .filter(|(r, _)| matches!(r.spec, RegionSpec::Ram { .. }))
            .map(|(r, _)| r.base + r.size)
            .max();
        let ram_base = regions
            .iter()
            .filter(|(r, _)| matches!(r.spec, RegionSpec::Ram { .. }))
            .map(|(r, _)| r.base)
            .min();
        let kernel_span = raw.kernel.as_ref().map_or(0..0, |k| k.span());
        let kf = raw.kernel.as_ref().map(|k| k.get_ref());
        let kernel = KernelConfig {
            phys: kf.and_then(|k| k.phys).or(ram_base).unwrap_or(0),
            size: kf.and_then(|k| k.size).unwrap_or(0x200_0000),
            version: kf
                .and_then(|k| k.version.clone())
                .unwrap_or_else(|| format!("FreeBSD 15.0-RELEASE memlua-sim {}", raw.name)),
            hz: kf.and_then(|k| k.hz).unwrap_or(1000),
        };
        let in_ram = |a: u64, n: u64| {
            regions.iter().any(|(r, _)| {
                matches!(r.spec, RegionSpec::Ram { .. }) && a >= r.base && a + n <= r.base + r.size
            })
        };
        if ram_top.is_none() {
            return Err(at(
                0..0,
                "the board has no RAM; expected at least one [[ram]] entry".into(),
            ));
        }
        // KERNBASE leaves 2 GiB below the top of the address space.
        let max_image = 0u64.wrapping_sub(super::kernel::KERNBASE);
        if kernel.size > max_image {
            return Err(at(
                kernel_span,
                format!(
                    "kernel image size {:#x} is too big; expected at most {max_image:#x} (KERNBASE {:#x} + size must stay below 2^64)",
                    kernel.size,
                    super::kernel::KERNBASE
                ),
            ));
        }
        if kernel.hz == 0 {
            return Err(at(
                kernel_span,
                "hz = 0; expected a positive tick rate".into(),
            ));
        }
        if kernel.version.contains('\0') {
            return Err(at(
                kernel_span,
                "version holds a NUL byte; expected text (kvm reads it as a C string)".into(),
            ));
        }
        if kernel.size < KernelMap::min_image_size()
            || !kernel.phys.is_multiple_of(PAGE_SIZE)
            || !kernel.size.is_multiple_of(PAGE_SIZE)
            || !in_ram(
                kernel.phys + KernelMap::min_image_size() - PAGE_SIZE,
                PAGE_SIZE,
            )
        {
            return Err(at(
                kernel_span,
                format!(
                    "kernel image at {:#x} size {:#x} does not fit; expected page-aligned phys and size, size at least {:#x}, with its data page at phys + {:#x} in RAM",
                    kernel.phys,
                    kernel.size,
                    KernelMap::min_image_size(),
                    KernelMap::min_image_size() - PAGE_SIZE
                ),
            ));
        }

        let mtrr = match &raw.mtrr {
            None => None,
            Some(m) => {
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
                    if v.owner
                        .as_ref()
                        .is_some_and(|o| o.len() > MemRangeDesc::OWNER_MAX)
                    {
                        return Err(at(
                            r.span(),
                            "owner is longer than 7 bytes; expected at most 7".into(),
                        ));
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
                    variable_slots: m.variable_slots,
                    fixed_ranges: m.fixed_ranges.iter().map(range).collect::<Result<_, _>>()?,
                    variable_ranges: m.variable.iter().map(range).collect::<Result<_, _>>()?,
                };
                if let Err(e) = MemRanges::new(&cfg) {
                    let span = match e.entry {
                        FirmwareEntry::Fixed(i) => m.fixed_ranges.get(i).map(|r| r.span()),
                        FirmwareEntry::Variable(i) => m.variable.get(i).map(|r| r.span()),
                    };
                    return Err(at(
                        span.unwrap_or(0..0),
                        format!("firmware memory range breaks the MTRR rules: {}", e.message),
                    ));
                }
                Some(cfg)
            }
        };

        let mut regions: Vec<RegionEntry> = regions.into_iter().map(|(r, _)| r).collect();
        regions.sort_by_key(|r| r.base);
        Ok(Board {
            name: raw.name,
            description: raw.description,
            maxphyaddr,
            holes,
            clock_step_ns: raw.clock_step_ns,
            kernel,
            regions,
            mtrr,
        })
    }
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

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}
