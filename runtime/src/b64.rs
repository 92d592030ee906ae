//! Base64 (RFC 4648, the standard alphabet with `=` padding): the one
//! codec of the runtime, for qtest's `b64read`/`b64write` (as GLib's
//! g_base64_encode and g_base64_decode write and read it) and for the
//! `data` of bulk transfers in traces.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// 0..63 for each alphabet byte, 0xff for any other.
const DECODE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The encoded length of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Appends the encoding of `data` to `out`.
pub fn encode(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(encoded_len(data.len()));
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            ALPHABET[(n >> 18) as usize & 63],
            ALPHABET[(n >> 12) as usize & 63],
            ALPHABET[(n >> 6) as usize & 63],
            ALPHABET[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = (a as u32) << 16;
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                b'=',
                b'=',
            ]);
        }
        [a, b] => {
            let n = (a as u32) << 16 | (b as u32) << 8;
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                ALPHABET[(n >> 6) as usize & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

/// Decodes `text` into `out`, which must be exactly as long as the data:
/// false if `text` is not base64 of that many bytes.
pub fn decode_into(text: &[u8], out: &mut [u8]) -> bool {
    if text.len() != encoded_len(out.len()) {
        return false;
    }
    let full = out.len() / 3;
    for (q, o) in text.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let n = sextets(q, 4);
        if n == u32::MAX {
            return false;
        }
        o.copy_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = out.len() - full * 3;
    if rest == 0 {
        return true;
    }
    let q = &text[full * 4..];
    // One byte left: "xx=="; two: "xxx=".
    if q[rest + 1..].iter().any(|&c| c != b'=') {
        return false;
    }
    let n = sextets(q, rest + 1);
    if n == u32::MAX {
        return false;
    }
    let o = &mut out[full * 3..];
    o[0] = (n >> 16) as u8;
    if rest == 2 {
        o[1] = (n >> 8) as u8;
    }
    true
}

/// The encoding of `data` as text.
pub fn encode_string(data: &[u8]) -> String {
    let mut out = Vec::new();
    encode(data, &mut out);
    // Only ASCII from the alphabet was written.
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes `text` encodes, or None if it is not padded base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let mut out = vec![0u8; s.len() / 4 * 3 - pad];
    decode_into(s, &mut out).then_some(out)
}

/// The first `k` characters of the quad `q` as 24 bits (missing ones
/// zero), or u32::MAX if one is outside the alphabet.
#[inline]
fn sextets(q: &[u8], k: usize) -> u32 {
    let mut n = 0u32;
    for (i, &c) in q.iter().take(4).enumerate() {
        let d = if i < k { DECODE[c as usize] } else { 0 };
        if d == 0xff {
            return u32::MAX;
        }
        n = n << 6 | d as u32;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(d: &[u8]) -> String {
        let mut v = Vec::new();
        encode(d, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn rfc4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(enc(plain.as_bytes()), coded);
            let mut out = vec![0; plain.len()];
            assert!(decode_into(coded.as_bytes(), &mut out), "{coded}");
            assert_eq!(out, plain.as_bytes());
        }
    }

    #[test]
    fn qemu_reset_vector() {
        // qtest's answer to `b64read 0xffff0 16` on q35.
        let mut out = [0u8; 16];
        assert!(decode_into(b"6lvgAPAwNi8yMy85OQD8AA==", &mut out));
        assert_eq!(&out[..5], &[0xea, 0x5b, 0xe0, 0x00, 0xf0]);
        assert_eq!(&out[5..13], b"06/23/99");
    }

    #[test]
    fn every_byte_round_trips() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for n in 0..data.len() {
            let mut v = Vec::new();
            encode(&data[..n], &mut v);
            let mut out = vec![0; n];
            assert!(decode_into(&v, &mut out));
            assert_eq!(out, &data[..n]);
        }
    }

    #[test]
    fn bad_text_is_refused() {
        let mut out = [0u8; 3];
        assert!(!decode_into(b"Zm9", &mut out), "short");
        assert!(!decode_into(b"Zm9*", &mut out), "outside the alphabet");
        let mut two = [0u8; 2];
        assert!(!decode_into(b"Zm8x", &mut two), "missing padding");
        assert!(!decode_into(b"Zm==", &mut two), "padding too early");
    }

    #[test]
    fn rfc4648_vectors_as_text() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_string(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode_string(&all)).unwrap(), all);
        assert!(decode("Zg=").is_none());
        assert!(decode("Z===").is_none());
        assert!(decode("Zg==Zg==").is_none());
        assert!(decode("Zm9*").is_none());
    }
}
