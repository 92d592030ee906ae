//! A board-file mutator: mutants of runtime/boards/pc.toml (edge numbers,
//! lost, doubled and swapped lines, wrong keys and kinds, truncation,
//! bytes that are not UTF-8) go through `Board::parse_bytes` and, when
//! accepted, `Sim::new` and a few accesses. None may panic, abort, die of
//! a signal or hang, and every refusal must say `file:line:column:`.
//!
//! Each batch of mutants runs in a child process (this test binary again,
//! running only `board_fuzz_child`), so an abort or a signal is caught as
//! surely as a panic, and a batch that overruns its time limit is killed
//! and reported as a hang. The child's address space is capped so that an
//! allocation sized from an unchecked value fails at once instead of
//! swapping.
//!
//! CI runs 2,000 mutants with a fixed seed, about a second in a debug
//! build (some 2,000 mutants a second). For a release, run a million with a
//! fresh seed (a few minutes in a release build):
//!
//! ```text
//! MEMLUA_FUZZ_ITERS=1000000 MEMLUA_FUZZ_SEED=$RANDOM \
//!     cargo test --release -p memlua-runtime --test board_fuzz -- --nocapture
//! ```
//!
//! A failure names the seed and the mutant and saves the mutant's bytes
//! under the target directory, so `memlua --board FILE` or a test can
//! replay it.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use memlua_runtime::sim::board::{Board, BUILTIN};
use memlua_runtime::sim::Sim;
use memlua_runtime::{Backend, Space, Width};

/// The child's job: the directory of one batch of mutants.
const CHILD_ENV: &str = "MEMLUA_BOARD_FUZZ_CHILD";
const DEFAULT_ITERS: u64 = 2000;
/// "memlua" in ASCII: CI runs the same mutants every time.
const DEFAULT_SEED: u64 = 0x6d65_6d6c_7561;
const BATCH: u64 = 125;
/// A batch takes well under a second in a debug build; this much longer
/// means a mutant hangs.
const BATCH_TIMEOUT: Duration = Duration::from_secs(60);
/// One mutant this slow is a hang in the making (a loop sized by a value).
const SLOW_MUTANT: Duration = Duration::from_secs(5);
/// Room for the test harness and the largest board the checks allow
/// (64 MiB of page directory), and no more.
const CHILD_ADDRESS_SPACE: u64 = 4 << 30;
/// The name mutants are parsed under; refusals must start with it.
const MUTANT_FILE: &str = "mutant.toml";

// ---- the PRNG --------------------------------------------------------------

/// xorshift64*: small, seedable, the same on every platform.
struct Rng(u64);

impl Rng {
    /// The generator for mutant `i` of run `seed`: each mutant can be
    /// rebuilt on its own.
    fn for_mutant(seed: u64, i: u64) -> Rng {
        // splitmix64 spreads neighbouring (seed, i) pairs apart; xorshift
        // must not start at 0.
        let mut z = seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

// ---- the mutations ---------------------------------------------------------

/// Numbers at the edges of every type a board value has, and past them.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0x1000",
    "0xFFF",
    "0x7FFFFFFF",
    "0x80000000",
    "0xFFFFFFFF",
    "0x100000000",
    "0x8000000000",
    "0x100000000000",
    "0x10000000000000",
    "0x7FFFFFFFFFFFF000",
    "0x8000000000000000",
    "0xFFFFFFFFFFFFF000",
    "0xFFFFFFFFFFFFFFFF",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "1000000000",
    "255",
    "256",
    "31",
    "52",
    "53",
    "4096",
    "0o777",
    "0b1",
    "1e9",
    "0.5",
    "inf",
    "nan",
    "\"0x1000\"",
    "true",
    "[]",
    "{}",
];

/// Every key a board knows, and some it does not.
const KEYS: &[&str] = &[
    "name",
    "description",
    "maxphyaddr",
    "holes",
    "clock_step_ns",
    "phys",
    "size",
    "version",
    "hz",
    "base",
    "domain",
    "data",
    "offset",
    "bytes",
    "text",
    "kind",
    "frequency",
    "enabled",
    "fixed",
    "variable_slots",
    "fixed_ranges",
    "variable",
    "len",
    "type",
    "owner",
    "busy",
    "colour",
    "",
];

/// String values: kinds, typos of kinds, types, policies, odd text.
const STRINGS: &[&str] = &[
    "",
    "timr",
    "timer",
    "uart16550",
    "pl011",
    "dma",
    "scratch",
    "framebuffer",
    "framebufer",
    "ne2000",
    "ones",
    "fault",
    "maybe",
    "write-back",
    "uncacheable",
    "write-combine",
    "fast",
    "lowmem",
    "bios",
    "vga",
    "acpi",
    "eightbyte",
    "\\u0000",
    "a\\u0000b",
    "caf\u{e9}",
    "\u{1F600}",
    "\\",
];

/// Lines a board could plausibly contain, most of them wrong here.
const LINES: &[&str] = &[
    "[[device]]",
    "[[ram]]",
    "[[rom]]",
    "[kernel]",
    "[mtrr]",
    "[[mtrr.variable]]",
    "variable_slots = 9223372036854775807",
    "variable_slots = 1000000000",
    "size = 0xFFFFFFFFFFFFFFFF",
    "size = 0x10000000000000",
    "base = 0xFFFFFFFFFFFFF000",
    "phys = 0xFFFFFFFFFFFFF000",
    "kind = \"timr\"",
    "kind = \"framebuffer\"",
    "frequency = 0",
    "frequency = 0xFFFFFFFFFFFFFFFF",
    "domain = -1",
    "hz = 0",
    "clock_step_ns = 0",
    "clock_step_ns = 0xFFFFFFFFFFFFFFFF",
    "maxphyaddr = 52",
    "maxphyaddr = 64",
    "holes = \"fault\"",
    "data = [{ offset = 0xFFFFFFFFFFFFFFFF, text = \"x\" }]",
    "data = [{ offset = 0x0 }]",
    "name = \"dup\"",
    "version = \"a\\u0000b\"",
    "type = \"write-back\"",
    "len = 0x8000000000000000",
    "busy = true",
    "enabled = false",
    "fixed = false",
];

/// Bytes to scatter: TOML punctuation and control bytes.
const GARBAGE: &[u8] = &[
    b'[', b']', b'{', b'}', b'"', b'\'', b'=', b'\n', b'\r', b'\t', b'#', b',', b'.', b'\\', b'-',
    b'0', b'x', 0, 0x7f,
];

/// Bytes that are never UTF-8, or start a sequence that is cut short.
/// Scattered more rarely: one of them makes the whole mutant a refusal at
/// the first step.
const NOT_UTF8: &[u8] = &[0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xf0, 0xf8, 0xff];

/// Byte ranges of the numbers in `text`: runs of number characters that
/// start with a digit or a sign after something that is not part of a key.
fn numbers(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let starts = (text[i].is_ascii_digit() || text[i] == b'-')
            && (i == 0 || matches!(text[i - 1], b' ' | b'=' | b'[' | b',' | b'\t'));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < text.len() && (text[j].is_ascii_alphanumeric() || text[j] == b'_') {
            j += 1;
        }
        out.push((i, j));
        i = j;
    }
    out
}

/// Byte ranges of the contents of "..." strings (not the quotes).
fn strings(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open = None;
    for (i, &b) in text.iter().enumerate() {
        match (b, open) {
            (b'"', None) => open = Some(i + 1),
            (b'"', Some(s)) => {
                out.push((s, i));
                open = None;
            }
            (b'\n', Some(_)) => open = None,
            _ => {}
        }
    }
    out
}

/// Byte ranges of the keys that start lines (`key =`).
fn keys(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (start, line) in lines(text) {
        let l = &text[start..start + line];
        let lead = l.iter().take_while(|&&b| b == b' ').count();
        let key = l[lead..]
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_')
            .count();
        if key > 0 && l[lead + key..].trim_ascii_start().starts_with(b"=") {
            out.push((start + lead, start + lead + key));
        }
    }
    out
}

/// (start, length without the newline) of every line.
fn lines(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' {
            out.push((start, i - start));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len() - start));
    }
    out
}

/// Lines that open a table: where whole entries start.
fn table_starts(text: &[u8]) -> Vec<usize> {
    lines(text)
        .into_iter()
        .filter(|&(s, _)| text[s] == b'[')
        .map(|(s, _)| s)
        .collect()
}

fn splice(text: &mut Vec<u8>, range: (usize, usize), with: &[u8]) {
    text.splice(range.0..range.1, with.iter().copied());
}

/// A number near `old`, or at one of its edges.
fn tweak(rng: &mut Rng, old: &[u8]) -> Vec<u8> {
    let s = std::str::from_utf8(old).unwrap_or("0").replace('_', "");
    let v = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap_or(0),
        None => s.parse::<i64>().unwrap_or(0) as u64,
    };
    let n = match rng.below(8) {
        0 => v.wrapping_add(1),
        1 => v.wrapping_sub(1),
        2 => v.wrapping_add(0x1000),
        3 => v.wrapping_sub(0x1000),
        4 => v.wrapping_mul(2),
        5 => v << 12,
        6 => v ^ (1 << rng.below(64)),
        _ => rng.next(),
    };
    format!("{n:#x}").into_bytes()
}

/// One mutation of `text`, in place.
fn mutate(rng: &mut Rng, text: &mut Vec<u8>) {
    match rng.below(14) {
        0 | 1 => {
            let nums = numbers(text);
            if !nums.is_empty() {
                let at = *rng.pick(&nums);
                splice(text, at, rng.pick(EDGE_NUMBERS).as_bytes());
            }
        }
        2 => {
            let nums = numbers(text);
            if !nums.is_empty() {
                let at = *rng.pick(&nums);
                let new = tweak(rng, &text[at.0..at.1]);
                splice(text, at, &new);
            }
        }
        3 => {
            let ls = lines(text);
            if !ls.is_empty() {
                let (s, n) = *rng.pick(&ls);
                let end = (s + n + 1).min(text.len());
                text.drain(s..end);
            }
        }
        4 => {
            let ls = lines(text);
            if !ls.is_empty() {
                let (s, n) = *rng.pick(&ls);
                let mut copy = text[s..s + n].to_vec();
                copy.push(b'\n');
                let (to, _) = *rng.pick(&ls);
                splice(text, (to, to), &copy);
            }
        }
        5 => {
            let ls = lines(text);
            if ls.len() >= 2 {
                let (a, b) = (*rng.pick(&ls), *rng.pick(&ls));
                let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                if first.0 != second.0 {
                    let la = text[first.0..first.0 + first.1].to_vec();
                    let lb = text[second.0..second.0 + second.1].to_vec();
                    // The later one first, so the earlier offsets still hold.
                    splice(text, (second.0, second.0 + second.1), &la);
                    splice(text, (first.0, first.0 + first.1), &lb);
                }
            }
        }
        6 => {
            let ks = keys(text);
            if !ks.is_empty() {
                let at = *rng.pick(&ks);
                splice(text, at, rng.pick(KEYS).as_bytes());
            }
        }
        7 => {
            let ss = strings(text);
            if !ss.is_empty() {
                let at = *rng.pick(&ss);
                let with = if rng.below(8) == 0 {
                    "x".repeat(rng.below(6000))
                } else {
                    rng.pick(STRINGS).to_string()
                };
                splice(text, at, with.as_bytes());
            }
        }
        8 => {
            let at = rng.below(text.len() + 1);
            text.truncate(at);
        }
        9 => {
            let at = rng.below(text.len() + 1);
            let junk: Vec<u8> = (0..1 + rng.below(8))
                .map(|_| {
                    if rng.below(16) == 0 {
                        *rng.pick(NOT_UTF8)
                    } else {
                        *rng.pick(GARBAGE)
                    }
                })
                .collect();
            splice(text, (at, at), &junk);
        }
        10 => {
            if !text.is_empty() {
                let at = rng.below(text.len());
                // Mostly printable ASCII: a byte that is not UTF-8 stops
                // the parse at once, which mutation 9 already covers.
                text[at] = if rng.below(8) == 0 {
                    rng.next() as u8
                } else {
                    b' ' + rng.below(95) as u8
                };
            }
        }
        11 => {
            // A whole table again, elsewhere: duplicate names, overlaps,
            // more firmware ranges than slots.
            let starts = table_starts(text);
            if !starts.is_empty() {
                let k = rng.below(starts.len());
                let end = starts.get(k + 1).copied().unwrap_or(text.len());
                let block = text[starts[k]..end].to_vec();
                let to = *rng.pick(&starts);
                splice(text, (to, to), &block);
            }
        }
        12 => {
            let starts = table_starts(text);
            if !starts.is_empty() {
                let k = rng.below(starts.len());
                let end = starts.get(k + 1).copied().unwrap_or(text.len());
                text.drain(starts[k]..end);
            }
        }
        _ => {
            let ls = lines(text);
            let to = if ls.is_empty() { 0 } else { rng.pick(&ls).0 };
            let line = format!("{}\n", rng.pick(LINES));
            splice(text, (to, to), line.as_bytes());
        }
    }
}

fn pc_text() -> &'static str {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == "pc")
        .expect("pc is built in")
        .1
}

/// The issue's crashers, always run first, then the unmutated board.
fn fixed_mutants() -> Vec<Vec<u8>> {
    let pc = pc_text();
    let sub = |from: &str, to: &str| {
        assert!(pc.contains(from), "pc.toml has no {from:?}");
        pc.replacen(from, to, 1).into_bytes()
    };
    vec![
        pc.as_bytes().to_vec(),
        sub("variable_slots = 8", "variable_slots = 9223372036854775807"),
        sub("variable_slots = 8", "variable_slots = 1000000000"),
        sub("size = 0x20000", "size = 0xFFFFFFFFFFFFFFFF"),
        sub("phys = 0x0", "phys = 0xFFFFFFFFFFFFF000"),
        sub("kind = \"timer\"", "kind = \"timr\""),
    ]
}

/// Mutant `i` of run `seed`.
fn mutant(seed: u64, i: u64) -> Vec<u8> {
    let fixed = fixed_mutants();
    if let Some(m) = fixed.get(i as usize) {
        return m.clone();
    }
    let mut rng = Rng::for_mutant(seed, i);
    let mut text = pc_text().as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        mutate(&mut rng, &mut text);
    }
    text
}

// ---- the child: run one batch ----------------------------------------------

/// Parses, and if accepted builds and pokes at, one mutant. Returns the
/// outcome line the parent reads (without the index).
fn run_one(bytes: &[u8]) -> String {
    let board = match Board::parse_bytes(bytes, MUTANT_FILE) {
        Ok(b) => b,
        Err(e) => return format!("refused {}", e.to_string().escape_debug()),
    };
    // The built-in boards are compiled in as Rust: that must work too.
    let _ = board.to_rust();
    let mut sim = match Sim::new(board) {
        Ok(s) => s,
        Err(e) => return format!("unbuilt {}", e.to_string().escape_debug()),
    };
    for r in sim.regions() {
        for addr in [r.base, r.base + r.size - 1] {
            let _ = sim.read(Space::Phys, addr, Width::W8);
        }
    }
    for name in ["version", "hz", "physmem"] {
        if let Ok(va) = sim.symbol(name) {
            let _ = sim.read(Space::Kernel, va, Width::W32);
        }
    }
    let _ = sim.range_count();
    let _ = sim.ranges();
    if let Ok(buf) = sim.process_map(0x2000) {
        let _ = sim.write(Space::Process, buf + 0x1ff8, Width::W64, u64::MAX);
        let _ = sim.read(Space::Process, buf + 0x1ff8, Width::W64);
    }
    "ok".to_string()
}

/// Caps the address space, so an allocation sized from an unchecked value
/// fails (and aborts, which the parent sees) instead of swapping.
fn cap_address_space() {
    #[cfg(unix)]
    {
        let lim = libc::rlimit {
            rlim_cur: CHILD_ADDRESS_SPACE as libc::rlim_t,
            rlim_max: CHILD_ADDRESS_SPACE as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct it is given and nothing else.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) };
        assert_eq!(rc, 0, "setrlimit(RLIMIT_AS) failed");
    }
}

/// Not a test of its own: the parent runs this in a child process, with
/// the batch directory in `MEMLUA_BOARD_FUZZ_CHILD`.
#[test]
fn board_fuzz_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    cap_address_space();
    let dir = PathBuf::from(dir);
    let list = fs::read_to_string(dir.join("list")).expect("the batch list");
    let out = fs::File::create(dir.join("results")).expect("a results file");
    let mut out = BufWriter::new(out);
    for i in list.split_whitespace() {
        let bytes = fs::read(dir.join(format!("{i}.toml"))).expect("a mutant");
        // Written before the run, so a mutant that kills the process is
        // the last one begun.
        writeln!(out, "begin {i}").unwrap();
        out.flush().unwrap();
        let start = Instant::now();
        let outcome = run_one(&bytes);
        let us = start.elapsed().as_micros();
        writeln!(out, "end {i} {us} {outcome}").unwrap();
    }
    out.flush().unwrap();
}

// ---- the parent ------------------------------------------------------------

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Err(_) => default,
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        }
    }
}

/// What went wrong with one run, to report together with the seed.
struct Failure {
    mutant: Option<u64>,
    what: String,
}

/// Whether a refusal starts with `mutant.toml:LINE:COLUMN: ` and the place
/// lies inside the mutant (a line one past the end is where EOF is).
fn placed(msg: &str, text: &[u8]) -> bool {
    let Some(rest) = msg.strip_prefix(&format!("{MUTANT_FILE}:")) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(line), Some(col), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(line), Ok(col)) = (line.parse::<usize>(), col.parse::<usize>()) else {
        return false;
    };
    let nlines = text.iter().filter(|&&b| b == b'\n').count() + 1;
    line >= 1 && line <= nlines && col >= 1 && tail.starts_with(' ') && tail.len() > 1
}

/// Runs mutants `first..first + n` in one child and checks every outcome.
/// Returns how many were accepted.
fn run_batch(seed: u64, first: u64, n: u64, dir: &Path) -> Result<u64, Failure> {
    fs::create_dir_all(dir).unwrap();
    let mut texts = Vec::new();
    let mut list = String::new();
    for i in first..first + n {
        let text = mutant(seed, i);
        fs::write(dir.join(format!("{i}.toml")), &text).unwrap();
        list.push_str(&format!("{i}\n"));
        texts.push(text);
    }
    fs::write(dir.join("list"), list).unwrap();
    let _ = fs::remove_file(dir.join("results"));

    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "board_fuzz_child",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again");
    // Read stderr on a thread, so a chatty child cannot block on a full pipe.
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err_pipe, &mut s);
        s
    });
    let started = Instant::now();
    let (status, hung) = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break (Some(st), false);
        }
        if started.elapsed() > BATCH_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = stderr.join().unwrap_or_default();

    let results = fs::read_to_string(dir.join("results")).unwrap_or_default();
    let mut begun = None;
    let mut ended = 0u64;
    let mut accepted = 0u64;
    for line in results.lines() {
        let mut words = line.splitn(4, ' ');
        match (words.next(), words.next()) {
            (Some("begin"), Some(i)) => begun = i.parse::<u64>().ok(),
            (Some("end"), Some(i)) => {
                let i: u64 = i.parse().unwrap();
                let us: u64 = words.next().unwrap_or("0").parse().unwrap_or(0);
                let outcome = words.next().unwrap_or("");
                let text = &texts[(i - first) as usize];
                let fail = |what: String| Failure {
                    mutant: Some(i),
                    what,
                };
                if Duration::from_micros(us) > SLOW_MUTANT {
                    return Err(fail(format!("took {us} us: a hang in the making")));
                }
                if let Some(msg) = outcome.strip_prefix("refused ") {
                    if !placed(msg, text) {
                        return Err(fail(format!(
                            "refused without a file:line:column inside the file: {msg}"
                        )));
                    }
                } else if outcome != "ok" {
                    return Err(fail(format!("accepted, but {outcome}")));
                }
                if i == 0 && outcome != "ok" {
                    return Err(fail(format!("the unmutated pc board: {outcome}")));
                }
                ended += 1;
                accepted += u64::from(outcome == "ok");
                begun = None;
            }
            _ => {}
        }
    }
    let tail: String = stderr.lines().take(12).collect::<Vec<_>>().join("\n");
    if hung {
        return Err(Failure {
            mutant: begun,
            what: format!("hung: the batch ran past {BATCH_TIMEOUT:?}\n{tail}"),
        });
    }
    let status = status.unwrap();
    if !status.success() {
        return Err(Failure {
            mutant: begun,
            what: format!("the child died ({status})\n{tail}"),
        });
    }
    if ended != n {
        return Err(Failure {
            mutant: begun,
            what: format!("the child ran {ended} of {n} mutants\n{tail}"),
        });
    }
    Ok(accepted)
}

#[test]
fn board_mutator() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let iters = env_u64("MEMLUA_FUZZ_ITERS", DEFAULT_ITERS);
    let seed = env_u64("MEMLUA_FUZZ_SEED", DEFAULT_SEED);
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("board-fuzz-{seed:#x}"));
    let started = Instant::now();
    let mut first = 0;
    let mut accepted = 0;
    while first < iters {
        let n = BATCH.min(iters - first);
        let dir = root.join(format!("batch-{first}"));
        let run = run_batch(seed, first, n, &dir);
        if let Ok(a) = run {
            accepted += a;
        }
        if let Err(f) = run {
            let (which, saved) = match f.mutant {
                Some(i) => {
                    let path = root.join(format!("failure-{i}.toml"));
                    fs::write(&path, mutant(seed, i)).unwrap();
                    (
                        format!("mutant {i}"),
                        format!("; saved as {}", path.display()),
                    )
                }
                None => (format!("a mutant in {first}..{}", first + n), String::new()),
            };
            panic!(
                "board fuzz: {which} of seed {seed:#x}{saved}: {}\n\
                 replay: MEMLUA_FUZZ_SEED={seed:#x} MEMLUA_FUZZ_ITERS={iters} \
                 cargo test -p memlua-runtime --test board_fuzz",
                f.what
            );
        }
        let _ = fs::remove_dir_all(&dir);
        first += n;
    }
    eprintln!(
        "board fuzz: {iters} mutants of pc.toml (seed {seed:#x}), {accepted} accepted and built, \
         the rest refused with their place, in {:.1?}",
        started.elapsed()
    );
    // A mutator whose every mutant is refused in the TOML syntax would test
    // little: some must get through to the value checks and the simulator.
    assert!(
        accepted > iters / 20,
        "only {accepted} of {iters} mutants were accepted"
    );
}

// ---- the mutator's own checks ----------------------------------------------

#[test]
fn mutants_are_reproducible_and_varied() {
    assert_eq!(mutant(7, 123), mutant(7, 123));
    let distinct: std::collections::HashSet<Vec<u8>> = (0..200).map(|i| mutant(7, i)).collect();
    assert!(distinct.len() > 190, "{} distinct", distinct.len());
    let pc = pc_text().as_bytes();
    assert!(numbers(pc).len() > 50);
    assert!(strings(pc).len() > 20);
    assert!(keys(pc).len() > 50);
    assert!(table_starts(pc).len() > 10);
    assert!((0..200).any(|i| std::str::from_utf8(&mutant(7, i)).is_err()));
}

#[test]
fn places_are_read_strictly() {
    let text = b"a\nb\n";
    assert!(placed("mutant.toml:2:1: bad", text));
    assert!(placed("mutant.toml:3:1: at the end", text));
    assert!(!placed("mutant.toml:0:0: bad", text));
    assert!(!placed("mutant.toml:9:1: bad", text));
    assert!(!placed("mutant.toml: bad", text));
    assert!(!placed("no built-in board", text));
}
