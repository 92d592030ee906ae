//! The module loader: `require "memlua.NAME"` finds the Lua files of the
//! workspace's stdlib/ folder, compiled into the binary by build.rs; user
//! modules are found on `package.path`, which gets `$MEMLUA_PATH` and the
//! user's data folder in front (docs/API.md, Modules). Lua's own defaults
//! for `package.path` and `package.cpath` are Debian's lua5.4's, so the Lua
//! modules and C modules Debian packages (lua-lpeg, lua-cjson) are found.

use std::path::Path;

use mlua::{Function, Lua, Table, Value};

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

/// Debian's multiarch folder name for this machine, where its lua5.4 C
/// modules live (/usr/lib/x86_64-linux-gnu/lua/5.4).
#[cfg(target_os = "linux")]
fn multiarch() -> Option<&'static str> {
    Some(match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "x86" => "i386-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "riscv64" => "riscv64-linux-gnu",
        "powerpc64" if cfg!(target_endian = "little") => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        "mips64" => "mips64el-linux-gnuabi64",
        "loongarch64" => "loongarch64-linux-gnu",
        _ => return None,
    })
}

/// `package.path` and `package.cpath` when no environment variable sets
/// them: Debian's lua5.4 defaults on Linux (its folders under /usr
/// added to the /usr/local ones), Lua's own elsewhere.
pub fn default_paths() -> (String, String) {
    const LOCAL_LUA: &str = "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;\
                             /usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua";
    const HERE_LUA: &str = "./?.lua;./?/init.lua";
    #[cfg(target_os = "linux")]
    {
        let arch = multiarch()
            .map(|a| format!("/usr/lib/{a}/lua/5.4/?.so;"))
            .unwrap_or_default();
        (
            format!(
                "{LOCAL_LUA};/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;{HERE_LUA}"
            ),
            format!(
                "/usr/local/lib/lua/5.4/?.so;{arch}/usr/lib/lua/5.4/?.so;\
                 /usr/local/lib/lua/5.4/loadall.so;./?.so"
            ),
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        (
            format!("{LOCAL_LUA};{HERE_LUA}"),
            "/usr/local/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so".to_string(),
        )
    }
}

/// A module path as lua.c's package library makes it (setpath): `NAME_5_4`
/// or `NAME` from the environment, its first `;;` replaced by the
/// default; the default when neither is set. Bytes, as the environment
/// holds them.
pub fn lua_path(versioned: Option<&[u8]>, plain: Option<&[u8]>, default: &str) -> Vec<u8> {
    let Some(path) = versioned.or(plain) else {
        return default.as_bytes().to_vec();
    };
    let Some(at) = path.windows(2).position(|w| w == b";;") else {
        return path.to_vec();
    };
    let (before, after) = (&path[..at], &path[at + 2..]);
    let mut out = Vec::new();
    if !before.is_empty() {
        out.extend_from_slice(before);
        out.push(b';');
    }
    out.extend_from_slice(default.as_bytes());
    if !after.is_empty() {
        out.push(b';');
        out.extend_from_slice(after);
    }
    out
}

/// An environment variable's bytes.
fn env_bytes(name: &str) -> Option<Vec<u8>> {
    let v = std::env::var_os(name)?;
    #[cfg(unix)]
    return Some(std::os::unix::ffi::OsStringExt::into_vec(v));
    #[cfg(not(unix))]
    return Some(v.to_string_lossy().into_owned().into_bytes());
}

/// Installs the searcher and the module path.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    // Added modules only; the compiled-in ones stay in the binary until
    // required.
    let added = lua.create_table()?;
    lua.set_named_registry_value(REGISTRY_KEY, &added)?;
    // find(short) -> the module's chunk and where it is from
    // ("stdlib/NAME.lua"), false and the load error, or nil when there
    // is no such module. The compiled-in bytecode is loaded straight from
    // the binary: copied into a Lua string first it cost a `require` as
    // many bytes again, which started the collector in a short run.
    let find = lua.create_function(move |lua, short: String| {
        let chunkname = format!("@stdlib/{}.lua", short.replace('.', "/"));
        let loaded = if let Some(src) = added.get::<Option<mlua::LuaString>>(short.as_str())? {
            lua.load(src.as_bytes().to_vec())
                .set_name(&chunkname)
                .into_function()
        } else if let Some(i) = embedded().iter().position(|(n, _)| *n == short) {
            // The source should this Lua refuse the bytecode (a binary
            // built for a machine of another format).
            lua.load(embedded::BYTECODE[i])
                .set_name(&chunkname)
                .into_function()
                .or_else(|_| {
                    lua.load(embedded()[i].1)
                        .set_name(&chunkname)
                        .into_function()
                })
        } else {
            return Ok((Value::Nil, Value::Nil));
        };
        Ok(match loaded {
            Ok(f) => (
                Value::Function(f),
                Value::String(lua.create_string(&chunkname[1..])?),
            ),
            Err(e) => (
                Value::Boolean(false),
                Value::String(lua.create_string(load_message(&e))?),
            ),
        })
    })?;

    let globals = lua.globals();
    let Ok(package) = globals.get::<Table>("package") else {
        // A state opened without the package library has no `require`.
        return Ok(());
    };
    let searchers: Table = package.get("searchers")?;
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
    searcher.call::<()>((find, searchers))?;

    // Lua's package library has set both paths with its built-in
    // defaults; made again with Debian's, from the same variables.
    let (path, cpath) = default_paths();
    let path = lua_path(
        env_bytes("LUA_PATH_5_4").as_deref(),
        env_bytes("LUA_PATH").as_deref(),
        &path,
    );
    let cpath = lua_path(
        env_bytes("LUA_CPATH_5_4").as_deref(),
        env_bytes("LUA_CPATH").as_deref(),
        &cpath,
    );
    package.set("cpath", lua.create_string(cpath)?)?;

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
    let mut full = Vec::new();
    for p in prefix {
        full.extend_from_slice(p.as_bytes());
        full.push(b';');
    }
    full.extend_from_slice(&path);
    package.set("path", lua.create_string(full)?)
}

/// A load error's text: a syntax error is Lua's own message.
fn load_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
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

    #[test]
    fn lua_paths_are_made_as_lua_c_makes_them() {
        let d = "D";
        let made = |v: Option<&str>, plain: Option<&str>| {
            String::from_utf8(lua_path(v.map(str::as_bytes), plain.map(str::as_bytes), d)).unwrap()
        };
        assert_eq!(made(None, None), "D");
        assert_eq!(made(None, Some("x")), "x");
        assert_eq!(made(Some("y"), Some("x")), "y");
        // As testes/main.lua's convert(): only the first ';;' is the default.
        for (p, want) in [
            (";", ";"),
            (";;", "D"),
            ("a;;b", "a;D;b"),
            (";;b", "D;b"),
            ("a;;", "a;D"),
            ("a;b;;c", "a;b;D;c"),
            ("a;;b;;", "a;D;b;;"),
        ] {
            assert_eq!(made(None, Some(p)), want, "{p}");
        }
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn defaults_are_debians() {
        let (path, cpath) = default_paths();
        assert_eq!(
            path,
            "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;\
             /usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua;\
             /usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;./?.lua;./?/init.lua"
        );
        assert_eq!(
            cpath,
            "/usr/local/lib/lua/5.4/?.so;/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;\
             /usr/lib/lua/5.4/?.so;/usr/local/lib/lua/5.4/loadall.so;./?.so"
        );
    }
}
