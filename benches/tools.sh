#!/usr/bin/env bash
# `memlua devmem` on the simulator beside busybox devmem reading a
# file-backed /dev/mem (a private mount namespace with a tmpfs /dev and a
# file bind-mounted as /dev/mem; needs root), start-up included, then March
# C- over 64 MiB of sim RAM. Installs busybox if missing.
# Usage: benches/tools.sh [runs]   (default 1000; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
for tool in busybox hyperfine; do
    command -v "$tool" >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends "$tool" >/dev/null; }
done
cargo build --release -q
memlua=$(realpath "${CARGO_TARGET_DIR:-target}/release/memlua")
memfile=$(mktemp); truncate -s 1M "$memfile"
json=$(mktemp)
# Both commands run by hyperfine (no shell, interleaved warm-up) inside one
# private mount namespace whose /dev holds a null device and the file as
# /dev/mem, so they start under the same conditions.
unshare -m sh -c "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/mem && \
  mount --bind '$memfile' /dev/mem && \
  hyperfine -N -w 50 -r $runs --export-json '$json' 'busybox devmem 0x1000' '$memlua devmem 0xFE001008' >/dev/null"
rm -f "$memfile"
python3 - "$json" <<'PY'
import json, sys
r = {x["command"].split()[0].split("/")[-1]: x for x in json.load(open(sys.argv[1]))["results"]}
b, m = r["busybox"]["median"] * 1e6, r["memlua"]["median"] * 1e6
print(f"memlua devmem   {m:6.0f} us (median)\nbusybox devmem  {b:6.0f} us (median)")
print(f"ratio {m / b:.2f} (target <= 2.00) {'ok' if m / b <= 2 else 'MISSED'}")
PY
rm -f "$json"
"$memlua" benches/lua/memtest.lua 5
"$memlua" benches/lua/memtest.lua 5 65536
