#!/usr/bin/env bash
# End-to-end under Wine for the Windows .exe given as $1: validate, preview, trust confirm (fresh
# evidence), send the sample data to Postfix's smtp-sink on 127.0.0.1 (each recipient exactly
# once), a rerun that sends nothing, a second send refused while a first one holds the ledger
# lock (naming its PID), and report; then Ctrl-C (SIGINT, which Wine delivers as CTRL_C_EVENT):
# a send stops with exit 130 and the messages in flight recorded, a rerun mails the rest, a
# second Ctrl-C aborts and --resend-uncertain mails those users once. Every path is given the
# Windows way (drive letter and backslashes); the ledger and templates are found relative to the
# config file's folder.
set -euo pipefail
exe="$(realpath "$1")"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
WINE="${WINE:-/usr/lib/wine/wine64}"
work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "windows e2e: $*" >&2; exit 1; }
# shellcheck source=tests/windows/lib.sh
source "$repo/tests/windows/lib.sh"
t2t() { "$WINE" "$exe" --config "$(winpath "$work/sample/t2t-notify.toml")" "$@"; }

cp -r "$repo/sample-data" "$work/sample"
cp -r "$repo/templates" "$work/templates"
map=(--mapping "$(winpath "$work/sample/identity-map.csv")" --directory "$(winpath "$work/sample/directory.csv")")
users=$(grep -c '^User,' "$work/sample/identity-map.csv")

echo "windows e2e: validate"
t2t validate "${map[@]}" --format json >"$work/validate.json"
grep -q "\"users\": $users" "$work/validate.json" || fail "validate: $(cat "$work/validate.json")"

echo "windows e2e: preview"
t2t preview "${map[@]}" --out "$(winpath "$work/preview")"
[ -s "$work/preview/index.html" ] || fail "preview wrote no index.html"
emls=$(find "$work/preview/messages" -name '*.eml' | wc -l)
[ "$emls" -eq "$users" ] || fail "preview wrote $emls .eml files for $users users"

echo "windows e2e: trust confirm (evidence checked now)"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
evidence() { # side host partner role by
  cat <<JSON
{
  "Format": "t2t-notify/trust-evidence/1",
  "Side": "$1",
  "CrossTenantHostUrl": "$2",
  "PartnerCrossTenantHostUrl": "$3",
  "PartnerRole": "$4",
  "Scenario": "MnA",
  "VerifyResult": "NotEstablished",
  "CheckedAtUtc": "$now",
  "CheckedBy": "$5"
}
JSON
}
evidence source https://contoso-my.sharepoint.com/ https://fabrikam-my.sharepoint.com/ Target admin@contoso.onmicrosoft.com >"$work/source.json"
evidence target https://fabrikam-my.sharepoint.com/ https://contoso-my.sharepoint.com/ Source admin@fabrikam.onmicrosoft.com >"$work/target.json"
t2t trust confirm "$(winpath "$work/source.json")" "$(winpath "$work/target.json")"

echo "windows e2e: send to smtp-sink"
port=$(free_port)
start_sink "$work/sink" "$port"
export T2T_NOTIFY_TRANSPORT_KIND=smtp T2T_NOTIFY_TRANSPORT_HOST=127.0.0.1 \
  T2T_NOTIFY_TRANSPORT_PORT="$port" T2T_NOTIFY_TRANSPORT_SECURITY=none \
  T2T_NOTIFY_PACING_PER_MINUTE=6000
t2t send "${map[@]}"
sent=$(cat "$work"/sink/m.* | grep -c '^X-Rcpt-Args:')
distinct=$(cat "$work"/sink/m.* | grep '^X-Rcpt-Args:' | sort -u | wc -l)
[ "$sent" -eq "$users" ] && [ "$distinct" -eq "$users" ] \
  || fail "send: $sent recipients ($distinct distinct) for $users users"
[ -f "$work/sample/t2t-notify.db" ] || fail "the ledger is not next to the config file"

echo "windows e2e: a rerun sends nothing"
t2t send "${map[@]}"
again=$(cat "$work"/sink/m.* | grep -c '^X-Rcpt-Args:')
[ "$again" -eq "$users" ] || fail "rerun: $((again - users)) more messages"

echo "windows e2e: report"
t2t report --format csv >"$work/report.csv"
rows=$(grep -c ',sent,' "$work/report.csv" || true)
[ "$rows" -eq "$users" ] || fail "report: $rows sent rows for $users users: $(head -3 "$work/report.csv")"

# Ctrl-C: Wine's ntdll turns a SIGINT to the .exe's process into CTRL_C_EVENT for the console
# control handlers, as a Ctrl-C in a Windows console does. That process is the child of the
# subshell `t2t ... &` starts (the subshell, a background job, ignores SIGINT itself).
ctrl_c() { local win; win=$(pgrep -P "$1") || fail "no Windows process under job $1"; kill -INT "$win"; }
# Sends with a fresh ledger $1 to a smtp-sink that holds each message at DATA for $2 seconds;
# returns half a second after the sink opened its first dump file (it does so at DATA), so the
# first messages are in flight until the hold ends.
start_slow_send() {
  local p
  p=$(free_port)
  start_sink "$work/$1/slow" "$p" -w "$2"
  export T2T_NOTIFY_TRANSPORT_PORT="$p" T2T_NOTIFY_LEDGER_PATH="$(winpath "$work/$1/t2t.db")"
  t2t trust confirm "$(winpath "$work/source.json")" "$(winpath "$work/target.json")" >/dev/null
  t2t send "${map[@]}" >"$work/$1.out" 2>&1 &
  job=$!
  pids+=("$job")
  for _ in $(seq 150); do
    compgen -G "$work/$1/slow/m.*" >/dev/null && { sleep 0.5; return; }
    sleep 0.2
  done
  fail "$1: smtp-sink got nothing: $(cat "$work/$1.out")"
}
# The same ledger again, to a sink that answers at once; $2 is the exit status it must end with
# (4 while users are left uncertain).
rerun_fast() {
  local p status=0
  p=$(free_port)
  start_sink "$work/$1/fast" "$p"
  T2T_NOTIFY_TRANSPORT_PORT="$p" t2t send "${map[@]}" >"$work/$1.rerun" 2>&1 || status=$?
  [ "$status" -eq "$2" ] || fail "$1: the next send exited $status: $(cat "$work/$1.rerun")"
}
# Every recipient smtp-sink got for scenario $1, one line each.
rcpts() { cat "$work/$1"/*/m.* 2>/dev/null | grep '^X-Rcpt-Args:' || true; }
count() { grep -c "$1" "$2" || true; }
each_once() {
  local all dup
  all=$(rcpts "$1" | wc -l)
  dup=$(rcpts "$1" | sort | uniq -d | wc -l)
  [ "$all" -eq "$users" ] && [ "$dup" -eq 0 ] && [ "$(rcpts "$1" | sort -u | wc -l)" -eq "$users" ] \
    || fail "after $2: $all messages ($dup recipients more than once) for $users users"
}

echo "windows e2e: a second send is refused while the first holds the ledger lock"
slow=$(free_port)
start_sink "$work/slow" "$slow" -w 2
export T2T_NOTIFY_TRANSPORT_PORT="$slow" T2T_NOTIFY_LEDGER_PATH="$(winpath "$work/lock/t2t.db")"
t2t trust confirm "$(winpath "$work/source.json")" "$(winpath "$work/target.json")" >/dev/null
t2t send "${map[@]}" >"$work/first.out" 2>&1 &
first=$!
pids+=("$first")
for _ in $(seq 100); do [ -s "$work/lock/t2t.db.lock" ] && break; sleep 0.2; done
holder=$(tr -d '\r\n' <"$work/lock/t2t.db.lock")
[ -n "$holder" ] || fail "the first send wrote no PID into its lock file"
status=0
t2t send "${map[@]}" >"$work/second.out" 2>&1 || status=$?
grep -q "already using the ledger.*(process $holder)" "$work/second.out" \
  || fail "second send (exit $status): $(cat "$work/second.out")"
[ "$status" -ne 0 ] || fail "second send exited 0"
kill -INT "$(pgrep -P "$first")" 2>/dev/null || true
wait "$first" 2>/dev/null || true

echo "windows e2e: Ctrl-C stops a send, records the messages in flight and exits 130"
start_slow_send ctrlc 3
at=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
ctrl_c "$job"
status=0
wait "$job" || status=$?
# Exit 130 alone proves little (Wine ends a process whose handlers ignore Ctrl-C with it too);
# the message and the ledger below show the handler ran and waited.
[ "$status" -eq 130 ] || fail "Ctrl-C: exit $status: $(cat "$work/ctrlc.out")"
grep -q "Interrupted (Ctrl-C)" "$work/ctrlc.out" || fail "Ctrl-C: $(cat "$work/ctrlc.out")"
t2t report --format csv >"$work/ctrlc.csv"
got=$(rcpts ctrlc | wc -l)
recorded=$(count ',sent,' "$work/ctrlc.csv")
[ "$recorded" -eq "$got" ] && [ "$got" -gt 0 ] && [ "$got" -lt "$users" ] \
  || fail "Ctrl-C: smtp-sink got $got, the ledger says $recorded sent, of $users"
[ "$(count ',in-flight,\|,uncertain,' "$work/ctrlc.csv")" -eq 0 ] || fail "Ctrl-C left rows in doubt"
# A message handed to the server before the Ctrl-C and accepted after it: it was in flight.
python3 - "$work/ctrlc.csv" "$at" <<'PY' || fail "Ctrl-C at $at: no message was in flight"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig")) if r["state"] == "sent"]
sys.exit(0 if any(r["last_attempt_at"] < sys.argv[2] < r["sent_at"] for r in rows) else 1)
PY
rerun_fast ctrlc 0
each_once ctrlc "Ctrl-C and a rerun"

echo "windows e2e: a second Ctrl-C aborts; --resend-uncertain then mails those users once"
start_slow_send abort 4
ctrl_c "$job"
for _ in $(seq 50); do grep -q "Interrupted" "$work/abort.out" && break; sleep 0.1; done
ctrl_c "$job"
status=0
wait "$job" || status=$?
[ "$status" -eq 130 ] && grep -q "Aborted" "$work/abort.out" \
  || fail "second Ctrl-C: exit $status: $(cat "$work/abort.out")"
rerun_fast abort 4
t2t report --format csv >"$work/abort.csv"
[ "$(count ',uncertain,' "$work/abort.csv")" -gt 0 ] \
  || fail "the aborted messages are not listed as uncertain: $(cat "$work/abort.csv")"
t2t send "${map[@]}" --resend-uncertain >"$work/abort.out" 2>&1 \
  || fail "--resend-uncertain: $(cat "$work/abort.out")"
# smtp-sink holds each message at DATA, so the aborted ones never reached it: each user once.
each_once abort "the abort, a rerun and --resend-uncertain"

echo "windows e2e: passed"
