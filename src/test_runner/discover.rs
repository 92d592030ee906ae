//! Which files a run has: each PATH that is a file, and every
//! `*_test.lua` under each PATH that is a folder (hidden folders and
//! symbolic links to folders skipped), in name order; with no PATH,
//! `tests/` when it is a folder, else `.`.

use std::path::{Path, PathBuf};

/// A test file: where it is, and its name in results (the path as the
/// command line gave it or as found under it, without a leading `./`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFile {
    pub path: PathBuf,
    pub name: String,
}

pub const SUFFIX: &str = "_test.lua";

/// The files of `paths`; an error names a PATH that does not exist or a
/// run that found no file.
pub fn find(paths: &[String]) -> Result<Vec<TestFile>, String> {
    let defaulted = paths.is_empty();
    let roots: Vec<String> = if defaulted {
        vec![if Path::new("tests").is_dir() {
            "tests".into()
        } else {
            ".".into()
        }]
    } else {
        paths.to_vec()
    };
    let mut out: Vec<TestFile> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for root in &roots {
        let p = Path::new(root);
        let meta = std::fs::metadata(p).map_err(|e| format!("{root}: {e}"))?;
        let mut found = Vec::new();
        if meta.is_dir() {
            walk(p, &mut found).map_err(|e| format!("{root}: {e}"))?;
            found.sort();
        } else {
            found.push(p.to_path_buf());
        }
        for path in found {
            let key = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.insert(key) {
                out.push(TestFile {
                    name: display(&path),
                    path,
                });
            }
        }
    }
    if out.is_empty() {
        let place = if defaulted {
            format!("{} (the default: tests/, else .)", roots[0])
        } else {
            roots.join(", ")
        };
        return Err(format!("no *{SUFFIX} files in {place}"));
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, out)?;
            }
        } else if name.ends_with(SUFFIX) && (kind.is_file() || path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}

fn display(p: &Path) -> String {
    let s = p.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_path_is_named() {
        let e = find(&["/nonexistent/memlua-tests".into()]).unwrap_err();
        assert!(e.starts_with("/nonexistent/memlua-tests: "), "{e}");
    }

    #[test]
    fn folders_are_searched_in_name_order_and_files_taken_as_given() {
        let dir = std::env::temp_dir().join(format!("memlua-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::create_dir_all(dir.join(".hidden")).unwrap();
        for f in [
            "b_test.lua",
            "a_test.lua",
            "sub/c_test.lua",
            ".hidden/d_test.lua",
            "helper.lua",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let d = dir.to_string_lossy().into_owned();
        let found = find(&[
            d.clone(),
            format!("{d}/helper.lua"),
            format!("{d}/a_test.lua"),
        ])
        .unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|f| f.name.strip_prefix(&d).unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/a_test.lua",
                "/b_test.lua",
                "/sub/c_test.lua",
                "/helper.lua"
            ]
        );
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        let e = find(&[format!("{d}/empty")]).unwrap_err();
        assert!(e.starts_with("no *_test.lua files in "), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
