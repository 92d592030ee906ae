//! Compiles the bundled tools (scripts/*.lua) into the binary, so
//! `memlua NAME args` works wherever the binary is copied: each tool's
//! source (for --list-tools) and its bytecode (what runs), made by
//! memlua-luac so a tool starts without parsing. Also compiles
//! src/docall.lua, the message-handler wrapper every call runs under, and
//! the built-in boards: checked here and compiled in as Rust, so starting
//! the default machine parses no TOML. And exports Lua's C API from the
//! binary, as lua.c does, so `require` can load C modules.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = std::env::var("OUT_DIR").expect("set by cargo");
    let out_dir = Path::new(&out_dir);

    let dir = root.join("scripts");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut tools: Vec<(String, String)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let path = e.path();
            println!("cargo:rerun-if-changed={}", path.display());
            if path.extension().is_some_and(|x| x == "lua") {
                let name = path.file_stem().unwrap().to_string_lossy().into_owned();
                tools.push((name, path.display().to_string()));
            }
        }
    }
    tools.sort();
    let mut out = String::from("pub const TOOLS: &[(&str, &str, &[u8])] = &[\n");
    for (name, path) in tools {
        let source = std::fs::read_to_string(&path).expect("a tool is readable UTF-8");
        // Named as the tool is run (`memlua devmem`): messages say devmem:LINE.
        let bytecode = memlua_luac::compile(&source, &format!("@{name}"))
            .unwrap_or_else(|e| panic!("scripts/{name}.lua does not compile: {e}"));
        let bc_path = out_dir.join(format!("{name}.luac"));
        std::fs::write(&bc_path, bytecode).expect("OUT_DIR is writable");
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({path:?}), include_bytes!({:?})),",
            bc_path.display().to_string()
        );
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("tools.rs"), out).expect("OUT_DIR is writable");

    boards(root, out_dir);

    let docall = root.join("src/docall.lua");
    println!("cargo:rerun-if-changed={}", docall.display());
    let source = std::fs::read_to_string(&docall).expect("src/docall.lua is readable");
    let bc = memlua_luac::compile(&source, "=docall").expect("src/docall.lua compiles");
    std::fs::write(out_dir.join("docall.luac"), bc).expect("OUT_DIR is writable");

    export_lua_api(out_dir);
    static_unwinder_and_lazy_libm(root);
}

/// Rust's std unwinds panics with libgcc_s, and Lua and std take a few
/// functions from libm: two more shared libraries for the dynamic loader
/// to map at every start (about 0.09 ms each: issue 11 in
/// benches/RESULTS.md). gcc's static copy of the same unwinder, linked
/// ahead of libgcc_s, leaves it unneeded (`--as-needed`), as gcc's
/// -static-libgcc does for C++ programs; and every call to one of those
/// math functions goes to src/libm.rs (`--wrap`), which loads libm on the
/// first call.
fn static_unwinder_and_lazy_libm(root: &Path) {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" || env != "gnu" {
        return;
    }
    println!("cargo:rustc-link-lib=static=gcc_eh");
    let libm = root.join("src/libm.rs");
    println!("cargo:rerun-if-changed={}", libm.display());
    let text = std::fs::read_to_string(&libm).expect("src/libm.rs is readable");
    let list = text
        .split_once("from_libm! {")
        .and_then(|(_, rest)| rest.split_once('}'))
        .expect("src/libm.rs has its from_libm! list")
        .0;
    for line in list.lines() {
        if let Some((name, _)) = line.trim().split_once('(') {
            println!("cargo:rustc-link-arg-bins=-Wl,--wrap={name}");
        }
    }
}

/// A C module (lpeg.so, cjson.so, anything from LuaRocks) calls Lua's C
/// API from the program that loads it: lua.c links with -Wl,-E for that.
/// memlua puts only that API in its dynamic symbol table (lua_*, luaL_*,
/// luaopen_*), not every symbol, so the dynamic loader has little more
/// to do at start-up. The list also keeps those functions from being
/// dropped by --gc-sections though memlua itself calls only some.
fn export_lua_api(out_dir: &Path) {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // ELF targets with GNU ld or lld; others load no C modules this way.
    if !matches!(
        os.as_str(),
        "linux" | "freebsd" | "netbsd" | "openbsd" | "dragonfly"
    ) {
        return;
    }
    let list = out_dir.join("lua-api.dynlist");
    std::fs::write(&list, "{\n  lua_*;\n  luaL_*;\n  luaopen_*;\n};\n")
        .expect("OUT_DIR is writable");
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}",
        list.display()
    );
}

/// `builtin_board(name)`: each built-in board, checked by the same
/// `Board::parse` the runtime uses, as the expression that rebuilds it.
fn boards(root: &Path, out_dir: &Path) {
    use memlua_runtime::sim::board::{Board, BUILTIN};
    println!(
        "cargo:rerun-if-changed={}",
        root.join("runtime/boards").display()
    );
    let mut out = String::from(
        "/// A built-in board, already checked; None for any other name.\n\
         pub fn builtin_board(name: &str) -> Option<memlua_runtime::sim::board::Board> {\n    match name {\n",
    );
    for (name, _) in BUILTIN {
        let board = Board::load(name).unwrap_or_else(|e| panic!("built-in board {name}: {e}"));
        let _ = writeln!(out, "        {name:?} => Some({}),", board.to_rust());
    }
    out.push_str("        _ => None,\n    }\n}\n");
    std::fs::write(out_dir.join("boards.rs"), out).expect("OUT_DIR is writable");
}
