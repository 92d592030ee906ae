//! What the CLI test files share: the memlua binary in a clean environment.

use assert_cmd::Command;

/// The memlua binary with none of its environment variables set, so a
/// developer's MEMLUA_* settings cannot change what a test sees.
pub fn memlua() -> Command {
    let mut c = Command::cargo_bin("memlua").unwrap();
    for v in [
        "MEMLUA_INIT",
        "MEMLUA_PATH",
        "MEMLUA_BACKEND",
        "MEMLUA_BOARD",
    ] {
        c.env_remove(v);
    }
    c
}
