//! luac for memlua's build scripts: the Lua shipped inside the binary (the
//! stdlib and the bundled tools) is compiled to bytecode at build time, so
//! starting a tool does not parse it again (parsing was a third of a tool's
//! start-up). Debug information is kept: error messages and tracebacks
//! name the same files and lines as the source would.

/// Compiles `source` as chunk `chunkname` (e.g. `@stdlib/bits.lua`). A
/// first line starting with `#` is blanked, as `luaL_loadfile` skips it.
pub fn compile(source: &str, chunkname: &str) -> Result<Vec<u8>, String> {
    let source = skip_shebang(source);
    let lua = mlua::Lua::new();
    let f = lua
        .load(source.as_ref())
        .set_name(chunkname)
        .into_function()
        .map_err(|e| format!("{chunkname}: {e}"))?;
    Ok(f.dump(false))
}

/// The source with a `#` first line emptied (its newline kept, so line
/// numbers stay right).
pub fn skip_shebang(source: &str) -> std::borrow::Cow<'_, str> {
    if source.starts_with('#') {
        let end = source.find('\n').unwrap_or(source.len());
        std::borrow::Cow::Owned(source[end..].to_string())
    } else {
        std::borrow::Cow::Borrowed(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_to_lua_bytecode_keeping_lines() {
        let bc = compile(
            "#!/usr/bin/env memlua\nlocal x = 1\nerror('two')\n",
            "@t.lua",
        )
        .unwrap();
        assert_eq!(&bc[..4], b"\x1bLua");
        let lua = mlua::Lua::new();
        let err = lua.load(&bc[..]).exec().unwrap_err().to_string();
        assert!(err.contains("t.lua:3: two"), "{err}");
    }

    #[test]
    fn syntax_errors_name_the_chunk() {
        assert!(compile("x = = 1", "@bad.lua")
            .unwrap_err()
            .contains("bad.lua:1:"));
    }
}
