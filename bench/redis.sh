#!/usr/bin/env bash
# The two-tier cache (memory in front of Redis) against memory-only, with bench/peers.py, plus a warm start: a cold
# daemon answering names another daemon put in Redis, with no upstream at all. Results go in bench/RESULTS.md.
#
#   bash bench/redis.sh             # 3 rounds of each configuration (medians), then the warm start
#   bash bench/redis.sh --rounds 1
#
# greenfinch from build/, or $GREENFINCH_BIN. Needs peers.py's tools (`python3 bench/peers.py --install`, as root)
# and Redis (`apt-get install redis-server redis-tools`).
set -euo pipefail
bin=$(realpath -m "${GREENFINCH_BIN:-$(dirname "$0")/../build/daemon/greenfinch}")
cd "$(dirname "$0")/.."
peers=bench/peers.py
[ -x "$bin" ] || { echo "no $bin: build first (bash .ci/bootstrap test-fast) or set GREENFINCH_BIN" >&2; exit 2; }
for tool in redis-server redis-cli dnsperf; do
    command -v $tool >/dev/null || { echo "missing $tool: see the comment at the top of $0" >&2; exit 2; }
done
args=(--rounds 3 "$@")  # peers.py takes the last --rounds: the caller's
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

# Redis on a unix socket only (port 0: no TCP), pinned beside the daemon as peers.py pins the upstream.
redis-server --port 0 --unixsocket "$dir/redis.sock" --save "" --appendonly no --daemonize no \
    --logfile "$dir/redis.log" --maxmemory 256mb --maxmemory-policy allkeys-lru &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/redis.sock" ] && break; sleep 0.1; done
[ -S "$dir/redis.sock" ] || { echo "redis-server did not start: $(cat "$dir/redis.log")" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] && taskset -a -p -c 1 "${pids[0]}" >/dev/null
redis="unix:$dir/redis.sock"

echo "== memory only"
python3 "$peers" --only ours --ours "$bin --listen 127.0.0.1:{port} --upstream {upstream} --log-level warn" "${args[@]}"
echo "== memory in front of Redis"
python3 "$peers" --only ours \
    --ours "$bin --listen 127.0.0.1:{port} --upstream {upstream} --cache redis --redis $redis --log-level warn" "${args[@]}"

echo "== warm start from Redis"
# A one-answer upstream for the first daemon: every name gets A 10.0.0.7.
cat > "$dir/upstream.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    q, peer = s.recvfrom(512)
    end = 12
    while q[end]: end += q[end] + 1
    end += 5
    r = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00" + q[12:end]
    r += b"\xc0\x0c\x00\x01\x00\x01" + struct.pack(">I", 3600) + b"\x00\x04\x0a\x00\x00\x07"
    s.sendto(r, peer)
PY
coproc UP { exec python3 "$dir/upstream.py"; }
pids+=("$UP_PID")
read -r up_port <&"${UP[0]}"
for i in $(seq 1000); do echo "warm$i.bench.test A"; done > "$dir/names.txt"
redis-cli -s "$dir/redis.sock" FLUSHALL >/dev/null

first_port=$(free_port)
"$bin" --listen "127.0.0.1:$first_port" --upstream "127.0.0.1:$up_port" --cache redis --redis "$redis" --log-level warn &
first=$!
pids+=("$first")
sleep 0.5
dnsperf -s 127.0.0.1 -p "$first_port" -d "$dir/names.txt" -n 1 -q 50 -t 2 | grep -E "Queries completed|NOERROR"
kill "$first"; wait "$first" || true
echo "keys in Redis: $(redis-cli -s "$dir/redis.sock" DBSIZE)"

# The second daemon has no upstream at all (nothing listens on port 9): every answer must come from Redis.
second_port=$(free_port)
"$bin" --listen "127.0.0.1:$second_port" --upstream 127.0.0.1:9 --cache redis --redis "$redis" --log-level warn &
second=$!
pids+=("$second")
sleep 0.5
out=$(dnsperf -s 127.0.0.1 -p "$second_port" -d "$dir/names.txt" -n 1 -q 50 -t 2)
echo "$out" | grep -E "Queries completed|Response codes"
noerror=$(echo "$out" | sed -n 's/.*NOERROR \([0-9]*\).*/\1/p')
echo "cold daemon, no upstream: ${noerror:-0} of 1000 first queries answered from Redis"
kill "$second"; wait "$second" || true
