//! UIO devices by name (`--uio uio0:map1`): the map's physical address,
//! size and offset from `class/uio/uioN/maps/mapM/` in sysfs, the memory
//! through an mmap of /dev/uioN at M pages (UIO picks the map by the page
//! offset, so each map is one mapping made whole), and interrupts through
//! reads of /dev/uioN (a 4-byte count, once one has arrived).

use std::path::Path;

use super::aperture::Aperture;
use super::pci::eperm_note;
use crate::{Errno, Error, Result, PAGE_SIZE};

/// `uioN`, `uioN:mapM` or `uioN:M`: the device and the map (0 if none).
pub fn parse_spec(text: &str) -> Result<(String, usize), String> {
    let bad =
        || format!("'{text}' is not a UIO device: expected uioN or uioN:mapM (uio0, uio0:map1)");
    let (dev, map) = match text.split_once(':') {
        Some((d, m)) => (d, Some(m.strip_prefix("map").unwrap_or(m))),
        None => (text, None),
    };
    let n = dev.strip_prefix("uio").ok_or_else(bad)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let map = match map {
        Some(m) => m.parse().map_err(|_| bad())?,
        None => 0,
    };
    Ok((dev.to_string(), map))
}

fn read_hex(path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            Errno::from_code(e.raw_os_error().unwrap_or(libc::EIO)),
            "open",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let t = text.trim();
    u64::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).map_err(|_| {
        Error::new(
            Errno::EIO,
            "open",
            format!("{} holds '{t}', not a hex number", path.display()),
        )
    })
}

fn names_in(dir: &Path) -> String {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    if n.is_empty() {
        "none".into()
    } else {
        n.join(", ")
    }
}

/// `--uio uioN[:mapM]`: the map to open.
pub fn open(sysfs: &Path, devdir: &Path, spec: &str) -> Result<Aperture> {
    let (dev, map) = parse_spec(spec).map_err(|m| Error::new(Errno::EINVAL, "open", m))?;
    let class = sysfs.join("class/uio");
    let dir = class.join(&dev);
    if !dir.is_dir() {
        return Err(Error::new(
            Errno::ENOENT,
            "open",
            format!(
                "no UIO device {dev} on this machine (UIO devices: {}; a driver such as \
                 uio_pdrv_genirq or uio_pci_generic makes them)",
                names_in(&class)
            ),
        ));
    }
    let maps = dir.join("maps");
    let mdir = maps.join(format!("map{map}"));
    if !mdir.is_dir() {
        return Err(Error::new(
            Errno::ENOENT,
            "open",
            format!("{dev} has no map{map} (its maps: {})", names_in(&maps)),
        ));
    }
    let phys = read_hex(&mdir.join("addr"))?;
    let len = read_hex(&mdir.join("size"))?;
    // Older kernels have no `offset`: the map then starts on its page.
    let skip = if mdir.join("offset").exists() {
        read_hex(&mdir.join("offset"))?
    } else {
        0
    };
    if len == 0 || skip >= PAGE_SIZE {
        return Err(Error::new(
            Errno::EINVAL,
            "open",
            format!(
                "{} describes an empty or odd map (size {len:#x}, offset {skip:#x})",
                mdir.display()
            ),
        ));
    }
    let name = std::fs::read_to_string(dir.join("name")).unwrap_or_default();
    Ok(Aperture {
        what: format!("map{map} of {dev} ({})", name.trim()),
        path: devdir.join(&dev),
        phys,
        len,
        map_offset: map as u64 * PAGE_SIZE,
        skip,
        port_io: false,
        irq: true,
        eperm: eperm_note(sysfs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(parse_spec("uio0"), Ok(("uio0".into(), 0)));
        assert_eq!(parse_spec("uio12:map3"), Ok(("uio12".into(), 3)));
        assert_eq!(parse_spec("uio1:2"), Ok(("uio1".into(), 2)));
        for bad in ["uio", "uioX", "uio0:mapx", "dev0", "uio0:"] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }
}
