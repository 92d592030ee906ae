//! Compiles the Lua modules under the workspace's stdlib/ into the binary:
//! writes `$OUT_DIR/stdlib.rs` with one `(name, source)` per `*.lua` file,
//! `stdlib/a/b.lua` becoming module `a.b` (required as `memlua.a.b`).

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
    let mut code = String::from("pub static MODULES: &[(&str, &str)] = &[\n");
    for (name, path) in &modules {
        println!("cargo:rerun-if-changed={}", path.display());
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("stdlib.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}
