//! The bundled tools: Lua scripts from scripts/, compiled in by build.rs
//! (source and bytecode) and run as `memlua NAME args`.

include!(concat!(env!("OUT_DIR"), "/tools.rs"));

/// A tool by name (`devmem` or `devmem.lua`): its source and bytecode.
pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    let name = name.strip_suffix(".lua").unwrap_or(name);
    TOOLS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, source, bytecode)| (*source, *bytecode))
}

/// The one-line description: the first comment line, `-- NAME: what`.
pub fn summary(code: &str) -> &str {
    code.lines()
        .find_map(|l| l.strip_prefix("--"))
        .map(|l| l.trim())
        .map(|l| l.split_once(": ").map_or(l, |(_, what)| what))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_the_first_comment() {
        assert_eq!(
            summary("#!/usr/bin/env memlua\n-- devmem: read and write\nx()"),
            "read and write"
        );
        assert_eq!(summary("print(1)"), "");
    }
}
