#!/usr/bin/env bash
# `serve --windows-service` under Wine's service control manager (services.exe), for the Windows
# .exe given as $1: `sc create` installs it with --log-file, `net start` starts it and it must
# report RUNNING; it sends the sample data to Postfix's smtp-sink on 127.0.0.1, which holds each
# message at DATA, and `sc stop` while messages are in flight must stop it gracefully: the log
# says the stop came from the service manager, the service ends STOPPED with exit code 0, and
# the ledger's `sent` rows equal what smtp-sink got, none left in flight or uncertain. Started
# again against a sink that answers at once, it sends the rest, and a stop between passes ends
# it with nothing in flight: each recipient once in all. Its dashboard answers on 127.0.0.1:
# `/healthz`, and `/api/status` only with the token the service wrote next to the ledger. A service gets the environment of
# services.exe, not this shell's, so every setting is in the config file. Run by run.sh in its
# fresh WINEPREFIX.
set -euo pipefail
exe="$(realpath "$1")"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
WINE="${WINE:-/usr/lib/wine/wine64}"
service=t2tnotify
work="$(mktemp -d)"
chmod 755 "$work"
pids=()
cleanup() {
  "$WINE" sc stop "$service" >/dev/null 2>&1 || true
  "$WINE" sc delete "$service" >/dev/null 2>&1 || true
  exec 9>&- || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# Wine marks services.exe and every service process as system processes, and once no other Wine
# process has run for a few seconds the wineserver shuts them all down (the next `sc` finds the
# service never started): a cmd.exe reading a pipe that stays open keeps the session alive.
mkfifo "$work/hold"
"$WINE" cmd <"$work/hold" >/dev/null 2>&1 &
pids+=($!)
exec 9>"$work/hold"

log="$work/serve.log"
fail() { echo "windows service: $*" >&2; [ -f "$log" ] && sed 's/^/  log: /' "$log" >&2; exit 1; }
# shellcheck source=tests/windows/lib.sh
source "$repo/tests/windows/lib.sh"
# The service's state as `sc query` says it (RUNNING, STOPPED, ...) and its exit codes.
state() { "$WINE" sc query "$service" | tr -d '\r' | awk '$1 == "STATE" {print $4}'; }
exit_codes() { "$WINE" sc query "$service" | tr -d '\r' | awk '$1 ~ /EXIT_CODE/ {printf "%s ", $3}'; }
wait_for_state() {
  for _ in $(seq 300); do [ "$(state)" = "$1" ] && return; sleep 0.2; done
  fail "the service did not reach $1 (it is $(state))"
}
# Points the config's [transport] at the sink on port $1 (the service reads it at start).
config() {
  python3 - "$repo/sample-data/t2t-notify.toml" "$1" >"$work/sample/service.toml" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read().split("[[campaign]]")[0]
text = re.sub(r'(?m)^kind = "file"\ndir = "outbox"$',
              f'kind = "smtp"\nhost = "127.0.0.1"\nport = {sys.argv[2]}\nsecurity = "none"', text)
text = re.sub(r"(?m)^per_minute = \d+$", "per_minute = 6000", text)
print(text + "\n[serve]\npoll_seconds = 1\n\n[dashboard]\nlisten = \"127.0.0.1:0\"\n")
PY
  grep -q '^kind = "smtp"' "$work/sample/service.toml" || fail "the sample config's [transport] changed"
}
t2t() { "$WINE" "$exe" --config "$(winpath "$work/sample/service.toml")" "$@"; }
rcpts() { cat "$work"/sink-*/m.* 2>/dev/null | grep '^X-Rcpt-Args:' || true; }
count() { grep -c "$1" "$2" || true; }

cp -r "$repo/sample-data" "$work/sample"
cp -r "$repo/templates" "$work/templates"
users=$(grep -c '^User,' "$work/sample/identity-map.csv")
slow=$(free_port)
fast=$(free_port)
config "$slow"

now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
evidence() { # side host partner role by
  printf '{"Format": "t2t-notify/trust-evidence/1", "Side": "%s", "CrossTenantHostUrl": "%s", "PartnerCrossTenantHostUrl": "%s", "PartnerRole": "%s", "Scenario": "MnA", "VerifyResult": "NotEstablished", "CheckedAtUtc": "%s", "CheckedBy": "%s"}\n' \
    "$1" "$2" "$3" "$4" "$now" "$5"
}
evidence source https://contoso-my.sharepoint.com/ https://fabrikam-my.sharepoint.com/ Target admin@contoso.onmicrosoft.com >"$work/source.json"
evidence target https://fabrikam-my.sharepoint.com/ https://contoso-my.sharepoint.com/ Source admin@fabrikam.onmicrosoft.com >"$work/target.json"
t2t trust confirm "$(winpath "$work/source.json")" "$(winpath "$work/target.json")" >/dev/null

echo "windows service: sc create, net start: RUNNING"
bin="$(winpath "$exe") --config $(winpath "$work/sample/service.toml") --log-file $(winpath "$log")"
bin+=" serve --windows-service --mapping $(winpath "$work/sample/identity-map.csv")"
bin+=" --directory $(winpath "$work/sample/directory.csv")"
"$WINE" sc create "$service" binpath= "$bin" >/dev/null || fail "sc create failed"
start_sink "$work/sink-slow" "$slow" -w 3
"$WINE" net start "$service" >"$work/start.out" 2>&1 || fail "net start: $(cat "$work/start.out")"
wait_for_state RUNNING

echo "windows service: its dashboard answers on 127.0.0.1, with the token it wrote next to the ledger"
for _ in $(seq 100); do grep -q "dashboard at http://127.0.0.1:" "$log" && break; sleep 0.2; done
url=$(grep -o "dashboard at http://127.0.0.1:[0-9]*/" "$log" | tail -1 | sed 's/^dashboard at //')
[ -n "$url" ] || fail "the log names no dashboard"
python3 - "$url" "$work/sample/dashboard-token" <<'PY' || fail "the dashboard did not answer as it should"
import json, sys, urllib.error, urllib.request
url, token = sys.argv[1], open(sys.argv[2]).read().strip()
assert urllib.request.urlopen(url + "healthz", timeout=10).read() == b"ok\n"
try:
    urllib.request.urlopen(url + "api/status", timeout=10)
    sys.exit("/api/status answered without the token")
except urllib.error.HTTPError as e:
    assert e.code == 401, e.code
ask = urllib.request.Request(url + "api/status", headers={"Authorization": "Bearer " + token})
status = json.load(urllib.request.urlopen(ask, timeout=10))
assert [c["name"] for c in status["campaigns"]] == ["post-migration"], status["campaigns"]
PY

echo "windows service: sends; sc stop with messages in flight stops it gracefully"
for _ in $(seq 150); do compgen -G "$work/sink-slow/m.*" >/dev/null && break; sleep 0.2; done
compgen -G "$work/sink-slow/m.*" >/dev/null || fail "smtp-sink got nothing"
sleep 0.5
"$WINE" sc stop "$service" >"$work/stop.out" 2>&1 || fail "sc stop failed: $(cat "$work/stop.out")"
wait_for_state STOPPED
[ "$(exit_codes)" = "0 0 " ] || fail "stopped with exit codes $(exit_codes)(Win32, service-specific)"
grep -q "Interrupted (service stop)" "$log" || fail "the log does not say the service stop interrupted the pass"
t2t report --format csv >"$work/stop.csv"
got=$(rcpts | wc -l)
recorded=$(count ',sent,' "$work/stop.csv")
[ "$recorded" -eq "$got" ] && [ "$got" -gt 0 ] && [ "$got" -lt "$users" ] \
  || fail "after sc stop: smtp-sink got $got, the ledger says $recorded sent, of $users"
[ "$(count ',in-flight,\|,uncertain,' "$work/stop.csv")" -eq 0 ] || fail "sc stop left rows in doubt: $(cat "$work/stop.csv")"

echo "windows service: started again, it sends the rest; a stop between passes"
config "$fast"
start_sink "$work/sink-fast" "$fast"
"$WINE" net start "$service" >"$work/start.out" 2>&1 || fail "net start again: $(cat "$work/start.out")"
wait_for_state RUNNING
for _ in $(seq 300); do [ "$(rcpts | wc -l)" -ge "$users" ] && break; sleep 0.2; done
sleep 1.5
"$WINE" sc stop "$service" >"$work/stop.out" 2>&1 || fail "sc stop failed: $(cat "$work/stop.out")"
wait_for_state STOPPED
[ "$(exit_codes)" = "0 0 " ] || fail "stopped with exit codes $(exit_codes)(Win32, service-specific)"
grep -q "stopped (service stop) between passes" "$log" || fail "the log does not say it stopped between passes"
all=$(rcpts | wc -l)
distinct=$(rcpts | sort -u | wc -l)
[ "$all" -eq "$users" ] && [ "$distinct" -eq "$users" ] \
  || fail "$all messages ($distinct recipients) for $users users"

echo "windows service: passed"
