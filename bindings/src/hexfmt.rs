//! `require "memlua.hexfmt"`: hex dump text in the layouts of `hexdump -C`
//! and `xxd -g N`, made in Rust so that a dump runs as fast as those tools
//! do. The one formatter the hexdump module and the dump tool share.
//!
//! `hexfmt.new{group=, width=, style=, squeeze=, addr=}` -> formatter with
//! `f:feed(bytes)` (the text of every line completed so far) and
//! `f:finish()` (the rest: a short last line, and hexdump's end address);
//! `hexfmt.hex(bytes)` -> the bytes as lower-case hex digits.
//!
//! Options as the hexdump module documents them: `group` 1/2/4/8 bytes
//! a column (style "C" shows little-endian words, "xxd" the bytes in
//! memory order), `width` bytes a line (a multiple of group, at most 256),
//! `style` "C" or "xxd", `squeeze` (`*` for repeated full lines; default
//! on for "C"), `addr` the address of the first byte.

use mlua::{Lua, Table, UserData, UserDataMethods, Value};

/// "xx" for each byte value.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let digits = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [digits[i >> 4], digits[i & 15]];
        i += 1;
    }
    t
};

/// The text column's character for each byte: itself when printable
/// ASCII, else '.', as hexdump and xxd show them.
const PRINTABLE: [u8; 256] = {
    let mut t = [b'.'; 256];
    let mut i = 32;
    while i < 127 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `hexdump -C`: two spaces after the address, an extra space at the
    /// middle of the line, `|text|`, and the end address on a last line.
    C,
    /// `xxd -g N`: `address: `, columns one space apart, two before the text.
    Xxd,
}

/// How lines are laid out.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    group: usize,
    width: usize,
    style: Style,
    squeeze: bool,
}

impl Layout {
    /// A layout, or the option that is wrong and why.
    pub fn new(
        group: usize,
        width: usize,
        style: Style,
        squeeze: bool,
    ) -> Result<Layout, (&'static str, String)> {
        if !matches!(group, 1 | 2 | 4 | 8) {
            return Err(("group", format!("1, 2, 4 or 8 expected, got {group}")));
        }
        if width < group || !width.is_multiple_of(group) || width > 256 {
            return Err((
                "width",
                format!("a multiple of group ({group}) up to 256 expected, got {width}"),
            ));
        }
        Ok(Layout {
            group,
            width,
            style,
            squeeze,
        })
    }
}

/// A dump made as the bytes come: lines are written as they complete, so
/// memory stays flat whatever the length.
pub struct Formatter {
    layout: Layout,
    base: u64,
    pos: u64,
    /// The last line's bytes, for squeezing; `None` before the first line.
    prev: Option<Vec<u8>>,
    starred: bool,
    pending: Vec<u8>,
}

fn push_addr(out: &mut Vec<u8>, a: u64) {
    // "%08x": at least 8 digits, as many as the address needs.
    let digits = (16 - a.leading_zeros() as usize / 4).max(8);
    for k in (0..digits).rev() {
        out.push(b"0123456789abcdef"[((a >> (4 * k)) & 15) as usize]);
    }
}

impl Formatter {
    /// A formatter whose first byte is shown at address `base`.
    pub fn new(layout: Layout, base: u64) -> Formatter {
        Formatter {
            layout,
            base,
            pos: 0,
            prev: None,
            starred: false,
            pending: Vec::with_capacity(layout.width),
        }
    }

    /// Appends to `out` the text of every line `data` completes.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        let w = self.layout.width;
        out.reserve(data.len() / w * self.line_len() + 64);
        if !self.pending.is_empty() {
            let take = (w - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < w {
                return;
            }
            let line = std::mem::take(&mut self.pending);
            self.line(&line, out);
            self.pending = line;
            self.pending.clear();
        }
        let whole = data.len() - data.len() % w;
        for chunk in data[..whole].chunks_exact(w) {
            self.line(chunk, out);
        }
        self.pending.extend_from_slice(&data[whole..]);
    }

    /// Appends the rest: a short last line, and for style C the address
    /// after the last byte (nothing at all for an empty dump).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line, out);
        }
        if self.layout.style == Style::C && self.pos > 0 {
            push_addr(out, self.base.wrapping_add(self.pos));
            out.push(b'\n');
        }
    }

    /// About how long a full line is, to reserve room.
    fn line_len(&self) -> usize {
        let w = self.layout.width;
        let cols = w / self.layout.group;
        16 + 2 + 2 * w + cols + 4 + w + 1
    }

    fn line(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let full = chunk.len() == self.layout.width;
        if self.layout.squeeze && full && self.prev.as_deref() == Some(chunk) {
            if !self.starred {
                out.extend_from_slice(b"*\n");
            }
            self.starred = true;
        } else {
            self.starred = false;
            push_addr(out, self.base.wrapping_add(self.pos));
            match self.layout.style {
                Style::C => self.line_c(chunk, out),
                Style::Xxd => self.line_xxd(chunk, out),
            }
        }
        match &mut self.prev {
            Some(p) => {
                p.clear();
                p.extend_from_slice(chunk);
            }
            None => self.prev = Some(chunk.to_vec()),
        }
        self.pos = self.pos.wrapping_add(chunk.len() as u64);
    }

    // A line is laid out in room filled with spaces (one resize), and
    // only the digits and characters are written: separators and the
    // padding of a short line are already there.
    fn line_c(&self, chunk: &[u8], out: &mut Vec<u8>) {
        let g = self.layout.group;
        let per = self.layout.width / g;
        let half = per / 2;
        let hex_len = per * 2 * g + (per - 1) + usize::from(per >= 2);
        let start = out.len();
        out.resize(start + 2 + hex_len + 3 + chunk.len() + 2, b' ');
        let line = &mut out[start..];
        let mut p = 2;
        for j in 0..per {
            if j > 0 {
                // One space between columns, two at the middle.
                p += 1 + usize::from(j == half);
            }
            match chunk.get(j * g..(j + 1) * g) {
                // A little-endian word: its bytes from the highest down.
                Some(word) => {
                    for &b in word.iter().rev() {
                        line[p..p + 2].copy_from_slice(&HEX_PAIRS[b as usize]);
                        p += 2;
                    }
                }
                // Past the end of a short line, or a partial word.
                None => p += 2 * g,
            }
        }
        p += 2;
        line[p] = b'|';
        p += 1;
        for (d, &b) in line[p..p + chunk.len()].iter_mut().zip(chunk) {
            *d = PRINTABLE[b as usize];
        }
        p += chunk.len();
        line[p] = b'|';
        line[p + 1] = b'\n';
    }

    fn line_xxd(&self, chunk: &[u8], out: &mut Vec<u8>) {
        let g = self.layout.group;
        let per = self.layout.width / g;
        let hex_len = per * 2 * g + (per - 1);
        let start = out.len();
        out.resize(start + 2 + hex_len + 2 + chunk.len() + 1, b' ');
        let line = &mut out[start..];
        line[0] = b':';
        // The bytes in memory order, `g` to a column; a partial group is
        // padded to its width, so the text column stays where xxd puts it.
        for (i, &b) in chunk.iter().enumerate() {
            let p = 2 + (i / g) * (2 * g + 1) + 2 * (i % g);
            line[p..p + 2].copy_from_slice(&HEX_PAIRS[b as usize]);
        }
        let p = 2 + hex_len + 2;
        for (d, &b) in line[p..p + chunk.len()].iter_mut().zip(chunk) {
            *d = PRINTABLE[b as usize];
        }
        line[p + chunk.len()] = b'\n';
    }
}

/// The bytes as lower-case hex digits, two a byte.
pub fn hex(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * bytes.len());
    for &b in bytes {
        out.extend_from_slice(&HEX_PAIRS[b as usize]);
    }
    out
}

/// A formatter for Lua, with the buffer its text is made in kept between
/// calls.
struct LuaFormatter {
    f: Formatter,
    buf: Vec<u8>,
}

impl UserData for LuaFormatter {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method_mut("feed", |lua, this, s: mlua::LuaString| {
            this.buf.clear();
            this.f.feed(&s.as_bytes(), &mut this.buf);
            lua.create_string(&this.buf)
        });
        m.add_method_mut("finish", |lua, this, ()| {
            this.buf.clear();
            this.f.finish(&mut this.buf);
            lua.create_string(&this.buf)
        });
    }
}

fn bad_option(name: &str, what: &str) -> mlua::Error {
    mlua::Error::runtime(format!("bad option '{name}' to 'hexfmt.new' ({what})"))
}

/// An optional integer option: its value, or `default` when absent.
fn int_opt(o: &Table, name: &str, default: i64) -> mlua::Result<i64> {
    match o.get::<Value>(name)? {
        Value::Nil => Ok(default),
        Value::Integer(i) => Ok(i),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => Ok(n as i64),
        other => Err(bad_option(
            name,
            &format!("integer expected, got {}", other.type_name()),
        )),
    }
}

fn new_formatter(lua: &Lua, o: Option<Table>) -> mlua::Result<LuaFormatter> {
    let o = match o {
        Some(o) => o,
        None => lua.create_table()?,
    };
    let style = match o.get::<Option<mlua::LuaString>>("style")? {
        None => Style::C,
        Some(s) if s.as_bytes().as_ref() == b"C" => Style::C,
        Some(s) if s.as_bytes().as_ref() == b"xxd" => Style::Xxd,
        Some(s) => {
            return Err(bad_option(
                "style",
                &format!("\"C\" or \"xxd\" expected, got '{}'", s.to_string_lossy()),
            ))
        }
    };
    let squeeze = match o.get::<Value>("squeeze")? {
        Value::Nil => style == Style::C,
        Value::Boolean(b) => b,
        other => {
            return Err(bad_option(
                "squeeze",
                &format!("boolean expected, got {}", other.type_name()),
            ))
        }
    };
    let group = int_opt(&o, "group", 1)?;
    let width = int_opt(&o, "width", 16)?;
    let layout = Layout::new(
        usize::try_from(group).unwrap_or(0),
        usize::try_from(width).unwrap_or(0),
        style,
        squeeze,
    )
    .map_err(|(name, what)| bad_option(name, &what))?;
    let addr = int_opt(&o, "addr", 0)? as u64;
    Ok(LuaFormatter {
        f: Formatter::new(layout, addr),
        buf: Vec::new(),
    })
}

fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("new", lua.create_function(new_formatter)?)?;
    t.set(
        "hex",
        lua.create_function(|lua, s: mlua::LuaString| lua.create_string(hex(&s.as_bytes())))?,
    )?;
    Ok(t)
}

/// Registers `memlua.hexfmt` in `package.preload`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    crate::stdlib::preload(lua, "memlua.hexfmt", module)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(bytes: &[u8], group: usize, style: Style, base: u64, pieces: usize) -> String {
        let layout = Layout::new(group, 16, style, style == Style::C).unwrap();
        let mut f = Formatter::new(layout, base);
        let mut out = Vec::new();
        // Fed in uneven pieces: lines cross the pieces' edges.
        for piece in bytes.chunks(pieces.max(1)) {
            f.feed(piece, &mut out);
        }
        f.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hexdump_c_layout() {
        let s = b"hello world, this is";
        let want =
            "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|\n\
                    00000010  73 20 69 73                                       |s is|\n00000014\n";
        for pieces in [1, 3, 7, 16, 100] {
            assert_eq!(dump(s, 1, Style::C, 0, pieces), want, "{pieces}");
        }
        assert_eq!(dump(b"", 1, Style::C, 0, 1), "");
    }

    #[test]
    fn squeezes_repeated_full_lines_only() {
        let z = [0u8; 64];
        assert_eq!(
            dump(&z, 1, Style::C, 0xc0000, 5),
            "000c0000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n000c0040\n"
        );
    }

    #[test]
    fn words_and_xxd_groups() {
        let b = [0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0];
        assert_eq!(
            dump(&b, 4, Style::C, 0xfe003000, 3),
            "fe003000  11223344 00000000                     |D3\".....|\nfe003008\n"
        );
        assert_eq!(
            dump(&b"hello world, this is x"[..21], 4, Style::Xxd, 0, 2),
            "00000000: 68656c6c 6f20776f 726c642c 20746869  hello world, thi\n\
             00000010: 73206973 20                          s is \n"
        );
    }

    #[test]
    fn addresses_grow_past_eight_digits() {
        assert_eq!(
            dump(b"ab", 1, Style::C, 0x1_0000_0000, 1),
            format!("100000000  61 62{}  |ab|\n100000002\n", " ".repeat(43))
        );
        let top = dump(&[0u8; 16], 1, Style::Xxd, 0xffff_ffff_ffff_fff0, 16);
        assert!(top.starts_with("fffffffffffffff0: 00 00"), "{top}");
    }

    #[test]
    fn bad_layouts_are_refused() {
        assert!(Layout::new(3, 16, Style::C, true).is_err());
        assert!(Layout::new(4, 6, Style::C, true).is_err());
        assert!(Layout::new(1, 512, Style::C, true).is_err());
        assert!(Layout::new(1, 0, Style::C, true).is_err());
    }

    #[test]
    fn hex_digits() {
        assert_eq!(hex(b"\x00\x7f\xff"), b"007fff");
    }
}
