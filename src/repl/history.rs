//! The history file: one chunk per line (a multi-line chunk kept whole,
//! its newlines and backslashes escaped), in the user's data folder
//! (`~/.local/share/memlua/history` on Linux). Two sessions may run at
//! once, so every change holds an exclusive lock on `history.lock`: an
//! entry is one appended line, and trimming the file writes a new one
//! beside it and renames it into place, so a reader never sees half a file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Entries kept; the file is trimmed back to this when it has grown to
/// twice as many.
const KEEP: usize = 1000;

pub struct History {
    file: PathBuf,
    lock: PathBuf,
}

/// An error about `path`, naming it: "Permission denied" alone does not
/// say which file to fix.
fn at(path: &Path) -> impl Fn(std::io::Error) -> std::io::Error + '_ {
    move |e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// An exclusive `flock` for as long as it lives.
struct Locked(File);

impl Locked {
    fn take(path: &Path) -> std::io::Result<Locked> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(at(path))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(at(path)(std::io::Error::last_os_error()));
        }
        Ok(Locked(f))
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        // SAFETY: as above; closing would release it too.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

pub fn escape(chunk: &str) -> String {
    chunk.replace('\\', "\\\\").replace('\n', "\\n")
}

pub fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl History {
    /// The history in the user's data folder, or None when there is no
    /// home to keep it in.
    pub fn in_data_dir() -> Option<History> {
        let dirs = directories::ProjectDirs::from("", "", "memlua")?;
        Some(History::at(dirs.data_dir()))
    }

    pub fn at(dir: &Path) -> History {
        History {
            file: dir.join("history"),
            lock: dir.join("history.lock"),
        }
    }

    fn ensure_dir(&self) -> std::io::Result<()> {
        match self.file.parent() {
            Some(d) => std::fs::create_dir_all(d).map_err(at(d)),
            None => Ok(()),
        }
    }

    /// The entries, oldest first; trims the file when it has grown long.
    /// Errors name the file they are about.
    pub fn load(&self) -> std::io::Result<Vec<String>> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(at(&self.file)(e)),
        };
        let mut entries: Vec<String> = text
            .lines()
            .filter(|l| !l.is_empty())
            .map(unescape)
            .collect();
        if entries.len() > 2 * KEEP {
            self.trim()?;
        }
        if entries.len() > KEEP {
            entries.drain(..entries.len() - KEEP);
        }
        Ok(entries)
    }

    /// Rewrites the file with its last KEEP entries: under the lock, into a
    /// new file renamed over the old one.
    fn trim(&self) -> std::io::Result<()> {
        let _lock = Locked::take(&self.lock)?;
        let text = std::fs::read_to_string(&self.file).map_err(at(&self.file))?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let keep = &lines[lines.len().saturating_sub(KEEP)..];
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        let write = || {
            let mut f = File::create(&tmp)?;
            for l in keep {
                writeln!(f, "{l}")?;
            }
            f.sync_all()
        };
        write().map_err(at(&tmp))?;
        std::fs::rename(&tmp, &self.file).map_err(at(&self.file))
    }

    /// Adds one chunk at the end, as one line written at once. Errors name
    /// the file or folder they are about.
    pub fn append(&self, chunk: &str) -> std::io::Result<()> {
        self.ensure_dir()?;
        let _lock = Locked::take(&self.lock)?;
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .and_then(|mut f| f.write_all(format!("{}\n", escape(chunk)).as_bytes()))
            .map_err(at(&self.file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips() {
        for s in ["a", "f()\nend", "x = '\\n'", "\\", "a\\\nb"] {
            assert_eq!(unescape(&escape(s)), s);
            assert!(!escape(s).contains('\n'));
        }
    }

    #[test]
    fn appends_survive_and_trim_keeps_the_newest() {
        let dir = std::env::temp_dir().join(format!("memlua-hist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = History::at(&dir);
        assert!(h.load().unwrap().is_empty());
        for i in 0..(2 * KEEP + 5) {
            h.append(&format!("x = {i}\nprint(x)")).unwrap();
        }
        let e = h.load().unwrap();
        assert_eq!(e.len(), KEEP);
        assert_eq!(
            e.last().unwrap(),
            &format!("x = {}\nprint(x)", 2 * KEEP + 4)
        );
        let lines = std::fs::read_to_string(dir.join("history")).unwrap();
        assert_eq!(lines.lines().count(), KEEP);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_name_the_path() {
        // A file where the folder should be: unusable even by root.
        let dir = std::env::temp_dir().join(format!("memlua-hist3-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let blocker = dir.join("data");
        std::fs::write(&blocker, "").unwrap();
        let h = History::at(&blocker.join("memlua"));
        let e = h.load().unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", h.file.display())), "{e}");
        let e = h.append("x = 1").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{}: ", blocker.join("memlua").display())),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_writers_at_once_lose_nothing() {
        let dir = std::env::temp_dir().join(format!("memlua-hist2-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let h = History::at(&dir);
                    for i in 0..100 {
                        h.append(&format!("t{t} = {i}\n-- two lines")).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let e = History::at(&dir).load().unwrap();
        assert_eq!(e.len(), 400);
        assert!(e.iter().all(|x| x.ends_with("\n-- two lines")));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
