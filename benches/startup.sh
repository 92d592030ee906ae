#!/usr/bin/env bash
# Start-up time: `memlua -e ''` beside Debian's `lua5.4 -e ''`, measured in
# the same run (issue 3: within 2x). Installs lua5.4 if it is missing.
# Usage: benches/startup.sh [runs]   (default 300; median reported)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-300}

if ! command -v lua5.4 >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends lua5.4 >/dev/null
fi
cargo build --release -q
memlua=target/release/memlua

# Median wall time of one command in microseconds, runs interleaved with
# the other command's so both see the same machine.
declare -a t_memlua t_lua
for ((i = 0; i < runs; i++)); do
    s=$(date +%s%N); "$memlua" -e '' ; e=$(date +%s%N); t_memlua+=($(((e - s) / 1000)))
    s=$(date +%s%N); lua5.4 -e '' ; e=$(date +%s%N); t_lua+=($(((e - s) / 1000)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m=$(median "${t_memlua[@]}")
l=$(median "${t_lua[@]}")
awk -v m="$m" -v l="$l" 'BEGIN {
    r = m / l
    printf "memlua -e \x27\x27  %6d us\nlua5.4 -e \x27\x27  %6d us\nratio %.2f (target <= 2.00) %s\n", m, l, r, (r <= 2 ? "ok" : "MISSED")
}'
