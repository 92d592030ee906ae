//! One connection to a GDB stub: packets sent and received with their
//! acknowledgements (`+` for a good packet, `-` for a bad checksum, which
//! makes the sender resend) until `QStartNoAckMode` turns them off, a
//! deadline on every reply, and the request/reply pairing the rest of the
//! backend uses.
//!
//! A connection that failed (the stub closed it, sent something that is no
//! packet, or did not answer in time) is dead for good: a reply that comes
//! late would otherwise be taken for the answer to the next request. Every
//! later call fails with EIO and the first failure's words.

use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use super::packet;
use crate::{Errno, Error, Result};

/// What a connection runs over: a TCP or Unix socket, or recorded bytes in
/// tests.
pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// The largest packet accepted from a stub, and the most bytes that may
/// come before one: past either, the stream is not the GDB protocol.
const MAX_PACKET: usize = 1 << 20;
const MAX_NOISE: usize = 1 << 16;
/// Resends of a packet the stub keeps answering with `-`.
const MAX_RESENDS: u32 = 3;

pub struct Conn {
    io: Box<dyn Stream>,
    timeout: Duration,
    /// Acknowledgements in use (until the stub accepts QStartNoAckMode).
    ack: bool,
    /// Received bytes not yet consumed: `inbuf[pos..]`.
    inbuf: Vec<u8>,
    pos: usize,
    /// The packet being sent, framed, kept for a resend.
    out: Vec<u8>,
    /// The last packet received, run-length decoded.
    reply: Vec<u8>,
    /// What one read takes in, zeroed once rather than at every read.
    scratch: Box<[u8]>,
    /// Why the connection is unusable, once it is.
    dead: Option<String>,
}

impl Conn {
    /// A connection over `io`, whose reads must give up (an error of kind
    /// WouldBlock or TimedOut) when nothing arrives for a while, so that
    /// `timeout` is kept; recorded streams simply end.
    pub fn new(io: Box<dyn Stream>, timeout: Duration) -> Conn {
        Conn {
            io,
            timeout,
            ack: true,
            inbuf: Vec::with_capacity(8192),
            pos: 0,
            out: Vec::with_capacity(4096),
            reply: Vec::with_capacity(8192),
            scratch: vec![0; 16384].into_boxed_slice(),
            dead: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Stops sending and expecting acknowledgements (after the stub
    /// answered `QStartNoAckMode` with `OK`).
    pub fn no_ack(&mut self) {
        self.ack = false;
    }

    pub fn acks(&self) -> bool {
        self.ack
    }

    /// Whether the connection still works.
    pub fn alive(&self) -> bool {
        self.dead.is_none()
    }

    /// The error for a dead connection.
    fn dead_error(&self) -> Option<Error> {
        self.dead.as_ref().map(|why| {
            Error::new(
                Errno::EIO,
                "",
                format!("the connection to the GDB stub is lost: {why}"),
            )
        })
    }

    /// Marks the connection dead because of `why`, and returns the error.
    #[cold]
    fn fail(&mut self, why: String) -> Error {
        if self.dead.is_none() {
            self.dead = Some(why);
        }
        self.dead_error().unwrap()
    }

    /// Sends `data` as one packet: framed, checksummed and, while
    /// acknowledgements are on, resent until the stub acknowledges it.
    pub fn send(&mut self, data: &[u8]) -> Result<()> {
        if let Some(e) = self.dead_error() {
            return Err(e);
        }
        self.out.clear();
        packet::frame(&mut self.out, data);
        self.write_out()?;
        if !self.ack {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        let mut resends = 0;
        let mut noise = 0;
        loop {
            match self.next_byte(deadline)? {
                b'+' => return Ok(()),
                b'-' if resends < MAX_RESENDS => {
                    resends += 1;
                    self.write_out()?;
                }
                b'-' => {
                    return Err(self.fail(format!(
                        "the stub refused a packet {} times (bad checksum each time)",
                        MAX_RESENDS + 1
                    )))
                }
                // An earlier reply whose acknowledgement was lost, sent
                // again: take it and acknowledge it, as GDB does, so it is
                // not resent once more.
                b'$' => {
                    self.pos -= 1;
                    self.read_packet(deadline)?;
                }
                _ => {
                    noise += 1;
                    if noise > MAX_NOISE {
                        return Err(self.not_gdb());
                    }
                }
            }
        }
    }

    /// Sends one byte outside any packet: 0x03 interrupts a running target.
    pub fn send_raw(&mut self, byte: u8) -> Result<()> {
        if let Some(e) = self.dead_error() {
            return Err(e);
        }
        self.out.clear();
        self.out.push(byte);
        self.write_out()
    }

    fn write_out(&mut self) -> Result<()> {
        let r = self.io.write_all(&self.out).and_then(|()| self.io.flush());
        r.map_err(|e| self.fail(format!("sending to the stub failed: {e}")))
    }

    /// The next packet's data, run-length decoded, acknowledged while
    /// acknowledgements are on. A packet with a bad checksum is answered
    /// with `-`, and the stub resends it.
    pub fn recv(&mut self) -> Result<&[u8]> {
        if let Some(e) = self.dead_error() {
            return Err(e);
        }
        let deadline = Instant::now() + self.timeout;
        self.read_packet(deadline)?;
        Ok(&self.reply)
    }

    /// Sends `data` and returns the reply, passing over stop replies and
    /// console output a stub may send at any time (QEMU sends a stop reply
    /// when a debugger attaches to a running guest).
    pub fn request(&mut self, data: &[u8]) -> Result<&[u8]> {
        self.send(data)?;
        let deadline = Instant::now() + self.timeout;
        loop {
            self.read_packet(deadline)?;
            let r = &self.reply;
            if !packet::is_stop_reply(r) && packet::console_output(r).is_none() {
                return Ok(&self.reply);
            }
        }
    }

    /// Reads one packet into `reply`, by `deadline`.
    fn read_packet(&mut self, deadline: Instant) -> Result<()> {
        if self.pos > 0 {
            self.inbuf.drain(..self.pos);
            self.pos = 0;
        }
        loop {
            // Whatever comes before '$' is noise: stray acknowledgements
            // (some stubs send them even without acknowledgement mode),
            // or the line noise of a serial link.
            let mut noise = 0;
            while self.next_byte(deadline)? != b'$' {
                noise += 1;
                if noise > MAX_NOISE {
                    return Err(self.not_gdb());
                }
            }
            let start = self.pos;
            let mut scan = start;
            let end = loop {
                if let Some(i) = self.inbuf[scan..].iter().position(|&b| b == b'#') {
                    break scan + i;
                }
                if self.inbuf.len() - start > MAX_PACKET {
                    return Err(self.fail(format!(
                        "a packet longer than {MAX_PACKET} bytes arrived; is this a GDB stub?"
                    )));
                }
                scan = self.inbuf.len();
                self.fill(deadline)?;
            };
            while self.inbuf.len() < end + 3 {
                self.fill(deadline)?;
            }
            self.pos = end + 3;
            let (body, sum) = (&self.inbuf[start..end], &self.inbuf[end + 1..end + 3]);
            let good = match (packet::hex_digit(sum[0]), packet::hex_digit(sum[1])) {
                (Some(h), Some(l)) => h << 4 | l == packet::checksum(body),
                _ => false,
            };
            if !good {
                if self.ack {
                    self.ack_with(b'-')?;
                    continue;
                }
                let shown = String::from_utf8_lossy(&self.inbuf[start..end + 3]).into_owned();
                return Err(self.fail(format!(
                    "a packet with a bad checksum arrived ('${}')",
                    shown.chars().take(40).collect::<String>()
                )));
            }
            if let Err(why) = packet::expand_runs(body, &mut self.reply) {
                return Err(self.fail(format!("the stub sent {why}")));
            }
            if self.ack {
                self.ack_with(b'+')?;
            }
            return Ok(());
        }
    }

    #[cold]
    fn not_gdb(&mut self) -> Error {
        self.fail(format!(
            "{MAX_NOISE} bytes that are no packet arrived; is this a GDB stub?"
        ))
    }

    fn ack_with(&mut self, b: u8) -> Result<()> {
        let r = self.io.write_all(&[b]).and_then(|()| self.io.flush());
        r.map_err(|e| self.fail(format!("sending to the stub failed: {e}")))
    }

    /// The next received byte, reading more when none is left.
    #[inline]
    fn next_byte(&mut self, deadline: Instant) -> Result<u8> {
        if self.pos == self.inbuf.len() {
            self.inbuf.clear();
            self.pos = 0;
            self.fill(deadline)?;
        }
        let b = self.inbuf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// Appends what the stub sends next to `inbuf`. Fails when the stub
    /// closed the connection or `deadline` passes; the stream's own read
    /// timeout is short, so the deadline is checked every so often.
    fn fill(&mut self, deadline: Instant) -> Result<()> {
        loop {
            match self.io.read(&mut self.scratch) {
                Ok(0) => return Err(self.fail("the stub closed the connection".into())),
                Ok(n) => {
                    self.inbuf.extend_from_slice(&self.scratch[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= deadline {
                        let secs = self.timeout.as_secs_f64();
                        return Err(self.fail(format!("the stub sent no reply within {secs} s")));
                    }
                }
                Err(e) => return Err(self.fail(format!("reading from the stub failed: {e}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gdb::recorded::{cat, conn, pkt, text};

    #[test]
    fn a_bad_checksum_is_answered_with_minus_and_the_resend_taken() {
        let (mut c, sent) = conn(b"+$01a28680#00$01a28680#ca");
        assert_eq!(c.request(b"mfed00000,4").unwrap(), b"01a28680");
        assert_eq!(text(&sent), "$mfed00000,4#ec-+");
    }

    #[test]
    fn a_minus_from_the_stub_makes_memlua_resend() {
        let (mut c, sent) = conn(b"-+$OK#9a");
        assert_eq!(c.request(b"D").unwrap(), b"OK");
        assert_eq!(text(&sent), "$D#44$D#44+");
    }

    #[test]
    fn a_stub_that_keeps_refusing_a_packet_is_eio() {
        let (mut c, _) = conn(b"----");
        let e = c.request(b"D").unwrap_err();
        assert_eq!(e.errno, Errno::EIO);
        assert!(e.message.contains("refused a packet 4 times"), "{e}");
    }

    #[test]
    fn run_length_replies_expand() {
        // Zeros as a compressing stub sends them: "0" and 97 more, four times.
        let body = b"0*~0*~0*~0*~0";
        let input = cat(&[b"+", &pkt(body)]);
        let (mut c, _) = conn(&input);
        let r = c.request(b"m0,40").unwrap();
        assert_eq!(r.len(), 5 + 4 * (b'~' - 29) as usize);
        assert!(r.iter().all(|&b| b == b'0'));
        // A count before anything to repeat is no packet memlua can read.
        let input = cat(&[b"+", &pkt(b"*!")]);
        let (mut c, _) = conn(&input);
        let e = c.request(b"m0,4").unwrap_err();
        assert!(e.message.contains("nothing before it"), "{e}");
    }

    #[test]
    fn bytes_that_are_no_packet_are_eio() {
        let (mut c, _) = conn(&[b'x'; 70000]);
        let e = c.request(b"?").unwrap_err();
        assert_eq!(e.errno, Errno::EIO);
        assert!(e.message.contains("is this a GDB stub"), "{e}");
    }
}
