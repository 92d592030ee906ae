//! Kernel symbols for `kmem.symbol` on Linux: /proc/kallsyms, read once and
//! kept (docs/MEM4.md §7: kvm_nlist's counterpart). The kernel shows every
//! address as 0 unless the reader is root and kptr_restrict permits; that
//! is EACCES, never a silent 0.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{Errno, Error, Result};

pub struct Kallsyms {
    path: PathBuf,
    table: Option<HashMap<String, u64>>,
    hidden: bool,
}

/// Parses kallsyms text: `address type name [module]` per line. The
/// first address of a name wins; `hidden` when every address is 0.
pub fn parse(text: &str) -> (HashMap<String, u64>, bool) {
    let mut map = HashMap::new();
    let mut any_nonzero = false;
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let (Some(addr), Some(_ty), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        any_nonzero |= addr != 0;
        map.entry(name.to_string()).or_insert(addr);
    }
    let hidden = !map.is_empty() && !any_nonzero;
    (map, hidden)
}

impl Kallsyms {
    pub fn new(path: impl AsRef<Path>) -> Kallsyms {
        Kallsyms {
            path: path.as_ref().to_path_buf(),
            table: None,
            hidden: false,
        }
    }

    /// kvm_nlist: the address of `name` (a leading '_' is also tried
    /// without it, as kvm_nlist strips it).
    pub fn lookup(&mut self, name: &str) -> Result<u64> {
        if self.table.is_none() {
            let text = std::fs::read_to_string(&self.path).map_err(|e| {
                Error::new(
                    Errno::from_code(e.raw_os_error().unwrap_or(libc::EIO)),
                    "kmem.symbol",
                    format!("cannot read {}: {e}", self.path.display()),
                )
            })?;
            let (table, hidden) = parse(&text);
            self.table = Some(table);
            self.hidden = hidden;
        }
        let table = self.table.as_ref().expect("filled above");
        let found = table
            .get(name)
            .or_else(|| name.strip_prefix('_').and_then(|n| table.get(n)));
        match found {
            Some(_) if self.hidden => Err(Error::new(
                Errno::EACCES,
                "kmem.symbol",
                format!(
                    "the kernel hides symbol addresses in {} (all read as 0): run as root with \
                     kernel.kptr_restrict below 2",
                    self.path.display()
                ),
            )),
            Some(&a) => Ok(a),
            None => Err(Error::new(
                Errno::ENOENT,
                "kmem.symbol",
                format!("no kernel symbol named '{name}' in {}", self.path.display()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = "\
ffffffff81000000 T _text
ffffffff81000000 T startup_64
ffffffff82a0a000 D jiffies_64
ffffffffc0a01000 t nf_hook [nf_tables]
";

    #[test]
    fn finds_names_and_modules() {
        let (t, hidden) = parse(ROOT);
        assert!(!hidden);
        assert_eq!(t["startup_64"], 0xffffffff81000000);
        assert_eq!(t["nf_hook"], 0xffffffffc0a01000);
    }

    #[test]
    fn all_zero_addresses_are_hidden() {
        let (t, hidden) = parse("0000000000000000 T _text\n0000000000000000 D jiffies\n");
        assert!(hidden);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn lookup_errors() {
        let dir = std::env::temp_dir().join(format!("memlua-kallsyms-{}", std::process::id()));
        std::fs::write(&dir, "0000000000000000 T _text\n").unwrap();
        let mut k = Kallsyms::new(dir.to_str().unwrap());
        assert_eq!(k.lookup("_text").unwrap_err().errno, Errno::EACCES);
        assert_eq!(k.lookup("nothing").unwrap_err().errno, Errno::ENOENT);
        std::fs::write(&dir, ROOT).unwrap();
        let mut k = Kallsyms::new(dir.to_str().unwrap());
        assert_eq!(k.lookup("_startup_64").unwrap(), 0xffffffff81000000);
        std::fs::remove_file(&dir).unwrap();
    }
}
