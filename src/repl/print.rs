//! How the REPL shows a value: integers in hex and decimal
//! (`0xfe000000  -- 4261412864`), tables nested and readable (array part
//! first, then keys sorted, bounded in depth and length, cycles named),
//! memlua's error values with errno and message, everything else as
//! `tostring` says. Tables are walked raw, so no metamethod of the user's
//! runs except `__tostring`, and that one through a protected call.

use std::collections::HashSet;

use mlua::{Function, Lua, Table, Value};

/// Nested tables deeper than this print as `{...}`.
const MAX_DEPTH: usize = 4;
/// Entries shown per table; the rest are counted.
const MAX_ITEMS: usize = 40;
/// A string inside a table is cut after this many bytes.
const MAX_STRING: usize = 120;
/// A table fits on one line up to this width.
const LINE: usize = 72;
/// Keys collected from one table before giving up on the rest.
const MAX_KEYS: usize = 100_000;

pub struct Printer<'a> {
    pub lua: &'a Lua,
    /// Lua's own `tostring`, taken when the session began.
    pub tostring: &'a Function,
    pub hex: bool,
}

/// A rendered value: its text and, for an integer shown in hex inside a
/// multi-line table, the decimal comment to put at the end of its line.
struct Shown {
    text: String,
    comment: Option<String>,
}

impl Printer<'_> {
    /// One result value of an expression, as the REPL prints it.
    pub fn top(&self, v: &Value) -> String {
        match v {
            Value::Integer(n) => match self.hex_of(*n) {
                Some(h) => format!("{h}  -- {n}"),
                None => n.to_string(),
            },
            Value::String(s) => {
                let b = s.as_bytes();
                if b.iter().all(|&c| c >= b' ' || c == b'\n' || c == b'\t') && b.len() < 4096 {
                    String::from_utf8_lossy(&b).into_owned()
                } else {
                    quote(&b, 4096)
                }
            }
            _ => self.value(v, 0, &mut HashSet::new(), 0).text,
        }
    }

    /// `0x…` when hex printing is on and it says more than the decimal.
    fn hex_of(&self, n: i64) -> Option<String> {
        (self.hex && !(0..=9).contains(&n)).then(|| format!("{:#x}", n as u64))
    }

    fn tostring(&self, v: &Value) -> String {
        match self.tostring.call::<Value>(v.clone()) {
            Ok(Value::String(s)) => s.to_string_lossy(),
            Ok(other) => format!("<tostring gave a {}>", other.type_name()),
            Err(e) => format!("<tostring failed: {}>", first_line(&e.to_string())),
        }
    }

    fn value(&self, v: &Value, depth: usize, seen: &mut HashSet<usize>, indent: usize) -> Shown {
        let plain = |text: String| Shown {
            text,
            comment: None,
        };
        match v {
            Value::Nil => plain("nil".into()),
            Value::Boolean(b) => plain(b.to_string()),
            Value::Integer(n) => match self.hex_of(*n) {
                Some(h) => Shown {
                    text: h,
                    comment: Some(n.to_string()),
                },
                None => plain(n.to_string()),
            },
            Value::String(s) => plain(quote(&s.as_bytes(), MAX_STRING)),
            Value::Table(t) => {
                if memlua_bindings::is_error_value(self.lua, v) {
                    return plain(self.error_value(t));
                }
                let has_tostring = t
                    .metatable()
                    .and_then(|m| m.raw_get::<Option<Value>>("__tostring").ok().flatten())
                    .is_some();
                if has_tostring {
                    return plain(self.tostring(v));
                }
                plain(self.table(t, depth, seen, indent))
            }
            other => plain(self.tostring(other)),
        }
    }

    /// `error EFAULT: mem.read32: EFAULT: above ... (addr=0x...)`.
    fn error_value(&self, t: &Table) -> String {
        let errno: String = t.raw_get("errno").unwrap_or_default();
        format!("error {errno}: {}", self.tostring(&Value::Table(t.clone())))
    }

    fn table(&self, t: &Table, depth: usize, seen: &mut HashSet<usize>, indent: usize) -> String {
        let id = t.to_pointer() as usize;
        if seen.contains(&id) {
            return "<cycle>".into();
        }
        let (array, mut keyed, total) = entries(t);
        if array.is_empty() && keyed.is_empty() {
            return "{}".into();
        }
        if depth >= MAX_DEPTH {
            return format!("{{...}} -- {total} entries");
        }
        seen.insert(id);
        keyed.sort_by(key_order);
        let mut items: Vec<(Option<String>, Shown)> = Vec::new();
        for v in array.iter().take(MAX_ITEMS) {
            items.push((None, self.value(v, depth + 1, seen, indent + 2)));
        }
        for (k, v) in keyed.iter().take(MAX_ITEMS.saturating_sub(items.len())) {
            let key = match k {
                Value::String(s) if is_identifier(&s.as_bytes()) => s.to_string_lossy(),
                Value::Integer(n) => format!("[{n}]"),
                other => format!("[{}]", self.value(other, MAX_DEPTH, seen, 0).text),
            };
            items.push((Some(key), self.value(v, depth + 1, seen, indent + 2)));
        }
        seen.remove(&id);
        let more = total - items.len();
        let entry = |(k, s): &(Option<String>, Shown)| match k {
            Some(k) => format!("{k} = {}", s.text),
            None => s.text.clone(),
        };
        let one_line = format!(
            "{{ {}{} }}",
            items.iter().map(entry).collect::<Vec<_>>().join(", "),
            if more > 0 {
                format!(", ... ({more} more)")
            } else {
                String::new()
            }
        );
        if indent + one_line.len() <= LINE && !one_line.contains('\n') {
            return one_line;
        }
        let pad = " ".repeat(indent + 2);
        let mut out = String::from("{\n");
        for item in &items {
            out.push_str(&pad);
            out.push_str(&entry(item));
            out.push(',');
            if let Some(c) = &item.1.comment {
                out.push_str("  -- ");
                out.push_str(c);
            }
            out.push('\n');
        }
        if more > 0 {
            out.push_str(&format!("{pad}... ({more} more)\n"));
        }
        out.push_str(&" ".repeat(indent));
        out.push('}');
        out
    }
}

/// The array part (1..n without holes), the other entries, and how many
/// entries there are in all. Raw: no `__index` or `__pairs` runs.
fn entries(t: &Table) -> (Vec<Value>, Vec<(Value, Value)>, usize) {
    let mut array = Vec::new();
    let mut i = 1i64;
    while let Ok(v) = t.raw_get::<Value>(i) {
        if v.is_nil() || array.len() >= MAX_KEYS {
            break;
        }
        array.push(v);
        i += 1;
    }
    let n = array.len() as i64;
    let mut keyed = Vec::new();
    let mut total = array.len();
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, v)) = pair else { break };
        if matches!(k, Value::Integer(i) if i >= 1 && i <= n) {
            continue;
        }
        total += 1;
        if keyed.len() < MAX_KEYS {
            keyed.push((k, v));
        }
    }
    (array, keyed, total)
}

/// Numbers first (by value), then strings (by bytes), then the rest.
fn key_order(a: &(Value, Value), b: &(Value, Value)) -> std::cmp::Ordering {
    fn rank(v: &Value) -> (u8, f64, Vec<u8>) {
        match v {
            Value::Integer(n) => (0, *n as f64, vec![]),
            Value::Number(n) => (0, *n, vec![]),
            Value::String(s) => (1, 0.0, s.as_bytes().to_vec()),
            Value::Boolean(b) => (2, *b as u8 as f64, vec![]),
            other => (3, 0.0, other.type_name().as_bytes().to_vec()),
        }
    }
    let (ra, rb) = (rank(&a.0), rank(&b.0));
    ra.0.cmp(&rb.0)
        .then(ra.1.partial_cmp(&rb.1).unwrap_or(std::cmp::Ordering::Equal))
        .then(ra.2.cmp(&rb.2))
}

fn is_identifier(s: &[u8]) -> bool {
    const KEYWORDS: &[&str] = &[
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
        "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ];
    !s.is_empty()
        && !s[0].is_ascii_digit()
        && s.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !KEYWORDS.iter().any(|k| k.as_bytes() == s)
}

/// A string as Lua source would write it, cut after `max` bytes.
fn quote(s: &[u8], max: usize) -> String {
    let mut out = String::from("\"");
    for (i, &c) in s.iter().enumerate() {
        if i == max {
            out.push_str(&format!("\"... ({} bytes)", s.len()));
            return out;
        }
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(code: &str, hex: bool) -> String {
        let lua = Lua::new();
        let tostring: Function = lua.globals().get("tostring").unwrap();
        let v: Value = lua.load(code).eval().unwrap();
        Printer {
            lua: &lua,
            tostring: &tostring,
            hex,
        }
        .top(&v)
    }

    #[test]
    fn integers_in_hex_and_decimal() {
        assert_eq!(show("0xfe000000", true), "0xfe000000  -- 4261412864");
        assert_eq!(show("0xfe000000", false), "4261412864");
        assert_eq!(show("-1", true), "0xffffffffffffffff  -- -1");
        assert_eq!(show("7", true), "7");
        assert_eq!(show("1.5", true), "1.5");
    }

    #[test]
    fn tables_sorted_nested_and_bounded() {
        assert_eq!(
            show("{3, 2, b = 'x', a = true}", true),
            "{ 3, 2, a = true, b = \"x\" }"
        );
        assert_eq!(show("{}", true), "{}");
        let t = show("local t = {}; t.self = t; return t", true);
        assert_eq!(t, "{ self = <cycle> }");
        let deep = show("return {{{{{{1}}}}}}", true);
        assert!(deep.contains("{...}"), "{deep}");
        let long = show(
            "local t = {} for i = 1, 100 do t[i] = i end return t",
            false,
        );
        assert!(long.contains("... (60 more)"), "{long}");
        let multi = show(
            "return {base = 0xfe000000, name = 'uart0', size = 0x1000, kind = 'device', domain = 0}",
            true,
        );
        assert!(
            multi.starts_with("{\n  base = 0xfe000000,  -- 4261412864\n"),
            "{multi}"
        );
        assert!(multi.ends_with("\n}"), "{multi}");
    }

    #[test]
    fn strings_quoted_inside_tables_raw_on_top() {
        assert_eq!(show("'a\\nb'", true), "a\nb");
        assert_eq!(show("'\\0\\1'", true), "\"\\x00\\x01\"");
        assert_eq!(show("{'a\"'}", true), "{ \"a\\\"\" }");
    }
}
