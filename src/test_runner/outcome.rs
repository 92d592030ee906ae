//! One test's result as every report format sees it, and the totals.

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    /// An assertion failed.
    Fail,
    /// Anything else went wrong: a Lua error outside an assertion, a
    /// timeout, a file that does not load.
    Error,
    /// `skip(reason)`.
    Skip,
    /// `pending(name)`: declared, not written yet.
    Todo,
}

/// One test of one file on one backend.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The backend's name, with `--backends` only.
    pub backend: Option<String>,
    /// The file as named in results (`tests/uart_test.lua`).
    pub file: String,
    /// The describe blocks, then the test (`["uart", "sends"]`);
    /// `["(load)"]` for a file that failed to load.
    pub name: Vec<String>,
    pub status: Status,
    /// The error was the timeout.
    pub timeout: bool,
    pub message: Option<String>,
    /// `file:line` of the failing assertion or error.
    pub at: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The traceback of an error (not of a failed assertion).
    pub stack: Option<String>,
    /// What the test printed.
    pub output: String,
    /// Seconds.
    pub time: f64,
}

impl Outcome {
    /// `file > describe > it`, with the backend in front under
    /// `--backends` (`sim > file > describe > it`).
    pub fn full_name(&self) -> String {
        let mut parts: Vec<&str> = Vec::with_capacity(self.name.len() + 2);
        if let Some(b) = &self.backend {
            parts.push(b);
        }
        parts.push(&self.file);
        parts.extend(self.name.iter().map(String::as_str));
        parts.join(" > ")
    }

    /// `describe > it`.
    pub fn test_name(&self) -> String {
        self.name.join(" > ")
    }

    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error)
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub pending: usize,
}

impl Totals {
    pub fn add(&mut self, o: &Outcome) {
        match o.status {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Error => self.errors += 1,
            Status::Skip => self.skipped += 1,
            Status::Todo => self.pending += 1,
        }
    }

    pub fn tests(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped + self.pending
    }

    pub fn ok(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}
