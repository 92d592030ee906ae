//! Compiles the bundled tools (scripts/*.lua) into the binary, so
//! `memlua NAME args` works wherever the binary is copied.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
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
    let mut out = String::from("pub const TOOLS: &[(&str, &str)] = &[\n");
    for (name, path) in tools {
        let _ = writeln!(out, "    ({name:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("tools.rs");
    std::fs::write(dest, out).unwrap();
}
