//! The memlua command line on the real binary: lua.c's conventions, exit
//! statuses (0 ok, 1 script error, 2 usage), stderr formats and `arg`.

use std::path::{Path, PathBuf};

mod support;

use assert_cmd::Command;
use support::memlua;

/// A fresh folder for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memlua-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn out(c: &mut Command, code: i32) -> (String, String) {
    let o = c.assert().code(code).get_output().clone();
    (
        String::from_utf8(o.stdout).unwrap(),
        String::from_utf8(o.stderr).unwrap(),
    )
}

#[test]
fn exec_chunk_prints_and_exits_zero() {
    let (o, _) = out(memlua().args(["-e", "print(1 + 1)"]), 0);
    assert_eq!(o, "2\n");
}

#[test]
fn script_error_is_exit_one_with_file_line_and_traceback() {
    let d = scratch("err");
    let s = write(&d, "boom.lua", "local x = 1\n\nerror('boom')\n");
    let (_, e) = out(memlua().arg(&s), 1);
    assert!(e.starts_with(&format!("memlua: {s}:3: boom\n")), "{e}");
    assert!(e.contains("stack traceback:"), "{e}");
}

#[test]
fn error_values_print_with_the_script_position() {
    let d = scratch("errval");
    let s = write(&d, "bad.lua", "\nmem.read32(1 << 40)\n");
    let (_, e) = out(memlua().arg(&s), 1);
    assert!(
        e.starts_with(&format!("memlua: {s}:2: mem.read32: EFAULT: ")),
        "{e}"
    );
}

#[test]
fn finalizers_and_to_be_closed_variables_run_at_exit_as_in_lua_c() {
    // memlua leaves the heap to the OS at exit; what scripts can see of
    // lua_close must still happen, in lua.c's order.
    let d = scratch("atexit");
    let s = write(
        &d,
        "fin.lua",
        "kept = setmetatable({}, {__gc = function() print('kept finalized') end})\n\
         setmetatable({}, {__gc = function() print('garbage finalized') end})\n\
         local t <close> = setmetatable({}, {__close = function() print('closed') end})\n\
         local f = io.open(arg[1], 'w') f:write('unflushed') -- never closed\n",
    );
    let data = d.join("data").to_str().unwrap().to_string();
    let (o, _) = out(memlua().args([&s, &data]), 0);
    assert_eq!(o, "closed\ngarbage finalized\nkept finalized\n");
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "unflushed");
    let (o, _) = out(
        memlua().args([
            "-e",
            "kept = setmetatable({}, {__gc = function() print('finalized') end}) error('x')",
        ]),
        1,
    );
    assert_eq!(o, "finalized\n");
}

#[test]
fn a_closed_pipe_ends_the_run_as_it_ends_lua_c() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_memlua"))
        .args(["-e", "for i = 1, 1e9 do print(i) end"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "1\n");
    // The reader is gone: the next write kills memlua with SIGPIPE, as it
    // does lua.c and busybox, instead of printing into a closed pipe.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("memlua kept running after its reader closed the pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
}

#[test]
fn programs_a_script_starts_do_not_inherit_an_ignored_sigpipe() {
    let (o, _) = out(
        memlua().args(["-e", "os.execute('grep ^SigIgn: /proc/self/status')"]),
        0,
    );
    let mask = u64::from_str_radix(o.trim().trim_start_matches("SigIgn:").trim(), 16).unwrap();
    assert_eq!(mask & (1 << (libc::SIGPIPE - 1)), 0, "{o}");
}

#[test]
fn a_closed_stdout_is_not_taken_over_by_the_next_file_opened() {
    // Started with stdout closed, the first file opened would get
    // descriptor 1 and everything printed would land in it (a /dev/mem
    // opened that way would be written by print). memlua puts /dev/null
    // there first, as Rust's runtime and careful C tools do.
    let d = scratch("closedfd");
    let file = d.join("f.txt");
    let script = format!(
        "local h = assert(io.open({:?}, 'w')) print('to stdout') io.stdout:flush() h:write('file') h:close()",
        file.to_str().unwrap()
    );
    let status = std::process::Command::new("sh")
        .args(["-c", "exec \"$0\" -e \"$1\" >&-"])
        .arg(env!("CARGO_BIN_EXE_memlua"))
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "file");
}

#[test]
fn missing_script_is_exit_one() {
    let (_, e) = out(memlua().arg("/nonexistent/x.lua"), 1);
    assert!(
        e.starts_with("memlua: cannot open /nonexistent/x.lua"),
        "{e}"
    );
}

#[test]
fn syntax_error_is_exit_one_with_file_and_line() {
    let d = scratch("syntax");
    let s = write(&d, "syn.lua", "print(1)\nx = = 2\n");
    let (_, e) = out(memlua().arg(&s), 1);
    assert!(e.starts_with(&format!("memlua: {s}:2: ")), "{e}");
}

#[test]
fn runtime_error_in_a_required_module_names_its_file() {
    let d = scratch("module");
    write(&d, "broken.lua", "local t = {}\nreturn t.x.y\n");
    let (_, e) = out(
        memlua()
            .env("MEMLUA_PATH", d.to_str().unwrap())
            .args(["-l", "broken"]),
        1,
    );
    assert!(e.contains("broken.lua:2: attempt to index"), "{e}");
}

#[test]
fn arg_table_and_varargs_follow_lua_c() {
    let d = scratch("arg");
    let s = write(
        &d,
        "args.lua",
        "print(arg[-3], arg[-2], arg[-1], arg[0] == ..., arg[1], arg[2], #arg)\nprint(...)\n",
    );
    let (o, _) = out(memlua().args(["-e", "x=1"]).arg(&s).args(["a", "-e"]), 0);
    let bin = assert_cmd::cargo::cargo_bin("memlua");
    // arg[0] is the script; `...` holds only the arguments.
    assert_eq!(
        o,
        format!("{}\t-e\tx=1\tfalse\ta\t-e\t2\na\t-e\n", bin.display())
    );
}

#[test]
fn exec_and_require_run_in_order() {
    let d = scratch("order");
    write(&d, "m.lua", "return { seen = x }\n");
    let (o, _) = out(
        memlua().env("MEMLUA_PATH", d.to_str().unwrap()).args([
            "-e",
            "x = 7",
            "-l",
            "m",
            "-l",
            "alias=m",
            "-e",
            "print(m.seen, alias == m)",
        ]),
        0,
    );
    assert_eq!(o, "7\ttrue\n");
}

#[test]
fn dash_runs_stdin_and_a_pipe_without_script_does_too() {
    let (o, _) = out(memlua().arg("-").write_stdin("print(40 + 2)\n"), 0);
    assert_eq!(o, "42\n");
    let (o, _) = out(memlua().write_stdin("print(hex(mem.read8(0xffff0)))\n"), 0);
    assert_eq!(o, "0xea\n");
}

#[test]
fn shebang_line_is_skipped_and_line_numbers_kept() {
    let d = scratch("shebang");
    let s = write(&d, "sb.lua", "#!/usr/bin/env memlua\nerror('line two')\n");
    let (_, e) = out(memlua().arg(&s), 1);
    assert!(e.starts_with(&format!("memlua: {s}:2: line two")), "{e}");
}

#[test]
fn memlua_init_runs_first_unless_ignored() {
    let (o, _) = out(
        memlua()
            .env("MEMLUA_INIT", "greeting = 'hi'")
            .args(["-e", "print(greeting)"]),
        0,
    );
    assert_eq!(o, "hi\n");
    let (o, _) = out(
        memlua()
            .env("MEMLUA_INIT", "greeting = 'hi'")
            .args(["-E", "-e", "print(greeting)"]),
        0,
    );
    assert_eq!(o, "nil\n");
    let d = scratch("init");
    let f = write(&d, "init.lua", "greeting = 'from file'\n");
    let (o, _) = out(
        memlua()
            .env("MEMLUA_INIT", format!("@{f}"))
            .args(["-e", "print(greeting)"]),
        0,
    );
    assert_eq!(o, "from file\n");
}

#[test]
fn usage_errors_are_exit_two() {
    let (_, e) = out(memlua().arg("-x"), 2);
    assert!(
        e.starts_with("memlua: unrecognized option '-x'\nusage: memlua"),
        "{e}"
    );
    out(memlua().arg("-e"), 2);
    out(memlua().args(["-b", "kvm"]), 2);
    // An option of another backend, the qemu one's too.
    out(
        memlua().args(["-b", "qemu", "--board", "q35", "-e", "1"]),
        2,
    );
    out(memlua().args(["--machine", "q35", "-w", "-e", "1"]), 2);
    let (_, e) = out(
        memlua().args(["-b", "sim", "--machine", "q35", "-e", "1"]),
        2,
    );
    assert!(
        e.contains("'--machine' is for the qemu backend (-b qemu)"),
        "{e}"
    );
}

#[test]
fn help_shows_every_option_with_an_example() {
    let (o, _) = out(memlua().arg("--help"), 0);
    for opt in [
        "-e",
        "-l",
        "-i",
        "-v",
        "-E",
        "-W",
        "--backend",
        "--board",
        "--mem",
        "--kmem",
        "--write",
        "--list-boards",
        "--list-tools",
        "--tool",
        "--map",
    ] {
        assert!(o.contains(opt), "{opt} missing from help:\n{o}");
    }
    assert!(o.contains("e.g. memlua"), "{o}");
}

#[test]
fn version_and_backend_selection() {
    let (o, _) = out(memlua().arg("-v"), 0);
    assert!(o.starts_with("memlua "), "{o}");
    let (o, _) = out(
        memlua().args([
            "--board",
            "arm64-virt",
            "-e",
            "print(backend.name, backend.board)",
        ]),
        0,
    );
    assert_eq!(o, "sim\tarm64-virt\n");
    let (o, _) = out(
        memlua()
            .env("MEMLUA_BOARD", "pc-nomtrr")
            .args(["-e", "print(backend.board)"]),
        0,
    );
    assert_eq!(o, "pc-nomtrr\n");
}

#[test]
fn list_tools_succeeds() {
    out(memlua().arg("--list-tools"), 0);
}

#[test]
fn the_manifest_states_the_rust_version_it_needs() {
    // Empty when Cargo.toml has no `rust-version`.
    let v = env!("CARGO_PKG_RUST_VERSION");
    let minor: u32 = v
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(v.starts_with("1.") && minor >= 88, "rust-version {v:?}");
}

#[test]
fn mem_alone_reads_the_file_not_the_simulator() {
    let d = scratch("memfile");
    let dump = d.join("dump.bin");
    std::fs::write(&dump, [0x78, 0x56, 0x34, 0x12]).unwrap();
    let (o, _) = out(
        memlua()
            .env("MEMLUA_BACKEND", "sim")
            .args(["--mem", dump.to_str().unwrap()])
            .args(["-e", "print(hex(mem.read32(0)), backend.name)"]),
        0,
    );
    assert_eq!(o, "0x12345678\tnative\n");
}

#[test]
fn an_option_of_the_other_backend_is_a_usage_error_naming_it() {
    for (args, says) in [
        (
            &["-b", "sim", "--mem", "dump.bin"][..],
            "'--mem' is for the native backend (-b native)",
        ),
        (
            &["-b", "sim", "--kmem", "k"],
            "'--kmem' is for the native backend",
        ),
        (&["-w"], "'-w/--write' is for the native backend"),
        (
            &["-b", "native", "--board", "pc"],
            "'--board' is for the simulator (-b sim)",
        ),
        (
            &["--board", "pc", "--mem", "dump.bin"],
            "choose one with -b",
        ),
    ] {
        let (o, e) = out(memlua().args(args).args(["-e", "print('ran')"]), 2);
        assert_eq!(o, "", "{args:?}");
        assert!(
            e.starts_with("memlua: ") && e.contains(says),
            "{args:?}: {e}"
        );
        assert!(e.contains("\nusage: memlua"), "{e}");
    }
    // The environment chose the simulator: the message says so.
    let (_, e) = out(
        memlua()
            .env("MEMLUA_BACKEND", "sim")
            .args(["-w", "-e", "print('ran')"]),
        2,
    );
    assert!(e.contains("MEMLUA_BACKEND=sim chose the simulator"), "{e}");
}

#[test]
fn environment_defaults_that_do_not_apply_give_way_to_options() {
    // An explicit --board outranks MEMLUA_BACKEND=native.
    let (o, _) = out(
        memlua().env("MEMLUA_BACKEND", "native").args([
            "--board",
            "arm64-virt",
            "-e",
            "print(backend.name, backend.board)",
        ]),
        0,
    );
    assert_eq!(o, "sim\tarm64-virt\n");
    // MEMLUA_BOARD is the simulator's default; the native backend ignores it.
    let d = scratch("boardenv");
    let dump = d.join("dump.bin");
    std::fs::write(&dump, [0u8; 16]).unwrap();
    let (o, _) = out(
        memlua()
            .env("MEMLUA_BOARD", "arm64-virt")
            .args(["-b", "native", "--mem", dump.to_str().unwrap()])
            .args(["-e", "print(backend.name, mem.read32(0))"]),
        0,
    );
    assert_eq!(o, "native\t0\n");
    let (_, e) = out(memlua().env("MEMLUA_BACKEND", "kvm").args(["-e", "1"]), 2);
    assert!(e.contains("in MEMLUA_BACKEND"), "{e}");
}
