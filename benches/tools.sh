#!/usr/bin/env bash
# `memlua devmem` on the simulator beside busybox devmem reading a
# file-backed /dev/mem (a private mount namespace with a tmpfs /dev and a
# file bind-mounted as /dev/mem; needs root), start-up included (issue 11:
# within 1.5x), then March C- over 64 MiB of sim RAM. Installs busybox if
# missing.
# Usage: benches/tools.sh [runs]   (default 1000; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
for tool in busybox hyperfine; do
    command -v "$tool" >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends "$tool" >/dev/null; }
done
cargo build --release -q
linked=$(realpath "${CARGO_TARGET_DIR:-target}/release/memlua")
# memlua installed, as busybox is: a file the linker has just written sits
# in the page cache in 4 KiB pieces, and a program as large as memlua
# starts 0.1 ms slower from it than from the same bytes copied (issue 11
# in benches/RESULTS.md); busybox does not notice. The linker's file is
# timed too.
dir=$(mktemp -d)
memlua="$dir/memlua"
install -m 755 "$linked" "$memlua"
memfile=$(mktemp); truncate -s 1M "$memfile"
json=$(mktemp -d)
# All commands run by hyperfine (no shell) inside one private mount
# namespace whose /dev holds a null device and the file as /dev/mem, so
# they start under the same conditions; in rounds of 10 runs each, so that
# load from elsewhere on a shared machine falls on all of them alike.
# Medians of all runs.
unshare -m sh -c "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && touch /dev/mem && \
  mount --bind '$memfile' /dev/mem && \
  round=0; while [ \$round -lt $(( (runs + 9) / 10 )) ]; do round=\$((round + 1)); \
    hyperfine -N -w 2 -r 10 --export-json '$json'/\$round.json \
      'busybox devmem 0x1000' '$memlua devmem 0xFE001008' '$linked devmem 0xFE001008' \
      >/dev/null 2>'$json'/err || { cat '$json'/err >&2; exit 1; }; \
  done"
rm -f "$memfile"
python3 - "$json" <<'PY'
import glob, json, statistics, sys
times = [[], [], []]
for f in glob.glob(sys.argv[1] + "/[0-9]*.json"):
    for i, x in enumerate(json.load(open(f))["results"]):
        times[i] += x["times"]
b, m, linked = (statistics.median(t) * 1e6 for t in times)
print(f"memlua devmem   {m:6.0f} us (median)\nbusybox devmem  {b:6.0f} us (median)")
print(f"ratio {m / b:.2f} (target <= 1.50) {'ok' if m / b <= 1.5 else 'MISSED'}")
print(f"memlua devmem as the linker left it: {linked:.0f} us, ratio {linked / b:.2f}")
PY
rm -r "$json"
"$memlua" benches/lua/memtest.lua 5
"$memlua" benches/lua/memtest.lua 5 65536
rm -r "$dir"
