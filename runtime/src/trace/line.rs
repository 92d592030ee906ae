//! Writing one trace line without a serializer: the recorder writes a line
//! per access, and formatting through serde or `format!` would be most of
//! its cost. Each method appends one `"key":value` member.

use crate::{Error, Subject};

pub struct Line<'a>(pub &'a mut Vec<u8>);

const DIGITS: &[u8; 16] = b"0123456789abcdef";

impl Line<'_> {
    /// Starts a line: `{"seq":N,"op":"OP"`.
    pub fn start<'b>(buf: &'b mut Vec<u8>, seq: u64, op: &str) -> Line<'b> {
        buf.extend_from_slice(b"{\"seq\":");
        let mut l = Line(buf);
        l.dec(seq);
        l.0.extend_from_slice(b",\"op\":\"");
        l.0.extend_from_slice(op.as_bytes());
        l.0.push(b'"');
        l
    }

    fn key(&mut self, key: &str) {
        self.0.extend_from_slice(b",\"");
        self.0.extend_from_slice(key.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    fn dec(&mut self, mut v: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.0.extend_from_slice(&tmp[i..]);
    }

    /// `"key":"0x..."`.
    pub fn hex(&mut self, key: &str, v: u64) -> &mut Self {
        self.key(key);
        let mut tmp = [0u8; 16];
        let mut i = tmp.len();
        let mut x = v;
        loop {
            i -= 1;
            tmp[i] = DIGITS[(x & 15) as usize];
            x >>= 4;
            if x == 0 {
                break;
            }
        }
        self.0.extend_from_slice(b"\"0x");
        self.0.extend_from_slice(&tmp[i..]);
        self.0.push(b'"');
        self
    }

    /// `"key":N`.
    pub fn num(&mut self, key: &str, v: u64) -> &mut Self {
        self.key(key);
        self.dec(v);
        self
    }

    /// `"key":-N` or `"key":N`.
    pub fn int(&mut self, key: &str, v: i64) -> &mut Self {
        self.key(key);
        if v < 0 {
            self.0.push(b'-');
        }
        self.dec(v.unsigned_abs());
        self
    }

    /// `"key":true` or `"key":false`.
    pub fn bool(&mut self, key: &str, v: bool) -> &mut Self {
        self.key(key);
        self.0.extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// `"key":"text"`, escaped as JSON requires.
    pub fn str(&mut self, key: &str, s: &str) -> &mut Self {
        self.key(key);
        string(self.0, s);
        self
    }

    /// `"key":"<base64>"`.
    pub fn b64(&mut self, key: &str, data: &[u8]) -> &mut Self {
        self.key(key);
        self.0.push(b'"');
        crate::b64::encode(data, self.0);
        self.0.push(b'"');
        self
    }

    /// `"key":` followed by raw JSON the caller made.
    pub fn raw(&mut self, key: &str, json: &[u8]) -> &mut Self {
        self.key(key);
        self.0.extend_from_slice(json);
        self
    }

    /// The members of a failure: `errno`, `message`, and what else the
    /// backend said (`error_op`, `subject`, `done`).
    pub fn error(&mut self, e: &Error) -> &mut Self {
        self.str("errno", e.errno.name()).str("message", &e.message);
        if !e.op.is_empty() {
            self.str("error_op", &e.op);
        }
        match e.subject {
            Some(Subject::Addr(a)) => {
                self.key("subject");
                self.0.extend_from_slice(b"{\"kind\":\"addr\"");
                self.hex("addr", a);
                self.0.push(b'}');
            }
            Some(Subject::Span { addr, len }) => {
                self.key("subject");
                self.0.extend_from_slice(b"{\"kind\":\"span\"");
                self.hex("addr", addr).hex("len", len);
                self.0.push(b'}');
            }
            Some(Subject::Range { base, len }) => {
                self.key("subject");
                self.0.extend_from_slice(b"{\"kind\":\"range\"");
                self.hex("base", base).hex("len", len);
                self.0.push(b'}');
            }
            None => {}
        }
        if let Some(d) = e.done {
            self.hex("done", d);
        }
        self
    }

    /// Ends the line with `t_ns` and, if known, `src`.
    pub fn end(&mut self, t_ns: u64, src: &str) {
        self.num("t_ns", t_ns);
        if !src.is_empty() {
            self.str("src", src);
        }
        self.0.extend_from_slice(b"}\n");
    }
}

/// `s` as a JSON string. Script names are nearly always plain ASCII,
/// copied as they are.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.extend_from_slice(s.as_bytes());
    } else {
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\r' => out.extend_from_slice(b"\\r"),
                c if (c as u32) < 0x20 => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Errno;

    #[test]
    fn a_line_is_json_serde_reads_back() {
        let mut buf = Vec::new();
        Line::start(&mut buf, 7, "read")
            .str("space", "phys")
            .hex("addr", 0xfe00_0000)
            .num("width", 32)
            .hex("value", u64::MAX)
            .int("domain", -1)
            .bool("performed", false)
            .str("text", "a \"quoted\"\\ line\n\u{1}é")
            .b64("data", b"foo")
            .error(&Error::new(Errno::EFAULT, "", "no").span(0x10, 0x20).done(3))
            .end(12, "probe.lua:3");
        assert_eq!(buf.last(), Some(&b'\n'));
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["seq"], 7);
        assert_eq!(v["addr"], "0xfe000000");
        assert_eq!(v["value"], "0xffffffffffffffff");
        assert_eq!(v["domain"], -1);
        assert_eq!(v["performed"], false);
        assert_eq!(v["text"], "a \"quoted\"\\ line\n\u{1}é");
        assert_eq!(v["data"], "Zm9v");
        assert_eq!(v["errno"], "EFAULT");
        assert_eq!(v["subject"]["len"], "0x20");
        assert_eq!(v["done"], "0x3");
        assert_eq!(v["src"], "probe.lua:3");
    }
}
