//! Compiles the Lua modules under the workspace's stdlib/ into the binary:
//! writes `$OUT_DIR/stdlib.rs` with one `(name, source)` per `*.lua` file,
//! `stdlib/a/b.lua` becoming module `a.b` (required as `memlua.a.b`), and
//! the same modules as bytecode (memlua-luac), which is what `require`
//! loads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.is_dir() {
            collect(&path, &format!("{prefix}{stem}."), out);
        } else if path.extension().is_some_and(|e| e == "lua") {
            out.push((format!("{prefix}{stem}"), path));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let stdlib = manifest.join("..").join("stdlib");
    println!("cargo:rerun-if-changed={}", stdlib.display());
    let mut modules = Vec::new();
    collect(&stdlib, "", &mut modules);
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut code = String::from("pub static MODULES: &[(&str, &str)] = &[\n");
    let mut bytecode = String::from("pub static BYTECODE: &[&[u8]] = &[\n");
    for (name, path) in &modules {
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
        // The chunk name the searcher gives the module, so messages name
        // stdlib/NAME.lua and its lines.
        let source = fs::read_to_string(&path).expect("a module is readable UTF-8");
        let chunk = format!("@stdlib/{}.lua", name.replace('.', "/"));
        let bc = memlua_luac::compile(&source, &chunk)
            .unwrap_or_else(|e| panic!("stdlib module {name} does not compile: {e}"));
        let bc_path = out_dir.join(format!("{name}.luac"));
        fs::write(&bc_path, bc).expect("OUT_DIR is writable");
        writeln!(
            bytecode,
            "    include_bytes!({:?}),",
            bc_path.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    bytecode.push_str("];\n");
    code.push_str(&bytecode);
    fs::write(out_dir.join("stdlib.rs"), code).expect("OUT_DIR is writable");

    let searcher = manifest.join("src").join("searcher.lua");
    println!("cargo:rerun-if-changed={}", searcher.display());
    let source = fs::read_to_string(&searcher).expect("searcher.lua is readable");
    let bc = memlua_luac::compile(&source, "=memlua.stdlib").expect("searcher.lua compiles");
    fs::write(out_dir.join("searcher.luac"), bc).expect("OUT_DIR is writable");

    let scoped = manifest.join("src").join("scoped.lua");
    println!("cargo:rerun-if-changed={}", scoped.display());
    let source = fs::read_to_string(&scoped).expect("scoped.lua is readable");
    let bc = memlua_luac::compile(&source, "=memrange.scoped").expect("scoped.lua compiles");
    fs::write(out_dir.join("scoped.luac"), bc).expect("OUT_DIR is writable");
}
