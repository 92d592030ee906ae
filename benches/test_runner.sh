#!/usr/bin/env bash
# `memlua test` on 1,000 trivial tests in 100 files (issue 16: under 2 s;
# the cost to watch is each file's start-up: a fresh Lua state, the API
# and a freshly built `pc` board). hyperfine runs it (installed if
# missing), without a shell, after warm-up runs.
# Usage: benches/test_runner.sh [runs]   (default 20; median reported)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
command -v hyperfine >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends hyperfine >/dev/null
}
cargo build --release -q
memlua=$(realpath "${CARGO_TARGET_DIR:-target}/release/memlua")
dir=$(mktemp -d)
json=$(mktemp)
trap 'rm -rf "$dir" "$json"' EXIT
for f in $(seq -w 1 100); do
    {
        echo "describe(\"file $f\", function()"
        for t in $(seq 1 10); do
            echo "  it(\"test $t\", function() assert.equal($t, mem.read32(0x1000) + $t) end)"
        done
        echo "end)"
    } >"$dir/f${f}_test.lua"
done
# Every test passes: a run that fails would be timed for nothing.
"$memlua" test "$dir" >/dev/null
hyperfine -N -w 3 -r "$runs" --export-json "$json" "$memlua test $dir" >/dev/null 2>&1
python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
m = r["median"]
print(f"memlua test: 1000 tests in 100 files  {m * 1000:7.1f} ms (median; min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f})")
print(f"per file {m * 1e6 / 100:.0f} us; target < 2 s: {'ok' if m < 2 else 'MISSED'}")
PY
