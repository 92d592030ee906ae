//! A stub's side of a connection, played back from bytes, for the unit
//! tests: what the stub sends is fed in, what memlua sends is kept.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::rc::Rc;

use super::conn::Conn;
use super::packet;
use super::DEFAULT_TIMEOUT;

/// Reads give `input` and then end (the stub closed the connection);
/// writes are kept.
struct Recorded {
    input: Vec<u8>,
    at: usize,
    sent: Rc<RefCell<Vec<u8>>>,
}

impl Read for Recorded {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.input.len() - self.at);
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Recorded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sent.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A connection to a stub that sends `input`, and what memlua sent on it.
pub fn conn(input: &[u8]) -> (Conn, Rc<RefCell<Vec<u8>>>) {
    let sent = Rc::new(RefCell::new(Vec::new()));
    let io = Recorded {
        input: input.to_vec(),
        at: 0,
        sent: sent.clone(),
    };
    (Conn::new(Box::new(io), DEFAULT_TIMEOUT), sent)
}

/// `$data#xx`.
pub fn pkt(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    packet::frame(&mut out, data);
    out
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// What memlua sent, as text.
pub fn text(sent: &Rc<RefCell<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&sent.borrow()).into_owned()
}
