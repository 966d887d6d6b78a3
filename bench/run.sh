#!/usr/bin/env bash
# The benchmark: t2t-notify's speed and memory against references measured in the same run,
# as ratios. Generates its own data, runs each case several times (hyperfine), measures peak
# RSS (/usr/bin/time), and prints one table. Benchmarks never fail CI; goals are reported.
#
#   bench/run.sh            # every case
#   bench/run.sh validate   # one case: validate | preview | send | graph | resume
#   RUNS=3 bench/run.sh     # fewer runs per case
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-/tmp/t2t-bench}
mkdir -p "$WORK"
export PATH="$PATH:/usr/sbin"

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 (for $1)" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need hyperfine hyperfine
need smtp-sink postfix
need smtp-source postfix
[ -x /usr/bin/time ] || need /usr/bin/time time

cargo build --release --quiet --bin t2t-notify --example graph-standin 2>/dev/null || cargo build --release --quiet --bin t2t-notify
BIN=$ROOT/target/release/t2t-notify
RESULTS=$WORK/results.tsv
: > "$RESULTS"

# hyperfine a command; append "case<TAB>role<TAB>json<TAB>peak_kb<TAB>units"
measure() { # case role units command...
  local case=$1 role=$2 units=$3; shift 3
  local json=$WORK/$case-$role.json
  hyperfine --runs "$RUNS" --warmup 1 --export-json "$json" --style none "$@" >/dev/null 2>&1 \
    || hyperfine --runs "$RUNS" --warmup 1 --export-json "$json" --style none "$@"
  local peak
  /usr/bin/time -o "$WORK/peak" -f '%M' bash -c "$*" >/dev/null 2>&1 || true
  peak=$(tail -1 "$WORK/peak")
  printf '%s\t%s\t%s\t%s\t%s\n' "$case" "$role" "$json" "$peak" "$units" >> "$RESULTS"
}

case_validate() {
  [ -f "$WORK/m1/identity-map.csv" ] || "$BIN" sample --users 1000000 --groups 100 --out "$WORK/m1" >/dev/null
  measure validate reference 1000000 "cat $WORK/m1/identity-map.csv > /dev/null; wc -l $WORK/m1/identity-map.csv > /dev/null"
  measure validate t2t-notify 1000000 "$BIN --config $ROOT/sample-data/t2t-notify.toml validate --mapping $WORK/m1/identity-map.csv > /dev/null 2>&1"
}

case_preview() {
  [ -f "$WORK/p100k/identity-map.csv" ] || "$BIN" sample --users 100000 --groups 10 --out "$WORK/p100k" >/dev/null
  local args="--config $ROOT/sample-data/t2t-notify.toml preview --mapping $WORK/p100k/identity-map.csv --directory $WORK/p100k/directory.csv"
  [ -f "$WORK/p100k-made/index.html" ] || "$BIN" $args --out "$WORK/p100k-made" >/dev/null 2>&1
  measure preview reference 100000 "rm -rf $WORK/p100k-copy && cp -r $WORK/p100k-made $WORK/p100k-copy"
  measure preview t2t-notify 100000 "rm -rf $WORK/p100k-out && $BIN $args --out $WORK/p100k-out > /dev/null 2>&1"
  rm -rf "$WORK/p100k-copy" "$WORK/p100k-out"
}

cases=${*:-validate preview}
for c in $cases; do
  echo "== $c" >&2
  "case_$c"
done
python3 "$ROOT/bench/table.py" "$RESULTS"
