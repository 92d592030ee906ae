//! PCI devices by address (`--pci 0000:00:02.0:0`), from Linux's sysfs:
//! `bus/pci/devices/BDF/resource` (one line per BAR: start, end and flags,
//! each `0x%016llx`), `resourceN` (the BAR, mmap-able if memory, read and
//! written 1, 2 or 4 bytes at a time if I/O ports), `resourceN_wc` (a
//! prefetchable BAR mapped write-combining) and `config` (the configuration
//! space, whose command register says whether the device decodes its BARs
//! at all). Scripts use the BAR's physical addresses, read from `resource`.
//!
//! The sysfs root is /sys unless the program points it elsewhere
//! (`MEMLUA_SYSFS`), so the tests run over a directory shaped like it.

use std::path::{Path, PathBuf};

use super::aperture::Aperture;
use crate::{Errno, Error, Result};

/// IORESOURCE_IO, _MEM and _PREFETCH (include/linux/ioport.h).
const IORESOURCE_IO: u64 = 0x100;
const IORESOURCE_MEM: u64 = 0x200;
const IORESOURCE_PREFETCH: u64 = 0x2000;
/// PCI_COMMAND (offset 4 of the configuration space): I/O space and
/// memory space decoding.
const COMMAND_OFFSET: usize = 4;
const COMMAND_IO: u16 = 0x1;
const COMMAND_MEMORY: u16 = 0x2;
/// The standard BARs; `resource` also lists the ROM and bridge windows.
const BARS: usize = 6;

/// One line of `resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    pub index: usize,
    pub start: u64,
    /// Inclusive.
    pub end: u64,
    pub flags: u64,
}

impl Bar {
    pub fn implemented(&self) -> bool {
        !(self.start == 0 && self.end == 0) && self.flags & (IORESOURCE_IO | IORESOURCE_MEM) != 0
    }
    pub fn is_io(&self) -> bool {
        self.flags & IORESOURCE_IO != 0
    }
    pub fn prefetchable(&self) -> bool {
        self.flags & IORESOURCE_PREFETCH != 0
    }
    pub fn size(&self) -> u64 {
        self.end.wrapping_sub(self.start).wrapping_add(1)
    }
    fn describe(&self) -> String {
        format!(
            "BAR {} ({}, {:#x}-{:#x})",
            self.index,
            if self.is_io() {
                "I/O ports"
            } else if self.prefetchable() {
                "prefetchable memory"
            } else {
                "memory"
            },
            self.start,
            self.end
        )
    }
}

/// The sysfs root: /sys, or where the program points it.
pub fn sysfs_root(root: Option<&Path>) -> PathBuf {
    root.map_or_else(|| PathBuf::from("/sys"), Path::to_path_buf)
}

fn hex_field(s: &str, n: usize) -> Option<String> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// `DOMAIN:BUS:DEV.FN[:BAR]` (the domain may be left out: `00:02.0:1`):
/// the device's full address and the BAR, if one is named.
pub fn parse_spec(text: &str) -> Result<(String, Option<usize>), String> {
    let bad = || {
        format!(
            "'{text}' is not a PCI address: expected DOMAIN:BUS:DEVICE.FUNCTION[:BAR], as \
             lspci -D prints it (0000:00:02.0, or 0000:00:02.0:1 for BAR 1)"
        )
    };
    let mut parts: Vec<&str> = text.split(':').collect();
    // A last part without the '.' of DEVICE.FUNCTION is the BAR.
    let bar = match parts.last() {
        Some(p) if parts.len() >= 3 && !p.contains('.') => {
            let bar: usize = p.parse().map_err(|_| bad())?;
            if bar >= BARS {
                return Err(format!(
                    "'{text}': BAR {bar} does not exist; a PCI device has BARs 0 to 5"
                ));
            }
            parts.pop();
            Some(bar)
        }
        _ => None,
    };
    let (domain, bus, devfn) = match parts[..] {
        [d, b, df] => (d, b, df),
        [b, df] => ("0000", b, df),
        _ => return Err(bad()),
    };
    let (dev, func) = devfn.split_once('.').ok_or_else(bad)?;
    let (Some(domain), Some(bus), Some(dev)) =
        (hex_field(domain, 4), hex_field(bus, 2), hex_field(dev, 2))
    else {
        return Err(bad());
    };
    if u8::from_str_radix(&dev, 16).map_or(true, |d| d >= 0x20)
        || func.len() != 1
        || !matches!(func.as_bytes()[0], b'0'..=b'7')
    {
        return Err(bad());
    }
    Ok((format!("{domain}:{bus}:{dev}.{func}"), bar))
}

/// The device's folder, or ENOENT naming the devices there are.
fn device_dir(sysfs: &Path, bdf: &str) -> Result<PathBuf> {
    let devices = sysfs.join("bus/pci/devices");
    let dir = devices.join(bdf);
    if dir.is_dir() {
        return Ok(dir);
    }
    let mut known: Vec<String> = std::fs::read_dir(&devices)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    known.sort();
    let list = match known.len() {
        0 => format!("{} lists none", devices.display()),
        n if n <= 12 => format!("there are {}", known.join(", ")),
        n => format!(
            "there are {n}: {} ... (lspci -D lists them)",
            known[..8].join(", ")
        ),
    };
    Err(Error::new(
        Errno::ENOENT,
        "open",
        format!("no PCI device {bdf} on this machine ({list})"),
    ))
}

/// The BARs of a device, from its `resource` file.
pub fn bars(dir: &Path) -> Result<Vec<Bar>> {
    let path = dir.join("resource");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::new(
            Errno::from_code(e.raw_os_error().unwrap_or(libc::EIO)),
            "open",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let num = |s: Option<&str>| {
        s.and_then(|s| s.strip_prefix("0x"))
            .and_then(|s| u64::from_str_radix(s, 16).ok())
    };
    let mut out = Vec::new();
    for (index, line) in text.lines().take(BARS).enumerate() {
        let mut f = line.split_whitespace();
        let (Some(start), Some(end), Some(flags)) = (num(f.next()), num(f.next()), num(f.next()))
        else {
            return Err(Error::new(
                Errno::EIO,
                "open",
                format!(
                    "{} line {} is not 'START END FLAGS' in hex: '{line}'",
                    path.display(),
                    index + 1
                ),
            ));
        };
        out.push(Bar {
            index,
            start,
            end,
            flags,
        });
    }
    Ok(out)
}

fn list_bars(bars: &[Bar]) -> String {
    let mut l: Vec<String> = bars
        .iter()
        .filter(|b| b.implemented())
        .map(Bar::describe)
        .collect();
    if l.is_empty() {
        l.push("none".into());
    }
    l.join(", ")
}

/// The kernel's lockdown mode (`none`, `integrity`, `confidentiality`):
/// the bracketed word of `kernel/security/lockdown`, if the file exists.
pub fn lockdown(sysfs: &Path) -> Option<String> {
    let text = std::fs::read_to_string(sysfs.join("kernel/security/lockdown")).ok()?;
    let start = text.find('[')? + 1;
    let end = start + text[start..].find(']')?;
    Some(text[start..end].to_string())
}

/// Why the kernel may have refused a BAR (or /dev/mem) with EPERM: kernel
/// lockdown refuses raw hardware access to root too.
pub fn eperm_note(sysfs: &Path) -> String {
    let file = sysfs.join("kernel/security/lockdown");
    match lockdown(sysfs).as_deref() {
        Some("none") => format!(
            "the kernel is not locked down ({} says none), so a security module (SELinux, \
             AppArmor) or the file's own attributes (lsattr) refused it",
            file.display()
        ),
        Some(mode) => format!(
            "the kernel is locked down ({mode} mode, {}): lockdown refuses raw access to PCI \
             BARs and /dev/mem to every user, root included; boot with lockdown=none (Secure \
             Boot turns lockdown on) to use them",
            file.display()
        ),
        None => "the kernel may be locked down (Secure Boot turns lockdown on), which refuses \
                 raw access to PCI BARs and /dev/mem to root too; \
                 /sys/kernel/security/lockdown says which mode is on"
            .to_string(),
    }
}

/// The command register, if the configuration space can be read.
fn command(dir: &Path) -> Option<u16> {
    let config = std::fs::read(dir.join("config")).ok()?;
    let b = config.get(COMMAND_OFFSET..COMMAND_OFFSET + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

/// `--pci BDF[:BAR]`: the BAR to open (the first memory BAR when none is
/// named), and warnings for the user (a device that does not decode it).
pub fn open(sysfs: &Path, spec: &str, wc: bool) -> Result<(Aperture, Vec<String>)> {
    let (bdf, bar) = parse_spec(spec).map_err(|m| Error::new(Errno::EINVAL, "open", m))?;
    let dir = device_dir(sysfs, &bdf)?;
    let bars = bars(&dir)?;
    let chosen = match bar {
        Some(i) => bars
            .get(i)
            .copied()
            .filter(Bar::implemented)
            .ok_or_else(|| {
                Error::new(
                    Errno::ENXIO,
                    "open",
                    format!(
                        "BAR {i} of {bdf} is not implemented (its line in resource is empty); \
                     its BARs: {}",
                        list_bars(&bars)
                    ),
                )
            })?,
        None => bars
            .iter()
            .find(|b| b.implemented() && !b.is_io())
            .or_else(|| bars.iter().find(|b| b.implemented()))
            .copied()
            .ok_or_else(|| {
                Error::new(
                    Errno::ENXIO,
                    "open",
                    format!("{bdf} has no BARs: there is no memory of it to reach"),
                )
            })?,
    };
    let what = format!("BAR {} of {bdf}", chosen.index);
    let mut file = format!("resource{}", chosen.index);
    if wc {
        if chosen.is_io() {
            return Err(Error::new(
                Errno::EINVAL,
                "open",
                format!("{what} is an I/O-port BAR, not memory: it cannot be write-combined (leave out --wc)"),
            ));
        }
        file.push_str("_wc");
        if !dir.join(&file).exists() {
            return Err(Error::new(
                Errno::EINVAL,
                "open",
                format!(
                    "{what} is not prefetchable, so the kernel offers no write-combining mapping \
                     of it ({file}); leave out --wc"
                ),
            ));
        }
    }
    let mut warnings = Vec::new();
    if let Some(cmd) = command(&dir) {
        let (bit, kind, name) = if chosen.is_io() {
            (COMMAND_IO, "I/O space", 0)
        } else {
            (COMMAND_MEMORY, "memory space", 1)
        };
        if cmd & bit == 0 {
            warnings.push(format!(
                "{bdf} does not decode its BARs: {kind} is off in its command register (bit \
                 {name} of {cmd:#06x}), so {what} reads as all ones and writes go nowhere; \
                 enable it (bind its driver, or setpci -s {bdf} COMMAND={bit:#x}:{bit:#x}) and \
                 run again"
            ));
        }
    }
    Ok((
        Aperture {
            what,
            path: dir.join(file),
            phys: chosen.start,
            len: chosen.size(),
            map_offset: 0,
            skip: 0,
            port_io: chosen.is_io(),
            irq: false,
            eperm: eperm_note(sysfs),
        },
        warnings,
    ))
}

/// The physical ranges a PCI address names for an allow-list: each memory
/// BAR of the device, or the one BAR named.
pub fn regions(sysfs: &Path, spec: &str) -> Result<Vec<(u64, u64)>> {
    let (bdf, bar) = parse_spec(spec).map_err(|m| Error::new(Errno::EINVAL, "region", m))?;
    let bars = bars(&device_dir(sysfs, &bdf).map_err(|e| e.with_op("region"))?)?;
    let out: Vec<(u64, u64)> = bars
        .iter()
        .filter(|b| b.implemented() && !b.is_io() && bar.is_none_or(|i| i == b.index))
        .map(|b| (b.start, b.size()))
        .collect();
    if out.is_empty() {
        return Err(Error::new(
            Errno::ENOENT,
            "region",
            format!(
                "{spec} has no memory BAR to allow (its BARs: {})",
                list_bars(&bars)
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_and_without_a_bar() {
        assert_eq!(
            parse_spec("0000:00:02.0"),
            Ok(("0000:00:02.0".into(), None))
        );
        assert_eq!(
            parse_spec("0000:00:02.0:1"),
            Ok(("0000:00:02.0".into(), Some(1)))
        );
        assert_eq!(parse_spec("00:1F.3"), Ok(("0000:00:1f.3".into(), None)));
        assert_eq!(
            parse_spec("00:02.0:5"),
            Ok(("0000:00:02.0".into(), Some(5)))
        );
        for bad in [
            "0000:00:02",
            "00:02.8",
            "0000:00:20.0",
            "0000:00:02.0:6",
            "x",
            "1:2:3:4:5",
        ] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lockdown_mode_is_the_bracketed_word() {
        let dir = std::env::temp_dir().join(format!("memlua-lockdown-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("kernel/security")).unwrap();
        std::fs::write(
            dir.join("kernel/security/lockdown"),
            "none [integrity] confidentiality\n",
        )
        .unwrap();
        assert_eq!(lockdown(&dir).as_deref(), Some("integrity"));
        assert!(eperm_note(&dir).contains("locked down (integrity mode"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(eperm_note(&dir).contains("may be locked down"));
    }
}
