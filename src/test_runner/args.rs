//! `memlua test`'s command line: its own options, the PATHs, and
//! memlua's options (-b, --board, --mem, -w, -E, -W, ...), which are
//! collected as given, each with its value, and handed to src/cli.rs's
//! parser, so every option it knows (today's and those added later)
//! means the same here as for a script.

use std::fmt::Write as _;

use crate::cli::Usage;

/// One of the runner's own options.
struct Own {
    name: &'static str,
    value: Option<&'static str>,
    help: &'static str,
}

const OWN: &[Own] = &[
    Own {
        name: "--filter",
        value: Some("PATTERN"),
        help: "run only the tests whose full name (\"file > describe > it\") matches the Lua pattern",
    },
    Own {
        name: "--timeout",
        value: Some("SECONDS"),
        help: "a test still running after SECONDS fails with \"timeout\" and the run goes on (default: no limit)",
    },
    Own {
        name: "--list",
        value: None,
        help: "print the full name of each test instead of running it",
    },
    Own {
        name: "--seed",
        value: Some("N"),
        help: "math.randomseed(N) before each file and each test (default: a random seed, printed)",
    },
    Own {
        name: "--backends",
        value: Some("A,B,..."),
        help: "run every file once on each backend (e.g. sim,native), each result named by its backend",
    },
    Own {
        name: "--junit",
        value: Some("FILE"),
        help: "also write JUnit XML to FILE (one testsuite per file), for Jenkins or GitLab",
    },
    Own {
        name: "--lava",
        value: None,
        help: "print LAVA's test-case signal lines on stdout instead of TAP",
    },
    Own {
        name: "--help",
        value: None,
        help: "show this help (also -h)",
    },
];

#[derive(Debug, Default, PartialEq)]
pub struct Args {
    pub help: bool,
    pub filter: Option<String>,
    pub timeout: Option<f64>,
    pub list: bool,
    pub seed: Option<i64>,
    pub backends: Option<Vec<String>>,
    pub junit: Option<String>,
    pub lava: bool,
    pub paths: Vec<String>,
    /// memlua's options, each as given with its value (`["--mem", "f"]`).
    pub memlua: Vec<Vec<Vec<u8>>>,
}

pub fn usage_line() -> &'static str {
    "usage: memlua test [options] [PATH...]"
}

/// `memlua test --help`.
pub fn help() -> String {
    let mut out = format!(
        "memlua test: run the tests of *_test.lua files (describe/it, as busted), each file in a\n\
         fresh Lua state on a fresh backend, and report every test\n\n{}\n\n\
         PATH is a test file, or a folder searched for *_test.lua (default: tests/, else .).\n\n\
         Options:\n",
        usage_line()
    );
    for o in OWN {
        let head = match o.value {
            Some(v) => format!("{} {v}", o.name),
            None => o.name.to_string(),
        };
        let _ = writeln!(out, "  {head:<22} {}", o.help);
    }
    out.push_str(
        "\nmemlua's backend options apply to every file: -b/--backend, --board, --mem, --kmem,\n\
         -w, and -E, -W (see memlua --help). Test files get neither MEMLUA_INIT nor -e/-l.\n\n\
         Output: TAP version 14 on stdout (--lava: LAVA's lines instead), a summary line on\n\
         stderr, and a progress line while it runs when stderr is a terminal.\n\n\
         Examples:\n  memlua test\n  memlua test --filter uart --timeout 5 tests/board/\n  \
         memlua test --backends sim,native --mem dump.bin -w --junit report.xml\n  \
         memlua test -b native -w --lava tests/board/\n\n\
         Exit status: 0 every test passed (skipped and pending ones aside), 1 a test failed\n\
         or errored, 2 usage error.\n",
    );
    out
}

fn shown(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

/// Parses the arguments after `test`.
pub fn parse(argv: &[Vec<u8>]) -> Result<Args, Usage> {
    let mut args = Args::default();
    let mut i = 0;
    while i < argv.len() {
        let a = argv[i].as_slice();
        i += 1;
        if a == b"--" {
            args.paths.extend(argv[i..].iter().map(|p| shown(p)));
            break;
        }
        if a.first() != Some(&b'-') || a == b"-" {
            args.paths.push(shown(a));
            continue;
        }
        if a == b"-h" {
            args.help = true;
            continue;
        }
        let text = shown(a);
        let (name, attached) = match text.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (text.clone(), None),
        };
        if let Some(own) = OWN.iter().find(|o| o.name == name) {
            let value = match (own.value, attached) {
                (None, Some(_)) => {
                    return Err(Usage(format!("option '{name}' takes no value")));
                }
                (None, None) => String::new(),
                (Some(_), Some(v)) => v,
                (Some(what), None) => {
                    let v = argv
                        .get(i)
                        .ok_or_else(|| Usage(format!("'{name}' needs argument ({what})")))?;
                    i += 1;
                    shown(v)
                }
            };
            set(&mut args, own.name, value)?;
            continue;
        }
        match crate::cli::option_takes_next(a) {
            None => return Err(Usage(format!("unrecognized option '{text}'"))),
            Some(false) => args.memlua.push(vec![a.to_vec()]),
            Some(true) => {
                let v = argv
                    .get(i)
                    .ok_or_else(|| Usage(format!("'{text}' needs argument")))?;
                i += 1;
                args.memlua.push(vec![a.to_vec(), v.clone()]);
            }
        }
    }
    Ok(args)
}

fn set(args: &mut Args, name: &str, value: String) -> Result<(), Usage> {
    match name {
        "--filter" => args.filter = Some(value),
        "--timeout" => {
            let t: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite() && *t >= 0.0)
                .ok_or_else(|| {
                    Usage(format!(
                        "--timeout '{value}': seconds expected (a number, 0 for no limit)"
                    ))
                })?;
            args.timeout = (t > 0.0).then_some(t);
        }
        "--list" => args.list = true,
        "--seed" => {
            args.seed = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| Usage(format!("--seed '{value}': a whole number expected")))?,
            )
        }
        "--backends" => {
            let names: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
            if names.iter().any(String::is_empty) {
                return Err(Usage(format!(
                    "--backends '{value}': backend names separated by commas expected (e.g. sim,native)"
                )));
            }
            for (k, n) in names.iter().enumerate() {
                if names[..k].contains(n) {
                    return Err(Usage(format!("--backends '{value}': '{n}' twice")));
                }
            }
            args.backends = Some(names);
        }
        "--junit" => args.junit = Some(value),
        "--lava" => args.lava = true,
        "--help" => args.help = true,
        _ => unreachable!("every option of OWN is handled"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Args, Usage> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        parse(&v)
    }

    #[test]
    fn own_options_paths_and_memlua_options_interleave() {
        let a = p(&[
            "--filter",
            "uart",
            "tests/a",
            "--mem",
            "d.bin",
            "-w",
            "--timeout=0.5",
            "--board=pc",
            "b_test.lua",
            "--",
            "--odd",
        ])
        .unwrap();
        assert_eq!(a.filter.as_deref(), Some("uart"));
        assert_eq!(a.timeout, Some(0.5));
        assert_eq!(a.paths, ["tests/a", "b_test.lua", "--odd"]);
        let memlua: Vec<Vec<String>> = a
            .memlua
            .iter()
            .map(|g| g.iter().map(|x| shown(x)).collect())
            .collect();
        assert_eq!(
            memlua,
            [vec!["--mem", "d.bin"], vec!["-w"], vec!["--board=pc"]]
        );
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_option() {
        for (args, says) in [
            (&["--timeout", "-1"][..], "--timeout '-1'"),
            (&["--timeout", "soon"], "--timeout 'soon'"),
            (&["--seed", "x"], "--seed 'x'"),
            (&["--backends", "sim,,native"], "--backends"),
            (&["--backends", "sim,sim"], "'sim' twice"),
            (&["--list=yes"], "takes no value"),
            (&["--junit"], "needs argument"),
            (&["--nosuch"], "unrecognized option '--nosuch'"),
            (&["--mem"], "'--mem' needs argument"),
        ] {
            let e = p(args).unwrap_err().0;
            assert!(e.contains(says), "{args:?}: {e}");
        }
        assert_eq!(p(&["--timeout", "0"]).unwrap().timeout, None);
    }

    #[test]
    fn help_names_every_option() {
        let h = help();
        for o in OWN {
            assert!(h.contains(o.name), "{}", o.name);
        }
    }
}
