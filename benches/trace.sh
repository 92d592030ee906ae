#!/bin/sh
# Issue 13's figures (benches/RESULTS.md, "Access traces"):
#   1. N window read32s on the simulator at one address, with --record
#      and without (target: within 3x);
#   2. the same at N different addresses (a trace line each);
#   3. replaying a trace of M distinct reads (target: >= 2 M accesses/s,
#      the whole run: loading the trace included).
# Each run is timed as a whole process (date +%s%N around it) and by the
# loop itself (benches/lua/trace_loop.lua); runs alternate, medians are
# printed. Usage: benches/trace.sh [N [M [RUNS]]]  (10000000 1000000 5)
set -eu
cd "$(dirname "$0")/.."
N=${1:-10000000}
M=${2:-1000000}
RUNS=${3:-5}
# MEMLUA_BIN: another binary (a debug build, to try this script quickly).
if [ -z "${MEMLUA_BIN:-}" ]; then cargo build --release --quiet; fi
BIN=${MEMLUA_BIN:-target/release/memlua}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/memlua-bench-trace.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
LOOP=benches/lua/trace_loop.lua

# run NAME ARGS...: appends "wall_ns loop_ns_per_read" to $DIR/NAME.
run() {
  name=$1; shift
  t0=$(date +%s%N)
  line=$("$BIN" "$@")
  t1=$(date +%s%N)
  per=$(echo "$line" | sed 's/.*: \([0-9.]*\) ns each/\1/')
  echo "$((t1 - t0)) $per" >> "$DIR/$name"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

i=0
while [ $i -lt "$RUNS" ]; do
  run same_plain $LOOP same "$N"
  run same_record --record "$DIR/same.jsonl" $LOOP same "$N"
  run distinct_plain $LOOP distinct "$N"
  run distinct_record --record "$DIR/distinct.jsonl" $LOOP distinct "$N"
  i=$((i + 1))
done
"$BIN" --record "$DIR/replay.jsonl" $LOOP distinct "$M" > /dev/null
i=0
while [ $i -lt "$RUNS" ]; do
  run replay --replay "$DIR/replay.jsonl" $LOOP distinct "$M"
  i=$((i + 1))
done

echo "N=$N M=$M runs=$RUNS; trace sizes:"
ls -l "$DIR"/*.jsonl | awk '{ print "  " $5 " bytes  " $NF }'
for name in same_plain same_record distinct_plain distinct_record replay; do
  wall=$(cut -d' ' -f1 < "$DIR/$name" | median)
  per=$(cut -d' ' -f2 < "$DIR/$name" | median)
  printf '%-16s wall %8.1f ms   loop %7.1f ns/read\n' "$name" "$(echo "$wall / 1000000" | bc -l)" "$per"
done
for kind in same distinct; do
  p=$(cut -d' ' -f1 < "$DIR/${kind}_plain" | median)
  r=$(cut -d' ' -f1 < "$DIR/${kind}_record" | median)
  pl=$(cut -d' ' -f2 < "$DIR/${kind}_plain" | median)
  rl=$(cut -d' ' -f2 < "$DIR/${kind}_record" | median)
  printf '%-8s --record / plain: wall %.2fx, loop %.2fx\n' "$kind" "$(echo "$r / $p" | bc -l)" "$(echo "$rl / $pl" | bc -l)"
done
w=$(cut -d' ' -f1 < "$DIR/replay" | median)
printf 'replay of %d accesses: %.2f M accesses/s (whole run)\n' "$M" "$(echo "$M / ($w / 1000)" | bc -l)"
