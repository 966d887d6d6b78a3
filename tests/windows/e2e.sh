#!/usr/bin/env bash
# End-to-end under Wine for the Windows .exe given as $1: validate, preview, trust confirm (fresh
# evidence), send the sample data to Postfix's smtp-sink on 127.0.0.1 (each recipient exactly
# once), a rerun that sends nothing, a second send refused while a first one holds the ledger
# lock (naming its PID), and report. Every path is given the Windows way (drive letter and
# backslashes); the ledger and templates are found relative to the config file's folder.
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
# Wine shows the Unix root as drive Z:.
winpath() { local p="Z:$1"; printf '%s' "${p//\//\\}"; }
t2t() { "$WINE" "$exe" --config "$(winpath "$work/sample/t2t-notify.toml")" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# smtp-sink runs as nobody when started as root; it dumps each transaction into $1.
start_sink() {
  local dir="$1" port="$2"; shift 2
  mkdir -p "$dir" && chmod 777 "$dir"
  /usr/sbin/smtp-sink -u nobody "$@" -d "$dir/m." "127.0.0.1:$port" 100 &
  pids+=($!)
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
  fail "smtp-sink did not start on port $port"
}

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
# Wine does not turn a Unix SIGINT into a console Ctrl-C event, so Ctrl-C is not checked here.
kill "$first" 2>/dev/null || true
wait "$first" 2>/dev/null || true

echo "windows e2e: passed"
