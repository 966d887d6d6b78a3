# Helpers shared by tests/windows/e2e.sh and service.sh (sourced; each script defines `fail` and
# the `pids` array that start_sink adds its smtp-sink to, which its cleanup kills).

# Wine shows the Unix root as drive Z:.
winpath() { local p="Z:$1"; printf '%s' "${p//\//\\}"; }
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
