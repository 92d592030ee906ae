//! TAP version 14 on stdout, one test point per result as it comes and
//! the plan at the end (TAP 14 allows either place): `ok N - file >
//! describe > it`, `# SKIP reason`, `# TODO pending`, and after a `not ok`
//! a YAML block with the message, where (`at: file:line`), the expected
//! and actual values, and for an error its traceback. What a test printed
//! comes first as `# ` comment lines.

use std::fmt::Write as _;

use super::outcome::{Outcome, Status, Totals};
use super::report::Reporter;

#[derive(Default)]
pub struct Tap {
    n: usize,
}

/// A description as a test point may hold it: on one line, `#` and `\`
/// escaped.
fn description(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '#' => out.push_str("\\#"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A YAML scalar: a literal block for text of several lines (when that
/// keeps it exact), else a double-quoted string.
fn yaml(s: &str, indent: &str) -> String {
    let plain_lines = s
        .lines()
        .all(|l| !l.chars().any(|c| c.is_control() && c != '\t'));
    if s.contains('\n') && !s.starts_with([' ', '\t']) && !s.ends_with('\n') && plain_lines {
        let mut out = String::from("|-");
        for line in s.split('\n') {
            let _ = write!(out, "\n{indent}  {line}");
        }
        return out;
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The test point for `o`, numbered `n`, with its comment lines and
/// YAML block.
pub fn point(n: usize, o: &Outcome) -> String {
    let mut out = String::new();
    for line in o.output.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let name = description(&o.full_name());
    let reason = |default: &str| description(o.message.as_deref().unwrap_or(default));
    match o.status {
        Status::Pass => {
            let _ = writeln!(out, "ok {n} - {name}");
        }
        Status::Skip => {
            let _ = writeln!(out, "ok {n} - {name} # SKIP {}", reason("skipped"));
        }
        Status::Todo => {
            let _ = writeln!(out, "not ok {n} - {name} # TODO {}", reason("pending"));
        }
        Status::Fail | Status::Error => {
            let _ = writeln!(out, "not ok {n} - {name}");
            out.push_str("  ---\n");
            let severity = match (o.status, o.timeout) {
                (Status::Fail, _) => "fail",
                (_, true) => "timeout",
                _ => "error",
            };
            let fields = [
                ("message", o.message.as_deref()),
                ("severity", Some(severity)),
                ("at", o.at.as_deref()),
                ("expected", o.expected.as_deref()),
                ("actual", o.actual.as_deref()),
                ("stack", o.stack.as_deref()),
            ];
            for (key, value) in fields {
                if let Some(v) = value {
                    let _ = writeln!(out, "  {key}: {}", yaml(v, "  "));
                }
            }
            out.push_str("  ...\n");
        }
    }
    out
}

impl Reporter for Tap {
    fn begin(&mut self, seed: i64) {
        outln!("TAP version 14");
        outln!("# seed: {seed} (memlua test --seed {seed} repeats this run's random numbers)");
    }

    fn outcome(&mut self, o: &Outcome) {
        self.n += 1;
        out!("{}", point(self.n, o));
    }

    fn end(&mut self, _totals: &Totals) -> Result<(), String> {
        outln!("1..{}", self.n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_escape_hash_and_backslash() {
        assert_eq!(description("a#b\\c\nd"), "a\\#b\\\\c d");
    }

    #[test]
    fn yaml_quotes_one_line_and_blocks_several() {
        assert_eq!(yaml("say \"hi\"\t", "  "), "\"say \\\"hi\\\"\\t\"");
        assert_eq!(yaml("a\n  b", "  "), "|-\n    a\n      b");
        assert_eq!(yaml(" a\nb", "  "), "\" a\\nb\"");
        assert_eq!(yaml("x\u{1}", "  "), "\"x\\x01\"");
    }
}
