//! The module loader: `require "memlua.NAME"` finds the Lua files of the
//! workspace's stdlib/ folder, compiled into the binary by build.rs; user
//! modules are found on `package.path`, which gets `$MEMLUA_PATH` and the
//! user's data folder in front (API.md, Modules).

use std::path::Path;

use mlua::{Function, Lua, Table};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));
}

const REGISTRY_KEY: &str = "memlua.stdlib";

/// The modules compiled into this binary, `(name without "memlua.", source)`.
pub fn embedded() -> &'static [(&'static str, &'static str)] {
    embedded::MODULES
}

/// Makes `require "memlua.<name>"` load `source`: how embedders (and the
/// tests) add a module beside the compiled-in ones.
pub fn add_module(lua: &Lua, name: &str, source: &str) -> mlua::Result<()> {
    let modules: Table = lua.named_registry_value(REGISTRY_KEY)?;
    modules.set(name, source)
}

/// The searcher (searcher.lua), compiled at build time: it runs once per
/// `require`, nothing here is hot, and parsing it at every start is not
/// worth it.
const SEARCHER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/searcher.luac"));

/// Templates `package.path` gets in front: each `$MEMLUA_PATH` entry (a
/// template with `?`, or a folder), then the user's data folder.
pub fn path_prefix(memlua_path: Option<&str>, data_dir: Option<&Path>) -> Vec<String> {
    fn folder(out: &mut Vec<String>, d: &str) {
        let d = d.trim_end_matches('/');
        out.push(format!("{d}/?.lua"));
        out.push(format!("{d}/?/init.lua"));
    }
    let mut out = Vec::new();
    for entry in memlua_path
        .unwrap_or("")
        .split(';')
        .filter(|e| !e.is_empty())
    {
        if entry.contains('?') {
            // A template is used as is.
            out.push(entry.to_string());
        } else {
            folder(&mut out, entry);
        }
    }
    if let Some(d) = data_dir {
        folder(&mut out, &d.display().to_string());
    }
    out
}

/// Installs the searcher and the module path.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    // Added modules only; the compiled-in ones become Lua strings when
    // required, not at every start.
    let added = lua.create_table()?;
    lua.set_named_registry_value(REGISTRY_KEY, &added)?;
    let find = lua.create_function(move |lua, short: String| {
        if let Some(src) = added.get::<Option<mlua::LuaString>>(short.as_str())? {
            return Ok((Some(src), None));
        }
        let Some(i) = embedded().iter().position(|(n, _)| *n == short) else {
            return Ok((None, None));
        };
        Ok((
            Some(lua.create_string(embedded::BYTECODE[i])?),
            Some(lua.create_string(embedded()[i].1)?),
        ))
    })?;

    let globals = lua.globals();
    let Ok(package) = globals.get::<Table>("package") else {
        // A state opened without the package library has no `require`.
        return Ok(());
    };
    let searchers: Table = package.get("searchers")?;
    let load: mlua::Function = globals.get("load")?;
    // The source should this Lua refuse the bytecode (a binary built for a
    // machine of another format).
    let searcher = lua
        .load(SEARCHER)
        .set_name("=memlua.stdlib")
        .into_function()
        .or_else(|_| {
            lua.load(include_str!("searcher.lua"))
                .set_name("=memlua.stdlib")
                .into_function()
        })?;
    searcher.call::<()>((find, searchers, load))?;

    // Not UTF-8 is an error: skipped, the user's modules would silently
    // not be found; converted lossily, another folder would be searched.
    let env = match std::env::var("MEMLUA_PATH") {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(v)) => {
            return Err(mlua::Error::runtime(format!(
                "MEMLUA_PATH is not UTF-8 text (it reads '{}'); set it to text or unset it",
                v.to_string_lossy()
            )))
        }
    };
    let data = directories::ProjectDirs::from("", "", "memlua");
    let prefix = path_prefix(env.as_deref(), data.as_ref().map(|d| d.data_dir()));
    if !prefix.is_empty() {
        let old: String = package.get("path")?;
        package.set("path", format!("{};{old}", prefix.join(";")))?;
    }
    Ok(())
}

/// Puts `build` into `package.preload[name]`, built on first `require`.
pub fn preload(lua: &Lua, name: &str, build: fn(&Lua) -> mlua::Result<Table>) -> mlua::Result<()> {
    let Ok(package) = lua.globals().get::<Table>("package") else {
        return Ok(());
    };
    let preload: Table = package.get("preload")?;
    let loader: Function = lua.create_function(move |lua, _: mlua::MultiValue| build(lua))?;
    preload.set(name, loader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memlua_path_entries_come_first_in_order() {
        let p = path_prefix(Some("/a;/b/?.luac;;/c/"), Some(Path::new("/data")));
        assert_eq!(
            p,
            [
                "/a/?.lua",
                "/a/?/init.lua",
                "/b/?.luac",
                "/c/?.lua",
                "/c/?/init.lua",
                "/data/?.lua",
                "/data/?/init.lua"
            ]
        );
        assert!(path_prefix(None, None).is_empty());
    }
}
