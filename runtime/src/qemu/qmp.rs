//! A client of QMP, QEMU's JSON monitor: one JSON object a line each way.
//! QEMU greets first; `qmp_capabilities` leaves negotiation mode, done on
//! the first command so a session that never uses QMP does not wait for
//! it. Each command carries an `id` and only the reply with that id
//! answers it: events (`{"event": ...}`) and a reply that came too late
//! for an earlier command are skipped.

use std::io::{self, BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::qtest::Fault;
use crate::native::child;

/// Why a QMP command failed.
#[derive(Debug)]
pub enum QmpFault {
    /// The connection failed (closed, timed out, ...).
    Link(Fault),
    /// QEMU answered with an error: its class and description.
    Error { class: String, desc: String },
}

impl From<Fault> for QmpFault {
    fn from(f: Fault) -> QmpFault {
        QmpFault::Link(f)
    }
}

fn io_fault(e: io::Error) -> QmpFault {
    QmpFault::Link(match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Fault::TimedOut,
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted => Fault::Closed,
        _ => Fault::Io(e),
    })
}

/// One QMP connection.
pub struct Qmp {
    sock: UnixStream,
    reader: BufReader<UnixStream>,
    next_id: u64,
    negotiated: bool,
    /// A read timed out, perhaps in the middle of a line: the next line
    /// read may be the rest of it, and is skipped if it is not JSON.
    resync: bool,
    closed: bool,
}

impl Qmp {
    pub fn new(sock: UnixStream, timeout: Duration) -> io::Result<Qmp> {
        let reader = BufReader::with_capacity(64 << 10, sock.try_clone()?);
        let mut q = Qmp {
            sock,
            reader,
            next_id: 1,
            negotiated: false,
            resync: false,
            closed: false,
        };
        q.set_timeout(timeout)?;
        Ok(q)
    }

    pub fn set_timeout(&mut self, t: Duration) -> io::Result<()> {
        self.sock.set_read_timeout(Some(t))?;
        self.sock.set_write_timeout(Some(t))
    }

    /// Runs `cmd` with `args` (a JSON object, or none): the `return` value.
    pub fn execute(
        &mut self,
        cmd: &str,
        args: Option<&Map<String, Value>>,
    ) -> Result<Value, QmpFault> {
        if !self.negotiated {
            self.send(&json!({"execute": "qmp_capabilities"}))?;
            self.negotiated = true;
        }
        let mut msg = Map::new();
        msg.insert("execute".into(), Value::from(cmd));
        if let Some(a) = args {
            msg.insert("arguments".into(), Value::Object(a.clone()));
        }
        self.send(&Value::Object(msg))
    }

    fn send(&mut self, msg: &Value) -> Result<Value, QmpFault> {
        if self.closed {
            return Err(Fault::Closed.into());
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = msg.clone();
        msg["id"] = Value::from(id);
        let mut line = serde_json::to_vec(&msg).map_err(|e| Fault::Garbled(e.to_string()))?;
        line.push(b'\n');
        child::send_all(&self.sock, &line).map_err(|e| self.fail(io_fault(e)))?;
        let mut text = String::new();
        loop {
            text.clear();
            match self.reader.read_line(&mut text) {
                Ok(0) => return Err(self.fail(QmpFault::Link(Fault::Closed))),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) {
                        self.resync = true;
                    }
                    return Err(self.fail(io_fault(e)));
                }
            }
            let v: Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(_) if self.resync => {
                    self.resync = false;
                    continue;
                }
                Err(e) => {
                    return Err(
                        Fault::Garbled(format!("a QMP reply that is not JSON ({e})")).into(),
                    )
                }
            };
            self.resync = false;
            // The greeting, events, and replies to commands that timed out.
            if v.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(r) = v.get("return") {
                return Ok(r.clone());
            }
            let err = v.get("error");
            let field = |k: &str| {
                err.and_then(|e| e.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            return Err(QmpFault::Error {
                class: field("class"),
                desc: field("desc"),
            });
        }
    }

    fn fail(&mut self, f: QmpFault) -> QmpFault {
        if matches!(f, QmpFault::Link(Fault::Closed)) {
            self.closed = true;
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn greeting_events_and_stale_replies_are_skipped() {
        let (a, b) = UnixStream::pair().unwrap();
        let t = std::thread::spawn(move || {
            let mut w = b.try_clone().unwrap();
            w.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
                .unwrap();
            for line in BufReader::new(b).lines() {
                let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
                let id = v["id"].clone();
                let reply = match v["execute"].as_str().unwrap() {
                    "qmp_capabilities" => json!({"return": {}, "id": id}),
                    "query-status" => {
                        // An event and a reply to some other id first.
                        w.write_all(b"{\"event\": \"STOP\"}\n{\"return\": 1, \"id\": 999}\n")
                            .unwrap();
                        json!({"return": {"status": "paused"}, "id": id})
                    }
                    _ => json!({"error": {"class": "CommandNotFound", "desc": "no"}, "id": id}),
                };
                w.write_all(format!("{reply}\n").as_bytes()).unwrap();
            }
        });
        let mut q = Qmp::new(a, Duration::from_secs(2)).unwrap();
        let r = q.execute("query-status", None).unwrap();
        assert_eq!(r["status"], "paused");
        match q.execute("nope", None) {
            Err(QmpFault::Error { class, .. }) => assert_eq!(class, "CommandNotFound"),
            other => panic!("{other:?}"),
        }
        drop(q);
        t.join().unwrap();
    }
}
