//! The progress line on a terminal (stderr only, and only when it is a
//! terminal and MEMLUA_PROGRESS is not 0, as the tools' bars), and the
//! summary line every run ends with on stderr.

use std::io::{IsTerminal, Write};

use super::outcome::Totals;

pub struct Progress {
    enabled: bool,
    files: usize,
    shown: bool,
}

impl Progress {
    pub fn new(files: usize) -> Progress {
        let enabled = std::io::stderr().is_terminal()
            && std::env::var("MEMLUA_PROGRESS").map_or(true, |v| v != "0");
        Progress {
            enabled,
            files,
            shown: false,
        }
    }

    /// Erases the line, before anything else is written to the terminal.
    pub fn clear(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
            self.shown = false;
        }
    }

    /// `[done/files] N passed, N failed ...  name`, cut to 78 columns.
    pub fn draw(&mut self, done: usize, totals: &Totals, name: &str) {
        if !self.enabled {
            return;
        }
        let mut line = format!("[{done}/{}] {}  {name}", self.files, counts(totals));
        if let Some((at, _)) = line.char_indices().nth(78) {
            line.truncate(at);
        }
        let _ = write!(std::io::stderr(), "\r\x1b[K{line}");
        let _ = std::io::stderr().flush();
        self.shown = true;
    }
}

/// `3 passed, 1 failed, 0 errored, 1 skipped, 0 pending`.
pub fn counts(t: &Totals) -> String {
    format!(
        "{} passed, {} failed, {} errored, {} skipped, {} pending",
        t.passed, t.failed, t.errors, t.skipped, t.pending
    )
}

/// The summary line for stderr.
pub fn summary(t: &Totals, files: usize, seconds: f64, listed: bool) -> String {
    let files = format!("{files} file{}", if files == 1 { "" } else { "s" });
    if listed {
        return format!("memlua test: {} tests in {files}", t.tests());
    }
    format!("memlua test: {} ({files}, {seconds:.2} s)", counts(t))
}
