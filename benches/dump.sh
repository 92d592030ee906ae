#!/usr/bin/env bash
# `memlua -b native --mem F dump 0 0x1000000` beside `xxd F` and
# `hexdump -C F` on the same 16 MiB file of random bytes, in one run: wall
# time (median of the runs) and peak RSS from /usr/bin/time, output to
# /dev/null; then memlua's output compared byte for byte with hexdump -C's
# (and `dump -x -g 2` with xxd's). Installs xxd and hexdump (bsdextrautils)
# if missing.
# Usage: benches/dump.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
command -v xxd >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends xxd >/dev/null; }
command -v hexdump >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends bsdextrautils >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update >/dev/null; apt-get install -y --no-install-recommends time >/dev/null; }
cargo build --release -q
memlua=$(realpath "${CARGO_TARGET_DIR:-target}/release/memlua")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
f=$dir/random.bin
head -c 16777216 /dev/urandom >"$f"

# name, then the command; prints "name median_s peak_kib" after $runs runs.
measure() {
    local name=$1; shift
    local t=$dir/time
    : >"$t"
    for _ in $(seq "$runs"); do
        /usr/bin/time -a -o "$t" -f '%e %M' "$@" >/dev/null
    done
    sort -n "$t" | awk -v n="$name" '{ s[NR] = $1; if ($2 > m) m = $2 }
        END { printf "%-8s %6.2f s  %6d KiB peak RSS  (median of %d)\n", n, s[int((NR + 1) / 2)], m, NR }'
}

echo "16 MiB of random bytes, $runs runs each, output to /dev/null:"
measure memlua "$memlua" -b native --mem "$f" dump 0 0x1000000
measure xxd xxd "$f"
measure hexdump hexdump -C "$f"

"$memlua" -b native --mem "$f" dump 0 0x1000000 >"$dir/memlua.txt"
hexdump -C "$f" >"$dir/hexdump.txt"
cmp "$dir/memlua.txt" "$dir/hexdump.txt" && echo "memlua dump == hexdump -C: identical ($(wc -c <"$dir/memlua.txt") bytes)"
"$memlua" -b native --mem "$f" dump -x -g 2 0 0x1000000 >"$dir/memlua.txt"
xxd "$f" >"$dir/xxd.txt"
cmp "$dir/memlua.txt" "$dir/xxd.txt" && echo "memlua dump -x -g 2 == xxd: identical ($(wc -c <"$dir/memlua.txt") bytes)"
