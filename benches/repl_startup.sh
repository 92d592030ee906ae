#!/usr/bin/env bash
# Start-up to the first prompt (issue 5: within 2x of `lua5.4 -i`): each
# command runs in a fresh pseudo-terminal, timed from the fork to the moment
# its prompt appears on the terminal; runs of the two commands interleave
# so both see the same machine. memlua starts with --no-history so the
# figure does not depend on the size of a history file.
# Usage: benches/repl_startup.sh [runs]   (default 200; median reported)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}

if ! command -v lua5.4 >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends lua5.4 >/dev/null
fi
cargo build --release -q
memlua=${CARGO_TARGET_DIR:-target}/release/memlua

python3 - "$runs" "$memlua" <<'PY'
import os, pty, select, statistics, sys, time

runs, memlua = int(sys.argv[1]), sys.argv[2]

def to_prompt(argv, prompt):
    """Microseconds from fork to `prompt` on the terminal; then Ctrl-D."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.execvp(argv[0], argv)
    seen = b""
    while prompt not in seen:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            raise SystemExit(f"no prompt from {argv}: {seen!r}")
        seen += os.read(fd, 4096)
    t = (time.perf_counter() - t0) * 1e6
    os.write(fd, b"\x04")
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return t

m, l = [], []
for _ in range(runs):
    m.append(to_prompt([memlua, "--no-history"], b"memlua(sim:pc)> "))
    l.append(to_prompt(["lua5.4", "-i"], b"> "))
mm, ll = statistics.median(m), statistics.median(l)
print(f"memlua --no-history  {mm:8.0f} us to its prompt")
print(f"lua5.4 -i            {ll:8.0f} us to its prompt")
r = mm / ll
print(f"ratio {r:.2f} (target <= 2.00) {'ok' if r <= 2 else 'MISSED'}")
PY
