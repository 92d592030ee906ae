//! What every output format implements, and the plainest one: `--list`.

use super::outcome::{Outcome, Totals};

/// A file's run, as told when it ends.
pub struct FileRun {
    pub backend: Option<String>,
    pub file: String,
    /// Seconds, set-up included.
    pub time: f64,
}

/// An output format: told of each result as it comes, of each file as it
/// ends, and of the end.
pub trait Reporter {
    fn begin(&mut self, _seed: i64) {}
    fn outcome(&mut self, o: &Outcome);
    fn file_end(&mut self, _file: &FileRun) {}
    /// Failing to write what was asked is a failure of the run.
    fn end(&mut self, _totals: &Totals) -> Result<(), String> {
        Ok(())
    }
}

/// `--list`: each test's full name, one a line; a file that does not
/// load says why on stderr.
pub struct List;

impl Reporter for List {
    fn outcome(&mut self, o: &Outcome) {
        if o.failed() {
            eprintln!(
                "memlua test: {}: {}",
                o.full_name(),
                o.message.as_deref().unwrap_or("error")
            );
        } else {
            outln!("{}", o.full_name());
        }
    }
}
