//! `memlua test` on the real binary (issue 16): the fixture files of
//! tests/fixtures/runner/ (passing, failing, erroring, skipped, pending,
//! hanging, a file that fails to load, two files proving isolation) give
//! exactly expected.tap and expected.lava, JUnit XML that follows the
//! schema Jenkins reads with matching counts, and the exit statuses.
//! `MEMLUA_BLESS=1 cargo test --test test_runner` rewrites the golden
//! files after a deliberate change (read the diff).

mod support;

#[path = "support/skip.rs"]
mod skip;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use support::memlua;

const FIXTURES: &str = "tests/fixtures/runner";

fn run(args: &[&str], code: i32) -> (String, String) {
    let o = memlua()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("MEMLUA_PROGRESS")
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("memlua-test-runner-{}-{name}", std::process::id()))
}

/// `got` equals the golden file `name` in the fixtures (or rewrites it
/// under MEMLUA_BLESS=1).
fn golden(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURES)
        .join(name);
    if std::env::var_os("MEMLUA_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    if got != want {
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "{name}: line {} differs", i + 1);
        }
        assert_eq!(got.lines().count(), want.lines().count(), "{name}: lengths");
        assert_eq!(got, want, "{name}");
    }
}

const SUMMARY: &str =
    "memlua test: 17 passed, 7 failed, 9 errored, 1 skipped, 2 pending (8 files, ";

#[test]
fn fixtures_give_the_golden_tap_and_junit_that_follows_the_schema() {
    let xml = scratch("junit.xml");
    let (out, err) = run(
        &[
            "test",
            "--seed",
            "7",
            "--timeout",
            "0.5",
            "--junit",
            xml.to_str().unwrap(),
            FIXTURES,
        ],
        1,
    );
    golden("expected.tap", &out);
    assert!(err.starts_with(SUMMARY), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let text = std::fs::read_to_string(&xml).unwrap();
    let _ = std::fs::remove_file(&xml);
    junit::check(&text, &out);
}

#[test]
fn fixtures_give_the_golden_lava_lines() {
    let (out, err) = run(
        &[
            "test",
            "--seed",
            "7",
            "--timeout",
            "0.5",
            "--lava",
            FIXTURES,
        ],
        1,
    );
    golden("expected.lava", &out);
    assert!(err.starts_with(SUMMARY), "{err}");
}

#[test]
fn a_run_where_everything_passes_exits_0() {
    let (out, err) = run(&["test", &format!("{FIXTURES}/pass_test.lua")], 0);
    assert!(out.starts_with("TAP version 14\n# seed: "), "{out}");
    assert!(out.ends_with("\n1..7\n"), "{out}");
    assert!(!out.contains("not ok"), "{out}");
    assert!(
        err.starts_with(
            "memlua test: 7 passed, 0 failed, 0 errored, 0 skipped, 0 pending (1 file, "
        ),
        "{err}"
    );
}

#[test]
fn isolation_nothing_a_file_changes_reaches_the_next() {
    // Each file: a fresh Lua state on a fresh board. b checks RAM, the
    // memory ranges, the devices and the globals a changed.
    let (out, _) = run(
        &[
            "test",
            &format!("{FIXTURES}/isolation_a_test.lua"),
            &format!("{FIXTURES}/isolation_b_test.lua"),
        ],
        0,
    );
    assert_eq!(out.matches("\nok ").count(), 8, "{out}");
    // Run the other way round, b is still fine: nothing leaks forward or
    // depends on order.
    run(
        &[
            "test",
            &format!("{FIXTURES}/isolation_b_test.lua"),
            &format!("{FIXTURES}/isolation_a_test.lua"),
        ],
        0,
    );
}

#[test]
fn an_assertion_failure_shows_both_values_at_the_test_files_line() {
    let (out, _) = run(
        &[
            "test",
            "--filter",
            "hex and decimal",
            &format!("{FIXTURES}/fail_test.lua"),
        ],
        1,
    );
    for want in [
        "not ok 1 - tests/fixtures/runner/fail_test.lua > failures > integers in hex and decimal\n",
        "  message: \"expected 0x20 (32), got 0x1f (31)\"\n",
        "  at: \"tests/fixtures/runner/fail_test.lua:9\"\n",
        "  expected: \"0x20 (32)\"\n",
        "  actual: \"0x1f (31)\"\n",
    ] {
        assert!(out.contains(want), "{want}\n{out}");
    }
    // Never the runner's own file, in any result of any fixture.
    let (all, _) = run(&["test", "--timeout", "0.5", FIXTURES], 1);
    assert!(!all.contains("stdlib/test.lua"), "{all}");
    assert!(!all.contains("[C]"), "{all}");
}

#[test]
fn list_and_filter() {
    let (out, err) = run(
        &[
            "test",
            "--list",
            "--filter",
            "hooks",
            &format!("{FIXTURES}/pass_test.lua"),
        ],
        0,
    );
    assert_eq!(
        out,
        "tests/fixtures/runner/pass_test.lua > hooks > inner > run outer first\n\
         tests/fixtures/runner/pass_test.lua > hooks > ran after inner first\n"
    );
    assert_eq!(err, "memlua test: 2 tests in 1 file\n");
    // A file that does not load is an error of --list too.
    let (out, err) = run(&["test", "--list", &format!("{FIXTURES}/load_test.lua")], 1);
    assert_eq!(out, "");
    assert!(err.contains("load_test.lua > (load): tests/fixtures/runner/load_test.lua:6: attempt to index a nil value"), "{err}");
}

#[test]
fn the_seed_fixes_math_random_per_file_and_test() {
    let dir = scratch("seed");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("random_test.lua");
    std::fs::write(
        &file,
        "print(math.random(1 << 40))\nit('a', function() print(math.random(1 << 40)) end)\n\
         it('b', function() print(math.random(1 << 40)) end)\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let numbers = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| !l.starts_with("seed"))
            .map(str::to_string)
            .collect()
    };
    let (a, _) = run(&["test", "--seed", "42", f], 0);
    let (b, _) = run(&["test", "--seed", "42", f], 0);
    assert!(a.contains("# seed: 42 "), "{a}");
    assert_eq!(numbers(&a), numbers(&b));
    // Each test starts from the seed: the same number in both.
    assert_eq!(numbers(&a).len(), 2, "{a}");
    assert_eq!(numbers(&a)[0], numbers(&a)[1]);
    let (c, _) = run(&["test", "--seed", "43", f], 0);
    assert_ne!(numbers(&a), numbers(&c));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn backends_run_the_set_once_per_backend() {
    if !Path::new("/dev/shm").is_dir() {
        skip::skip("no tmpfs at /dev/shm");
        return;
    }
    let mem = PathBuf::from(format!(
        "/dev/shm/memlua-test-runner-{}",
        std::process::id()
    ));
    std::fs::File::create(&mem)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    let file = "tests/fixtures/backends/portable_test.lua";
    let (out, err) = run(
        &[
            "test",
            "--backends",
            "sim,native",
            "--mem",
            mem.to_str().unwrap(),
            "-w",
            file,
        ],
        0,
    );
    let _ = std::fs::remove_file(&mem);
    for backend in ["sim", "native"] {
        for test in [
            "writes and reads back RAM",
            "knows where it runs",
            "faults past the end",
        ] {
            let name = format!(" - {backend} > {file} > memory > {test}");
            assert!(
                out.lines()
                    .any(|l| l.starts_with("ok ") && l.ends_with(&name)),
                "{name}\n{out}"
            );
        }
    }
    assert!(err.contains(" 6 passed, 0 failed"), "{err}");
    // The options of one backend go to it only; one that no backend of
    // the list takes is the usage error a script would get.
    let (_, err) = run(&["test", "--backends", "sim", "--mem", "x", file], 2);
    assert!(err.contains("'--mem' is for the native backend"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    for (args, says) in [
        (&["test", "--nosuch"][..], "unrecognized option '--nosuch'"),
        (&["test", "--timeout", "x", FIXTURES], "--timeout 'x'"),
        (&["test", "/nonexistent/tests"], "/nonexistent/tests: "),
        (
            &["test", "--filter", "[", FIXTURES],
            "--filter '[': not a Lua pattern",
        ),
        (
            &["test", "--backends", "sim,nosuch", FIXTURES],
            "unknown backend 'nosuch'",
        ),
        (
            &["test", "-e", "x=1", FIXTURES],
            "'-e' does not apply to memlua test",
        ),
        (
            &["test", "--junit", "/nonexistent/dir/r.xml", FIXTURES],
            "--junit /nonexistent/dir/r.xml",
        ),
        (
            &["test", "--board", "/nonexistent.toml", FIXTURES],
            "/nonexistent.toml",
        ),
        (
            &["test", "tests/support"],
            "no *_test.lua files in tests/support",
        ),
    ] {
        let (out, err) = run(args, 2);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
    }
    let (out, _) = run(&["test", "--help"], 0);
    assert!(out.contains("--backends A,B,..."), "{out}");
    // memlua's own help points at it.
    let (out, _) = run(&["--help"], 0);
    assert!(out.contains("memlua test --help"), "{out}");
}

/// Dogfood: the project's own Lua suites written as `*_test.lua`
/// (tests/lua/) run through `memlua test` on every CI run, on the
/// simulator's `pc` board.
#[test]
fn the_projects_own_lua_suites_pass_through_memlua_test() {
    let (out, err) = run(&["test", "--timeout", "60", "tests/lua"], 0);
    assert!(!out.contains("not ok"), "{out}");
    let ran = out.matches("\nok ").count();
    assert!(ran >= 25, "only {ran} tests ran:\n{out}");
    assert!(err.contains(" 0 failed, 0 errored"), "{err}");
}

/// JUnit XML checked against the rules of the xunit plugin's junit-10
/// schema (the one Jenkins validates with): which element may hold
/// which, the attributes each may have and must have, the form of
/// `time`; and the counts against the TAP of the same run.
mod junit {
    use super::*;
    use roxmltree::{Document, Node};

    fn attrs_allowed(n: Node, allowed: &[&str], required: &[&str]) {
        for a in n.attributes() {
            assert!(
                allowed.contains(&a.name()),
                "<{}> may not have '{}'",
                n.tag_name().name(),
                a.name()
            );
        }
        for r in required {
            assert!(n.has_attribute(*r), "<{}> needs '{r}'", n.tag_name().name());
        }
    }

    fn elements<'a>(n: Node<'a, 'a>) -> impl Iterator<Item = Node<'a, 'a>> {
        n.children().filter(|c| c.is_element())
    }

    /// The schema's SUREFIRE_TIME, for the values memlua writes.
    fn is_time(s: &str) -> bool {
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        whole.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
    }

    fn count(n: Node, attr: &str) -> usize {
        n.attribute(attr).unwrap().parse().unwrap()
    }

    pub fn check(text: &str, tap: &str) {
        let doc = Document::parse(text).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        attrs_allowed(root, &["name", "time", "tests", "failures", "errors"], &[]);
        assert!(is_time(root.attribute("time").unwrap()));
        let mut all = HashMap::<&str, usize>::new();
        let mut suites = 0;
        for suite in elements(root) {
            suites += 1;
            assert_eq!(suite.tag_name().name(), "testsuite");
            attrs_allowed(
                suite,
                &[
                    "name",
                    "tests",
                    "failures",
                    "errors",
                    "group",
                    "time",
                    "skipped",
                    "timestamp",
                    "hostname",
                    "id",
                    "package",
                    "file",
                    "log",
                    "url",
                ],
                &["name", "tests", "failures", "errors"],
            );
            assert!(is_time(suite.attribute("time").unwrap()));
            let mut counts = HashMap::<&str, usize>::new();
            let mut cases = 0;
            for child in elements(suite) {
                match child.tag_name().name() {
                    "properties" => {
                        for p in elements(child) {
                            assert_eq!(p.tag_name().name(), "property");
                            attrs_allowed(p, &["name", "value"], &["name", "value"]);
                        }
                    }
                    "testcase" => {
                        cases += 1;
                        attrs_allowed(
                            child,
                            &["name", "time", "classname", "group"],
                            &["name", "classname", "time"],
                        );
                        assert!(is_time(child.attribute("time").unwrap()));
                        let file = suite.attribute("file").unwrap();
                        let class = file.strip_suffix(".lua").unwrap().replace('/', ".");
                        assert_eq!(child.attribute("classname"), Some(class.as_str()));
                        for r in elements(child) {
                            let kind = r.tag_name().name();
                            assert!(
                                ["failure", "error", "skipped", "system-out", "system-err"]
                                    .contains(&kind),
                                "<testcase> may not hold <{kind}>"
                            );
                            if kind != "system-out" && kind != "system-err" {
                                attrs_allowed(r, &["type", "message"], &[]);
                                *counts.entry(kind).or_default() += 1;
                            }
                        }
                    }
                    "system-out" | "system-err" => {}
                    other => panic!("<testsuite> may not hold <{other}>"),
                }
            }
            assert_eq!(count(suite, "tests"), cases);
            for (attr, kind) in [
                ("failures", "failure"),
                ("errors", "error"),
                ("skipped", "skipped"),
            ] {
                let n = counts.get(kind).copied().unwrap_or(0);
                assert_eq!(
                    count(suite, attr),
                    n,
                    "{attr} of {:?}",
                    suite.attribute("name")
                );
                *all.entry(kind).or_default() += n;
            }
            *all.entry("tests").or_default() += cases;
        }
        // One testsuite per file; the counts are the TAP's.
        assert_eq!(suites, 8);
        let points = tap
            .lines()
            .filter(|l| l.starts_with("ok ") || l.starts_with("not ok "))
            .count();
        assert_eq!(all["tests"], points);
        assert_eq!(count(root, "tests"), points);
        let not_ok = tap
            .lines()
            .filter(|l| l.starts_with("not ok ") && !l.contains(" # TODO "))
            .count();
        assert_eq!(all["failure"] + all["error"], not_ok);
        assert_eq!((all["failure"], all["error"], all["skipped"]), (7, 9, 3));
        assert_eq!(count(root, "failures"), 7);
        assert_eq!(count(root, "errors"), 9);
        // The timeouts say so.
        assert_eq!(text.matches("<error type=\"timeout\"").count(), 3);
    }
}

/// The README's board test passes on the simulated board.
#[test]
fn the_readmes_board_test_passes_on_the_simulator() {
    let (out, err) = run(&["test", "examples/board-tests"], 0);
    assert_eq!(out.matches("\nok ").count(), 4, "{out}");
    assert!(err.contains(" 4 passed, 0 failed"), "{err}");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let file = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/board-tests/uart_test.lua"),
    )
    .unwrap();
    // The README shows the file from its first line of code, up to the
    // test it leaves out.
    let shown = &file[file.find("local UART").unwrap()..file.find("\n  it(\"refuses").unwrap()];
    assert!(
        readme.contains(shown),
        "README's board test differs from the file"
    );
}

/// The layers apply to every file as to a script: a test file recorded
/// with `--record` replays with `--replay` and no machine; a file changed
/// by one write value fails its replay with the step that differs.
#[test]
fn a_recorded_test_file_replays_and_a_changed_one_fails() {
    let d = scratch("replay");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join("uart_test.lua");
    let test = |value: &str| {
        format!(
            "describe('uart', function()\n  it('sends', function()\n    local u = mem.map(0xFE000000, 8)\n    u:write8(0, {value})\n    assert.equal(0x60, u:read8(5) & 0x60)\n  end)\nend)\n"
        )
    };
    std::fs::write(&file, test("0x68")).unwrap();
    let trace = d.join("uart.jsonl");
    let (f, t) = (file.to_str().unwrap(), trace.to_str().unwrap());
    let (out, _) = run(&["test", "--record", t, f], 0);
    assert!(out.contains("ok 1 - "), "{out}");
    let (out, _) = run(&["test", "--replay", t, f], 0);
    assert!(out.contains("ok 1 - ") && !out.contains("not ok"), "{out}");
    std::fs::write(&file, test("0x69")).unwrap();
    let (out, _) = run(&["test", "--replay", t, f], 1);
    assert!(
        out.contains("(trace)") && out.contains("replay diverged at seq 1"),
        "{out}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
