#!/usr/bin/env bash
# `memlua devmem` on the simulator beside busybox devmem reading a
# file-backed /dev/mem (a private mount namespace with a tmpfs /dev and a
# file bind-mounted as /dev/mem; needs root), start-up included, then March
# C- over 64 MiB of sim RAM. Installs busybox if missing.
# Usage: benches/tools.sh [runs]   (default 200; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
command -v busybox >/dev/null 2>&1 || { apt-get update >/dev/null; apt-get install -y --no-install-recommends busybox >/dev/null; }
cargo build --release -q
memlua=${CARGO_TARGET_DIR:-target}/release/memlua
memfile=$(mktemp); truncate -s 1M "$memfile"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -a t_m t_b
for ((i = 0; i < runs; i++)); do
    s=$(date +%s%N); "$memlua" devmem 0xFE001008 >/dev/null; e=$(date +%s%N); t_m+=($(((e - s) / 1000)))
done
# busybox, timed inside the namespace so the mount set-up is not counted
bb=$(unshare -m sh -c "mount -t tmpfs none /dev && touch /dev/mem && mount --bind '$memfile' /dev/mem && \
  for i in \$(seq $runs); do s=\$(date +%s%N); busybox devmem 0x1000 >/dev/null; e=\$(date +%s%N); echo \$(((e - s) / 1000)); done")
t_b=($bb)
rm -f "$memfile"
m=$(median "${t_m[@]}"); b=$(median "${t_b[@]}")
awk -v m="$m" -v b="$b" 'BEGIN { r = m / b; printf "memlua devmem     %6d us\nbusybox devmem    %6d us\nratio %.2f (target <= 2.00) %s\n", m, b, r, (r <= 2 ? "ok" : "MISSED") }'
"$memlua" benches/lua/memtest.lua 5
"$memlua" benches/lua/memtest.lua 5 65536
