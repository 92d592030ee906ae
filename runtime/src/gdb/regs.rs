//! Register names from a stub's target description (`qXfer:features:read`,
//! GDB's XML with `<reg name= bitsize= regnum=>` elements spread over
//! `xi:include`d files), and the `g` packet's registers by name.
//!
//! Only what `gdb.registers()` needs: the registers of at most 64 bits
//! that are not floating-point or vector registers, in register-number
//! order. This is no XML parser: tags and their attributes are read, text
//! and everything else is passed over.

/// One register of the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegDesc {
    pub name: String,
    pub bits: u32,
    pub num: u32,
    /// An integer register `gdb.registers()` returns (not float or vector).
    pub general: bool,
}

/// Nesting deeper than this is a loop of includes.
const MAX_DEPTH: u32 = 8;

/// The registers of the description whose root document is `target.xml`;
/// `fetch(annex)` gets one document.
pub fn describe(
    fetch: &mut dyn FnMut(&str) -> crate::Result<Vec<u8>>,
) -> crate::Result<Vec<RegDesc>> {
    let mut regs = Vec::new();
    let mut next_num = 0;
    walk("target.xml", fetch, &mut regs, &mut next_num, 0)?;
    regs.sort_by_key(|r| r.num);
    Ok(regs)
}

fn walk(
    annex: &str,
    fetch: &mut dyn FnMut(&str) -> crate::Result<Vec<u8>>,
    regs: &mut Vec<RegDesc>,
    next_num: &mut u32,
    depth: u32,
) -> crate::Result<()> {
    if depth > MAX_DEPTH {
        return Err(crate::Error::new(
            crate::Errno::EIO,
            "",
            format!("the target description includes itself ('{annex}')"),
        ));
    }
    let doc = fetch(annex)?;
    let doc = String::from_utf8_lossy(&doc);
    for (tag, attrs) in tags(&doc) {
        match tag {
            "xi:include" => {
                if let Some(href) = attr(attrs, "href") {
                    walk(href, fetch, regs, next_num, depth + 1)?;
                }
            }
            "reg" => {
                let (Some(name), Some(bits)) = (
                    attr(attrs, "name"),
                    attr(attrs, "bitsize").and_then(|b| b.parse().ok()),
                ) else {
                    continue;
                };
                let num = attr(attrs, "regnum")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(*next_num);
                *next_num = num + 1;
                let ty = attr(attrs, "type").unwrap_or("int");
                let group = attr(attrs, "group").unwrap_or("");
                let floating = ty.starts_with("ieee")
                    || ty.starts_with("i387")
                    || ty.starts_with("vec")
                    || matches!(group, "float" | "vector");
                regs.push(RegDesc {
                    name: name.to_string(),
                    bits,
                    num,
                    general: bits <= 64 && !floating,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every element's name and attribute text, in document order; comments,
/// processing instructions and declarations are passed over.
fn tags(doc: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(end) = rest.find('>') else { break };
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        if inner.starts_with(['?', '!', '/']) {
            continue;
        }
        let inner = inner.trim_end_matches('/');
        let (name, attrs) = inner
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((inner, ""));
        out.push((name, attrs));
    }
    out
}

/// The value of attribute `name` in `attrs` (`name="v"` or `name='v'`).
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value_end = after[1..].find(quote)?;
        let value = &after[1..1 + value_end];
        if key == name {
            return Some(value);
        }
        rest = &after[value_end + 2..];
    }
}

/// The general registers in a `g` reply (`raw`: the reply decoded from
/// hex, `None` for bytes the stub sent as `xx`, unavailable), by name,
/// little-endian. Registers past the end of the reply are not in it.
pub fn values(regs: &[RegDesc], raw: &[Option<u8>]) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut off = 0usize;
    // The g packet holds registers 0, 1, 2, ... back to back: a gap in
    // the numbering ends what it can hold.
    for (expect, r) in (0..).zip(regs) {
        if r.num != expect {
            break;
        }
        let len = (r.bits as usize).div_ceil(8);
        let Some(bytes) = raw.get(off..off + len) else {
            break;
        };
        off += len;
        if !r.general {
            continue;
        }
        let mut v = 0u64;
        let mut available = true;
        for (i, b) in bytes.iter().enumerate() {
            match b {
                Some(b) => v |= u64::from(*b) << (8 * i),
                None => available = false,
            }
        }
        if available {
            out.push((r.name.clone(), v));
        }
    }
    out
}

/// A `g` reply: hex, two digits a byte, `xx` for an unavailable byte.
pub fn decode_g(reply: &[u8]) -> Option<Vec<Option<u8>>> {
    if !reply.len().is_multiple_of(2) {
        return None;
    }
    reply
        .chunks_exact(2)
        .map(|p| match p {
            b"xx" => Some(None),
            _ => Some(Some(
                super::packet::hex_digit(p[0])? << 4 | super::packet::hex_digit(p[1])?,
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's aarch64 description (recorded, shortened to the first
    /// registers of each file).
    fn qemu_aarch64(annex: &str) -> crate::Result<Vec<u8>> {
        Ok(match annex {
            "target.xml" => br#"<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target><architecture>aarch64</architecture><xi:include href="aarch64-core.xml"/><xi:include href="aarch64-fpu.xml"/></target>"#.to_vec(),
            "aarch64-core.xml" => br#"<?xml version="1.0"?>
<!-- Copyright (C) 2009-2012 Free Software Foundation, Inc. <reg name="fake" bitsize="8"/> -->
<!DOCTYPE feature SYSTEM "gdb-target.dtd">
<feature name="org.gnu.gdb.aarch64.core">
  <reg name="x0" bitsize="64"/>
  <reg name="x1" bitsize="64"/>
  <reg name="sp" bitsize="64" type="data_ptr"/>
  <reg name="pc" bitsize="64" type="code_ptr"/>
  <reg name="cpsr" bitsize="32" type="cpsr_flags"/>
</feature>"#.to_vec(),
            "aarch64-fpu.xml" => br#"<feature name="org.gnu.gdb.aarch64.fpu">
  <reg name="v0" bitsize="128" type="aarch64v"/>
  <reg name="fpsr" bitsize="32" group='float'/>
</feature>"#.to_vec(),
            other => panic!("{other}"),
        })
    }

    #[test]
    fn registers_come_from_the_includes_in_order() {
        let regs = describe(&mut qemu_aarch64).unwrap();
        let names: Vec<_> = regs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["x0", "x1", "sp", "pc", "cpsr", "v0", "fpsr"]);
        assert_eq!(regs[4].num, 4);
        assert_eq!(regs[4].bits, 32);
        assert!(regs[3].general && !regs[5].general && !regs[6].general);
    }

    #[test]
    fn regnum_moves_the_count_on() {
        let mut fetch = |_: &str| -> crate::Result<Vec<u8>> {
            Ok(br#"<target><reg name="a" bitsize="32" regnum="2"/><reg name='b' bitsize='16'/></target>"#.to_vec())
        };
        let regs = describe(&mut fetch).unwrap();
        assert_eq!((regs[0].num, regs[1].num), (2, 3));
    }

    #[test]
    fn an_include_loop_is_an_error() {
        let mut fetch = |_: &str| -> crate::Result<Vec<u8>> {
            Ok(br#"<target><xi:include href="target.xml"/></target>"#.to_vec())
        };
        let e = describe(&mut fetch).unwrap_err();
        assert!(e.message.contains("includes itself"), "{e}");
    }

    #[test]
    fn g_packet_values_by_name() {
        let regs = describe(&mut qemu_aarch64).unwrap();
        // x0 = 1, x1 unavailable, sp = 0x4000_0000, pc = 0x1000, cpsr = 0x3c5.
        let g = b"0100000000000000xxxxxxxxxxxxxxxx00000040000000000010000000000000c5030000";
        let raw = decode_g(g).unwrap();
        let v = values(&regs, &raw);
        assert_eq!(
            v,
            [
                ("x0".to_string(), 1),
                ("sp".to_string(), 0x4000_0000),
                ("pc".to_string(), 0x1000),
                ("cpsr".to_string(), 0x3c5)
            ]
        );
        assert_eq!(decode_g(b"0"), None);
        assert_eq!(decode_g(b"zz"), None);
    }
}
