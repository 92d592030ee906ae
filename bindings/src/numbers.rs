//! Reading Lua arguments as memlua numbers (docs/API.md, Numbers).
//!
//! Addresses, values and offsets are u64 bit patterns: a negative Lua
//! integer is a high address. Integral floats and numeric strings are
//! accepted as Lua itself converts them (a string by Lua's own
//! conversion); anything else is an argument error that shows what was
//! passed (`got 1.5`, `got string 'abc'`, `got nil`).
//!
//! Argument numbers follow `luaL_argerror` for calls made as Lua users write
//! them: `mem.read32(x)` counts from the first argument; a method call
//! `w:read32(x)` does not count the object, so a bad offset is argument #1
//! and a wrong object is "calling 'read32' on bad self". The arguments come
//! in as typed tuples of [`Value`] (no allocation per call), so an absent
//! argument reads as nil: we say `got nil` where lua.c would say
//! `got no value`.

use mlua::Value;

use crate::errors::{arg_error, type_name, Res};

/// The u64 bit pattern of an integer-like value, if it is one.
pub fn to_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => Some(*i as u64),
        Value::Number(f) => float_to_u64(*f),
        Value::String(s) => str_to_u64(s),
        _ => None,
    }
}

/// An integral float in [-2^63, 2^64) as a bit pattern.
fn float_to_u64(f: f64) -> Option<u64> {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() != 0.0 || !f.is_finite() {
        return None;
    }
    if (-TWO63..TWO63).contains(&f) {
        Some(f as i64 as u64)
    } else if (TWO63..2.0 * TWO63).contains(&f) {
        Some(f as u64)
    } else {
        None
    }
}

/// A numeric string converted by Lua itself, as `tonumber(s)` and the fast
/// paths' `lua_tointegerx` convert it (C-locale blanks only, hexadecimal
/// floats such as "0x1p12", no embedded NUL), then judged as that number
/// would be: an integer as is, a float when integral. One conversion for
/// every path, so no spelling works on one and not another.
fn str_to_u64(s: &mlua::LuaString) -> Option<u64> {
    let lua = s.weak_lua().try_upgrade()?;
    let v = Value::String(s.clone());
    if let Ok(Some(i)) = lua.coerce_integer(v.clone()) {
        return Some(i as u64);
    }
    // Integral but beyond i64 ("1e19"): the float's bit pattern.
    lua.coerce_number(v).ok().flatten().and_then(float_to_u64)
}

/// How an argument that is not integer-like is shown after "got".
pub fn got(v: &Value) -> String {
    match v {
        Value::Number(f) => lua_float(*f),
        Value::String(s) => {
            let s = s.to_string_lossy();
            if s.len() > 40 {
                let cut = (0..=40).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                format!("string '{}...'", &s[..cut])
            } else {
                format!("string '{s}'")
            }
        }
        other => type_name(other),
    }
}

/// A float as Lua's `%.14g` prints it (`1.5`, `1e+300`, `inf`, `nan`).
pub fn lua_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        let s = format!("{f:.13e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    format!("{f}")
}

/// An integer-like argument (`what` is "address", "value", "offset" ...).
#[inline]
pub fn int_arg(v: &Value, pos: usize, fname: &str, what: &str) -> Res<u64> {
    if let Value::Integer(i) = v {
        return Ok(*i as u64);
    }
    to_u64(v).ok_or_else(|| arg_error(pos, fname, format!("{what} expected, got {}", got(v))))
}

/// An address argument.
#[inline]
pub fn addr_arg(v: &Value, pos: usize, fname: &str) -> Res<u64> {
    int_arg(v, pos, fname, "address")
}

/// A value to write: any bit pattern; whether it fits the width is the
/// runtime's check (EINVAL, the same on every path).
#[inline]
pub fn value_arg(v: &Value, pos: usize, fname: &str) -> Res<u64> {
    int_arg(v, pos, fname, "value")
}

/// An offset into a window or buffer; a negative one is simply past the end.
#[inline]
pub fn offset_arg(v: &Value, pos: usize, fname: &str) -> Res<u64> {
    int_arg(v, pos, fname, "offset")
}

/// A length: integer-like and not negative (an argument error otherwise).
pub fn len_arg(v: &Value, pos: usize, fname: &str) -> Res<u64> {
    let n = int_arg(v, pos, fname, "length")?;
    if (n as i64) < 0 {
        return Err(arg_error(
            pos,
            fname,
            format!("length must not be negative, got {}", n as i64),
        ));
    }
    Ok(n)
}

/// An optional length-like count (nil = absent).
pub fn opt_len_arg(v: &Value, pos: usize, fname: &str) -> Res<Option<u64>> {
    match v {
        Value::Nil => Ok(None),
        v => len_arg(v, pos, fname).map(Some),
    }
}

/// A string argument's bytes.
pub fn bytes_arg(v: &Value, pos: usize, fname: &str) -> Res<mlua::LuaString> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(arg_error(
            pos,
            fname,
            format!("string expected, got {}", type_name(other)),
        )),
    }
}

/// A table argument.
pub fn table_arg(v: &Value, pos: usize, fname: &str) -> Res<mlua::Table> {
    match v {
        Value::Table(t) => Ok(t.clone()),
        other => Err(arg_error(
            pos,
            fname,
            format!("table expected, got {}", type_name(other)),
        )),
    }
}

/// A u64 as a Lua integer (the bit pattern).
#[inline]
pub fn lua_int(v: u64) -> Value {
    Value::Integer(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_convert_as_lua_does() {
        let lua = mlua::Lua::new();
        let conv = |text: &[u8]| to_u64(&Value::String(lua.create_string(text).unwrap()));
        assert_eq!(conv(b"0x1000"), Some(0x1000));
        assert_eq!(conv(b" 4096 "), Some(4096));
        assert_eq!(conv(b"\t4096\n"), Some(4096));
        assert_eq!(conv(b"0xffffffff80000000"), Some(0xffff_ffff_8000_0000));
        assert_eq!(conv(b"-1"), Some(u64::MAX));
        assert_eq!(conv(b"4096.0"), Some(4096));
        assert_eq!(conv(b"1e3"), Some(1000));
        assert_eq!(conv(b"0x1p12"), Some(4096), "a hexadecimal float");
        assert_eq!(conv(b"1e19"), Some(10_000_000_000_000_000_000));
        // Not numbers to Lua.
        assert_eq!(conv("\u{a0}4096".as_bytes()), None, "NBSP is no C blank");
        assert_eq!(conv(b"4096\0"), None);
        assert_eq!(conv(b"inf"), None);
        assert_eq!(conv(b"nan"), None);
        assert_eq!(conv(b"1.5"), None);
        assert_eq!(conv(b"abc"), None);
        assert_eq!(conv(b"0x"), None);
        assert_eq!(conv(b""), None);
        assert_eq!(conv(b"\xff"), None);
        // 2^64 as a float fits no u64.
        assert_eq!(conv(b"18446744073709551616"), None);
    }

    #[test]
    fn floats_print_like_lua() {
        assert_eq!(lua_float(1.5), "1.5");
        assert_eq!(lua_float(1e300), "1e+300");
        assert_eq!(lua_float(-2.5e-7), "-2.5e-07");
        assert_eq!(lua_float(f64::NAN), "nan");
        assert_eq!(lua_float(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn floats_must_be_integral() {
        assert_eq!(float_to_u64(4096.0), Some(4096));
        assert_eq!(float_to_u64(-1.0), Some(u64::MAX));
        assert_eq!(float_to_u64(1.5), None);
        assert_eq!(float_to_u64(f64::NAN), None);
        assert_eq!(float_to_u64(f64::INFINITY), None);
        assert_eq!(float_to_u64(1e30), None);
    }
}
