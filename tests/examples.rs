//! Every recipe under examples/ runs on the simulator and reaches its end.

mod support;

use support::memlua;

fn example(name: &str) -> String {
    let path = format!("{}/examples/{name}.lua", env!("CARGO_MANIFEST_DIR"));
    let mut c = memlua();
    let o = c.arg(&path).assert().success().get_output().clone();
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.ends_with(&format!("{name}: OK\n")), "{out}");
    out
}

#[test]
fn uart_hello() {
    assert!(example("uart-hello").contains("LCR = 0x03 (WLS=3 8BITS"));
}

#[test]
fn dma_loopback() {
    assert!(example("dma-loopback").contains("-> physical 0x"));
}

#[test]
fn framebuffer_wc() {
    example("framebuffer-wc");
}

#[test]
fn mtrr_audit() {
    let out = example("mtrr-audit");
    assert!(
        out.contains("0xfe000000 is covered by: uncacheable"),
        "{out}"
    );
    assert!(out.contains("conflicts: 0"));
}

/// The same recipe runs on QEMU's q35 (tests/qemu.rs).
#[test]
fn hpet_on_the_q35_board() {
    let path = format!("{}/examples/hpet.lua", env!("CARGO_MANIFEST_DIR"));
    let o = memlua()
        .args(["--board", "q35", &path])
        .assert()
        .success()
        .get_output()
        .clone();
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.contains("id 0x8086a201 (vendor 0x8086, 3 timers, rev 1)"),
        "{out}"
    );
    assert!(out.ends_with("hpet: OK\n"), "{out}");
}

#[test]
fn kernel_peek() {
    let out = example("kernel-peek");
    assert!(
        out.contains("hz      @ 0x") && out.contains(": 1000\n"),
        "{out}"
    );
}
