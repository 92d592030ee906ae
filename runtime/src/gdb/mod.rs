//! A client of the GDB remote serial protocol, which QEMU's gdbstub,
//! OpenOCD, pyOCD and SEGGER's J-Link GDB server all speak (`packet.rs`:
//! the bytes; `conn.rs`: a connection; `transport.rs`: TCP or a Unix
//! socket).

mod conn;
pub mod packet;
#[cfg(test)]
mod recorded;
mod transport;

use std::time::Duration;

pub use conn::{Conn, Stream};
pub use transport::Target;

/// How long a reply may take before the connection counts as lost.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
