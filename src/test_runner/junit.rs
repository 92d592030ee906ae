//! `--junit FILE`: JUnit XML as Jenkins (the xunit plugin's junit-10
//! schema) and GitLab read it. One `testsuite` per file (per backend with
//! `--backends`), with the seed and backend as properties; one `testcase`
//! per test with `classname` (the file's path with dots: Jenkins groups by
//! it) and `time`; `failure` for a failed assertion, `error` for anything
//! else (`type="timeout"` for a timeout), `skipped` for skipped and
//! pending tests; what a test printed in its `system-out`. Written when
//! the run ends.

use std::fmt::Write as _;
use std::time::SystemTime;

use super::outcome::{Outcome, Status, Totals};
use super::report::{FileRun, Reporter};

pub struct Junit {
    path: String,
    file: Option<std::fs::File>,
    seed: i64,
    /// Test cases of the file running now.
    pending: Vec<Outcome>,
    suites: String,
    started: String,
    time: f64,
}

impl Junit {
    /// Creates `path` now, so a path that cannot be written stops the run
    /// before any test.
    pub fn create(path: &str) -> Result<Junit, String> {
        let file = std::fs::File::create(path).map_err(|e| format!("--junit {path}: {e}"))?;
        Ok(Junit {
            path: path.to_string(),
            file: Some(file),
            seed: 0,
            pending: Vec::new(),
            suites: String::new(),
            started: timestamp(SystemTime::now()),
            time: 0.0,
        })
    }
}

/// Text for XML: markup characters escaped, and characters XML 1.0
/// cannot hold (most control characters) as U+FFFD.
pub fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `tests/uart_test.lua` -> `tests.uart_test`; the backend in front with
/// `--backends`.
pub fn classname(o_backend: Option<&str>, file: &str) -> String {
    let stem = file.strip_suffix(".lua").unwrap_or(file);
    let dotted: String = stem
        .trim_start_matches("./")
        .chars()
        .map(|c| if c == '/' || c == '\\' { '.' } else { c })
        .collect();
    match o_backend {
        Some(b) => format!("{b}.{dotted}"),
        None => dotted,
    }
}

/// An ISO 8601 time without a zone (UTC), as JUnit's `timestamp` has it.
fn timestamp(t: SystemTime) -> String {
    memlua_runtime::civil_time::utc(t)
}

/// The details of a failure or error: where, the values, the traceback.
fn details(o: &Outcome) -> String {
    let mut out = String::new();
    for (key, value) in [
        ("at", &o.at),
        ("expected", &o.expected),
        ("actual", &o.actual),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "{key}: {v}");
        }
    }
    if let Some(stack) = &o.stack {
        let _ = writeln!(out, "{stack}");
    }
    out
}

fn testcase(o: &Outcome) -> String {
    let mut out = format!(
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        escape(&o.test_name(), true),
        escape(&classname(o.backend.as_deref(), &o.file), true),
        o.time
    );
    let message = escape(o.message.as_deref().unwrap_or(""), true);
    let inner = match o.status {
        Status::Pass => String::new(),
        Status::Skip => format!("      <skipped message=\"{message}\"/>\n"),
        Status::Todo => format!("      <skipped type=\"pending\" message=\"{message}\"/>\n"),
        Status::Fail => format!(
            "      <failure type=\"assertion\" message=\"{message}\">{}</failure>\n",
            escape(&details(o), false)
        ),
        Status::Error => format!(
            "      <error type=\"{}\" message=\"{message}\">{}</error>\n",
            if o.timeout { "timeout" } else { "error" },
            escape(&details(o), false)
        ),
    };
    let output = if o.output.is_empty() {
        String::new()
    } else {
        format!(
            "      <system-out>{}</system-out>\n",
            escape(&o.output, false)
        )
    };
    if inner.is_empty() && output.is_empty() {
        out.push_str("/>\n");
    } else {
        let _ = write!(out, ">\n{inner}{output}    </testcase>\n");
    }
    out
}

impl Reporter for Junit {
    fn begin(&mut self, seed: i64) {
        self.seed = seed;
    }

    fn outcome(&mut self, o: &Outcome) {
        self.pending.push(o.clone());
    }

    fn file_end(&mut self, file: &FileRun) {
        let mut t = Totals::default();
        for o in &self.pending {
            t.add(o);
        }
        self.time += file.time;
        let name = match &file.backend {
            Some(b) => format!("{b} > {}", file.file),
            None => file.file.clone(),
        };
        let _ = writeln!(
            self.suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\" file=\"{}\">",
            escape(&name, true),
            t.tests(),
            t.failed,
            t.errors,
            t.skipped + t.pending,
            file.time,
            self.started,
            escape(&file.file, true)
        );
        let _ = writeln!(
            self.suites,
            "    <properties>\n      <property name=\"seed\" value=\"{}\"/>",
            self.seed
        );
        if let Some(b) = &file.backend {
            let _ = writeln!(
                self.suites,
                "      <property name=\"backend\" value=\"{}\"/>",
                escape(b, true)
            );
        }
        self.suites.push_str("    </properties>\n");
        for o in self.pending.drain(..) {
            self.suites.push_str(&testcase(&o));
        }
        self.suites.push_str("  </testsuite>\n");
    }

    fn end(&mut self, totals: &Totals) -> Result<(), String> {
        use std::io::Write as _;
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"memlua test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">\n{}</testsuites>\n",
            totals.tests(),
            totals.failed,
            totals.errors,
            self.time,
            self.suites
        );
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        f.write_all(xml.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|e| format!("--junit {}: {e}", self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn timestamps_are_utc_civil_time() {
        let t = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400 + 3661);
        assert_eq!(timestamp(t), "2000-02-29T01:01:01");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00");
    }

    #[test]
    fn text_xml_cannot_hold_becomes_a_replacement_character() {
        assert_eq!(
            escape("a<&>\"\u{1}\n", true),
            "a&lt;&amp;&gt;&quot;\u{fffd}&#10;"
        );
        assert_eq!(escape("a\"\n", false), "a\"\n");
    }

    #[test]
    fn classnames_are_dotted_paths() {
        assert_eq!(
            classname(None, "tests/a/uart_test.lua"),
            "tests.a.uart_test"
        );
        assert_eq!(classname(Some("sim"), "x_test.lua"), "sim.x_test");
    }
}
