//! A test that needs what this machine lacks (a capability, a device, a
//! tmpfs) says so in one line, `skipped: TEST: WHY`, and returns. Cargo
//! hides a passing test's output, so `.ci/run` runs the tests with
//! `--show-output` and counts these lines as skipped, not passed: call
//! `skip` once per test, just before it returns.

/// Prints `skipped: <this test>: <why>`. The test harness names each
/// test's thread after the test.
pub fn skip(why: &str) {
    let t = std::thread::current();
    println!("skipped: {}: {why}", t.name().unwrap_or("(unnamed test)"));
}
