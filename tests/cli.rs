//! The memlua command line on the real binary: lua.c's conventions, exit
//! statuses (0 ok, 1 script error, 2 usage), stderr formats and `arg`;
//! the help of memlua and of each tool, the man page and the completions.

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
        "--man",
        "--completions",
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

/// memlua's options as --help lists them: `-b`, `--backend`, ...
fn memlua_options() -> Vec<String> {
    let (help, _) = out(memlua().arg("--help"), 0);
    help.lines()
        .skip_while(|l| *l != "Options:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // Option lines; not `--` and `-`, which end the options.
        .filter(|l| l.starts_with("  -") && !l.starts_with("  -- ") && !l.starts_with("  - "))
        .flat_map(|l| {
            l.split_whitespace()
                .take_while(|w| w.starts_with('-'))
                .map(|w| w.trim_end_matches(',').to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A tool's --help, and the options it describes: each entry's flag and
/// the example under it.
fn tool_help(tool: &str) -> (String, Vec<(String, String)>) {
    let (help, _) = out(memlua().args([tool, "--help"]), 0);
    let lines: Vec<&str> = help.lines().collect();
    let mut entries = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        // An option entry starts with its flag, indented by 2 (a tool's
        // option) or 6 (a command's); wrapped text is indented further.
        if [2, 6].contains(&(l.len() - t.len())) && t.starts_with('-') {
            let flag = t.split_whitespace().next().unwrap().to_string();
            let example = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| l.starts_with("e.g. "))
                .unwrap_or("")
                .to_string();
            entries.push((flag, example));
        }
    }
    (help, entries)
}

fn tools() -> Vec<String> {
    let (list, _) = out(memlua().arg("--list-tools"), 0);
    list.lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn each_tool_s_help_describes_every_flag_with_an_example() {
    for tool in tools() {
        let (help, entries) = tool_help(&tool);
        let usage = help
            .lines()
            .find(|l| l.starts_with("usage: memlua "))
            .unwrap_or_else(|| panic!("{tool}: no usage line:\n{help}"));
        // Every flag of the usage line has an entry with an example.
        for word in usage.split(|c: char| c.is_whitespace() || "[]|".contains(c)) {
            if word.starts_with('-') && word.len() > 1 {
                assert!(
                    entries.iter().any(|(f, _)| f == word),
                    "{tool}: {word} of the usage line is not described:\n{help}"
                );
            }
        }
        assert!(!entries.is_empty(), "{tool}: no options described:\n{help}");
        for (flag, example) in &entries {
            assert!(
                example.starts_with(&format!("e.g. memlua {tool} ")),
                "{tool} {flag}: no example:\n{help}"
            );
        }
    }
    // memcontrol: each command's options too, and FreeBSD's own texts stay.
    let (help, entries) = tool_help("memcontrol");
    for cmd in [
        "list [-a] [-o OWNER]",
        "set -b BASE -l LENGTH",
        "clear -o OWNER",
        "help [COMMAND]",
    ] {
        assert!(help.contains(cmd), "{cmd}:\n{help}");
    }
    assert!(entries.iter().filter(|(f, _)| f == "-o").count() >= 3);
    let (_, e) = out(memlua().args(["memcontrol", "help", "list"]), 0);
    assert!(
        e.starts_with("List current memory range attributes\n"),
        "{e}"
    );
}

#[test]
fn every_example_in_the_tools_help_runs_on_the_simulator() {
    let d = scratch("examples");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples"),
        d.join("examples"),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_memlua")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for tool in tools() {
        for (flag, example) in tool_help(&tool).1 {
            let cmd = example.trim_start_matches("e.g. ");
            // Through sh, as a person would paste it (v2p's uses $$).
            let o = std::process::Command::new("sh")
                .args(["-c", cmd])
                .current_dir(&d)
                .env("PATH", &path)
                .env_remove("MEMLUA_BACKEND")
                .env_remove("MEMLUA_BOARD")
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{tool} {flag}: `{cmd}` failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// `-x` as roff writes it in the man page: `\fB\-x\fR`.
fn roff_flag(flag: &str) -> String {
    format!("\\fB{}\\fR", flag.replace('-', "\\-"))
}

#[test]
fn the_man_page_has_every_option_and_every_tool_s_flags() {
    let (man, _) = out(memlua().arg("--man"), 0);
    assert!(man.contains(".TH MEMLUA 1 "), "{man}");
    for section in [
        "NAME",
        "SYNOPSIS",
        "OPTIONS",
        "TOOLS",
        "ENVIRONMENT",
        "EXIT STATUS",
    ] {
        assert!(man.contains(&format!(".SH {section}\n")), "{section}");
    }
    let options = memlua_options();
    assert!(options.len() > 20, "{options:?}");
    for opt in &options {
        assert!(
            man.contains(&roff_flag(opt)),
            "{opt} missing from the man page"
        );
    }
    for var in [
        "MEMLUA_INIT",
        "MEMLUA_PATH",
        "MEMLUA_BACKEND",
        "MEMLUA_BOARD",
    ] {
        assert!(man.contains(&format!(".B {var}\n")), "{var}");
    }
    for tool in tools() {
        let at = man
            .find(&format!(".SS \"memlua {tool}\""))
            .unwrap_or_else(|| panic!("{tool} has no section"));
        let section = &man[at..];
        for (flag, example) in tool_help(&tool).1 {
            assert!(section.contains(&roff_flag(&flag)), "{tool} {flag}");
            let example = example.trim_start_matches("e.g. ").replace('-', "\\-");
            assert!(section.contains(&example), "{tool} {flag}: {example}");
        }
    }
    // Where groff is installed: it reads the page without a warning.
    match std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        Err(_) => println!("skipped: no groff to render the man page with"),
        Ok(mut groff) => {
            use std::io::Write;
            groff
                .stdin
                .take()
                .unwrap()
                .write_all(man.as_bytes())
                .unwrap();
            let o = groff.wait_with_output().unwrap();
            assert!(
                o.status.success() && o.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

#[test]
fn completions_have_every_option_tool_and_tool_flag() {
    let options = memlua_options();
    let tools = tools();
    for shell in ["bash", "zsh", "fish"] {
        let (script, _) = out(memlua().args(["--completions", shell]), 0);
        for opt in &options {
            // fish names options without their dashes: -s b, -l backend.
            let spelled = match (shell, opt.strip_prefix("--")) {
                ("fish", Some(long)) => format!("-l {long} "),
                ("fish", None) => format!("-s {} ", &opt[1..]),
                _ => opt.clone(),
            };
            assert!(script.contains(&spelled), "{shell}: {opt} missing");
        }
        for tool in &tools {
            assert!(
                script.contains(tool.as_str()),
                "{shell}: tool {tool} missing"
            );
            for (flag, _) in tool_help(tool).1 {
                let spelled = match (shell, flag.strip_prefix("--")) {
                    ("fish", Some(long)) => format!("-l {long} "),
                    ("fish", None) => format!("-s {} ", &flag[1..]),
                    ("zsh", _) => format!("'{flag}"),
                    _ => flag.clone(),
                };
                assert!(script.contains(&spelled), "{shell}: {tool} {flag} missing");
            }
        }
        // Where the shell is installed, it parses the script.
        let check = std::process::Command::new(shell)
            .arg("-n")
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        match check {
            Err(_) => println!("skipped: no {shell} to check its completions' syntax"),
            Ok(mut sh) => {
                use std::io::Write;
                sh.stdin
                    .take()
                    .unwrap()
                    .write_all(script.as_bytes())
                    .unwrap();
                let o = sh.wait_with_output().unwrap();
                assert!(
                    o.status.success(),
                    "{shell}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
    let (_, e) = out(memlua().args(["--completions", "tcsh"]), 2);
    assert!(e.contains("expected bash, zsh or fish"), "{e}");
}

#[test]
fn bash_completes_options_values_tools_and_their_flags() {
    let (script, _) = out(memlua().args(["--completions", "bash"]), 0);
    let d = scratch("bashcomp");
    let file = write(&d, "memlua.bash", &script);
    // What bash offers after each command line (the last word completed).
    let cases: &[(&[&str], &str)] = &[
        (&["memlua", "--b"], "--backend --board"),
        (&["memlua", "-b", ""], "sim native qemu gdb"),
        (&["memlua", "--board", "=", "arm"], "arm64-virt"),
        (&["memlua", "--completions", ""], "bash zsh fish"),
        (&["memlua", "-t", "me"], "memcontrol memtest"),
        (&["memlua", "-e", "x=1", "dump", "-"], "-k -g -x -o --json"),
        (&["memlua", "-t", "v2p", "-"], "-p --json"),
        (
            &["memlua", "memcontrol", "--json", ""],
            "list set clear help",
        ),
        (&["memlua", "memcontrol", "set", "-"], "-b -l -o"),
        (&["memlua", "script.lua", "-"], ""),
    ];
    for (words, want) in cases {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{file}'; COMP_WORDS=({}); COMP_CWORD={}; _memlua; echo \"${{COMPREPLY[*]}}\"",
            quoted.join(" "),
            words.len() - 1
        );
        let o = std::process::Command::new("bash")
            .args(["--norc", "-c", &program])
            .current_dir(&d)
            .output();
        let Ok(o) = o else {
            println!("skipped: no bash");
            return;
        };
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim_end(),
            *want,
            "{words:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[cfg(unix)]
#[test]
fn paths_that_are_not_utf8_open_their_own_files() {
    use std::os::unix::ffi::OsStrExt;
    let d = scratch("bytes");
    let named = |b: &[u8]| d.join(std::ffi::OsStr::from_bytes(b));
    let mem = named(b"x\xff.bin");
    std::fs::write(&mem, [0u8; 16]).unwrap();
    // With -w the write lands in that file, not in a lossy 'x\u{FFFD}.bin'.
    out(
        memlua()
            .args(["-w", "--mem"])
            .arg(&mem)
            .args(["-e", "mem.write32(0, 0x11223344)"]),
        0,
    );
    assert_eq!(std::fs::read(&mem).unwrap()[..4], [0x44, 0x33, 0x22, 0x11]);
    assert!(!named("x\u{FFFD}.bin".as_bytes()).exists());
    let mut attached = b"--mem=".to_vec();
    attached.extend_from_slice(mem.as_os_str().as_bytes());
    let (o, _) = out(
        memlua()
            .arg(std::ffi::OsStr::from_bytes(&attached))
            .args(["-e", "print(hex(mem.read32(0)))"]),
        0,
    );
    assert_eq!(o, "0x11223344\n");
    let (o, _) = out(
        memlua()
            .arg("--kmem")
            .arg(&mem)
            .args(["-e", "print(hex(kmem.read32(0)))"]),
        0,
    );
    assert_eq!(o, "0x11223344\n");
    let board = named(b"b\xfe.toml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/runtime/boards/arm64-virt.toml"
        ),
        &board,
    )
    .unwrap();
    let (o, _) = out(
        memlua()
            .arg("--board")
            .arg(&board)
            .args(["-e", "print(backend.board)"]),
        0,
    );
    assert_eq!(o, "arm64-virt\n");
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(unix)]
#[test]
fn environment_values_that_are_not_utf8_are_usage_errors() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"sim\xff");
    for var in ["MEMLUA_BACKEND", "MEMLUA_BOARD", "MEMLUA_PATH"] {
        for backend in ["sim", "native"] {
            let (_, e) = out(
                memlua()
                    .env(var, bad)
                    .args(["-b", backend, "-e", "print(1)"]),
                2,
            );
            assert!(e.contains(&format!("{var} is not UTF-8")), "{e}");
        }
        // -E hides the environment, this too.
        let (o, _) = out(memlua().env(var, bad).args(["-E", "-e", "print(1)"]), 0);
        assert_eq!(o, "1\n");
    }
}
