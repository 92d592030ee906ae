//! `--lava`: the lines LAVA's test shell watches a job's output for, on
//! stdout in place of TAP. Each file is a test set
//! (`<LAVA_SIGNAL_TESTSET START tests.uart_test>` ... `STOP`), each test
//! a test case (`<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=uart.sends
//! RESULT=pass>`; fail for a failure or error, skip for skipped and
//! pending). LAVA splits a signal on spaces and wants names of letters,
//! digits, `-`, `_` and `.`, so each part of a name has any other
//! character as `_`, and a name seen before in the set gets `_2`, `_3`.
//! A failure's message comes first as plain lines, for the job log.

use std::collections::HashMap;

use super::junit::classname;
use super::outcome::{Outcome, Status};
use super::report::{FileRun, Reporter};

#[derive(Default)]
pub struct Lava {
    /// The set open now and the case names used in it.
    set: Option<String>,
    used: HashMap<String, usize>,
}

/// A name part LAVA takes whole.
pub fn id_part(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() {
        "_".into()
    } else {
        t
    }
}

impl Lava {
    fn open(&mut self, o: &Outcome) {
        let set = id_part(&classname(o.backend.as_deref(), &o.file));
        if self.set.as_deref() != Some(set.as_str()) {
            self.close();
            outln!("<LAVA_SIGNAL_TESTSET START {set}>");
            self.set = Some(set);
            self.used.clear();
        }
    }

    fn close(&mut self) {
        if self.set.take().is_some() {
            outln!("<LAVA_SIGNAL_TESTSET STOP>");
        }
    }
}

impl Reporter for Lava {
    fn outcome(&mut self, o: &Outcome) {
        self.open(o);
        let base = o
            .name
            .iter()
            .map(|p| id_part(p.trim_matches(['(', ')'])))
            .collect::<Vec<_>>()
            .join(".");
        let n = self.used.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}_{n}") };
        let result = match o.status {
            Status::Pass => "pass",
            Status::Fail | Status::Error => "fail",
            Status::Skip | Status::Todo => "skip",
        };
        if o.failed() {
            let message = o.message.as_deref().unwrap_or("error");
            // An error's message may start with its place already.
            let at = match o.at.as_deref() {
                Some(a) if !message.starts_with(a) => format!("{a}: "),
                _ => String::new(),
            };
            for line in format!("{at}{message}").lines() {
                outln!("# {line}");
            }
        }
        outln!("<LAVA_SIGNAL_TESTCASE TEST_CASE_ID={id} RESULT={result}>");
    }

    fn file_end(&mut self, _file: &FileRun) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_only_what_lava_takes() {
        assert_eq!(id_part("reads the ID: 0x1234"), "reads_the_ID__0x1234");
        assert_eq!(id_part("a-b_c.d"), "a-b_c.d");
        assert_eq!(id_part(""), "_");
    }
}
