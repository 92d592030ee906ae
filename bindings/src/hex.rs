//! `hex(v [, width])`: `0x…`, unsigned, zero-padded to `width` bits
//! (docs/API.md, Numbers).

use mlua::{Function, Lua, Value};

use crate::calls::api_function;
use crate::errors::arg_error;
use crate::numbers::{int_arg, to_u64};

/// Formats `v` as hex, padded to `width` bits (rounded up to whole digits).
pub fn format(v: u64, width: Option<u32>) -> String {
    match width {
        Some(bits) => format!("0x{v:0digits$x}", digits = bits.div_ceil(4) as usize),
        None => format!("0x{v:x}"),
    }
}

pub fn function(lua: &Lua) -> mlua::Result<Function> {
    api_function(lua, |_, (v, w): (Value, Value)| {
        let v = int_arg(&v, 1, "hex", "integer")?;
        let width = match &w {
            Value::Nil => None,
            other => match to_u64(other) {
                Some(b @ 1..=64) => Some(b as u32),
                _ => {
                    return Err(arg_error(
                        2,
                        "hex",
                        format!(
                            "width in bits (1-64) expected, got {}",
                            crate::numbers::got(other)
                        ),
                    ))
                }
            },
        };
        Ok(format(v, width))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_to_width() {
        assert_eq!(super::format(0xff, None), "0xff");
        assert_eq!(super::format(0xff, Some(32)), "0x000000ff");
        assert_eq!(super::format(u64::MAX, Some(8)), "0xffffffffffffffff");
        assert_eq!(super::format(1, Some(64)), "0x0000000000000001");
    }
}
