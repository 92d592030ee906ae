//! The `gdb` backend: a board behind a debug probe, or a virtual machine,
//! reached through the GDB remote serial protocol that QEMU's gdbstub,
//! OpenOCD, pyOCD and SEGGER's J-Link GDB server all speak. memlua has its
//! own small client (`packet.rs`: the bytes; `conn.rs`: a connection;
//! `transport.rs`: TCP or a Unix socket; `regs.rs`: register names).
//!
//! What the backend does with a stub:
//! - On connect it negotiates (`qSupported` for PacketSize and features,
//!   `QStartNoAckMode` when offered), recognises QEMU by its
//!   `qqemu.PhyMemMode` query and asks it for physical addresses, and
//!   asks for the stop state (`?`): an all-stop stub halts the target when
//!   a debugger attaches. On drop it detaches (`D`), so the target runs on.
//! - A single access keeps its width: OpenOCD's `read_memory` and
//!   `write_memory` monitor commands where the stub has them (its `m` and
//!   `M` split unaligned and sub-word accesses); QEMU's `m`/`M` of an
//!   aligned 1, 2, 4 or 8 bytes, which its memory API dispatches as one
//!   access of that size; on any other stub `m`/`M` of exactly the width,
//!   with a one-time note that the stub may split it.
//! - Bulk transfers go in chunks the stub's PacketSize allows, `X`
//!   (binary) for writes where the stub takes it.
//! - The stub's `Enn` is EFAULT naming the address and the code; a lost
//!   connection, garbage or no reply in time is EIO (`conn.rs`).
//! - While the target runs (after `gdb.resume()`), an all-stop stub takes
//!   no request, so each access interrupts it, does its work and resumes
//!   it.

mod conn;
pub mod packet;
#[cfg(test)]
mod recorded;
mod regs;
mod transport;

use std::time::Duration;

pub use conn::{Conn, Stream};
pub use transport::Target;

use crate::{ops, Errno, Error, Result, Space, Width};

/// How long a reply may take before the connection counts as lost.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The packet size a stub that does not say is assumed to take.
const DEFAULT_PACKET_SIZE: usize = 400;

/// Bytes per OpenOCD `read_memory`/`write_memory` in a bulk transfer: its
/// reply is text, about five characters a byte.
const MONITOR_CHUNK: usize = 256;

/// How to reach a stub.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Physical addresses: `Some(true)` insists (`--gdb-phys`),
    /// `Some(false)` refuses (`--gdb-virt`), `None` uses them where the
    /// stub is QEMU.
    pub phys: Option<bool>,
    /// Whether writes are allowed (`-w`).
    pub write: bool,
    pub timeout: Duration,
}

/// The backend over one stub connection.
pub struct Gdb {
    conn: Conn,
    writable: bool,
    /// The largest packet the stub takes (`qSupported`'s PacketSize).
    packet_size: usize,
    /// QEMU's gdbstub: its `qqemu.PhyMemMode` answered, with the mode
    /// it was in (restored on detach: the mode outlives the connection).
    qemu_mode: Option<bool>,
    /// Physical addresses are in use.
    phys: bool,
    /// OpenOCD's `read_memory`/`write_memory` monitor commands exist.
    monitor_mem: bool,
    /// The stub offers its target description.
    xfer_features: bool,
    /// Whether the stub takes `X`, once a bulk write has asked.
    x_packet: Option<bool>,
    /// The target runs (after `gdb.resume()`).
    running: bool,
    noted_split: bool,
    registers: Option<Vec<regs::RegDesc>>,
    /// The request being built.
    cmd: Vec<u8>,
    /// This connection's entry in the exit hook and its socket.
    exit_hook: Option<(u64, i32)>,
}

impl Gdb {
    /// Connects to the stub `opts` names and negotiates.
    pub fn connect(opts: &Options) -> Result<Gdb> {
        let (io, fd) = opts.target.connect(opts.timeout)?;
        let mut g = Gdb::over(Conn::new(io, opts.timeout), opts.phys, opts.write).map_err(|e| {
            let message = format!("{} (GDB stub at {})", e.message, opts.target);
            Error { message, ..e }
        })?;
        static OWNERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let owner = OWNERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        g.exit_hook = fd.map(|fd| (owner, fd));
        g.update_exit_hook();
        Ok(g)
    }

    /// What to send should the process exit without dropping this
    /// connection (Lua's `os.exit`): `detach`'s packets while the target
    /// is halted; nothing while it runs (QEMU would take any byte as a
    /// request to stop it).
    fn update_exit_hook(&self) {
        #[cfg(unix)]
        if let Some((owner, fd)) = self.exit_hook {
            let mut bytes = Vec::new();
            if self.conn.alive() && !self.running {
                if let Some(was) = self.qemu_mode.filter(|&was| was != self.phys) {
                    let mode: &[u8] = if was {
                        b"Qqemu.PhyMemMode:1"
                    } else {
                        b"Qqemu.PhyMemMode:0"
                    };
                    packet::frame(&mut bytes, mode);
                }
                packet::frame(&mut bytes, b"D");
            }
            crate::native::exit_hook::set(owner, fd, &bytes);
        }
    }

    /// Negotiates over a connection already made.
    pub fn over(conn: Conn, phys: Option<bool>, write: bool) -> Result<Gdb> {
        let mut g = Gdb {
            conn,
            writable: write,
            packet_size: DEFAULT_PACKET_SIZE,
            qemu_mode: None,
            phys: false,
            monitor_mem: false,
            xfer_features: false,
            x_packet: None,
            running: false,
            noted_split: false,
            registers: None,
            cmd: Vec::with_capacity(64),
            exit_hook: None,
        };
        g.negotiate(phys)?;
        Ok(g)
    }

    fn negotiate(&mut self, phys: Option<bool>) -> Result<()> {
        let mut no_ack = false;
        let features = self.conn.request(b"qSupported")?.to_vec();
        for f in features.split(|&b| b == b';') {
            if let Some(size) = f.strip_prefix(b"PacketSize=") {
                self.packet_size = parse_hex(size)
                    .and_then(|s| usize::try_from(s).ok())
                    .filter(|&s| s >= 64)
                    .unwrap_or(DEFAULT_PACKET_SIZE);
            } else if f == b"QStartNoAckMode+" {
                no_ack = true;
            } else if f == b"qXfer:features:read+" {
                self.xfer_features = true;
            }
        }
        if no_ack && self.conn.request(b"QStartNoAckMode")? == b"OK" {
            self.conn.no_ack();
        }
        self.qemu_mode = match self.conn.request(b"qqemu.PhyMemMode")? {
            b"0" => Some(false),
            b"1" => Some(true),
            _ => None,
        };
        if self.qemu_mode.is_none() {
            self.monitor_mem = self.has_monitor_memory()?;
        }
        self.phys = match (phys, self.qemu_mode) {
            (Some(false), _) => false,
            (_, Some(_)) => true,
            (Some(true), None) if self.monitor_mem => true,
            (Some(true), None) => {
                return Err(Error::new(
                    Errno::EOPNOTSUPP,
                    "",
                    "--gdb-phys: this stub has no physical addressing (neither QEMU's \
                     Qqemu.PhyMemMode nor OpenOCD's read_memory ... phys); without \
                     --gdb-phys memlua uses the addresses the stub's m and M take",
                ))
            }
            (None, None) => false,
        };
        if let Some(was) = self.qemu_mode {
            if was != self.phys {
                self.set_qemu_phys(self.phys)?;
            }
        }
        // The stop state: an all-stop stub halts the target for a
        // debugger that attaches (QEMU stops the guest on connect).
        self.conn.send(b"?")?;
        self.wait_stop()
    }

    fn set_qemu_phys(&mut self, on: bool) -> Result<()> {
        let req: &[u8] = if on {
            b"Qqemu.PhyMemMode:1"
        } else {
            b"Qqemu.PhyMemMode:0"
        };
        match self.conn.request(req)? {
            b"OK" => Ok(()),
            other => Err(garbage("Qqemu.PhyMemMode", other)),
        }
    }

    /// Whether the stub has OpenOCD's width-exact memory commands: its
    /// help names them with their arguments.
    fn has_monitor_memory(&mut self) -> Result<bool> {
        match self.monitor_raw("help read_memory") {
            Ok(text) => Ok(text.contains("read_memory address width count")),
            Err(e) if e.errno == Errno::EIO && !self.conn.alive() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// Waits for a stop reply (after `?`, an interrupt, or `c` ending).
    fn wait_stop(&mut self) -> Result<()> {
        loop {
            let r = self.conn.recv()?;
            if packet::is_stop_reply(r) {
                return Ok(());
            }
            match r.first() {
                Some(b'W' | b'X') => {
                    let shown = String::from_utf8_lossy(r).into_owned();
                    return Err(Error::new(
                        Errno::EIO,
                        "",
                        format!("the target has exited ('{shown}')"),
                    ));
                }
                // Console output while it runs; an old stub's empty
                // answer to `?`.
                Some(b'O') => {}
                None => return Ok(()),
                _ => {}
            }
        }
    }

    /// Whether the target runs.
    pub fn running(&self) -> bool {
        self.running
    }

    /// Whether physical addresses are in use.
    pub fn phys(&self) -> bool {
        self.phys
    }

    /// Stops a running target (0x03, then its stop reply); true if it ran.
    pub fn halt(&mut self) -> Result<bool> {
        if !self.running {
            return Ok(false);
        }
        self.conn.send_raw(0x03)?;
        self.wait_stop()?;
        self.running = false;
        self.update_exit_hook();
        Ok(true)
    }

    /// Lets a halted target run (`c`); true if it was halted.
    pub fn resume(&mut self) -> Result<bool> {
        if self.running {
            return Ok(false);
        }
        self.conn.send(b"c")?;
        self.running = true;
        self.update_exit_hook();
        Ok(true)
    }

    /// Runs `f` with the target halted: an all-stop stub takes no request
    /// while it runs. A target that ran is resumed after.
    fn halted<T>(&mut self, f: impl FnOnce(&mut Gdb) -> Result<T>) -> Result<T> {
        if !self.running {
            return f(self);
        }
        self.halt()?;
        let r = f(self);
        let resumed = self.resume();
        match (r, resumed) {
            (Ok(v), Ok(_)) => Ok(v),
            (Ok(_), Err(e)) | (Err(e), _) => Err(e),
        }
    }

    /// A monitor command's output (`qRcmd`), the way GDB's `monitor` runs
    /// it: `\r\n` line ends become `\n`.
    pub fn monitor(&mut self, cmd: &str) -> Result<String> {
        self.halted(|g| g.monitor_raw(cmd))
    }

    fn monitor_raw(&mut self, cmd: &str) -> Result<String> {
        self.cmd.clear();
        self.cmd.extend_from_slice(b"qRcmd,");
        packet::push_hex(&mut self.cmd, cmd.as_bytes());
        self.conn.send(&self.cmd)?;
        let mut out = Vec::new();
        loop {
            let r = self.conn.recv()?;
            if let Some(text) = packet::console_output(r) {
                out.extend_from_slice(&text);
                continue;
            }
            if r == b"OK" {
                break;
            }
            if r.is_empty() {
                return Err(Error::new(
                    Errno::EOPNOTSUPP,
                    ops::GDB_MONITOR,
                    "this GDB stub has no monitor commands (it does not answer qRcmd)",
                ));
            }
            if let Some(code) = packet::error_code(r) {
                let said = text_of(&out);
                let said = said.trim_end();
                return Err(Error::new(
                    Errno::EIO,
                    ops::GDB_MONITOR,
                    format!(
                        "the stub's monitor command '{cmd}' failed (E{code:02x}){}{said}",
                        if said.is_empty() { "" } else { ": " }
                    ),
                ));
            }
            if packet::is_stop_reply(r) {
                continue;
            }
            // OpenOCD sends a command's result as plain hex, last.
            match packet::decode_hex(r) {
                Some(text) => {
                    out.extend_from_slice(&text);
                    break;
                }
                None => return Err(garbage("qRcmd", r)),
            }
        }
        Ok(text_of(&out))
    }

    /// The general registers by name (from the target description and the
    /// `g` packet), little-endian.
    pub fn registers(&mut self) -> Result<Vec<(String, u64)>> {
        if !self.xfer_features {
            return Err(Error::new(
                Errno::EOPNOTSUPP,
                ops::GDB_REGISTERS,
                "this GDB stub sends no target description (qXfer:features:read), \
                 so its registers have no names",
            ));
        }
        self.halted(|g| {
            if g.registers.is_none() {
                let mut fetch = |annex: &str| g.xfer_features_doc(annex);
                let desc = regs::describe(&mut fetch)?;
                g.registers = Some(desc);
            }
            let reply = g.conn.request(b"g")?;
            if let Some(code) = packet::error_code(reply) {
                return Err(Error::new(
                    Errno::EIO,
                    ops::GDB_REGISTERS,
                    format!("the stub refused to send the registers (E{code:02x})"),
                ));
            }
            let raw = regs::decode_g(reply).ok_or_else(|| garbage("g", reply))?;
            Ok(regs::values(g.registers.as_deref().unwrap_or(&[]), &raw))
        })
    }

    /// One document of the target description (`qXfer:features:read`).
    fn xfer_features_doc(&mut self, annex: &str) -> Result<Vec<u8>> {
        let chunk = self.packet_size.saturating_sub(16).max(64);
        let mut doc = Vec::new();
        loop {
            let req = format!("qXfer:features:read:{annex}:{:x},{chunk:x}", doc.len());
            let r = self.conn.request(req.as_bytes())?;
            let (last, data) = match r.split_first() {
                Some((b'l', data)) => (true, data),
                Some((b'm', data)) => (false, data),
                _ => {
                    let code =
                        packet::error_code(r).map_or(String::new(), |c| format!(" (E{c:02x})"));
                    return Err(Error::new(
                        Errno::EIO,
                        ops::GDB_REGISTERS,
                        format!("the stub did not send its target description '{annex}'{code}"),
                    ));
                }
            };
            let data = packet::unescape_binary(data).ok_or_else(|| garbage("qXfer", r))?;
            doc.extend_from_slice(&data);
            if last || data.is_empty() {
                return Ok(doc);
            }
        }
    }

    /// Refuses what the stub cannot reach: kernel memory and buffers.
    fn check_space(&self, space: Space, op: &'static str) -> Result<()> {
        match space {
            Space::Phys => Ok(()),
            Space::Kernel => Err(Error::unsupported(
                "gdb",
                op,
                "reach kernel virtual memory by name (kmem); mem.* reaches the \
                 target's memory",
            )),
            Space::Process => Err(Error::unsupported(
                "gdb",
                op,
                "hand out buffers of this process",
            )),
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.writable {
            return Ok(());
        }
        Err(Error::new(
            Errno::EROFS,
            "",
            "the 'gdb' backend is read-only unless memlua is started with -w (--write)",
        ))
    }

    /// Once a run: this stub may split a wide `m`/`M`.
    fn note_split(&mut self, w: Width) {
        if self.noted_split || w == Width::W8 || self.qemu_mode.is_some() {
            return;
        }
        self.noted_split = true;
        eprintln!(
            "memlua: note: this GDB stub has no width-exact memory command (OpenOCD's \
             read_memory); a {}-bit access goes as m/M of {} bytes, which the stub may \
             split into smaller accesses",
            w.bits(),
            w.bytes()
        );
    }

    fn phys_suffix(&self) -> &'static str {
        if self.phys {
            " phys"
        } else {
            ""
        }
    }

    /// `m`: exactly `buf.len()` bytes at `addr`.
    fn read_m(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.cmd.clear();
        self.cmd.push(b'm');
        packet::push_hex_u64(&mut self.cmd, addr);
        self.cmd.push(b',');
        packet::push_hex_u64(&mut self.cmd, buf.len() as u64);
        let r = self.conn.request(&self.cmd)?;
        if packet::decode_hex_into(r, buf) {
            return Ok(());
        }
        if let Some(code) = packet::error_code(r) {
            return Err(refused("read", buf.len(), addr, code));
        }
        // Fewer bytes than asked: those before an address it cannot read.
        if r.len() < buf.len() * 2 && r.len() % 2 == 0 && packet::decode_hex(r).is_some() {
            return Err(Error::new(
                Errno::EFAULT,
                "",
                format!(
                    "the stub read only {} of {} bytes at {addr:#x}",
                    r.len() / 2,
                    buf.len()
                ),
            )
            .at(addr));
        }
        Err(garbage("m", r))
    }

    /// `M`: `data` at `addr`, as hex.
    fn write_m(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.cmd.clear();
        self.cmd.push(b'M');
        packet::push_hex_u64(&mut self.cmd, addr);
        self.cmd.push(b',');
        packet::push_hex_u64(&mut self.cmd, data.len() as u64);
        self.cmd.push(b':');
        packet::push_hex(&mut self.cmd, data);
        let r = self.conn.request(&self.cmd)?;
        check_ok(r, "write", data.len(), addr, "M")
    }

    /// `X`: `data` at `addr`, binary; Ok(false) if the stub does not take
    /// `X` (an empty reply).
    fn write_x(&mut self, addr: u64, data: &[u8]) -> Result<bool> {
        self.cmd.clear();
        self.cmd.push(b'X');
        packet::push_hex_u64(&mut self.cmd, addr);
        self.cmd.push(b',');
        packet::push_hex_u64(&mut self.cmd, data.len() as u64);
        self.cmd.push(b':');
        packet::escape_binary(&mut self.cmd, data);
        let r = self.conn.request(&self.cmd)?;
        if r.is_empty() {
            return Ok(false);
        }
        check_ok(r, "write", data.len(), addr, "X").map(|()| true)
    }

    /// One OpenOCD `read_memory` of `count` values of `w` at `addr`.
    fn read_monitor(&mut self, addr: u64, w: Width, count: usize) -> Result<Vec<u64>> {
        let cmd = format!(
            "read_memory {addr:#x} {} {count}{}",
            w.bits(),
            self.phys_suffix()
        );
        let text = self
            .monitor_raw(&cmd)
            .map_err(|e| monitor_refused(e, addr))?;
        let values: Option<Vec<u64>> = text.split_whitespace().map(parse_number).collect();
        match values {
            Some(v) if v.len() == count => Ok(v),
            _ => Err(Error::new(
                Errno::EFAULT,
                "",
                format!(
                    "the stub's read_memory at {addr:#x} said: {}",
                    text.trim_end()
                ),
            )
            .at(addr)),
        }
    }

    /// One OpenOCD `write_memory` of `values` of `w` at `addr`.
    fn write_monitor(&mut self, addr: u64, w: Width, values: &[u64]) -> Result<()> {
        let list: Vec<String> = values.iter().map(|v| format!("{v:#x}")).collect();
        let cmd = format!(
            "write_memory {addr:#x} {} {{{}}}{}",
            w.bits(),
            list.join(" "),
            self.phys_suffix()
        );
        let text = self
            .monitor_raw(&cmd)
            .map_err(|e| monitor_refused(e, addr))?;
        if text.trim().is_empty() {
            return Ok(());
        }
        Err(Error::new(
            Errno::EFAULT,
            "",
            format!(
                "the stub's write_memory at {addr:#x} said: {}",
                text.trim_end()
            ),
        )
        .at(addr))
    }

    fn read_one(&mut self, addr: u64, w: Width) -> Result<u64> {
        if self.monitor_mem {
            return Ok(self.read_monitor(addr, w, 1)?[0]);
        }
        self.note_split(w);
        let mut b = [0u8; 8];
        self.read_m(addr, &mut b[..w.bytes() as usize])?;
        Ok(u64::from_le_bytes(b))
    }

    fn write_one(&mut self, addr: u64, w: Width, v: u64) -> Result<()> {
        let v = v & w.mask();
        if self.monitor_mem {
            return self.write_monitor(addr, w, &[v]);
        }
        self.note_split(w);
        self.write_m(addr, &v.to_le_bytes()[..w.bytes() as usize])
    }

    fn read_bulk(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        // Physical addresses on OpenOCD: only its monitor commands have
        // them.
        let by_monitor = self.monitor_mem && self.phys;
        let chunk = if by_monitor {
            MONITOR_CHUNK
        } else {
            (self.packet_size / 2).max(1)
        };
        let mut done = 0;
        for part in buf.chunks_mut(chunk) {
            let at = addr + done as u64;
            let r = if by_monitor {
                self.read_monitor(at, Width::W8, part.len()).map(|v| {
                    for (b, v) in part.iter_mut().zip(v) {
                        *b = v as u8;
                    }
                })
            } else {
                self.read_m(at, part)
            };
            r.map_err(|e| e.done(done as u64).at(at))?;
            done += part.len();
        }
        Ok(())
    }

    fn write_bulk(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        let mut done = 0;
        while done < data.len() {
            let at = addr + done as u64;
            let rest = &data[done..];
            let r = if self.monitor_mem && self.phys {
                let n = rest.len().min(MONITOR_CHUNK);
                let values: Vec<u64> = rest[..n].iter().map(|&b| u64::from(b)).collect();
                self.write_monitor(at, Width::W8, &values).map(|()| n)
            } else {
                self.write_chunk(at, rest)
            };
            done += r.map_err(|e| e.done(done as u64).at(at))?;
        }
        Ok(())
    }

    /// Writes as much of `data` at `addr` as one packet holds: `X` where
    /// the stub takes it, else `M`. The bytes written.
    fn write_chunk(&mut self, addr: u64, data: &[u8]) -> Result<usize> {
        // "$X<addr>,<len>:" and "#xx": at most 1 + 16 + 1 + 16 + 1 + 3.
        let room = self.packet_size.saturating_sub(40).max(16);
        if self.x_packet != Some(false) {
            let mut n = 0;
            let mut size = 0;
            for &b in data {
                let cost = if packet::needs_escape(b) { 2 } else { 1 };
                if size + cost > room {
                    break;
                }
                size += cost;
                n += 1;
            }
            if self.write_x(addr, &data[..n])? {
                self.x_packet = Some(true);
                return Ok(n);
            }
            self.x_packet = Some(false);
        }
        let n = data.len().min((room / 2).max(1));
        self.write_m(addr, &data[..n])?;
        Ok(n)
    }

    /// Leaves the target running and the stub as it was: QEMU's address
    /// mode back, then `D`.
    fn detach(&mut self) {
        if !self.conn.alive() {
            return;
        }
        if self.running && self.halt().is_err() {
            return;
        }
        if let Some(was) = self.qemu_mode {
            if was != self.phys {
                let _ = self.set_qemu_phys(was);
            }
        }
        let _ = self.conn.request(b"D");
    }
}

impl Drop for Gdb {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some((owner, _)) = self.exit_hook {
            crate::native::exit_hook::clear(owner);
        }
        self.detach();
    }
}

impl crate::Backend for Gdb {
    fn name(&self) -> &str {
        "gdb"
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn read(&mut self, space: Space, addr: u64, w: Width) -> Result<u64> {
        self.check_space(space, ops::access(space, w, false))?;
        w.check_aligned(addr, "address")?;
        self.halted(|g| g.read_one(addr, w))
    }

    fn write(&mut self, space: Space, addr: u64, w: Width, v: u64) -> Result<()> {
        self.check_space(space, ops::access(space, w, true))?;
        w.check_value(v)?;
        w.check_aligned(addr, "address")?;
        self.check_writable()?;
        self.halted(|g| g.write_one(addr, w, v))
    }

    fn read_bytes(&mut self, space: Space, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.check_space(space, ops::bulk(space, false))?;
        check_span(addr, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        self.halted(|g| g.read_bulk(addr, buf))
    }

    fn write_bytes(&mut self, space: Space, addr: u64, buf: &[u8]) -> Result<()> {
        self.check_space(space, ops::bulk(space, true))?;
        check_span(addr, buf.len())?;
        self.check_writable()?;
        if buf.is_empty() {
            return Ok(());
        }
        self.halted(|g| g.write_bulk(addr, buf))
    }

    fn as_gdb(&mut self) -> Option<&mut Gdb> {
        Some(self)
    }
}

/// EFAULT for a transfer that would run past the end of the address
/// space.
fn check_span(addr: u64, len: usize) -> Result<()> {
    if len == 0 || addr.checked_add(len as u64 - 1).is_some() {
        return Ok(());
    }
    Err(Error::new(
        Errno::EFAULT,
        "",
        format!("{len} bytes at {addr:#x} run past the end of the address space"),
    )
    .span(addr, len as u64))
}

/// EFAULT for the stub's `Enn`.
fn refused(what: &str, len: usize, addr: u64, code: u8) -> Error {
    Error::new(
        Errno::EFAULT,
        "",
        format!("the stub refused to {what} {len} bytes at {addr:#x} (E{code:02x})"),
    )
    .at(addr)
}

fn check_ok(r: &[u8], what: &str, len: usize, addr: u64, cmd: &str) -> Result<()> {
    if r == b"OK" {
        return Ok(());
    }
    match packet::error_code(r) {
        Some(code) => Err(refused(what, len, addr, code)),
        None => Err(garbage(cmd, r)),
    }
}

/// A monitor command that failed at an address is EFAULT there.
fn monitor_refused(e: Error, addr: u64) -> Error {
    if e.errno == Errno::EIO && e.op == ops::GDB_MONITOR {
        Error::new(Errno::EFAULT, "", e.message).at(addr)
    } else {
        e
    }
}

/// EIO for a well-framed reply that makes no sense for the request.
fn garbage(request: &str, reply: &[u8]) -> Error {
    let shown: String = String::from_utf8_lossy(reply).chars().take(40).collect();
    Error::new(
        Errno::EIO,
        "",
        format!("the stub answered {request} with '{shown}', which is not a reply to it"),
    )
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n")
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter().try_fold(0u64, |v, &c| {
        Some(v << 4 | u64::from(packet::hex_digit(c)?))
    })
}

/// `0x1f` or `31`, as OpenOCD prints values.
fn parse_number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests;
