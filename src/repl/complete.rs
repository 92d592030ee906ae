//! Tab completion from the live Lua state, so a user's own names complete
//! as well as the API's: globals, table fields (`mem.rea`), methods
//! (`w:wr`, found through the userdata's metatable), the stdlib's modules
//! (`require "memlua.`), the REPL's `:` commands and `:help` names. The
//! state is only read, raw: no metamethod of the user's runs.

use mlua::{Function, Lua};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::help;

/// `(path, methods)` -> the names in the table (or the `__index` chain)
/// that `path` leads to from the globals. `path` is an array of names;
/// `methods` keeps functions only. Upvalue 1 of a C `__index` is where
/// the bindings keep a userdata's methods.
const NAMES: &str = r#"
local G, next, type, rawget, getmetatable, getupvalue, pcall, getinfo = ...
local function index_table(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local idx = rawget(mt, "__index")
  if type(idx) == "table" then return idx end
  -- Only a C __index: a Lua function's first upvalue may be anything.
  if type(idx) == "function" and getinfo(idx, "S").what == "C" then
    local ok, _, up = pcall(getupvalue, idx, 1)
    if ok and type(up) == "table" then return up end
  end
end
local function field(v, k)
  for _ = 1, 8 do
    if type(v) == "table" then
      local x = rawget(v, k)
      if x ~= nil then return x end
    end
    v = index_table(v)
    if v == nil then return nil end
  end
end
return function(path, methods)
  local v = G
  for i = 1, #path do
    v = field(v, path[i])
    if v == nil then return {} end
  end
  local out, seen, budget = {}, {}, 20000
  for _ = 1, 8 do
    if type(v) == "table" then
      for k, x in next, v do
        budget = budget - 1
        if budget < 0 then return out end
        if type(k) == "string" and not seen[k] and k:match("^[%a_][%w_]*$")
           and (not methods or type(x) == "function") then
          seen[k] = true
          out[#out + 1] = k
        end
      end
    end
    v = index_table(v)
    if v == nil then break end
  end
  return out
end
"#;

const KEYWORDS: &[&str] = &[
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
    "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
];

pub struct LuaHelper {
    names: Function,
    lua: Lua,
}

impl LuaHelper {
    pub fn new(lua: &Lua) -> mlua::Result<LuaHelper> {
        let g = lua.globals();
        let debug: mlua::Table = g.get("debug")?;
        let names = lua.load(NAMES).set_name("=complete").call((
            g.clone(),
            g.get::<Function>("next")?,
            g.get::<Function>("type")?,
            g.get::<Function>("rawget")?,
            debug.get::<Function>("getmetatable")?,
            debug.get::<Function>("getupvalue")?,
            g.get::<Function>("pcall")?,
            debug.get::<Function>("getinfo")?,
        ))?;
        Ok(LuaHelper {
            names,
            lua: lua.clone(),
        })
    }

    /// Names under `path` (from the globals), functions only if `methods`.
    fn names(&self, path: &[&str], methods: bool) -> Vec<String> {
        let Ok(path_t) = self.lua.create_sequence_from(path.iter().copied()) else {
            return Vec::new();
        };
        self.names
            .call::<Vec<String>>((path_t, methods))
            .unwrap_or_default()
    }

    /// The completions of `line` up to `pos`: where the replaced word
    /// starts, and the candidates, sorted.
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let before = &line[..pos];
        if let Some(rest) = before.strip_prefix(':') {
            return command(rest);
        }
        if let Some(found) = module(before) {
            return found;
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        // `mem.re` -> path ["mem"], partial "re"; `w:wr` -> methods of w.
        let cut = word.rfind(['.', ':']);
        let (path, partial, methods) = match cut {
            Some(i) => {
                let path: Vec<&str> = word[..i].split(['.', ':']).collect();
                if path.iter().any(|p| p.is_empty()) {
                    return (pos, Vec::new());
                }
                (path, &word[i + 1..], word.as_bytes()[i] == b':')
            }
            None => (Vec::new(), word, false),
        };
        let mut names: Vec<String> = self
            .names(&path, methods)
            .into_iter()
            .filter(|n| n.starts_with(partial))
            .collect();
        if path.is_empty() {
            names.extend(
                KEYWORDS
                    .iter()
                    .filter(|k| k.starts_with(partial))
                    .map(|k| k.to_string()),
            );
        }
        names.sort();
        names.dedup();
        let at = start + cut.map_or(0, |i| i + 1);
        (at, names)
    }
}

/// `:he` -> `:help`; `:help mem.r` -> the help table's names.
fn command(rest: &str) -> (usize, Vec<String>) {
    const COMMANDS: &[&str] = &["board", "help", "hex", "quit"];
    match rest.split_once(' ') {
        None => (
            1,
            COMMANDS
                .iter()
                .filter(|c| c.starts_with(rest))
                .map(|c| c.to_string())
                .collect(),
        ),
        Some(("help", arg)) => {
            let arg = arg.trim_start();
            let at = 1 + rest.len() - arg.len();
            (
                at,
                help::ENTRIES
                    .iter()
                    .map(|e| e.name)
                    .filter(|n| n.starts_with(arg) && !n.starts_with(':'))
                    .map(String::from)
                    .collect(),
            )
        }
        Some(("hex", arg)) => {
            let arg = arg.trim_start();
            let at = 1 + rest.len() - arg.len();
            let opts = ["off", "on"].iter().filter(|o| o.starts_with(arg));
            (at, opts.map(|o| o.to_string()).collect())
        }
        _ => (0, Vec::new()),
    }
}

/// `require "memlua.he` / `require('memlua.` -> the compiled-in modules.
fn module(before: &str) -> Option<(usize, Vec<String>)> {
    let quote = before.rfind(['"', '\''])?;
    let head = before[..quote].trim_end();
    let head = head.strip_suffix('(').unwrap_or(head).trim_end();
    if !head.ends_with("require") {
        return None;
    }
    let typed = &before[quote + 1..];
    let mut names: Vec<String> = memlua_bindings::stdlib::embedded()
        .iter()
        .map(|(n, _)| format!("memlua.{n}"))
        .filter(|n| n.starts_with(typed))
        .collect();
    names.sort();
    Some((quote + 1, names))
}

impl Completer for LuaHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (at, names) = self.candidates(line, pos);
        Ok((
            at,
            names
                .into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

impl Hinter for LuaHelper {
    type Hint = String;
}
impl Highlighter for LuaHelper {}
impl Validator for LuaHelper {}
impl Helper for LuaHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(setup: &str) -> LuaHelper {
        let lua = memlua_bindings::new_state().unwrap();
        lua.load(setup).exec().unwrap();
        LuaHelper::new(&lua).unwrap()
    }

    #[test]
    fn globals_fields_and_methods() {
        let h = helper(
            "mem = {read8 = print, read32 = print, write8 = print}
             local methods = {write8 = print, read8 = print}
             w = setmetatable({}, {__index = methods})
             my_value = 1",
        );
        assert_eq!(
            h.candidates("mem.rea", 7),
            (4, vec!["read32".into(), "read8".into()])
        );
        assert_eq!(h.candidates("x = w:wr", 8), (6, vec!["write8".into()]));
        let (at, g) = h.candidates("my_v", 4);
        assert_eq!((at, g), (0, vec!["my_value".to_string()]));
        assert!(h.candidates("whi", 3).1.contains(&"while".to_string()));
        assert!(h.candidates("nothere.x", 9).1.is_empty());
        assert!(h.candidates("a..b", 4).1.is_empty());
    }

    #[test]
    fn commands_and_help_names() {
        assert_eq!(command("he"), (1, vec!["help".into(), "hex".into()]));
        let (at, names) = command("help mem.read3");
        assert_eq!(at, 6);
        assert_eq!(names, vec!["mem.read32".to_string()]);
    }

    #[test]
    fn modules() {
        let (at, names) = module("local h = require \"memlua.").unwrap();
        assert_eq!(at, 19);
        assert!(names.iter().all(|n| n.starts_with("memlua.")));
        assert!(module("print(\"memlua.").is_none());
    }
}
