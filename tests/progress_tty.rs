//! Progress bars on a real terminal: the long-running tools (dump,
//! memtest) draw one when stderr is a terminal (a pseudo-terminal here,
//! through rexpect), and stay quiet when MEMLUA_PROGRESS=0 or when stderr
//! is piped.

mod support;

use std::path::PathBuf;
use std::process::Command;

use rexpect::session::spawn_command;

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memlua-tty-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs memlua on a pseudo-terminal to the end: everything it drew, and
/// whether it exited with status 0.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_memlua"));
    c.args(args)
        .env("TERM", "xterm")
        .env_remove("MEMLUA_PROGRESS")
        .env_remove("MEMLUA_INIT")
        .env_remove("MEMLUA_BACKEND")
        .env_remove("MEMLUA_BOARD");
    for (k, v) in env {
        c.env(k, v);
    }
    let mut p = spawn_command(c, Some(60_000)).unwrap();
    let screen = p.exp_eof().unwrap();
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}\n{screen}"
    );
    screen
}

const MIB64: &str = "0x4000000";

#[test]
fn dump_to_a_file_draws_a_bar_on_a_terminal_and_clears_it() {
    let d = scratch("dump");
    let file = d.join("ram.bin");
    let screen = on_terminal(
        &["dump", "-o", file.to_str().unwrap(), "0x100000", MIB64],
        &[],
    );
    assert!(screen.contains("dump ["), "no bar drawn:\n{screen:?}");
    assert!(screen.contains("MiB"), "the bar counts bytes:\n{screen:?}");
    // finish_and_clear: the bar's line is erased at the end (CSI 2K).
    assert!(screen.contains("\x1b[2K"), "bar not cleared:\n{screen:?}");
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 64 << 20);
}

/// A simulated device that keeps what is written and takes 50 us a read.
const SLOW_RAM: &str = "local host = require 'memlua.host' local m = {} \
    sim.device{name='slow', base=0x90000000, len=65536, \
    read=function(off) local t = host.monotonic_ns() + 50000 while host.monotonic_ns() < t do end return m[off] or 0 end, \
    write=function(off, w, v) m[off] = v end}";

#[test]
fn memtest_draws_a_bar_once_it_has_run_a_second_whatever_the_size() {
    // 64 KiB, but slow: over a second.
    let screen = on_terminal(&["-e", SLOW_RAM, "memtest", "0x90000000", "0x10000"], &[]);
    assert!(screen.contains("memtest ["), "no bar drawn:\n{screen:?}");
    assert!(screen.contains("PASS: "), "{screen:?}");
    // 8 MiB in blocks: done well within a second, no bar.
    let screen = on_terminal(&["memtest", "-b", "65536", "0x1000000", "0x800000"], &[]);
    assert!(!screen.contains("memtest ["), "{screen:?}");
    assert!(screen.contains("PASS: "), "{screen:?}");
}

#[test]
fn small_runs_and_memlua_progress_0_draw_nothing() {
    let d = scratch("quiet");
    let file = d.join("ram.bin");
    let screen = on_terminal(
        &["dump", "-o", file.to_str().unwrap(), "0x100000", MIB64],
        &[("MEMLUA_PROGRESS", "0")],
    );
    assert!(!screen.contains("dump ["), "{screen:?}");
    // Under the 4 MiB threshold there is no bar either.
    let screen = on_terminal(
        &["dump", "-o", file.to_str().unwrap(), "0x100000", "0x100000"],
        &[],
    );
    assert!(!screen.contains("dump ["), "{screen:?}");
}

#[test]
fn piped_stderr_gets_no_bar() {
    let d = scratch("piped");
    let file = d.join("ram.bin");
    let out = support::memlua()
        .args(["dump", "-o", file.to_str().unwrap(), "0x100000", MIB64])
        .env_remove("MEMLUA_PROGRESS")
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `memlua test` draws a progress line on a terminal, and none with
/// MEMLUA_PROGRESS=0.
#[test]
fn memlua_test_shows_progress_on_a_terminal_only() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/runner/pass_test.lua"
    );
    let screen = on_terminal(&["test", file], &[]);
    assert!(screen.contains("[0/1] 0 passed, 0 failed"), "{screen}");
    assert!(screen.contains("memlua test: 7 passed"), "{screen}");
    let quiet = on_terminal(&["test", file], &[("MEMLUA_PROGRESS", "0")]);
    assert!(!quiet.contains("[0/1]"), "{quiet}");
}
