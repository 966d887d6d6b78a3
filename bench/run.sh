#!/usr/bin/env bash
# The benchmark of issue 16: t2t-notify's speed and memory against references measured in the
# same run, as ratios. Generates its own data, runs each case several times (hyperfine),
# measures peak RSS (/usr/bin/time), checks that every run delivered what it should, and prints
# one table. Benchmarks never fail CI and never run in `cargo test`; goals are reported, not
# enforced.
#
#   bench/run.sh            # every case
#   bench/run.sh send       # some cases: validate | send | send_100k | preview | pacing | dashboard
#   RUNS=3 bench/run.sh     # fewer timed runs per case (default 5, plus one warm-up)
#   PREVIEW_RUNS=3 bench/run.sh preview   # the preview case (200,000 files a run) runs once by default
#   MAILMERGE_USERS=100000 bench/run.sh preview  # users in mailmerge's dry run (default 10,000)
#   PACING_USERS=480 bench/run.sh pacing  # users of the paced send (default 480: 4 minutes at 120)
#   CONCURRENCY=8 bench/run.sh send   # [pacing] concurrency of the SMTP send (default 16)
#   T2T_BIN=/tmp/old/t2t-notify bench/run.sh send   # measure another build of t2t-notify
#
# Needs: cargo, python3 (with venv), and (installed with apt-get when missing) hyperfine,
# postfix (smtp-sink, smtp-source) and GNU time; mailmerge 2.3.0 from PyPI goes into a venv
# under $BENCH_DIR. Work files go to $BENCH_DIR (default /tmp/t2t-bench).
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
MAILMERGE_USERS=${MAILMERGE_USERS:-10000}
PACING_USERS=${PACING_USERS:-480}
# The 100,000-user preview (with --out added).
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
need curl curl

echo "building (release)" >&2
cargo build --release --quiet --bin t2t-notify --example write-floor
TARGET=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
BIN=${T2T_BIN:-$TARGET/release/t2t-notify}  # T2T_BIN=/path: measure another build (before/after)
EXAMPLES=$TARGET/release/examples
RESULTS=$WORK/results.tsv
: > "$RESULTS"
: > "$WORK/paired.tsv"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$WORK/load.txt"
: > "$WORK/pacing.tsv"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# hyperfine a command, then one more run under /usr/bin/time for the peak RSS; appends
# "case<TAB>role<TAB>json<TAB>peak_kb<TAB>units" to the results.
measure() { # case role units prepare command
  local case=$1 role=$2 units=$3 prepare=$4 command=$5
  local json=$WORK/$case-$role.json
  local args=(--runs "$RUNS" --warmup "${WARMUP:-1}" --export-json "$json")
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

# mailmerge (PyPI) in a venv under $BENCH_DIR, its database (the first $MAILMERGE_USERS users of
# the 100,000-user sample) and its template (one English notice of this build's preview, its
# text and HTML parts with the user's values turned into Jinja fields), and a server config with
# no rate limit. Sets MAILMERGE.
mailmerge_made() {
  local venv=$WORK/mailmerge-venv
  if [ ! -x "$venv/bin/mailmerge" ]; then
    python3 -m venv "$venv" 2>/dev/null || { need_venv; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q "mailmerge==2.3.0"
  fi
  MAILMERGE=$venv/bin/mailmerge
  python3 "$ROOT/bench/checks.py" mailmerge-inputs "$WORK/p100k" "$WORK/p100k-made" "$MAILMERGE_USERS" "$WORK/mailmerge"
}

need_venv() {
  local v
  v=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  apt-get install -y -qq --no-install-recommends "python$v-venv" >/dev/null
}

# 100,000 users previewed on disk, against mailmerge's dry run of the same kind of notice (the
# reference of the goal, as a rate: users a second) and the write floor (the same files written
# by a program that renders nothing).
case_preview() {
  sync  # what earlier cases left to write back is not written during this one
  local args=$PREVIEW_ARGS
  preview_made
  mailmerge_made
  echo "preview folder: $(find "$WORK/p100k-made" -type f | wc -l) files, $(du -sm "$WORK/p100k-made" | cut -f1) MB" >> "$WORK/checks.txt"
  local mm=$WORK/mailmerge
  # One run: its rate is steady over thousands of users, and it is the slow side.
  WARMUP=0 RUNS=1 measure preview reference "$MAILMERGE_USERS" "rm -f $mm/out.txt" \
    "$MAILMERGE --dry-run --no-limit --output-format raw --template $mm/template.txt --database $mm/database.csv --config $mm/server.conf > $mm/out.txt"
  python3 "$ROOT/bench/checks.py" mailmerge-output "$mm/out.txt" "$mm/database.csv" >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
  rm -f "$mm/out.txt"
  # Each side writes 200,000 files; on a slow disk one run takes minutes, so fewer runs here.
  local RUNS=${PREVIEW_RUNS:-1}
  # Earlier runs' folders are renamed away, not deleted, until the case is over: on this
  # machine's ext4 (no journal) creating files soon after deleting many costs far more, because
  # the inode allocator skips inodes freed in the last minute one by one.
  local trash=$WORK/preview-trash
  mkdir -p "$trash"
  measure preview write-floor 100000 "[ ! -e $WORK/p100k-floor ] || { d=$trash/\$(date +%s%N); mv $WORK/p100k-floor \$d; }" "$EXAMPLES/write-floor write $WORK/p100k-manifest.tsv $WORK/p100k-floor"
  measure preview t2t-notify 100000 "[ ! -e $WORK/p100k-out ] || { d=$trash/\$(date +%s%N); mv $WORK/p100k-out \$d; }" "$BIN $args --out $WORK/p100k-out > /dev/null 2>&1"
  # The last run's folder (the peak-RSS run) holds one notice per user, like the first build's.
  python3 "$ROOT/bench/checks.py" preview-output "$WORK/p100k-out" "$WORK/p100k-made" 100000 >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
  rm -rf "$WORK/p100k-floor" "$WORK/p100k-out" "$trash"
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

# One more untimed run that notes how long the sending itself took (the summary's time) next
# to the whole process (reading, rendering and checking every notice first).
phases() { # case
  local sending
  sending=$(/usr/bin/time -o "$WORK/phases" -f '%e s (%U s user CPU, %S s system CPU)' $(send_cmd s20k) 2>/dev/null \
    | grep -o 'Summary after [0-9.]* s' | cut -d' ' -f3-)
  echo "$1 t2t-notify phases: whole process $(tail -1 "$WORK/phases"), of which sending (the engine, after every notice was rendered and checked) $sending" >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
}

# One more t2t-notify run of 20,000 against a sink that dumps every message: each recipient
# exactly once, and the ledger says 20,000 sent.
verify_once() {
  rm -rf "$WORK/dump"; mkdir -p "$WORK/dump"; chmod 777 "$WORK/dump"
  start_sink verify -d "$WORK/dump/m."
  smtp_env "$SINK_PORT" "$WORK/verify.db" "$CONCURRENCY"
  cp "$WORK/send-gated.db" "$WORK/verify.db"; rm -f "$WORK/verify.db-wal" "$WORK/verify.db-shm"
  $(send_cmd s20k) >/dev/null 2>&1 || true
  stop_sink
  "$BIN" --config "$CONF" report --format json > "$WORK/verify-report.json"
  python3 "$ROOT/bench/checks.py" once "$WORK/dump" "$WORK/s20k/identity-map.csv" "$WORK/verify-report.json" send >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
  rm -rf "$WORK/dump"
}

# 100,000 users over SMTP, pacing off, in one process: its peak RSS is the goal (the whole
# campaign's notices must not be held at once). One run, under /usr/bin/time; the sink's
# counter must grow by 100,000, the ledger must say 100,000 sent, and a second send over that
# ledger must send nothing (a finished campaign is not mailed again).
case_send_100k() {
  sample s100k 100000
  gated_ledger "$WORK/s100k-gated.db"
  start_sink send100k
  smtp_env "$SINK_PORT" "$WORK/s100k.db" "$CONCURRENCY"
  rm -f "$WORK/s100k.db" "$WORK/s100k.db-wal" "$WORK/s100k.db-shm"
  cp "$WORK/s100k-gated.db" "$WORK/s100k.db"
  local before after again t0 t1
  before=$(sink_count)
  t0=$(date +%s.%N)
  /usr/bin/time -o "$WORK/peak" -f '%M' $(send_cmd s100k) >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  after=$(sink_count)
  python3 -c 'import json,sys; json.dump({"results": [{"times": [float(sys.argv[2]) - float(sys.argv[1])]}]}, open(sys.argv[3], "w"))' \
    "$t0" "$t1" "$WORK/send-100k-t2t-notify.json"
  printf '%s\t%s\t%s\t%s\t%s\n' send-100k t2t-notify "$WORK/send-100k-t2t-notify.json" "$(tail -1 "$WORK/peak")" 100000 >> "$RESULTS"
  "$BIN" --config "$CONF" report --format json > "$WORK/s100k-report.json"
  $(send_cmd s100k) >/dev/null 2>&1 || true
  again=$(sink_count)
  stop_sink
  python3 "$ROOT/bench/checks.py" counted "$before" "$after" "$again" 100000 "$WORK/s100k-report.json" >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
}

# The dashboard of `serve` on send_100k's ledger (100,000 people sent): `GET /api/status`, what
# the page asks every second, against `report --format json` of the same ledger (the command an
# admin runs otherwise). The journey is computed once before the timed requests (the page's
# first look). serve's own peak RSS goes to the checks.
case_dashboard() {
  [ -f "$WORK/s100k.db" ] || case_send_100k
  local port token pid
  port=$(free_port)
  token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  printf 'Authorization: Bearer %s\n' "$token" > "$WORK/dashboard-auth"
  T2T_NOTIFY_LEDGER_PATH=$WORK/s100k.db T2T_NOTIFY_DASHBOARD_TOKEN=$token \
    T2T_NOTIFY_DASHBOARD_LISTEN=127.0.0.1:$port T2T_NOTIFY_SERVE_POLL_SECONDS=86400 \
    "$BIN" --config "$CONF" serve --mapping "$WORK/s100k/identity-map.csv" \
    --directory "$WORK/s100k/directory.csv" 2> "$WORK/dashboard-serve.log" &
  pid=$!
  PIDS+=("$pid")
  wait_port "$port"
  curl -sf -H @"$WORK/dashboard-auth" "http://127.0.0.1:$port/api/people?q=x" -o /dev/null
  local url="http://127.0.0.1:$port/api/status"
  measure dashboard t2t-notify 100000 "" "curl -sf -H @$WORK/dashboard-auth $url -o $WORK/dashboard-status.json"
  measure dashboard reference 100000 "" "T2T_NOTIFY_LEDGER_PATH=$WORK/s100k.db $BIN --config $CONF report --format json"
  python3 "$ROOT/bench/checks.py" dashboard "$WORK/dashboard-status.json" 100000 "$(ps -o rss= -p "$pid")" >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
  kill "$pid"
}

# A real send at per_minute = 120 to a sink that dumps every message: each message's arrival
# time is its dump file's mtime. No 60-second window may hold more than 120, and the run should
# use at least 98% of the limit (messages a minute from the first arrival to the last).
case_pacing() {
  sample "pace$PACING_USERS" "$PACING_USERS"
  gated_ledger "$WORK/pacing.db"
  rm -rf "$WORK/pacing-dump"; mkdir -p "$WORK/pacing-dump"; chmod 777 "$WORK/pacing-dump"
  start_sink pacing -d "$WORK/pacing-dump/m."
  smtp_env "$SINK_PORT" "$WORK/pacing.db" "$CONCURRENCY"
  export T2T_NOTIFY_PACING_PER_MINUTE=120
  echo "pacing: sending $PACING_USERS users at per_minute = 120 (about $((PACING_USERS / 120)) minutes)" >&2
  $(send_cmd "pace$PACING_USERS") >/dev/null 2>&1 || true
  stop_sink
  "$BIN" --config "$CONF" report --format json > "$WORK/pacing-report.json"
  python3 "$ROOT/bench/checks.py" once "$WORK/pacing-dump" "$WORK/pace$PACING_USERS/identity-map.csv" "$WORK/pacing-report.json" pacing >> "$WORK/checks.txt"
  tail -1 "$WORK/checks.txt" >&2
  python3 "$ROOT/bench/checks.py" pacing "$WORK/pacing-dump" 120 >> "$WORK/pacing.tsv"
  export T2T_NOTIFY_PACING_PER_MINUTE=0
  rm -rf "$WORK/pacing-dump"
}

: > "$WORK/checks.txt"
cases=${*:-validate send send_100k preview pacing dashboard}
for c in $cases; do
  echo "== $c (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  echo "$c: load at start $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load.txt"
  "case_$c"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$WORK/load.txt"
python3 "$ROOT/bench/table.py" "$RESULTS" "$WORK/paired.tsv" "$WORK/pacing.tsv"
echo
cat "$WORK/load.txt"
echo "checks:"
sed 's/^/  /' "$WORK/checks.txt"
