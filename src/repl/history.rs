//! The history file: one chunk per line (a multi-line chunk kept whole,
//! its newlines and backslashes escaped), in the user's data folder
//! (`~/.local/share/memlua/history` on Linux). Typed commands can hold
//! secrets: the folder is made 0700, the file 0600 (an older, wider file
//! is narrowed), and a symbolic link at the file's path is refused, never
//! followed. Two sessions may run at once, so every change holds an
//! exclusive `flock` on the folder itself (no lock file is left behind):
//! an entry is one appended line, and trimming the file writes a new one
//! beside it and renames it into place, so a reader never sees half a
//! file.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Entries kept; the file is trimmed back to this when it has grown to
/// twice as many.
const KEEP: usize = 1000;

pub struct History {
    dir: PathBuf,
    file: PathBuf,
}

/// An error about `path`, naming it: "Permission denied" alone does not
/// say which file to fix. ELOOP (O_NOFOLLOW met a link) is said in words.
fn at(path: &Path) -> impl Fn(std::io::Error) -> std::io::Error + '_ {
    move |e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::new(
                e.kind(),
                format!(
                    "{}: is a symbolic link; memlua keeps its history in a file of its own \
                     and does not follow one (remove the link)",
                    path.display()
                ),
            );
        }
        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }
}

/// Opens the history (or a new file beside it) without following a
/// symbolic link; a file this creates is 0600.
fn open_private(path: &Path, opts: &mut OpenOptions) -> std::io::Result<File> {
    let f = opts
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(at(path))?;
    // A file from an older memlua may be 0644: narrow it. Only a regular
    // file: the path could name a device the user pointed it at.
    let meta = f.metadata().map_err(at(path))?;
    if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(at(path))?;
    }
    Ok(f)
}

/// An exclusive `flock` on the history's folder for as long as it lives.
struct Locked(File);

impl Locked {
    fn take(dir: &Path) -> std::io::Result<Locked> {
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(dir)
            .map_err(at(dir))?;
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(at(dir)(std::io::Error::last_os_error()));
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
            dir: dir.to_path_buf(),
            file: dir.join("history"),
        }
    }

    fn ensure_dir(&self) -> std::io::Result<()> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(at(&self.dir))
    }

    /// The entries, oldest first; trims the file when it has grown long.
    /// Errors name the file they are about.
    pub fn load(&self) -> std::io::Result<Vec<String>> {
        let mut f = match open_private(&self.file, OpenOptions::new().read(true)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        // The lock file of older versions: locks are on the folder now.
        let _ = std::fs::remove_file(self.dir.join("history.lock"));
        let mut text = String::new();
        f.read_to_string(&mut text).map_err(at(&self.file))?;
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
        let _lock = Locked::take(&self.dir)?;
        let mut text = String::new();
        open_private(&self.file, OpenOptions::new().read(true))?
            .read_to_string(&mut text)
            .map_err(at(&self.file))?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        let keep = &lines[lines.len().saturating_sub(KEEP)..];
        let tmp = self
            .file
            .with_extension(format!("tmp{}", std::process::id()));
        // A leftover of a crash (or anything planted there) goes first:
        // the new file must be one this call created.
        let _ = std::fs::remove_file(&tmp);
        let mut f = open_private(&tmp, OpenOptions::new().write(true).create_new(true))?;
        let mut write = || {
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
        let _lock = Locked::take(&self.dir)?;
        open_private(&self.file, OpenOptions::new().create(true).append(true))?
            .write_all(format!("{}\n", escape(chunk)).as_bytes())
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
    fn the_file_is_private_and_a_link_at_its_path_is_refused() {
        let dir = std::env::temp_dir().join(format!("memlua-hist4-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = History::at(&dir);
        h.append("secret = 1").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&h.file), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert!(!dir.join("history.lock").exists(), "no lock file is left");
        // An older, wider file is narrowed; an old lock file goes.
        std::fs::set_permissions(&h.file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(dir.join("history.lock"), "").unwrap();
        assert_eq!(h.load().unwrap(), ["secret = 1"]);
        assert_eq!(mode(&h.file), 0o600);
        assert!(!dir.join("history.lock").exists());
        // A link planted at the path: neither read nor written through.
        let target = dir.join("elsewhere");
        std::fs::write(&target, "planted\n").unwrap();
        std::fs::remove_file(&h.file).unwrap();
        std::os::unix::fs::symlink(&target, &h.file).unwrap();
        let e = h.append("x = 2").unwrap_err().to_string();
        assert!(e.contains("is a symbolic link"), "{e}");
        let e = h.load().unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: ", h.file.display())), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "planted\n");
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
