#!/usr/bin/env bash
# `meridian router` as a process: usage errors exit non-zero at once (never a hang), its RESP
# listener answers (-CLUSTERDOWN with no region up), and SIGTERM or SIGINT stops a running router
# cleanly with exit code 0. Every wait is bounded.
#   router_command_test.sh MERIDIAN_BINARY CONFIG_YAML
set -u
bin=$1
config=$2
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

expect_usage_error() {  # expected exit code, then the arguments
  local expected=$1
  shift
  timeout 10 "$bin" router "$@" >/dev/null 2>&1
  local rc=$?
  [[ $rc == 124 ]] && fail "router $* hung"
  [[ $expected == nonzero && $rc != 0 ]] && return 0
  [[ $rc == "$expected" ]] || fail "router $*: exit $rc, expected $expected"
}

expect_usage_error 2 --config "$config" --location mars
expect_usage_error 2 --config /nonexistent/meridian.yaml
expect_usage_error nonzero --config "$config" --threads 0
expect_usage_error nonzero --config "$config" --no-such-flag
expect_usage_error nonzero --config "$config" --resp-idle-timeout-ms -1
expect_usage_error nonzero --config "$config" --resp-handshake-timeout-ms x

# Exited (or a zombie waiting for us): the process no longer runs.
gone() { [[ ! -e /proc/$1 ]] || [[ $(ps -o stat= -p "$1") == Z* ]]; }

for signal in TERM INT; do
  log=$(mktemp)
  "$bin" router --config "$config" --http 127.0.0.1:0 --resp 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    grep -q "router: http://" "$log" && break
    sleep 0.1
  done
  address=$(grep -o "http://[0-9.]*:[0-9]*" "$log" | head -1)
  [[ -n $address ]] || { kill -KILL "$pid"; fail "router did not start: $(cat "$log")"; }
  curl -sf --max-time 5 "$address/router/status" | grep -q '"location"' ||
    { kill -KILL "$pid"; fail "no /router/status at $address"; }
  # The RESP listener answers the router's own commands with no region running.
  resp=$(grep -o "router: resp [0-9.]*:[0-9]*" "$log" | head -1 | sed 's/.* //')
  [[ -n $resp ]] || { kill -KILL "$pid"; fail "no resp listener logged: $(cat "$log")"; }
  reply=$(timeout 5 redis-cli -h "${resp%:*}" -p "${resp##*:}" MERIDIAN.REGION eu 2>&1)
  [[ $reply == OK ]] || { kill -KILL "$pid"; fail "MERIDIAN.REGION eu answered '$reply'"; }
  # CLUSTERDOWN unless a demo on the config's default ports happens to run on this machine.
  reply=$(timeout 5 redis-cli -h "${resp%:*}" -p "${resp##*:}" GET k 2>&1)
  [[ $? != 124 && ($reply == *CLUSTERDOWN* || $reply != *ERR*) ]] ||
    { kill -KILL "$pid"; fail "GET answered '$reply'"; }
  kill -"$signal" "$pid"
  for _ in $(seq 100); do
    gone "$pid" && break
    sleep 0.1
  done
  gone "$pid" || { kill -KILL "$pid"; fail "still running 10 s after SIG$signal"; }
  wait "$pid"
  rc=$?
  [[ $rc == 0 ]] || fail "exit $rc after SIG$signal: $(cat "$log")"
  grep -q "signal" "$log" || fail "no stop message after SIG$signal"
  rm -f "$log"
done
echo "router_command_test: ok"
