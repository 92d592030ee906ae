//! Reading the arguments that are more than a number (numbers.rs reads
//! those): fields of descriptor tables, memory-range flags, and the bound
//! on one bulk transfer.

use memlua_runtime::{Errno, Error as RtError, MdfFlags};
use mlua::{LuaString, Table, Value};

use crate::errors::{arg_error, Fail, Res};
use crate::numbers::{got, to_u64};

/// The most one bulk read returns: beyond it a script should walk a window.
pub const MAX_READ: u64 = 1 << 30;

/// A bulk read longer than [`MAX_READ`] is refused before anything is
/// allocated: one Lua string of gigabytes is never what a script wants.
pub fn check_bulk_len(op: &str, addr: u64, len: u64) -> Res<()> {
    if len > MAX_READ {
        return Err(Fail::Rt(
            RtError::new(
                Errno::EINVAL,
                op,
                format!(
                    "{len} bytes is more than one read returns (at most {MAX_READ} bytes, 1 GiB); \
                     map a window with mem.map(addr, len) and read it in pieces in a loop"
                ),
            )
            .span(addr, len),
        ));
    }
    Ok(())
}

/// `bad argument #1 to 'sim.device' (field 'base': address expected, got nil)`.
pub fn field_error(fname: &str, field: &str, expected: &str, v: &Value) -> Fail {
    arg_error(
        1,
        fname,
        format!("field '{field}': {expected} expected, got {}", got(v)),
    )
}

/// A required integer-like field of a descriptor table.
pub fn required(t: &Table, fname: &str, field: &str) -> Res<u64> {
    let v: Value = t.get(field)?;
    match &v {
        Value::Nil => Err(arg_error(1, fname, format!("field '{field}' is missing"))),
        _ => to_u64(&v).ok_or_else(|| field_error(fname, field, "integer", &v)),
    }
}

/// memcontrol's names, for error messages.
fn known_names() -> String {
    MdfFlags::NAMES
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bit set that fits `mr_flags` (an `int`): 0..=0xffffffff, or a
/// negative 32-bit value (FORCE is bit 31, -0x80000000 as an int).
pub fn flag_bits(n: u64) -> Option<u32> {
    u32::try_from(n)
        .ok()
        .or_else(|| i32::try_from(n as i64).ok().map(|i| i as u32))
}

/// Flags given as an integer (the bit set, at most 32 bits) or as names.
pub fn parse_flags(v: &Value) -> Result<MdfFlags, String> {
    match v {
        Value::String(s) => {
            let s = s
                .to_str()
                .map_err(|_| "flag names must be text".to_string())?;
            // A numeric string is a bit set, like any number.
            if let Some(n) = to_u64(v) {
                return flag_bits(n)
                    .map(MdfFlags::from_bits_retain)
                    .ok_or_else(|| format!("flags {n:#x} do not fit in 32 bits"));
            }
            MdfFlags::parse_names(&s)
                .map_err(|word| format!("unknown flag name '{word}' (known: {})", known_names()))
        }
        Value::Integer(_) | Value::Number(_) => match to_u64(v) {
            Some(n) => flag_bits(n)
                .map(MdfFlags::from_bits_retain)
                .ok_or_else(|| format!("flags {n:#x} do not fit in 32 bits")),
            None => Err(format!("integer or flag names expected, got {}", got(v))),
        },
        other => Err(format!(
            "integer or flag names expected, got {}",
            got(other)
        )),
    }
}

/// The `flags` field of a descriptor table (`memrange.set`, `sim.claim`).
pub fn flags_field(v: &Value, fname: &str) -> Res<MdfFlags> {
    parse_flags(v).map_err(|m| arg_error(1, fname, format!("field 'flags': {m}")))
}

/// The bytes of an owner name (`memrange.set`, `sim.claim`): the kernel
/// keeps a C string, so a NUL inside would silently cut it: EINVAL.
pub fn owner_bytes(op: &str, s: &LuaString) -> Res<Vec<u8>> {
    let bytes = s.as_bytes().to_vec();
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(Fail::Rt(RtError::new(
            Errno::EINVAL,
            op,
            format!(
                "the owner has a NUL byte at offset {at}; the kernel keeps the owner as a C string, \
                 which would end there"
            ),
        )));
    }
    Ok(bytes)
}

/// A name field that must be text (`sim.device{name=}`, `sim.claim{owner=}`):
/// other bytes are EINVAL, shown with `\xNN` escapes.
pub fn text_field(op: &str, field: &str, s: &LuaString) -> Res<String> {
    match s.to_str() {
        Ok(t) => Ok(t.to_string()),
        Err(_) => Err(Fail::Rt(RtError::new(
            Errno::EINVAL,
            op,
            format!(
                "field '{field}' must be text (UTF-8), got '{}'",
                escaped(&s.as_bytes())
            ),
        ))),
    }
}

/// Bytes as text, those that are not UTF-8 as `\xNN`.
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}
