//! The REPL on the real binary through a pseudo-terminal (rexpect): what a
//! person at the bench types, and what they see. Each test has its own
//! HOME and XDG_DATA_HOME, so history lands in a temporary folder.

use std::path::PathBuf;
use std::process::Command;

use rexpect::session::{spawn_command, PtySession};

const PROMPT: &str = "memlua(sim:pc)> ";

/// A fresh data folder for one test.
fn home(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memlua-repl-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn memlua(home: &PathBuf, args: &[&str]) -> PtySession {
    let mut p = spawn(home, args);
    p.exp_string(PROMPT).unwrap();
    p
}

/// memlua started in `home`, before its first prompt.
fn spawn(home: &PathBuf, args: &[&str]) -> PtySession {
    let mut c = Command::new(env!("CARGO_BIN_EXE_memlua"));
    c.args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .env_remove("MEMLUA_INIT")
        .env_remove("MEMLUA_PATH")
        .env_remove("MEMLUA_BACKEND")
        .env_remove("MEMLUA_BOARD");
    spawn_command(c, Some(20_000)).unwrap()
}

/// After a Ctrl-C at the prompt rustyline starts a new line and may read
/// the terminal's answer to a cursor query; input typed before that is
/// lost, as in any readline. A person waits for the prompt; so do we.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// Ctrl-D at the prompt; the exit status must be 0.
fn quit(mut p: PtySession) {
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}"
    );
}

#[test]
fn expressions_print_in_hex_and_decimal() {
    let h = home("expr");
    let mut p = memlua(&h, &[]);
    p.send_line("0xfe000000").unwrap();
    p.exp_string("0xfe000000  -- 4261412864").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("{b = 'x', a = 0x1000}").unwrap();
    p.exp_string("{ a = 0x1000, b = \"x\" }").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line(":hex off").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("mem.read32(0xfe001008) + 0x100").unwrap();
    p.exp_regex("\r\n[0-9]+\r\n").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn a_multi_line_function_reads_on_and_runs() {
    let h = home("multi");
    let mut p = memlua(&h, &[]);
    p.send_line("function twice(x)").unwrap();
    p.exp_string(">> ").unwrap();
    p.send_line("  return 2 * x").unwrap();
    p.exp_string(">> ").unwrap();
    p.send_line("end").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("twice(21)").unwrap();
    p.exp_string("0x2a  -- 42").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn errors_print_and_the_session_goes_on() {
    let h = home("errors");
    let mut p = memlua(&h, &[]);
    p.send_line("x = 5").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("mem.read32(1 << 40)").unwrap();
    p.exp_string("EFAULT").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("error('boom')").unwrap();
    p.exp_string("boom").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("x = = 1").unwrap();
    p.exp_string("unexpected symbol").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("select(2, pcall(mem.read32, 3))").unwrap();
    p.exp_string("error EINVAL:").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("x + 1").unwrap();
    p.exp_string("\r\n6\r\n").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn ctrl_c_breaks_an_endless_loop_and_keeps_the_state() {
    let h = home("ctrlc");
    let mut p = memlua(&h, &[]);
    p.send_line("n = 41").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("while true do end").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("interrupted!").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("n + 1").unwrap();
    p.exp_string("0x2a  -- 42").unwrap();
    p.exp_string(PROMPT).unwrap();
    // At the prompt Ctrl-C clears the line.
    p.send("this is not lua").unwrap();
    p.flush().unwrap();
    p.send_control('c').unwrap();
    settle();
    p.send_line("n").unwrap();
    p.exp_string("0x29  -- 41").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn tab_completes_fields_methods_and_user_names() {
    let h = home("complete");
    let mut p = memlua(&h, &[]);
    p.send_line("my_long_name = 0x1234").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send("my_long\t").unwrap();
    p.flush().unwrap();
    p.send_line("").unwrap();
    p.exp_string("0x1234  -- 4660").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send("mem.extract_ra\t").unwrap();
    p.flush().unwrap();
    p.send_line("(0, 4096)[1].state").unwrap();
    p.exp_string("invalid").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("w = mem.map(0xfe000000, 8)").unwrap();
    p.exp_string(PROMPT).unwrap();
    // Two candidates share "write": the first TAB inserts it, the second lists.
    p.send("w:wr\t").unwrap();
    p.flush().unwrap();
    p.exp_string("w:write").unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
    p.exp_string("write16").unwrap();
    p.send_control('c').unwrap();
    settle();
    // kmem is built on first use; the REPL builds it before completing.
    p.send("kmem.symb\t").unwrap();
    p.flush().unwrap();
    p.send_line("('hz')").unwrap();
    p.exp_string("0xffffffff81200000").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send(":help mem.read3\t").unwrap();
    p.flush().unwrap();
    p.send_line("").unwrap();
    p.exp_string("one 32-bit read").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn history_survives_a_restart_one_entry_per_chunk() {
    let h = home("history");
    let mut p = memlua(&h, &[]);
    p.send_line("for i = 1, 2 do").unwrap();
    p.exp_string(">> ").unwrap();
    p.send_line("  marker = i end").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("hex(0xbeef)").unwrap();
    p.exp_string("0xbeef").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
    let file = std::fs::read_to_string(h.join("data/memlua/history")).unwrap();
    assert_eq!(file, "for i = 1, 2 do\\n  marker = i end\nhex(0xbeef)\n");

    let mut p = memlua(&h, &[]);
    // Up twice: the multi-line chunk, whole; run it again.
    p.send("\x1b[A\x1b[A").unwrap();
    p.flush().unwrap();
    p.send_line("").unwrap();
    p.exp_string("marker = i end").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("marker").unwrap();
    p.exp_string("\r\n2\r\n").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);

    let mut p = memlua(&h, &["--no-history"]);
    p.send_line("nothing_saved = 1").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
    let file = std::fs::read_to_string(h.join("data/memlua/history")).unwrap();
    assert!(!file.contains("nothing_saved"), "{file}");
}

#[test]
fn a_history_that_cannot_be_used_names_its_path() {
    // A file where the data folder should be: unusable, even by root.
    let h = home("badhistory");
    std::fs::write(h.join("data"), "").unwrap();
    let file = h.join("data/memlua/history");
    let mut p = spawn(&h, &[]);
    let before = p.exp_string(PROMPT).unwrap();
    assert!(
        before.contains(&format!("memlua: history not read: {}: ", file.display())),
        "{before}"
    );
    p.send_line("x = 1").unwrap();
    let said = p.exp_string(PROMPT).unwrap();
    assert!(
        said.contains(&format!(
            "memlua: history not saved: {}: ",
            h.join("data/memlua").display()
        )),
        "{said}"
    );
    quit(p);
}

#[test]
fn commands_help_board_and_quit() {
    let h = home("commands");
    let mut p = memlua(&h, &[]);
    p.send_line(":help").unwrap();
    p.exp_string("memrange.set").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line(":board").unwrap();
    p.exp_string("board pc").unwrap();
    p.exp_string("uart0").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let status = format!("{:?}", p.process().wait().unwrap());
    assert!(status.ends_with(", 0)"), "{status}");
}

#[test]
fn lines_typed_ahead_or_pasted_without_bracketed_paste_all_run() {
    // One write of several lines, as a serial console, tmux send-keys or a
    // terminal without bracketed paste delivers them: none may be lost.
    let h = home("typeahead");
    let mut p = memlua(&h, &[]);
    p.send("print('out' .. 1)\nprint('out' .. 2)\nx = 1 +\n2\nprint('x is ' .. x)\n")
        .unwrap();
    p.exp_string("out1").unwrap();
    p.exp_string("out2").unwrap();
    p.exp_string("x is 3").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn io_write_output_comes_out_in_order_and_unfinished_chunks_are_reported() {
    // Piped, chunk by chunk: what io.write left in C's buffer comes out
    // before the chunk's results, not at the next newline.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_memlua"))
        .args(["-i"])
        .env_remove("MEMLUA_INIT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(
                b"io.write('A') return 7\nio.write('B') print('c')\nfor i = 1, 2 do\n",
            )?;
            c.wait_with_output()
        })
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let body: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body, "A7\nBc", "{out}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unfinished chunk (1 line) not run"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn prompt_and_prompt2_replace_memlua_s_prompts_and_equals_returns() {
    // lua.c's _PROMPT and _PROMPT2, read again before every line, and
    // `=expr` on a first line.
    let h = home("prompt");
    let mut p = memlua(&h, &[]);
    p.send_line("_PROMPT = setmetatable({}, {__tostring = function() return 'lua> ' end})")
        .unwrap();
    p.exp_string("lua> ").unwrap();
    p.send_line("_PROMPT2 = '.. '").unwrap();
    p.exp_string("lua> ").unwrap();
    p.send_line("=1 +").unwrap();
    p.exp_string(".. ").unwrap();
    p.send_line("0x10").unwrap();
    p.exp_string("0x11  -- 17").unwrap();
    p.exp_string("lua> ").unwrap();
    p.send_line("_PROMPT = nil").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}

#[test]
fn a_line_that_is_not_utf8_is_reported_and_the_session_goes_on() {
    // Piped: the line is named with its bad bytes shown, the lines after
    // it run, and a chunk it continued is not run without it.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_memlua"))
        .args(["-i"])
        .env_remove("MEMLUA_INIT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(
                b"print('one')\nprint('\xff')\nprint('two')\nfor i = 1, 2 do\nprint('\xfe', i)\nend\nprint('three')\n",
            )?;
            c.wait_with_output()
        })
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let body: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body, "one\ntwo\nthree", "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "memlua: stdin:2: the line is not valid UTF-8: print('\\xff'); it was not run"
        ),
        "{err}"
    );
    assert!(
        err.contains("stdin:5: the line is not valid UTF-8: print('\\xfe', i); the chunk it continued was not run"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(0));

    // At a terminal: rustyline drops the line; the prompt comes back.
    let h = home("utf8");
    let mut p = memlua(&h, &[]);
    {
        use std::io::Write;
        let mut tty = p.process().get_file_handle().unwrap();
        tty.write_all(b"x = '\xff'\n").unwrap();
    }
    p.exp_string("not valid UTF-8").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("print('still ' .. 'here')").unwrap();
    p.exp_string("still here").unwrap();
    p.exp_string(PROMPT).unwrap();
    quit(p);
}
