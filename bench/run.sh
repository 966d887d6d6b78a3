#!/usr/bin/env bash
# The benchmark: t2t-notify's speed and memory against references measured in the same run,
# as ratios. Generates its own data, runs each case several times (hyperfine), measures peak
# RSS (/usr/bin/time), checks that every run delivered what it should, and prints one table.
# Benchmarks never fail CI and never run in `cargo test`; goals are reported, not enforced.
#
#   bench/run.sh            # every case
#   bench/run.sh send       # some cases: validate | preview | preview_shm | send | send_4k | resume
#   RUNS=3 bench/run.sh     # fewer timed runs per case (default 5, plus one warm-up)
#   PREVIEW_RUNS=3 bench/run.sh preview   # the preview case (200,000 files a run) runs once by default
#   CONCURRENCY=8 bench/run.sh send   # [pacing] concurrency of the SMTP send (default 16)
#   T2T_BIN=/tmp/old/t2t-notify bench/run.sh send   # measure another build of t2t-notify
#
# Needs: cargo, python3, and (installed with apt-get when missing) hyperfine, postfix
# (smtp-sink, smtp-source) and GNU time. Work files go to $BENCH_DIR (default /tmp/t2t-bench).
set -euo pipefail

# Helpers the timed commands call between runs (kept here so the benchmark is one file).
case "${1:-}" in
  --sink-count) # OUTPUT_FILE: the sink's message counter so far
    n=$(tr '\r' '\n' < "$2" | grep -ao 'mesg=[0-9]*' | tail -1 | cut -d= -f2 || true)
    echo "${n:-0}"
    exit 0 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
CONCURRENCY=${CONCURRENCY:-16}
WORK=${BENCH_DIR:-/tmp/t2t-bench}
CONF=$ROOT/sample-data/t2t-notify.toml
# The 100,000-user preview both preview cases run (with --out added).
PREVIEW_ARGS="--config $CONF preview --mapping $WORK/p100k/identity-map.csv --directory $WORK/p100k/directory.csv"
mkdir -p "$WORK"
export PATH="$PATH:/usr/sbin"

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 (for $1)" >&2
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections 2>/dev/null || true
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
need hyperfine hyperfine
need smtp-sink postfix
need smtp-source postfix
need /usr/bin/time time
need python3 python3

echo "building (release)" >&2
cargo build --release --quiet --bin t2t-notify --example write-floor
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=${T2T_BIN:-$TARGET/release/t2t-notify}  # T2T_BIN=/path: measure another build (before/after)
EXAMPLES=$TARGET/release/examples
RESULTS=$WORK/results.tsv
: > "$RESULTS"
: > "$WORK/paired.tsv"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load.txt"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# hyperfine a command, then one more run under /usr/bin/time for the peak RSS; appends
# "case<TAB>role<TAB>json<TAB>peak_kb<TAB>units" to the results.
measure() { # case role units prepare command
  local case=$1 role=$2 units=$3 prepare=$4 command=$5
  local json=$WORK/$case-$role.json
  local args=(--runs "$RUNS" --warmup 1 --export-json "$json")
  [ -n "$prepare" ] && args+=(--prepare "$prepare")
  hyperfine "${args[@]}" --style none "$command" >/dev/null 2>&1 || hyperfine "${args[@]}" "$command"
  [ -n "$prepare" ] && bash -c "$prepare"
  /usr/bin/time -o "$WORK/peak" -f '%M' bash -c "$command" >/dev/null 2>&1 || true
  local peak
  peak=$(tail -1 "$WORK/peak")
  printf '%s\t%s\t%s\t%s\t%s\n' "$case" "$role" "$json" "$peak" "$units" >> "$RESULTS"
}

# Alternates the reference and t2t-notify RUNS times (prepare, then the timed command, for
# each) and records each pair's rate ratio (reference time / t2t-notify time): both sides of a
# pair see about the same load, which the separate hyperfine series above do not.
paired() { # case ref_prepare ref_command t2t_prepare t2t_command
  local case=$1 ratios=()
  for _ in $(seq "$RUNS"); do
    bash -c "$2"
    local t0 t1 t2 t3
    t0=$(date +%s.%N); bash -c "$3" >/dev/null 2>&1; t1=$(date +%s.%N)
    bash -c "$4"
    t2=$(date +%s.%N); bash -c "$5" >/dev/null 2>&1; t3=$(date +%s.%N)
    ratios+=("$(python3 -c "import sys; print(f'{(float(sys.argv[2])-float(sys.argv[1]))/(float(sys.argv[4])-float(sys.argv[3])):.2f}')" "$t0" "$t1" "$t2" "$t3")")
  done
  printf '%s\t%s\n' "$case" "$(IFS=,; echo "${ratios[*]}")" >> "$WORK/paired.tsv"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

# Starts smtp-sink with a message counter (-c), up to 1024 connections (-m) and a listen
# backlog of 4096; sets SINK_PORT, SINK_OUT and SINK_PID. Extra arguments go to smtp-sink
# (e.g. -d to dump every message).
start_sink() { # name [smtp-sink options...]
  local name=$1; shift
  SINK_OUT=$WORK/$name-sink.out
  SINK_PORT=$(free_port)
  local user=()
  [ "$(id -u)" = 0 ] && user=(-u nobody)
  smtp-sink "${user[@]}" -c -m 1024 "$@" "127.0.0.1:$SINK_PORT" 4096 > "$SINK_OUT" 2>&1 &
  SINK_PID=$!
  PIDS+=("$SINK_PID")
  wait_port "$SINK_PORT"
}

stop_sink() {
  kill "$SINK_PID" 2>/dev/null || true
  wait "$SINK_PID" 2>/dev/null || true
}

sink_count() { "$ROOT/bench/run.sh" --sink-count "$SINK_OUT"; }

# Checks a log of counter readings taken before each run and once after the last: every run
# (hyperfine's warm-up and timed runs, the peak-RSS run, or both sides of the pairs) must have
# added exactly `expected`.
check_runs() { # log expected what
  python3 - "$@" >> "$WORK/checks.txt" <<'EOF'
import sys
log, expected, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = [int(l) for l in open(log) if l.strip()]
deltas = [b - a for a, b in zip(counts, counts[1:])]
ok = deltas and all(d == expected for d in deltas)
print(f"{'OK' if ok else 'WRONG'} {what}: the {len(deltas)} runs, in order, added {deltas}, expected {expected} each")
EOF
  tail -1 "$WORK/checks.txt" >&2
}

sample() { # dir users
  [ -f "$WORK/$1/identity-map.csv" ] || "$BIN" sample --users "$2" --groups 0 --out "$WORK/$1" >/dev/null
}

# Trust evidence for both tenants of the sample config, as the trust scripts write it, dated
# now, and a ledger with the gate opened by `trust confirm`.
gated_ledger() { # path
  local now
  now=$(date -u -d '1 minute ago' +%Y-%m-%dT%H:%M:%SZ)
  for side in source target; do
    local own=https://contoso-my.sharepoint.com/ partner=https://fabrikam-my.sharepoint.com/ role=Target
    [ "$side" = target ] && own=https://fabrikam-my.sharepoint.com/ partner=https://contoso-my.sharepoint.com/ role=Source
    cat > "$WORK/evidence-$side.json" <<EOF
{
  "Format": "t2t-notify/trust-evidence/1",
  "Side": "$side",
  "CrossTenantHostUrl": "$own",
  "PartnerCrossTenantHostUrl": "$partner",
  "PartnerRole": "$role",
  "Scenario": "MnA",
  "VerifyResult": "NotEstablished",
  "CheckedAtUtc": "$now",
  "CheckedBy": "admin@$side.example"
}
EOF
  done
  rm -f "$1" "$1-wal" "$1-shm"
  T2T_NOTIFY_LEDGER_PATH=$1 "$BIN" --config "$CONF" -q trust confirm \
    "$WORK/evidence-source.json" "$WORK/evidence-target.json" >/dev/null
}

# Resets a run's ledger to the gated one (a fresh campaign) and notes the sink's counter.
fresh_ledger_prepare() { # gated db log
  echo "rm -f $2 $2-wal $2-shm && cp $1 $2 && $ROOT/bench/run.sh --sink-count $SINK_OUT >> $3"
}

smtp_env() { # port ledger concurrency
  export T2T_NOTIFY_LEDGER_PATH=$2 T2T_NOTIFY_TRANSPORT_KIND=smtp T2T_NOTIFY_TRANSPORT_HOST=127.0.0.1
  export T2T_NOTIFY_TRANSPORT_PORT=$1 T2T_NOTIFY_TRANSPORT_SECURITY=none T2T_NOTIFY_TRANSPORT_TIMEOUT_SECS=60
  export T2T_NOTIFY_PACING_PER_MINUTE=0 T2T_NOTIFY_PACING_PER_DAY=0 T2T_NOTIFY_PACING_CONCURRENCY=$3
}

send_cmd() { # sample dir
  echo "$BIN --config $CONF -q send --mapping $WORK/$1/identity-map.csv --directory $WORK/$1/directory.csv"
}

# The 20,000 notices as .eml files (file transport): the real size of a notice.
outbox() {
  local build
  build=$(sha256sum "$BIN" | cut -c1-16)  # made again by another build: its notices may differ
  [ "$(cat "$WORK/outbox20k.done" 2>/dev/null)" = "$build" ] && return
  sample s20k 20000
  gated_ledger "$WORK/outbox.db"
  rm -rf "$WORK/outbox20k"
  T2T_NOTIFY_LEDGER_PATH=$WORK/outbox.db T2T_NOTIFY_TRANSPORT_KIND=file T2T_NOTIFY_TRANSPORT_DIR=$WORK/outbox20k \
    T2T_NOTIFY_PACING_PER_MINUTE=0 T2T_NOTIFY_PACING_PER_DAY=0 $(send_cmd s20k) >/dev/null
  echo "$build" > "$WORK/outbox20k.done"
}

mean_notice_bytes() {
  python3 -c 'import os,sys; d=sys.argv[1]; s=[os.path.getsize(os.path.join(d,f)) for f in os.listdir(d)]; print(sum(s)//len(s))' "$WORK/outbox20k"
}

case_validate() {
  [ -f "$WORK/m1/identity-map.csv" ] || "$BIN" sample --users 1000000 --groups 100 --out "$WORK/m1" >/dev/null
  measure validate reference 1000000 "" "cat $WORK/m1/identity-map.csv > /dev/null; wc -l $WORK/m1/identity-map.csv > /dev/null"
  measure validate t2t-notify 1000000 "" "$BIN --config $CONF validate --mapping $WORK/m1/identity-map.csv > /dev/null 2>&1"
}

# The 100,000-user preview folder made once per build (cp -r copies it), and the manifest of
# its files for the write floor.
preview_made() {
  [ -f "$WORK/p100k/identity-map.csv" ] || "$BIN" sample --users 100000 --groups 10 --out "$WORK/p100k" >/dev/null
  local build
  build=$(sha256sum "$BIN" | cut -c1-16)
  if [ "$(cat "$WORK/p100k-made.done" 2>/dev/null)" != "$build" ]; then
    # Moved aside, deleted after the case (see case_preview).
    mkdir -p "$WORK/preview-trash"
    [ ! -e "$WORK/p100k-made" ] || mv "$WORK/p100k-made" "$WORK/preview-trash/made-$(date +%s%N)"
    "$BIN" $PREVIEW_ARGS --out "$WORK/p100k-made" >/dev/null 2>&1 || true
    "$EXAMPLES/write-floor" list "$WORK/p100k-made" > "$WORK/p100k-manifest.tsv"
    echo "$build" > "$WORK/p100k-made.done"
  fi
}

case_preview() {
  sync  # what earlier cases left to write back is not written during this one
  local args=$PREVIEW_ARGS
  preview_made
  echo "preview folder: $(find "$WORK/p100k-made" -type f | wc -l) files, $(du -sm "$WORK/p100k-made" | cut -f1) MB" >> "$WORK/checks.txt"
  # Each side writes 200,000 files; on a slow disk one run takes minutes, so fewer runs here.
  local RUNS=${PREVIEW_RUNS:-1}
  # Earlier runs' folders are renamed away, not deleted, until the case is over: on this
  # machine's ext4 (no journal) creating files soon after deleting many costs up to 20 times
  # more, because the inode allocator skips inodes freed in the last minute one by one.
  local trash=$WORK/preview-trash
  mkdir -p "$trash"
  measure preview reference 100000 "[ ! -e $WORK/p100k-copy ] || { d=$trash/\$(date +%s%N); mv $WORK/p100k-copy \$d; }" "cp -r $WORK/p100k-made $WORK/p100k-copy"
  # The floor: the same files written by a program that renders nothing.
  measure preview write-floor 100000 "[ ! -e $WORK/p100k-floor ] || { d=$trash/\$(date +%s%N); mv $WORK/p100k-floor \$d; }" "$EXAMPLES/write-floor write $WORK/p100k-manifest.tsv $WORK/p100k-floor"
  measure preview t2t-notify 100000 "[ ! -e $WORK/p100k-out ] || { d=$trash/\$(date +%s%N); mv $WORK/p100k-out \$d; }" "$BIN $args --out $WORK/p100k-out > /dev/null 2>&1"
  rm -rf "$WORK/p100k-copy" "$WORK/p100k-floor" "$WORK/p100k-out" "$trash"
}

# The same preview into memory (/dev/shm): what rendering costs without the disk.
case_preview_shm() {
  sync
  local args=$PREVIEW_ARGS
  preview_made
  local shm=/dev/shm/t2t-bench-preview
  rm -rf "$shm" && mkdir -p "$shm"
  cp -r "$WORK/p100k-made" "$shm/made"
  local RUNS=${PREVIEW_RUNS:-3}
  # Each side's output is removed before the next side runs: tmpfs is memory, and 10 GB of
  # earlier copies slow the next writer down (5.2 s instead of 4 s for the preview).
  measure preview-shm reference 100000 "rm -rf $shm/copy" "cp -r $shm/made $shm/copy"
  rm -rf "$shm/copy"
  measure preview-shm write-floor 100000 "rm -rf $shm/floor" "$EXAMPLES/write-floor write $WORK/p100k-manifest.tsv $shm/floor"
  rm -rf "$shm/floor"
  measure preview-shm t2t-notify 100000 "rm -rf $shm/out" "$BIN $args --out $shm/out > /dev/null 2>&1"
  rm -rf "$shm" "$WORK/preview-trash"
}

# 20,000 notices over SMTP to smtp-sink, pacing off, ledger on, against smtp-source sending
# 20,000 messages of 4 KB (the issue's reference) and of the notices' real size.
case_send() {
  sample s20k 20000
  outbox
  local size
  size=$(mean_notice_bytes)
  echo "send: the notices average $size bytes (smtp-source -l 4096 is the issue's reference; the same-size reference sends $size)" >> "$WORK/checks.txt"
  gated_ledger "$WORK/send-gated.db"
  start_sink send
  smtp_env "$SINK_PORT" "$WORK/send.db" "$CONCURRENCY"
  local log=$WORK/send-counts
  : > "$log"; measure send reference 20000 "$ROOT/bench/run.sh --sink-count $SINK_OUT >> $log" \
    "smtp-source -s 16 -d -l 4096 -m 20000 127.0.0.1:$SINK_PORT"
  sink_count >> "$log"; check_runs "$log" 20000 "send reference (smtp-source, 4096 bytes)"
  : > "$log"; measure send "ref-${size}B" 20000 "$ROOT/bench/run.sh --sink-count $SINK_OUT >> $log" \
    "smtp-source -s 16 -d -l $size -m 20000 127.0.0.1:$SINK_PORT"
  sink_count >> "$log"; check_runs "$log" 20000 "send reference (smtp-source, $size bytes)"
  : > "$log"; measure send t2t-notify 20000 "$(fresh_ledger_prepare "$WORK/send-gated.db" "$WORK/send.db" "$log")" "$(send_cmd s20k)"
  sink_count >> "$log"; check_runs "$log" 20000 "send t2t-notify (sink counter per run)"
  local count="$ROOT/bench/run.sh --sink-count $SINK_OUT >> $log"
  : > "$log"; paired send "$count" "smtp-source -s 16 -d -l 4096 -m 20000 127.0.0.1:$SINK_PORT" \
    "$(fresh_ledger_prepare "$WORK/send-gated.db" "$WORK/send.db" "$log")" "$(send_cmd s20k)"
  sink_count >> "$log"; check_runs "$log" 20000 "send pairs (smtp-source, t2t-notify alternating)"
  bash -c "$(fresh_ledger_prepare "$WORK/send-gated.db" "$WORK/send.db" /dev/null)"
  phases send
  stop_sink
  verify_once
}

# The issue's premise: notices of about 4 KB. The same send with bench/templates-4k (the four
# points in a few lines, a bench fixture, not a notice to ship) against smtp-source -l 4096.
case_send_4k() {
  sample s20k 20000
  gated_ledger "$WORK/send-gated.db"
  start_sink send4k
  smtp_env "$SINK_PORT" "$WORK/send4k.db" "$CONCURRENCY"
  export T2T_NOTIFY_MESSAGE_TEMPLATES=$ROOT/bench/templates-4k
  local size
  size=$(notice_bytes_with_templates)
  echo "send_4k: with bench/templates-4k the notices average $size bytes" >> "$WORK/checks.txt"
  local log=$WORK/send4k-counts
  : > "$log"; measure send-4k reference 20000 "$ROOT/bench/run.sh --sink-count $SINK_OUT >> $log" \
    "smtp-source -s 16 -d -l 4096 -m 20000 127.0.0.1:$SINK_PORT"
  sink_count >> "$log"; check_runs "$log" 20000 "send_4k reference (smtp-source, 4096 bytes)"
  : > "$log"; measure send-4k t2t-notify 20000 "$(fresh_ledger_prepare "$WORK/send-gated.db" "$WORK/send4k.db" "$log")" "$(send_cmd s20k)"
  sink_count >> "$log"; check_runs "$log" 20000 "send_4k t2t-notify (sink counter per run)"
  : > "$log"; paired send-4k "$ROOT/bench/run.sh --sink-count $SINK_OUT >> $log" "smtp-source -s 16 -d -l 4096 -m 20000 127.0.0.1:$SINK_PORT" \
    "$(fresh_ledger_prepare "$WORK/send-gated.db" "$WORK/send4k.db" "$log")" "$(send_cmd s20k)"
  sink_count >> "$log"; check_runs "$log" 20000 "send_4k pairs (smtp-source, t2t-notify alternating)"
  unset T2T_NOTIFY_MESSAGE_TEMPLATES
  stop_sink
}

# The mean size of the first 2,000 notices as the current templates render them.
notice_bytes_with_templates() {
  rm -rf "$WORK/size-preview"
  "$BIN" --config "$CONF" preview --mapping "$WORK/s20k/identity-map.csv" --directory "$WORK/s20k/directory.csv" \
    --limit 2000 --out "$WORK/size-preview" >/dev/null 2>&1 || true
  python3 -c 'import glob,os,sys; s=[os.path.getsize(f) for f in glob.glob(sys.argv[1]+"/messages/*/*.eml")]; print(sum(s)//len(s))' "$WORK/size-preview"
  rm -rf "$WORK/size-preview"
}

# One more untimed run that notes how long the sending itself took (the summary's time) next
# to the whole process (reading, rendering and checking every notice first).
phases() { # case
  local sending
  sending=$(/usr/bin/time -o "$WORK/phases" -f '%e s (%U s user CPU, %S s system CPU)' $(send_cmd s20k) 2>/dev/null \
    | grep -o 'Summary after [0-9.]* s' | cut -d' ' -f3-)
  echo "$1 t2t-notify phases: whole process $(tail -1 "$WORK/phases"), of which sending (the engine, after every notice was rendered and checked) $sending" >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
}

# One more t2t-notify run against a sink that dumps every message: each of the 20,000
# recipients exactly once, and the ledger says 20,000 sent.
verify_once() {
  rm -rf "$WORK/dump"; mkdir -p "$WORK/dump"; chmod 777 "$WORK/dump"
  start_sink verify -d "$WORK/dump/m."
  smtp_env "$SINK_PORT" "$WORK/verify.db" "$CONCURRENCY"
  cp "$WORK/send-gated.db" "$WORK/verify.db"; rm -f "$WORK/verify.db-wal" "$WORK/verify.db-shm"
  $(send_cmd s20k) >/dev/null 2>&1 || true
  stop_sink
  "$BIN" --config "$CONF" report --format json > "$WORK/verify-report.json"
  python3 - "$WORK/dump" "$WORK/s20k/identity-map.csv" "$WORK/verify-report.json" >> "$WORK/checks.txt" <<'EOF'
import collections, json, os, sys
dump, mapping, report = sys.argv[1:4]
got = collections.Counter()
for name in os.listdir(dump):
    with open(os.path.join(dump, name), errors="replace") as f:
        for line in f:
            if not line.strip():
                break
            if line.startswith("X-Rcpt-Args: "):
                got[line.split()[1].strip("<>").lower()] += 1
want = {l.split(",")[4].strip().lower() for l in open(mapping) if l.startswith("User,")}
states = collections.Counter(u["state"] for c in json.load(open(report))["campaigns"] for u in c["users"])
once = sum(1 for a in want if got[a] == 1)
extra = sum(n for a, n in got.items() if a not in want)
ok = once == len(want) and extra == 0 and max(got.values(), default=0) == 1 and states.get("sent") == len(want)
print(f"{'OK' if ok else 'WRONG'} send exactly once: {once} of {len(want)} recipients got exactly one message, "
      f"{sum(got.values())} messages dumped, {extra} to unknown addresses; ledger states {dict(states)}")
EOF
  tail -1 "$WORK/checks.txt" >&2
  rm -rf "$WORK/dump"
}

# Re-running send over a ledger where all 100,000 users are sent: nothing may be sent.
case_resume() {
  sample s100k 100000
  if [ ! -f "$WORK/resume-sent.done" ]; then
    echo "building the 100,000-user ledger with a real send to smtp-sink (once)" >&2
    gated_ledger "$WORK/resume-sent.db"
    start_sink resume-build
    smtp_env "$SINK_PORT" "$WORK/resume-sent.db" "$CONCURRENCY"
    $(send_cmd s100k) >/dev/null
    [ "$(sink_count)" = 100000 ] || { echo "the 100,000-user send delivered $(sink_count)" >&2; exit 1; }
    stop_sink
    touch "$WORK/resume-sent.done"
  fi
  # A ledger built by an older build is brought to this build's schema once, as an admin's
  # would be by its first run, not in every timed run.
  T2T_NOTIFY_LEDGER_PATH=$WORK/resume-sent.db "$BIN" --config "$CONF" report --format json >/dev/null
  start_sink resume
  local before
  before=$(tr '\r' '\n' < "$SINK_OUT" | grep -ao 'sess=[0-9]*' | tail -1 || true)
  smtp_env "$SINK_PORT" "$WORK/resume.db" "$CONCURRENCY"
  local log=$WORK/resume-counts
  : > "$log"; measure resume t2t-notify 100000 "$(fresh_ledger_prepare "$WORK/resume-sent.db" "$WORK/resume.db" "$log")" "$(send_cmd s100k)"
  sink_count >> "$log"; check_runs "$log" 0 "resume sends nothing (sink counter per run)"
  local after
  after=$(tr '\r' '\n' < "$SINK_OUT" | grep -ao 'sess=[0-9]*' | tail -1 || true)
  echo "$([ "$before" = "$after" ] && echo OK || echo WRONG) resume opened no SMTP session (sink sessions before the runs: ${before:-sess=0}, after: ${after:-sess=0}; the one before is the script's own check that the sink listens)" >> "$WORK/checks.txt"
  stop_sink
}

: > "$WORK/checks.txt"
cases=${*:-validate send send_4k resume preview_shm preview}
for c in $cases; do
  echo "== $c (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "case_$c"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load.txt"
python3 "$ROOT/bench/table.py" "$RESULTS" "$WORK/paired.tsv"
echo
cat "$WORK/load.txt"
echo "checks:"
sed 's/^/  /' "$WORK/checks.txt"
