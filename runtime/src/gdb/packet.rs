//! The GDB remote serial protocol's packet format, as pure functions over
//! bytes: `$data#xx` framing with its modulo-256 checksum, run-length
//! decoding of replies (`c*n`), the binary escapes of `X` and `qXfer`
//! (`}` then the byte xor 0x20), hex, and the shapes of a few replies
//! (`Enn`, stop replies, `O` console output). `conn.rs` moves these over a
//! connection.

/// The modulo-256 sum of a packet's data, as `#xx` carries it.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `b` as two lowercase hex digits.
#[inline]
pub fn push_hex_byte(out: &mut Vec<u8>, b: u8) {
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 15)]);
}

/// Appends `data` as hex, two digits a byte.
pub fn push_hex(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(data.len() * 2);
    for &b in data {
        push_hex_byte(out, b);
    }
}

/// Appends `v` as hex without leading zeros (`0` for zero), as addresses
/// and lengths are written in `m`, `M` and `X`.
pub fn push_hex_u64(out: &mut Vec<u8>, v: u64) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(HEX[((v >> (i * 4)) & 15) as usize]);
    }
}

/// Each byte's value as a hex digit, 0xff for a byte that is none: bulk
/// reads decode two of these per byte.
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// One hex digit's value.
#[inline]
pub fn hex_digit(c: u8) -> Option<u8> {
    match HEX_VALUE[usize::from(c)] {
        0xff => None,
        v => Some(v),
    }
}

/// Decodes hex into `out`, which must be exactly half as long; false if a
/// character is not a hex digit or the lengths differ.
pub fn decode_hex_into(hex: &[u8], out: &mut [u8]) -> bool {
    if hex.len() != out.len() * 2 {
        return false;
    }
    // Any byte that is no digit has bit 7 set in the table: OR them all
    // and check once, so the loop has no branch.
    let mut bad = 0;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (h, l) = (
            HEX_VALUE[usize::from(pair[0])],
            HEX_VALUE[usize::from(pair[1])],
        );
        bad |= h | l;
        *o = h << 4 | l;
    }
    bad & 0x80 == 0
}

/// Decodes hex of any even length.
pub fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let mut out = vec![0; hex.len() / 2];
    decode_hex_into(hex, &mut out).then_some(out)
}

/// Whether `b` must be escaped in binary data: the packet's own markers
/// and the escape and run-length characters.
pub const fn needs_escape(b: u8) -> bool {
    matches!(b, b'#' | b'$' | b'}' | b'*')
}

/// Appends `data` with `#`, `$`, `}` and `*` escaped as `}` followed by
/// the byte xor 0x20 (the body of an `X` packet).
pub fn escape_binary(out: &mut Vec<u8>, data: &[u8]) {
    for &b in data {
        if needs_escape(b) {
            out.push(b'}');
            out.push(b ^ 0x20);
        } else {
            out.push(b);
        }
    }
}

/// Undoes `escape_binary` (the data of a `qXfer` reply); None when the
/// data ends in the middle of an escape.
pub fn unescape_binary(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let mut it = data.iter();
    while let Some(&b) = it.next() {
        if b == b'}' {
            out.push(it.next()? ^ 0x20);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Appends `$data#xx` (data already escaped where it needs to be).
pub fn frame(out: &mut Vec<u8>, data: &[u8]) {
    out.reserve(data.len() + 4);
    out.push(b'$');
    out.extend_from_slice(data);
    out.push(b'#');
    push_hex_byte(out, checksum(data));
}

/// Expands a reply's run-length encoding into `out`: `c*n` is `c` and then
/// `n - 29` more copies of it (`0* ` is `0000`). Err names what is wrong
/// with a malformed run.
pub fn expand_runs(body: &[u8], out: &mut Vec<u8>) -> Result<(), &'static str> {
    out.clear();
    if !body.contains(&b'*') {
        out.extend_from_slice(body);
        return Ok(());
    }
    out.reserve(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b != b'*' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&prev) = out.last() else {
            return Err("a run-length marker '*' with nothing before it");
        };
        let Some(&count) = body.get(i + 1) else {
            return Err("a run-length marker '*' without a count");
        };
        // Counts are printable characters from ' ' (3 more) up; '#' and
        // '$' cannot be sent, the protocol's own rule.
        if !(b' '..=b'~').contains(&count) {
            return Err("a run-length count that is not a printable character");
        }
        let more = usize::from(count - 29);
        out.extend(std::iter::repeat_n(prev, more));
        i += 2;
    }
    Ok(())
}

/// `Enn`: the stub's error code. `E.text` (a newer form with a message)
/// reads as code 0.
pub fn error_code(reply: &[u8]) -> Option<u8> {
    match reply {
        [b'E', h, l] => Some(hex_digit(*h)? << 4 | hex_digit(*l)?),
        [b'E', b'.', ..] => Some(0),
        _ => None,
    }
}

/// A stop reply (`S05`, `T05thread:01;`): what a stub sends when the
/// target stops, answering `?`, `c` or an interrupt, or on its own (QEMU
/// sends one when a debugger attaches to a running guest).
pub fn is_stop_reply(reply: &[u8]) -> bool {
    matches!(reply, [b'S' | b'T', h, l, ..] if hex_digit(*h).is_some() && hex_digit(*l).is_some())
}

/// Console output, `O` and hex text (never `OK`, which is not hex).
pub fn console_output(reply: &[u8]) -> Option<Vec<u8>> {
    match reply {
        [b'O', hex @ ..] if !hex.is_empty() => decode_hex(hex),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_the_sum_modulo_256() {
        // Bytes QEMU's gdbstub sent (recorded).
        let mut out = Vec::new();
        frame(&mut out, b"OK");
        assert_eq!(out, b"$OK#9a");
        out.clear();
        frame(&mut out, b"mfed00000,4");
        assert_eq!(checksum(b"mfed00000,4"), 0xec);
        assert_eq!(out, b"$mfed00000,4#ec");
        out.clear();
        frame(&mut out, b"");
        assert_eq!(out, b"$#00");
        // Wraps around: 0xff * 3 = 0x2fd.
        assert_eq!(checksum(&[0xff; 3]), 0xfd);
    }

    #[test]
    fn hex_numbers_have_no_leading_zeros() {
        for (v, s) in [
            (0u64, "0"),
            (0xf, "f"),
            (0x10, "10"),
            (0xfed00000, "fed00000"),
            (u64::MAX, "ffffffffffffffff"),
        ] {
            let mut out = Vec::new();
            push_hex_u64(&mut out, v);
            assert_eq!(out, s.as_bytes());
        }
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let mut h = Vec::new();
        push_hex(&mut h, &[0x01, 0xa2, 0x86, 0x80]);
        assert_eq!(h, b"01a28680");
        assert_eq!(decode_hex(b"01A28680").unwrap(), [0x01, 0xa2, 0x86, 0x80]);
        assert_eq!(decode_hex(b"0"), None);
        assert_eq!(decode_hex(b"zz"), None);
        let mut two = [0; 2];
        assert!(!decode_hex_into(b"010203", &mut two));
    }

    #[test]
    fn binary_escapes_cover_the_four_markers() {
        let data = [b'#', b'$', b'}', b'*', 0, b'a', 0x7d ^ 0x20];
        let mut out = Vec::new();
        escape_binary(&mut out, &data);
        assert_eq!(out, b"}\x03}\x04}]}\x0a\0a]");
        assert_eq!(unescape_binary(&out).unwrap(), data);
        assert_eq!(unescape_binary(b"ab}"), None);
    }

    #[test]
    fn runs_expand() {
        let mut out = Vec::new();
        // "0* " is four zeros; QEMU's empty RAM reads come back this way
        // from stubs that compress.
        expand_runs(b"0* ", &mut out).unwrap();
        assert_eq!(out, b"0000");
        expand_runs(b"12*\"34", &mut out).unwrap();
        assert_eq!(out, b"122222234");
        expand_runs(b"0*}", &mut out).unwrap();
        assert_eq!(out.len(), 1 + (b'}' - 29) as usize);
        for bad in [&b"*a"[..], b"0*", b"0*\x01"] {
            assert!(expand_runs(bad, &mut out).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reply_shapes() {
        assert_eq!(error_code(b"E14"), Some(0x14));
        assert_eq!(error_code(b"E.no such memory"), Some(0));
        assert_eq!(error_code(b"E1"), None);
        assert_eq!(error_code(b"ea5be000"), None);
        assert!(is_stop_reply(b"T05thread:01;"));
        assert!(is_stop_reply(b"S02"));
        assert!(!is_stop_reply(b"T"));
        assert!(!is_stop_reply(b"OK"));
        assert_eq!(console_output(b"O0d0a").unwrap(), b"\r\n");
        assert_eq!(console_output(b"OK"), None);
        assert_eq!(console_output(b"O"), None);
    }
}
