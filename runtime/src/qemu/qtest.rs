//! A client of QEMU's qtest protocol (QEMU's system/qtest.c): one command
//! a line, one reply a line, `OK [value]` or `FAIL ...`/`ERR ...`. Lines
//! `IRQ raise N` and `IRQ lower N` (after `irq_intercept_in/out`) can come
//! before any reply; they are taken out of the stream and their levels
//! kept.
//!
//! QEMU aborts, with no reply, on a command it cannot parse (`readl zz`),
//! so nothing reaches this client unchecked: the backend (mod.rs) builds
//! every command from numbers it has already validated. A reply that does
//! not come within the timeout is owed: the next call reads and drops it
//! first, so a late reply is never taken for another command's.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::native::child;

/// Why a command got no answer it could use.
#[derive(Debug)]
pub enum Fault {
    /// The connection closed: QEMU exited or was killed.
    Closed,
    /// No reply within the timeout.
    TimedOut,
    /// Another socket error.
    Io(io::Error),
    /// QEMU answered `FAIL ...` or `ERR ...`: the line.
    Refused(String),
    /// A reply this client cannot read: what was wrong.
    Garbled(String),
}

impl Fault {
    fn of(e: io::Error) -> Fault {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Fault::TimedOut,
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof => Fault::Closed,
            _ => Fault::Io(e),
        }
    }
}

/// One qtest connection.
pub struct Qtest {
    sock: UnixStream,
    /// Received bytes: `buf[head..tail]` not read yet.
    buf: Vec<u8>,
    head: usize,
    tail: usize,
    timeout: Duration,
    /// Replies to commands sent whose reply did not come in time.
    owed: usize,
    closed: bool,
    /// The last level seen on each intercepted IRQ line.
    irqs: BTreeMap<u32, bool>,
}

impl Qtest {
    pub fn new(sock: UnixStream, timeout: Duration) -> io::Result<Qtest> {
        let mut q = Qtest {
            sock,
            buf: vec![0; 64 << 10],
            head: 0,
            tail: 0,
            timeout,
            owed: 0,
            closed: false,
            irqs: BTreeMap::new(),
        };
        q.set_timeout(timeout)?;
        Ok(q)
    }

    /// How long each reply may take (sends too).
    pub fn set_timeout(&mut self, t: Duration) -> io::Result<()> {
        self.sock.set_read_timeout(Some(t))?;
        self.sock.set_write_timeout(Some(t))?;
        self.timeout = t;
        Ok(())
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The levels seen on intercepted lines: (line, raised).
    pub fn irqs(&self) -> &BTreeMap<u32, bool> {
        &self.irqs
    }

    /// Sends `cmd`, one whole line ending in '\n' that the caller has
    /// checked, and gives `f` what follows `OK ` in the reply (empty for a
    /// bare `OK`).
    pub fn call<T>(
        &mut self,
        cmd: &[u8],
        f: impl FnOnce(&[u8]) -> Result<T, Fault>,
    ) -> Result<T, Fault> {
        self.sync()?;
        self.send(cmd)?;
        self.recv(f)
    }

    /// Reads and drops the replies still owed, so the next one read
    /// answers the next command sent.
    pub fn sync(&mut self) -> Result<(), Fault> {
        if self.closed {
            return Err(Fault::Closed);
        }
        while self.owed > 0 {
            let r = self.reply()?;
            self.consume(r.end + 1);
            self.owed -= 1;
        }
        Ok(())
    }

    /// Sends one command without waiting for its reply (`recv` takes the
    /// replies in order): bulk transfers keep a few chunks in flight, so
    /// QEMU prepares one while memlua decodes the last.
    pub fn send(&mut self, cmd: &[u8]) -> Result<(), Fault> {
        debug_assert!(cmd.ends_with(b"\n") && !cmd[..cmd.len() - 1].contains(&b'\n'));
        if self.closed {
            return Err(Fault::Closed);
        }
        child::send_all(&self.sock, cmd).map_err(|e| self.fault(e))?;
        self.owed += 1;
        Ok(())
    }

    /// The reply to the oldest command sent and not yet answered.
    pub fn recv<T>(&mut self, f: impl FnOnce(&[u8]) -> Result<T, Fault>) -> Result<T, Fault> {
        let r = self.reply()?;
        self.owed -= 1;
        let line = &self.buf[r.clone()];
        let out = if line == b"OK" {
            f(b"")
        } else if let Some(rest) = line.strip_prefix(b"OK ") {
            f(rest)
        } else if line.starts_with(b"FAIL") || line.starts_with(b"ERR") {
            Err(Fault::Refused(String::from_utf8_lossy(line).into_owned()))
        } else {
            Err(Fault::Garbled(format!(
                "an unexpected reply '{}'",
                String::from_utf8_lossy(&line[..line.len().min(80)])
            )))
        };
        self.consume(r.end + 1);
        out
    }

    fn consume(&mut self, to: usize) {
        self.head = to;
        if self.head == self.tail {
            self.head = 0;
            self.tail = 0;
        }
    }

    fn fault(&mut self, e: io::Error) -> Fault {
        let f = Fault::of(e);
        if matches!(f, Fault::Closed) {
            self.closed = true;
        }
        f
    }

    /// The next reply line (IRQ lines taken out), without its '\n'.
    fn reply(&mut self) -> Result<Range<usize>, Fault> {
        loop {
            let r = self.line()?;
            let line = &self.buf[r.clone()];
            let Some(irq) = line.strip_prefix(b"IRQ ") else {
                return Ok(r);
            };
            let (level, n) = if let Some(n) = irq.strip_prefix(b"raise ") {
                (true, n)
            } else if let Some(n) = irq.strip_prefix(b"lower ") {
                (false, n)
            } else {
                return Err(Fault::Garbled(format!(
                    "an IRQ line it cannot read: '{}'",
                    String::from_utf8_lossy(line)
                )));
            };
            if let Some(n) = std::str::from_utf8(n).ok().and_then(|s| s.parse().ok()) {
                self.irqs.insert(n, level);
            }
            self.consume(r.end + 1);
        }
    }

    /// The next line in the buffer, reading more as needed.
    fn line(&mut self) -> Result<Range<usize>, Fault> {
        let mut scan = self.head;
        loop {
            if let Some(i) = self.buf[scan..self.tail].iter().position(|&b| b == b'\n') {
                return Ok(self.head..scan + i);
            }
            scan = self.tail;
            if self.tail == self.buf.len() {
                if self.head > 0 {
                    self.buf.copy_within(self.head..self.tail, 0);
                    scan -= self.head;
                    self.tail -= self.head;
                    self.head = 0;
                } else {
                    // A long reply (b64read): room for it, kept for the next.
                    let n = self.buf.len() * 2;
                    self.buf.resize(n, 0);
                }
            }
            match self.sock.read(&mut self.buf[self.tail..]) {
                Ok(0) => {
                    self.closed = true;
                    return Err(Fault::Closed);
                }
                Ok(n) => self.tail += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fault(e)),
            }
        }
    }
}

/// `0x...` (or decimal) as qtest writes numbers.
pub fn number(text: &[u8]) -> Result<u64, Fault> {
    let s = std::str::from_utf8(text).unwrap_or("");
    let n = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse::<i64>().ok().map(|v| v as u64),
    };
    n.ok_or_else(|| {
        Fault::Garbled(format!(
            "a reply that is not a number: '{}'",
            String::from_utf8_lossy(&text[..text.len().min(80)])
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    /// A fake QEMU on the other end: answers each command line with the
    /// lines `answer` gives.
    fn peer(answer: fn(&str) -> Vec<String>) -> (Qtest, std::thread::JoinHandle<()>) {
        let (a, b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let mut w = b.try_clone().unwrap();
            for line in BufReader::new(b).lines() {
                let Ok(line) = line else { return };
                for out in answer(&line) {
                    if w.write_all(out.as_bytes()).is_err() {
                        return;
                    }
                }
            }
        });
        (Qtest::new(a, Duration::from_millis(300)).unwrap(), t)
    }

    #[test]
    fn irq_lines_before_a_reply_are_kept_not_taken_for_it() {
        let (mut q, _t) = peer(|l| match l {
            "readl 0x0" => vec![
                "IRQ raise 8\n".into(),
                "IRQ raise 3\nIRQ lower 3\n".into(),
                "OK 0x0000000000001234\n".into(),
            ],
            _ => vec!["FAIL Unknown command\n".into()],
        });
        assert_eq!(q.call(b"readl 0x0\n", number).unwrap(), 0x1234);
        assert_eq!(q.irqs().get(&8), Some(&true));
        assert_eq!(q.irqs().get(&3), Some(&false));
        match q.call(b"nonsense\n", number) {
            Err(Fault::Refused(t)) => assert_eq!(t, "FAIL Unknown command"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_late_reply_is_dropped_not_given_to_the_next_command() {
        let (mut q, _t) = peer(|l| match l {
            "slow" => {
                std::thread::sleep(Duration::from_millis(600));
                vec!["OK 0x1\n".into()]
            }
            _ => vec!["OK 0x2\n".into()],
        });
        assert!(matches!(q.call(b"slow\n", number), Err(Fault::TimedOut)));
        assert_eq!(q.call(b"fast\n", number).unwrap(), 2);
    }

    #[test]
    fn a_closed_peer_is_closed_at_once_and_after() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut q = Qtest::new(a, Duration::from_secs(5)).unwrap();
        let t = std::time::Instant::now();
        assert!(matches!(q.call(b"readl 0x0\n", number), Err(Fault::Closed)));
        assert!(matches!(q.call(b"readl 0x0\n", number), Err(Fault::Closed)));
        assert!(t.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn pipelined_replies_come_in_order_and_a_failure_leaves_the_rest_owed() {
        let (mut q, _t) = peer(|l| match l {
            "two" => vec!["FAIL no\n".into()],
            _ => vec![format!("OK {}\n", l.len())],
        });
        for c in [&b"one\n"[..], b"two\n", b"three\n"] {
            q.send(c).unwrap();
        }
        assert_eq!(q.recv(number).unwrap(), 3);
        assert!(matches!(q.recv(number), Err(Fault::Refused(_))));
        // "three"'s reply is still owed: the next call skips it.
        assert_eq!(q.call(b"four!\n", number).unwrap(), 5);
    }

    #[test]
    fn long_replies_grow_the_buffer() {
        let (mut q, _t) = peer(|_| {
            let mut s = "OK ".to_string();
            s.push_str(&"A".repeat(300_000));
            s.push('\n');
            // Split in two writes, so the line arrives in pieces.
            let (x, y) = s.split_at(1000);
            vec![x.into(), y.into()]
        });
        let n = q.call(b"b64read 0x0 0x1\n", |t| Ok(t.len())).unwrap();
        assert_eq!(n, 300_000);
    }

    #[test]
    fn numbers_as_qtest_writes_them() {
        assert_eq!(number(b"0x00000000000000ea").unwrap(), 0xea);
        assert_eq!(number(b"0xffffffffffffffff").unwrap(), u64::MAX);
        assert_eq!(number(b"1234").unwrap(), 1234);
        assert!(number(b"little").is_err());
    }
}
