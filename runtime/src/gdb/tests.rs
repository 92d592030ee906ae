//! The backend on byte streams (recorded.rs): what a stub sends is fed
//! in, what memlua sends is kept and compared. Replies are QEMU 7.2's
//! (recorded) unless a test says otherwise; OpenOCD's are as its
//! gdb_server.c and target.c write them.

use super::recorded::{cat, conn, pkt, text};
use super::*;
use crate::Backend;

/// QEMU 7.2 `qemu-system-x86_64 -machine q35 -S -gdb tcp::PORT`, from
/// connect to the stop state: no no-ack mode, so every packet is
/// acknowledged; `qqemu.PhyMemMode` answers 0, setting it answers OK.
const QEMU_HELLO: &[u8] =
    b"+$PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+#92\
+$0#30\
+$OK#9a\
+$T05thread:01;#07";

/// What memlua sends for QEMU_HELLO.
const QEMU_HELLO_SENT: &str = "$qSupported#37+$qqemu.PhyMemMode#2c+$Qqemu.PhyMemMode:1#77+$?#3f+";

/// A whole session with QEMU 7.2 (q35, -S), recorded between memlua and
/// the stub: a read32 of the HPET, `monitor info status`, a read32 of
/// unassigned physical memory, then the exit.
const QEMU_SESSION_STUB: &[u8] =
    b"+$PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+#92\
+$0#30+$OK#9a+$T05thread:01;#07+$01a28680#ca\
+$O564d207374617475733a2070617573656420287072656c61756e6368290d0a#15$OK#9a\
+$00000000#80+$OK#9a+$OK#9a";
const QEMU_SESSION_MEMLUA: &str = "$qSupported#37+$qqemu.PhyMemMode#2c+$Qqemu.PhyMemMode:1#77\
+$?#3f+$mfed00000,4#ec+$qRcmd,696e666f20737461747573#14++$m100000000,4#7e+\
$Qqemu.PhyMemMode:0#76+$D#44+";

#[test]
fn a_recorded_qemu_session_plays_back_byte_for_byte() {
    let (c, sent) = conn(QEMU_SESSION_STUB);
    let mut g = Gdb::over(c, None, false).unwrap();
    assert_eq!(
        g.read(Space::Phys, 0xfed00000, Width::W32).unwrap(),
        0x8086a201
    );
    assert_eq!(
        g.monitor("info status").unwrap(),
        "VM status: paused (prelaunch)\n"
    );
    assert_eq!(g.read(Space::Phys, 0x1_0000_0000, Width::W32).unwrap(), 0);
    drop(g);
    assert_eq!(text(&sent), QEMU_SESSION_MEMLUA);
}

#[test]
fn qemu_handshake_asks_for_physical_addresses_and_the_stop_state() {
    let (c, sent) = conn(QEMU_HELLO);
    let g = Gdb::over(c, None, false).unwrap();
    assert!(g.phys() && !g.running());
    assert_eq!(g.packet_size, 0x1000);
    assert!(g.xfer_features && !g.monitor_mem);
    assert_eq!(text(&sent), QEMU_HELLO_SENT);
}

#[test]
fn detaching_restores_qemus_mode_then_sends_d() {
    let input = cat(&[QEMU_HELLO, b"+$OK#9a+$OK#9a"]);
    let (c, sent) = conn(&input);
    drop(Gdb::over(c, None, false).unwrap());
    assert_eq!(
        text(&sent),
        format!("{QEMU_HELLO_SENT}$Qqemu.PhyMemMode:0#76+$D#44+")
    );
}

#[test]
fn a_read_is_one_m_of_its_width_little_endian() {
    // The q35 HPET's capabilities register.
    let input = cat(&[QEMU_HELLO, b"+$01a28680#ca"]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let v = g.read(Space::Phys, 0xfed00000, Width::W32).unwrap();
    assert_eq!(v, 0x8086a201);
    assert!(text(&sent).ends_with("$mfed00000,4#ec+"), "{}", text(&sent));
    std::mem::forget(g); // no detach: the stream has ended
}

#[test]
fn enn_is_efault_naming_the_address_and_the_code() {
    // QEMU without physical mode, a guest address with no memory.
    let input = cat(&[QEMU_HELLO, b"+$E14#aa"]);
    let (c, _) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let e = g.read(Space::Phys, 0x1_0000_0000, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert!(e.message.contains("0x100000000"), "{e}");
    assert!(e.message.contains("E14"), "{e}");
    assert_eq!(e.addr(), Some(0x1_0000_0000));
    std::mem::forget(g);
}

#[test]
fn bulk_writes_use_x_with_binary_escapes_where_the_stub_takes_it() {
    let input = cat(&[QEMU_HELLO, b"+$OK#9a"]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, None, true).unwrap();
    g.write_bytes(Space::Phys, 0x1000, b"a#$}*b").unwrap();
    assert!(
        text(&sent).contains("$X1000,6:a}\x03}\x04}]}\x0ab#"),
        "{}",
        text(&sent)
    );
    std::mem::forget(g);
}

#[test]
fn bulk_writes_fall_back_to_m_when_x_gets_an_empty_reply() {
    let input = cat(&[QEMU_HELLO, b"+$#00+$OK#9a+$OK#9a"]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, None, true).unwrap();
    g.write_bytes(Space::Phys, 0x1000, &[1, 2]).unwrap();
    // The second write goes straight to M.
    g.write_bytes(Space::Phys, 0x2000, &[3]).unwrap();
    let s = text(&sent);
    assert!(s.contains("$M1000,2:0102#"), "{s}");
    assert_eq!(s.matches("$X").count(), 1, "{s}");
    assert!(s.contains("$M2000,1:03#"), "{s}");
    std::mem::forget(g);
}

#[test]
fn bulk_reads_are_chunked_by_the_packet_size() {
    // PacketSize=1000 (hex): 0x800 bytes per m.
    let a = "ab".repeat(0x800);
    let b = "cd".repeat(0x10);
    let input = cat(&[
        QEMU_HELLO,
        b"+",
        &pkt(a.as_bytes()),
        b"+",
        &pkt(b.as_bytes()),
    ]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let mut buf = vec![0; 0x810];
    g.read_bytes(Space::Phys, 0x40000, &mut buf).unwrap();
    assert!(buf[..0x800].iter().all(|&x| x == 0xab));
    assert!(buf[0x800..].iter().all(|&x| x == 0xcd));
    let s = text(&sent);
    assert!(
        s.contains("$m40000,800#") && s.contains("$m40800,10#"),
        "{s}"
    );
    std::mem::forget(g);
}

#[test]
fn a_failed_chunk_says_how_much_was_read_first() {
    let a = "00".repeat(0x800);
    let input = cat(&[QEMU_HELLO, b"+", &pkt(a.as_bytes()), b"+$E14#aa"]);
    let (c, _) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let mut buf = vec![0; 0x1000];
    let e = g.read_bytes(Space::Phys, 0x0, &mut buf).unwrap_err();
    assert_eq!(
        (e.errno, e.done, e.addr()),
        (Errno::EFAULT, Some(0x800), Some(0x800))
    );
    std::mem::forget(g);
}

#[test]
fn monitor_output_comes_in_o_chunks_then_ok() {
    // QEMU's `monitor info status`, split as a stub may split it.
    let input = cat(&[
        QEMU_HELLO,
        b"+",
        &pkt(b"O564d207374617475733a20"),
        &pkt(b"O7061757365640d0a"),
        b"$OK#9a",
    ]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    assert_eq!(g.monitor("info status").unwrap(), "VM status: paused\n");
    assert!(text(&sent).contains("$qRcmd,696e666f20737461747573#"));
    std::mem::forget(g);
}

#[test]
fn a_monitor_command_that_fails_is_eio_with_its_output() {
    let input = cat(&[QEMU_HELLO, b"+", &o_packet("unknown"), b"$E01#a6"]);
    let (c, _) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let e = g.monitor("nonsense").unwrap_err();
    assert_eq!(e.errno, Errno::EIO);
    assert!(
        e.message.contains("'nonsense' failed (E01): unknown"),
        "{e}"
    );
    std::mem::forget(g);
}

#[test]
fn a_stop_reply_before_an_answer_is_passed_over() {
    // QEMU stops a running guest when a debugger attaches and says so.
    let input = cat(&[b"$T02thread:01;#04", QEMU_HELLO]);
    let (c, sent) = conn(&input);
    let g = Gdb::over(c, None, false).unwrap();
    assert!(g.phys());
    assert!(text(&sent).starts_with("$qSupported#37++"));
    std::mem::forget(g);
}

/// OpenOCD: no-ack mode, and its memory commands (gdb_server.c sends a
/// command's result as plain hex).
fn openocd_hello() -> Vec<u8> {
    let help = "read_memory address width count ['phys']\n";
    let mut hex = Vec::new();
    packet::push_hex(&mut hex, help.as_bytes());
    cat(&[
        b"+",
        &pkt(b"PacketSize=4000;qXfer:memory-map:read+;qXfer:features:read+;qXfer:threads:read+;QStartNoAckMode+;vContSupported+"),
        b"+",
        &pkt(b"OK"),
        &pkt(b""),
        &pkt(&hex),
        &pkt(b"S05"),
    ])
}

/// `O` and `s` in hex: console output.
fn o_packet(s: &str) -> Vec<u8> {
    let mut hex = b"O".to_vec();
    packet::push_hex(&mut hex, s.as_bytes());
    pkt(&hex)
}

/// `s` in hex, framed: OpenOCD's result of a monitor command.
fn hex_text(s: &str) -> Vec<u8> {
    let mut hex = Vec::new();
    packet::push_hex(&mut hex, s.as_bytes());
    pkt(&hex)
}

#[test]
fn openocd_single_accesses_keep_their_width_through_its_monitor() {
    let input = cat(&[&openocd_hello(), &hex_text("0x410fc241\n"), &pkt(b"OK")]);
    let (c, sent) = conn(&input);
    let mut g = Gdb::over(c, Some(true), true).unwrap();
    assert!(g.monitor_mem && g.phys() && !g.conn.acks());
    assert_eq!(
        g.read(Space::Phys, 0xe000ed00, Width::W32).unwrap(),
        0x410fc241
    );
    g.write(Space::Phys, 0x20000000, Width::W16, 0xbeef)
        .unwrap();
    let s = text(&sent);
    let mut want = Vec::new();
    packet::push_hex(&mut want, b"read_memory 0xe000ed00 32 1 phys");
    assert!(s.contains(&String::from_utf8(want).unwrap()), "{s}");
    let mut want = Vec::new();
    packet::push_hex(&mut want, b"write_memory 0x20000000 16 {0xbeef} phys");
    assert!(s.contains(&String::from_utf8(want).unwrap()), "{s}");
    // No acknowledgements once no-ack mode is on.
    let after = s.split("$QStartNoAckMode#b0+").nth(1).unwrap();
    assert!(!after.contains('+'), "{s}");
    std::mem::forget(g);
}

#[test]
fn openocd_failing_to_read_is_efault() {
    let input = cat(&[
        &openocd_hello(),
        &o_packet("failed to read memory\n"),
        &pkt(b"E04"),
    ]);
    let (c, _) = conn(&input);
    let mut g = Gdb::over(c, Some(true), false).unwrap();
    let e = g.read(Space::Phys, 0x40000000, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EFAULT);
    assert!(e.message.contains("failed to read memory"), "{e}");
    std::mem::forget(g);
}

#[test]
fn gdb_phys_on_a_stub_without_physical_addressing_is_refused() {
    // A J-Link GDB server: no qqemu.*, no read_memory.
    let input = cat(&[
        b"+",
        &pkt(b"PacketSize=4000;qXfer:features:read+;QStartNoAckMode+"),
        b"+",
        &pkt(b"OK"),
        &pkt(b""),
        &pkt(b""),
    ]);
    let (c, _) = conn(&input);
    let e = Gdb::over(c, Some(true), false).err().unwrap();
    assert_eq!(e.errno, Errno::EOPNOTSUPP);
    assert!(e.message.contains("no physical addressing"), "{e}");
}

#[test]
fn a_closed_connection_is_eio_and_stays_so() {
    let (c, _) = conn(QEMU_HELLO);
    let mut g = Gdb::over(c, None, false).unwrap();
    let e = g.read(Space::Phys, 0, Width::W8).unwrap_err();
    assert_eq!(e.errno, Errno::EIO);
    assert!(e.message.contains("closed the connection"), "{e}");
    let e = g.read(Space::Phys, 0, Width::W8).unwrap_err();
    assert!(
        e.message.contains("connection to the GDB stub is lost"),
        "{e}"
    );
}

#[test]
fn a_framed_reply_that_is_no_answer_is_eio_and_the_connection_lives_on() {
    let input = cat(&[QEMU_HELLO, b"+$hello#14+$OK#9a"]);
    let (c, _) = conn(&input);
    let mut g = Gdb::over(c, None, false).unwrap();
    let e = g.read(Space::Phys, 0, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EIO);
    assert!(e.message.contains("answered m with 'hello'"), "{e}");
    assert!(g.conn.alive());
    std::mem::forget(g);
}

#[test]
fn kernel_memory_and_buffers_are_not_the_stubs() {
    let (c, _) = conn(QEMU_HELLO);
    let mut g = Gdb::over(c, None, false).unwrap();
    let e = g.read(Space::Kernel, 0, Width::W32).unwrap_err();
    assert_eq!(e.errno, Errno::EOPNOTSUPP);
    assert!(e.message.contains("'gdb' backend cannot"), "{e}");
    assert_eq!(e.op, "kmem.read32");
    let e = g.process_map(4096).unwrap_err();
    assert_eq!(e.errno, Errno::EOPNOTSUPP);
    let e = g.write(Space::Phys, 0, Width::W8, 1).unwrap_err();
    assert_eq!(e.errno, Errno::EROFS);
    std::mem::forget(g);
}
