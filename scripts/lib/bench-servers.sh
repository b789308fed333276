# Shared by the benchmark scripts: start and stop redis-server or a one-region Meridian on $PORT,
# pinned to $SERVER_CPU. The caller sets BIN, PORT, SERVER_CPU and WORK before sourcing.
#   redis-everysec | redis-always       redis-server --appendonly yes --appendfsync everysec|always
#   meridian-periodic | meridian-always a one-region cluster (nothing to replicate), --wal-sync ...
#   before-periodic | before-always    the same with $BIN_BEFORE (another build, for before/after)
server_pid=""
CLK_TCK=$(getconf CLK_TCK)

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
  echo "$0: needs redis-server and redis-tools (apt-get install redis-server redis-tools)" >&2
  exit 2
}

stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wait_ping() {
  for _ in $(seq 1 200); do
    if redis-cli -p "$PORT" PING 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.05
  done
  echo "$0: server on $PORT did not answer" >&2
  return 1
}

# start_server CASE [keep [nowait]]: starts CASE on $PORT in $WORK/CASE (emptied first unless
# `keep`, which restarts it on its data) and waits until it answers PING (unless `nowait`: the
# caller polls, e.g. while a large data set loads); sets server_pid.
start_server() {
  local dir="$WORK/$1"
  if [[ "${2:-}" != keep ]]; then rm -rf "$dir" && mkdir -p "$dir"; fi
  case "$1" in
    redis-everysec|redis-always)
      taskset -c "$SERVER_CPU" redis-server --port "$PORT" --dir "$dir" --save "" \
        --appendonly yes --appendfsync "${1#redis-}" --daemonize no >"$dir/log" 2>&1 &
      ;;
    meridian-periodic|meridian-always|before-periodic|before-always)
      local bin=$BIN
      [[ "$1" == before-* ]] && bin=$BIN_BEFORE
      cat >"$dir/cluster.yaml" <<EOF
regions:
  - name: us
    http: 127.0.0.1:$((PORT + 1))
    replication: 127.0.0.1:$((PORT + 2))
    resp: 127.0.0.1:$PORT
    data_dir: $dir/data
links: []
wan:
  admin: 127.0.0.1:$((PORT + 3))
  base_port: $((PORT + 10))
router:
  http: 127.0.0.1:$((PORT + 4))
EOF
      taskset -c "$SERVER_CPU" "$bin" region --config "$dir/cluster.yaml" --region us --direct --plaintext \
        --wal-sync "${1#*-}" >"$dir/log" 2>&1 &
      ;;
  esac
  server_pid=$!
  [[ "${3:-}" == nowait ]] || wait_ping
}

