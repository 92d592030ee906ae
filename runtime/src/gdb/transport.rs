//! Reaching a stub: `HOST:PORT` over TCP (QEMU's `-gdb tcp::1234`,
//! OpenOCD's port 3333, a J-Link GDB server's 2331) or `unix:PATH` (QEMU's
//! `-gdb unix:PATH,server=on`).

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::conn::Stream;
use crate::{Errno, Error, Result};

/// How often a blocked read wakes up to check its reply's deadline: the
/// deadline is kept to within this.
const TICK: Duration = Duration::from_millis(50);

/// Where a stub listens, as `--target` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tcp {
        host: String,
        port: u16,
    },
    #[cfg(unix)]
    Unix(std::path::PathBuf),
}

impl Target {
    /// `HOST:PORT`, `[IPv6]:PORT` or `unix:PATH`; Err says what is wrong.
    pub fn parse(s: &str) -> std::result::Result<Target, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("'unix:' needs a socket path after it".into());
            }
            #[cfg(unix)]
            return Ok(Target::Unix(path.into()));
            #[cfg(not(unix))]
            return Err("unix sockets need a Unix system".into());
        }
        let Some((host, port)) = s.rsplit_once(':') else {
            return Err(format!(
                "'{s}' is not HOST:PORT or unix:PATH (QEMU's -gdb tcp::1234 is localhost:1234)"
            ));
        };
        let port: u16 = match port.parse() {
            Ok(p) if p > 0 => p,
            _ => return Err(format!("'{port}' in '{s}' is not a TCP port (1-65535)")),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host.is_empty() { "localhost" } else { host };
        Ok(Target::Tcp {
            host: host.to_string(),
            port,
        })
    }

    /// Connects, giving up after `timeout`: the stream, and its socket
    /// for the exit hook (`native::exit_hook`).
    pub fn connect(&self, timeout: Duration) -> Result<(Box<dyn Stream>, Option<i32>)> {
        match self {
            Target::Tcp { host, port } => {
                let addrs = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| refused(self, &format!("cannot resolve '{host}': {e}")))?;
                let mut last = None;
                for a in addrs {
                    match TcpStream::connect_timeout(&a, timeout) {
                        Ok(s) => {
                            // Requests are small and each waits for its
                            // reply: Nagle's delay would cost 40 ms each.
                            let set = s
                                .set_nodelay(true)
                                .and_then(|()| s.set_read_timeout(Some(TICK)))
                                .and_then(|()| s.set_write_timeout(Some(timeout)));
                            set.map_err(|e| refused(self, &e.to_string()))?;
                            #[cfg(unix)]
                            let fd = Some(std::os::fd::AsRawFd::as_raw_fd(&s));
                            #[cfg(not(unix))]
                            let fd = None;
                            return Ok((Box::new(s), fd));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let why = last.map_or("no address".to_string(), |e| e.to_string());
                Err(refused(self, &why))
            }
            #[cfg(unix)]
            Target::Unix(path) => {
                let s = std::os::unix::net::UnixStream::connect(path)
                    .map_err(|e| refused(self, &e.to_string()))?;
                let set = s
                    .set_read_timeout(Some(TICK))
                    .and_then(|()| s.set_write_timeout(Some(timeout)));
                set.map_err(|e| refused(self, &e.to_string()))?;
                let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
                Ok((Box::new(s), Some(fd)))
            }
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
            #[cfg(unix)]
            Target::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

fn refused(t: &Target, why: &str) -> Error {
    Error::new(
        Errno::EIO,
        "",
        format!("cannot connect to the GDB stub at {t}: {why}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert_eq!(
            Target::parse("localhost:1234"),
            Ok(Target::Tcp {
                host: "localhost".into(),
                port: 1234
            })
        );
        assert_eq!(
            Target::parse(":3333").unwrap().to_string(),
            "localhost:3333"
        );
        assert_eq!(
            Target::parse("[::1]:2331").unwrap().to_string(),
            "[::1]:2331"
        );
        assert_eq!(
            Target::parse("unix:/tmp/q.sock").unwrap().to_string(),
            "unix:/tmp/q.sock"
        );
        for (bad, says) in [
            ("localhost", "not HOST:PORT"),
            ("h:0", "not a TCP port"),
            ("h:70000", "not a TCP port"),
            ("unix:", "needs a socket path"),
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
