#!/usr/bin/env bash
# Start-up time: `memlua -e ''` beside Debian's `lua5.4 -e ''`, measured in
# the same run by hyperfine (no shell, warm-up first; issue 3: within 2x).
# Installs lua5.4 and hyperfine if they are missing.
# Usage: benches/startup.sh [runs]   (default 500; medians reported)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-500}

for pkg in lua5.4 hyperfine; do
    command -v "$pkg" >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y --no-install-recommends "$pkg" >/dev/null
    }
done
cargo build --release -q
memlua=$(realpath "${CARGO_TARGET_DIR:-target}/release/memlua")
json=$(mktemp)
trap 'rm -f "$json"' EXIT
hyperfine -N -w 30 -r "$runs" --export-json "$json" "lua5.4 -e ''" "$memlua -e ''" >/dev/null 2>&1
python3 - "$json" <<'PY'
import json, sys
lua, memlua = (x["median"] * 1e6 for x in json.load(open(sys.argv[1]))["results"])
print(f"memlua -e ''  {memlua:6.0f} us (median)\nlua5.4 -e ''  {lua:6.0f} us (median)")
r = memlua / lua
print(f"ratio {r:.2f} (target <= 2.00) {'ok' if r <= 2 else 'MISSED'}")
PY
