//! Where memlua's command line must behave as lua.c (Lua 5.4's `lua`) does,
//! beyond the basics in cli.rs: warnings and -W, error objects of every
//! type, arguments that are not text, what a file may start with, options
//! that need a value, -E and LUA_PATH, running out of memory, a full
//! stdout, and `-l` alone; the cases of Lua 5.4's own test of the
//! standalone interpreter (testes/main.lua) where memlua once differed;
//! and C modules, which need Lua's C API exported from the binary. The
//! expected outputs are lua5.4's.

use std::process::Command as StdCommand;

mod support;

#[path = "support/skip.rs"]
mod skip;

use support::memlua;

fn run(args: &[&str], stdin: &str) -> (String, String, i32) {
    let o = memlua()
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("memlua runs");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// The first line of stderr.
fn first_line(e: &str) -> &str {
    e.lines().next().unwrap_or("")
}

#[test]
fn warnings_are_off_until_w_or_warn_at_on() {
    assert_eq!(run(&["-e", "warn('quiet')"], "").1, "");
    assert_eq!(
        run(&["-W", "-e", "warn('hello')"], "").1,
        "Lua warning: hello\n"
    );
    let (_, e, code) = run(
        &["-e", "warn('@on') warn('x', 'y') warn('@off') warn('gone')"],
        "",
    );
    assert_eq!((e.as_str(), code), ("Lua warning: xy\n", 0));
    // An error in a finalizer is a warning, as in lua.c.
    let (_, e, _) = run(
        &[
            "-W",
            "-e",
            "setmetatable({}, {__gc = function() error('in gc') end}) collectgarbage()",
        ],
        "",
    );
    assert!(e.starts_with("Lua warning: error in __gc"), "{e}");
}

#[test]
fn error_objects_are_reported_as_lua_c_reports_them() {
    let cases = [
        ("error(nil)", "memlua: (error object is a nil value)", true),
        ("error(42)", "memlua: 42", true),
        ("error(4.5)", "memlua: 4.5", true),
        ("error({})", "memlua: (error object is a table value)", true),
        (
            "error(setmetatable({}, {__tostring = function() return 7 end}))",
            "memlua: (error object is a table value)",
            true,
        ),
        // The object's own text and nothing else.
        (
            "error(setmetatable({}, {__tostring = function() return 'custom' end}))",
            "memlua: custom",
            false,
        ),
    ];
    for (chunk, first, traceback) in cases {
        let (_, e, code) = run(&["-e", chunk], "");
        assert_eq!((first_line(&e), code), (first, 1), "{chunk}: {e}");
        assert_eq!(e.contains("stack traceback:"), traceback, "{chunk}: {e}");
    }
    // memlua's own error values keep the script position and a traceback.
    let (_, e, _) = run(&["-e", "mem.read32(1 << 40)"], "");
    assert!(
        first_line(&e).starts_with("memlua: (command line):1: mem.read32: EFAULT: "),
        "{e}"
    );
    assert!(e.contains("stack traceback:"), "{e}");
}

#[test]
fn arguments_and_chunks_reach_lua_as_bytes() {
    use std::os::unix::ffi::OsStrExt;
    let dir = std::env::temp_dir().join(format!("memlua-bytes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A script whose name is not text either.
    let script = dir.join(std::ffi::OsStr::from_bytes(b"s\xff.lua"));
    std::fs::write(&script, "print(#arg[1], #(...), arg[1] == '\\xff')\n").unwrap();
    let o = memlua()
        .arg(&script)
        .arg(std::ffi::OsStr::from_bytes(b"\xff"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\t1\ttrue\n");
    let o = memlua()
        .arg("-e")
        .arg(std::ffi::OsStr::from_bytes(b"print(#'\xff\xfe')"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "2\n");
    let o = memlua()
        .env(
            "MEMLUA_INIT",
            std::ffi::OsStr::from_bytes(b"print(#'\xff')"),
        )
        .args(["-e", ""])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "1\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_and_stdin_may_start_with_a_bom_and_a_comment_line() {
    // On stdin too, as luaL_loadfile does; line numbers stay right.
    let (o, e, _) = run(&["-"], "#!/usr/bin/env memlua\nprint(1)\nerror('x')\n");
    assert_eq!(o, "1\n");
    assert!(first_line(&e).starts_with("memlua: stdin:3: x"), "{e}");
    let (o, _, code) = run(&[], "\u{feff}print('bom')\n");
    assert_eq!((o.as_str(), code), ("bom\n", 0));
    let (o, _, _) = run(&["-"], "\u{feff}#!shebang\nprint('both')\n");
    assert_eq!(o, "both\n");
}

#[test]
fn e_and_l_take_no_value_that_starts_with_a_dash() {
    for opt in ["-e", "-l"] {
        let (_, e, code) = run(&[opt, "-x"], "");
        assert_eq!(code, 2, "{e}");
        assert!(
            first_line(&e).contains(&format!("'{opt}' needs argument")),
            "{e}"
        );
    }
    // Attached, anything goes (`-e-x` is the chunk "-x").
    assert_eq!(run(&["-eprint(-1)"], "").0, "-1\n");
}

#[test]
fn l_alone_still_reads_standard_input() {
    // lua.c only skips the REPL / stdin for -e and -v.
    let (o, _, code) = run(&["-l", "string"], "print(1)\n");
    assert_eq!((o.as_str(), code), ("1\n", 0));
    let (o, _, _) = run(&["-e", "x = 1"], "print(1)\n");
    assert_eq!(o, "");
}

#[test]
fn big_e_hides_lua_path_and_lua_cpath_too() {
    let chunk = "print(package.path:find('/nowhere/', 1, true) ~= nil, package.cpath:find('/nowhere/', 1, true) ~= nil)";
    let with = |extra: &[&str]| {
        let o = memlua()
            .env("LUA_PATH", "/nowhere/?.lua")
            .env("LUA_CPATH", "/nowhere/?.so")
            .args(extra)
            .args(["-e", chunk])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    assert_eq!(
        with(&[]),
        "true\ttrue\n",
        "Lua's variables count, as in lua"
    );
    assert_eq!(with(&["-E"]), "false\tfalse\n");
}

#[test]
fn running_out_of_memory_is_a_lua_error_that_pcall_catches() {
    // A 600 MB address-space limit; the chunk asks for 1 GiB.
    let o = StdCommand::new("sh")
        .args(["-c", "ulimit -v 600000 && exec \"$0\" -e \"$1\""])
        .arg(env!("CARGO_BIN_EXE_memlua"))
        .arg("print(pcall(string.rep, 'x', 1 << 30)) print('after')")
        .output()
        .unwrap();
    assert_eq!(
        (String::from_utf8_lossy(&o.stdout).as_ref(), o.status.code()),
        ("false\tnot enough memory\nafter\n", Some(0)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_full_stdout_is_not_a_crash() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        skip::skip("no /dev/full");
        return;
    };
    for args in [&["-v"][..], &["--help"], &["--list-boards"], &["--map"]] {
        let status = StdCommand::new(env!("CARGO_BIN_EXE_memlua"))
            .args(args)
            .stdout(full.try_clone().unwrap())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}");
    }
}

/// A script file in a fresh temporary folder.
fn script(name: &str, code: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("memlua-lua-c-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, code).unwrap();
    path
}

#[test]
fn script_arguments_come_from_arg_as_it_stands_when_the_script_starts() {
    // testes/main.lua: "test messing up the 'arg' table".
    assert_eq!(
        run(&["-e", "arg[1] = 100", "-"], "print(...)\n"),
        ("100\n".into(), String::new(), 0)
    );
    let (o, e, code) = run(&["-e", "arg = 1", "-"], "print('ran')\n");
    assert_eq!(
        (o.as_str(), e.as_str(), code),
        ("", "memlua: 'arg' is not a table\n", 1)
    );
    // A file and a bundled tool alike; `#arg` may come from __len.
    let f = script("args", "print(select('#', ...), ...)");
    let f = f.to_str().unwrap();
    let (o, _, _) = run(
        &["-e", "arg[2] = 'two'; arg[3] = nil", f, "a", "b", "c"],
        "",
    );
    assert_eq!(o, "2\ta\ttwo\n");
    let (o, _, _) = run(
        &[
            "-e",
            "arg = setmetatable({'x'}, {__len = function() return 2 end})",
            f,
        ],
        "",
    );
    assert_eq!(o, "2\tx\tnil\n");
    let (_, e, code) = run(&["-e", "arg = nil", "-t", "devmem", "0xfe001008"], "");
    assert_eq!((e.as_str(), code), ("memlua: 'arg' is not a table\n", 1));
    // As in lua.c the script is loaded first: its syntax error wins.
    let (_, e, _) = run(&["-e", "arg = 1", "-"], "x = = 1\n");
    assert!(e.contains("unexpected symbol"), "{e}");
}

#[test]
fn the_repl_takes_equals_expr_on_a_first_line_as_return_expr() {
    // testes/main.lua: "=a" prints a.
    let (o, e, code) = run(
        &["-e", "_PROMPT='' _PROMPT2=''", "-i"],
        "a = [[b\nc\nd\ne]]\n=a\n=1 +\n2\n",
    );
    assert_eq!((e.as_str(), code), ("", 0));
    assert!(o.contains("b\nc\nd\ne\n3\n"), "{o:?}");
}

#[test]
fn the_repl_shows_prompt_and_prompt2_as_lua_c_does() {
    // testes/main.lua: a string prompt, and one with __tostring, asked
    // again at every line (the last one at the end of the input).
    let (o, _, _) = run(&["-e", "_PROMPT='alo'", "-i"], " --\na = 2\n");
    assert!(o.ends_with("aloaloalo\n"), "{o:?}");
    let counter = "local C = 0; _PROMPT = setmetatable({}, {__tostring = function() C = C + 1; return C end})";
    let (o, _, _) = run(&["-e", counter, "-i"], " --\na = 2\n");
    assert!(o.ends_with("123\n"), "{o:?}");
    // _PROMPT2 at each continuation line; set from inside the session too.
    let (o, _, _) = run(
        &["-e", "_PROMPT2 = '..'", "-i"],
        "x = {\n1,\n}\n_PROMPT = '$ '\nprint(#x)\n",
    );
    assert!(o.ends_with("....$ 1\n$ \n"), "{o:?}");
    // Without them, memlua's own behaviour: no prompts off a terminal.
    let (o, _, _) = run(&["-i"], "print(1)\n");
    assert!(o.ends_with("PUC-Rio\n1\n"), "{o:?}");
}

#[test]
fn an_object_given_a_finalizer_while_the_state_closes_is_not_finalized() {
    // testes/main.lua: "bug since 5.2: finalizer called when closing a
    // state could subvert finalization order".
    let f = script(
        "closing",
        r#"
print("creating 1")
setmetatable({}, {__gc = function () print(1) end})
print("creating 2")
setmetatable({}, {__gc = function ()
  print("2")
  print("creating 3")
  setmetatable({}, {__gc = function () print(3) end})
  print(collectgarbage())
  os.exit(0, true)
end})
"#,
    );
    let (o, e, code) = run(&["-W", f.to_str().unwrap()], "");
    assert_eq!(
        (o.as_str(), e.as_str(), code),
        ("creating 1\ncreating 2\n2\ncreating 3\nnil\n1\n", "", 0)
    );
    // Finalizers and to-be-closed variables still run at exit.
    let (o, _, _) = run(
        &[
            "-e",
            "x = setmetatable({}, {__gc = function() print('gc') end}) \
             local y <close> = setmetatable({}, {__close = function() print('close') end})",
        ],
        "",
    );
    assert_eq!(o, "close\ngc\n");
}

#[test]
fn an_error_objects_tostring_runs_at_lua_c_s_stack_depth() {
    // testes/main.lua: "test for error objects".
    let f = script(
        "errobj",
        r#"debug = require "debug"
m = {x=0}
setmetatable(m, {__tostring = function(x)
  return tostring(debug.getinfo(4).currentline + x.x)
end})
error(m)
"#,
    );
    let (_, e, code) = run(&[f.to_str().unwrap()], "");
    assert_eq!((e.as_str(), code), ("memlua: 6\n", 1));
    // An error inside __tostring is what gets reported, as in lua.c.
    let (_, e, code) = run(
        &[
            "-e",
            "error(setmetatable({}, {__tostring = function() error('in tostring') end}))",
        ],
        "",
    );
    assert_eq!(
        (first_line(&e), code),
        ("memlua: (command line):1: in tostring", 1)
    );
}

/// The dynamic symbols the binary defines, from `nm -D`; None without nm.
fn exported_symbols() -> Option<Vec<String>> {
    let o = StdCommand::new("nm")
        .args(["-D", "--defined-only", env!("CARGO_BIN_EXE_memlua")])
        .output()
        .ok()?;
    o.status.success().then(|| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(String::from))
            .collect()
    })
}

#[test]
fn the_binary_exports_lua_s_c_api_and_nothing_else() {
    if !cfg!(target_os = "linux") {
        println!("skipped: the export is checked on Linux");
        return;
    }
    let Some(symbols) = exported_symbols() else {
        println!("skipped: no nm (binutils) to read the dynamic symbol table");
        return;
    };
    for want in [
        "lua_gettop",
        "lua_pushcclosure",
        "luaL_checklstring",
        "luaL_openlibs",
        "luaopen_base",
    ] {
        assert!(symbols.iter().any(|s| s == want), "{want} not exported");
    }
    let others: Vec<_> = symbols
        .iter()
        .filter(|s| {
            !["lua_", "luaL_", "luaopen_"]
                .iter()
                .any(|p| s.starts_with(p))
        })
        .collect();
    assert!(others.is_empty(), "exported beyond Lua's API: {others:?}");
}

#[test]
fn debian_s_c_modules_load() {
    let dir = "/usr/lib/x86_64-linux-gnu/lua/5.4";
    let missing: Vec<_> = ["lpeg", "cjson"]
        .into_iter()
        .filter(|m| !std::path::Path::new(&format!("{dir}/{m}.so")).exists())
        .collect();
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) || !missing.is_empty() {
        println!(
            "skipped: Debian's lua-lpeg and lua-cjson (5.4, x86_64) are not installed: {missing:?}"
        );
        return;
    }
    let (o, e, code) = run(&["-e", "print(require'lpeg'.version)"], "");
    assert_eq!(code, 0, "{e}");
    assert!(!o.trim().is_empty() && !o.contains("nil"), "{o}");
    // lpeg's re.lua is a Lua module in /usr/share/lua/5.4; cjson a C one.
    let (o, e, code) = run(
        &[
            "-e",
            "print(require're'.match('hello world', '{[a-z]+}')) \
             print(require'cjson'.encode{addr = 0xfe001008})",
        ],
        "",
    );
    assert_eq!(
        (o.as_str(), e.as_str(), code),
        ("hello\n{\"addr\":4261416968}\n", "", 0)
    );
    // LUA_CPATH replaces the default, as in lua: then they are not found.
    let o = memlua()
        .env("LUA_CPATH", "/nowhere/?.so")
        .args(["-e", "require 'lpeg'"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}
