#!/usr/bin/env bash
# CPU per forwarded query, greenfinch against dnsdist, in interleaved rounds of fresh processes: the figure peers.py
# calls miss_us, with the upstream's CPU chosen rather than left to the scheduler. Each round starts each system
# afresh on CPU 1, forwards 2000 new names to warm it (and, with --burst, 60k more at full speed, as peers.py does just
# before its window), then sends new names at 4k q/s from CPU 0 for --secs seconds and reads the system's CPU from
# schedstat (every thread), with its context switches per query and dnsperf's mean latency.
# With --alternate both systems are started (and warmed, and burst) once, and the windows alternate between them: on
# a host whose speed drifts by tens of percent over minutes, adjacent windows pair far better than fresh rounds do.
#
#   bash bench/miss_ab.sh                         # NSD on CPU 1, beside the system under test, 3 rounds
#   bash bench/miss_ab.sh --nsd-cpu 0 --rounds 5  # NSD beside dnsperf; --nsd-cpu any lets the scheduler place it
#   bash bench/miss_ab.sh --alternate --burst --rounds 10 --secs 2
#
# greenfinch from build/, or $GREENFINCH_BIN. Needs nsd, dnsperf, dnsdist and dig (`python3 bench/peers.py --install`,
# as root) and 2 CPUs.
set -euo pipefail
bin=$(realpath -m "${GREENFINCH_BIN:-$(dirname "$0")/../build/daemon/greenfinch}")
cd "$(dirname "$0")/.."
rounds=3 secs=5 nsd_cpu=1 burst= alternate=
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --secs) secs=$2; shift 2 ;;
        --nsd-cpu) nsd_cpu=$2; shift 2 ;;
        --burst) burst=1; shift ;;
        --alternate) alternate=1; shift ;;
        *) sed -n '2,15p' "$0" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "no $bin: build first (bash .ci/bootstrap test-fast) or set GREENFINCH_BIN" >&2; exit 2; }
for tool in nsd dnsperf dnsdist dig taskset; do
    command -v $tool >/dev/null || { echo "missing $tool: python3 bench/peers.py --install" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs" >&2; exit 2; }

dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -f "$dir/nsd.pid" ]; then
        local nsd_pid
        nsd_pid=$(cat "$dir/nsd.pid")
        kill "$nsd_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nsd_pid" 2>/dev/null || break; sleep 0.1; done  # it writes its state on the way out
    fi
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

up=$(free_port)
printf '%s\n' '$ORIGIN bench.test.' '$TTL 3600' '@ IN SOA ns1.bench.test. host.bench.test. 1 3600 600 86400 300' \
    '@ IN NS ns1.bench.test.' 'ns1 IN A 127.0.0.1' 'h7 IN A 10.0.0.7' '*.w IN A 10.9.9.9' >"$dir/bench.test.zone"
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$up|g" bench/nsd.conf.in >"$dir/nsd.conf"
nsd -c "$dir/nsd.conf"
answers() { for _ in $(seq 40); do dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" h7.bench.test | grep -q 10.0.0.7 && return 0; sleep 0.1; done; return 1; }
answers "$up" || { echo "NSD did not start: $(cat "$dir/nsd.log")" >&2; exit 1; }
# NSD names its processes "nsd: main", "nsd: server 1", "nsd: xfrd": match the command line.
if [ "$nsd_cpu" != any ]; then
    for p in $(pgrep -f "nsd -c $dir/nsd.conf"); do taskset -p -c "$nsd_cpu" "$p" >/dev/null; done
fi

names() { python3 -c 'import sys; [print(f"{sys.argv[1]}x{i}.w.bench.test A") for i in range(int(sys.argv[2]))]' "$1" "$2" >"$dir/$1.txt"; }
# CPU microseconds, voluntary and involuntary switches of every thread of a process.
cpu_and_switches() {
    local t run=0 vol=0 invol=0
    for t in /proc/"$1"/task/*; do
        run=$((run + $(cut -d' ' -f1 "$t/schedstat") / 1000))
        vol=$((vol + $(awk '/^voluntary_ctxt/{print $2}' "$t/status")))
        invol=$((invol + $(awk '/^nonvoluntary_ctxt/{print $2}' "$t/status")))
    done
    echo "$run $vol $invol"
}
perf_client() { taskset -c 0 dnsperf -s 127.0.0.1 -p "$1" -d "$dir/$2.txt" -c 4 -T 1 "${@:3}" 2>&1; }

declare -A port pid
start() {  # start NAME: runs it on CPU 1, warmed with 2000 new names (and, with --burst, 60k more at full speed)
    local name=$1 tag
    port[$name]=$(free_port)
    case $name in
        greenfinch) "$bin" --listen "127.0.0.1:${port[$name]}" --upstream "127.0.0.1:$up" --log-level warn >"$dir/$name.log" 2>&1 & ;;
        dnsdist)
            printf '%s\n' "setLocal(\"127.0.0.1:${port[$name]}\")" "newServer({address=\"127.0.0.1:$up\", checkName=\"bench.test.\"})" \
                'pc = newPacketCache(500000, {maxTTL=86400, minTTL=0, temporaryFailureTTL=60, staleTTL=60, dontAge=false})' \
                'getPool(""):setCache(pc)' 'setSecurityPollSuffix("")' >"$dir/dnsdist.conf"
            dnsdist --supervised -C "$dir/dnsdist.conf" >"$dir/$name.log" 2>&1 & ;;
    esac
    pid[$name]=$!
    pids+=("${pid[$name]}")  # start runs in the script's own shell, so cleanup sees it
    sleep 0.3
    taskset -a -p -c 1 "${pid[$name]}" >/dev/null
    answers "${port[$name]}" || { echo "$name did not answer: $(cat "$dir/$name.log")" >&2; exit 1; }
    tag=$RANDOM$name  # every name new to every system
    names "w$tag" 2000
    perf_client "${port[$name]}" "w$tag" -n 1 -q 200 -t 2 >/dev/null
    if [ -n "$burst" ]; then
        names "b$tag" 60000
        perf_client "${port[$name]}" "b$tag" -n 1 -q 200 -t 2 >/dev/null
    fi
}
stop() {
    kill "${pid[$1]}"
    wait "${pid[$1]}" 2>/dev/null || true
}
window() {  # window NAME SEQ -> "NAME us_per_miss vol invol latency_us"
    local name=$1 seq=$2 before after out
    names "c$seq$name" $((4000 * secs + 4000))
    before=$(cpu_and_switches "${pid[$name]}")
    out=$(perf_client "${port[$name]}" "c$seq$name" -l "$secs" -q 200 -Q 4000 -t 2)
    after=$(cpu_and_switches "${pid[$name]}")
    echo "$out" | awk -v name="$name" -v b="$before" -v a="$after" '
        /Queries completed:/ { done = $3 }
        /Average Latency/ { lat = $4 * 1e6 }
        END { split(b, x); split(a, y); printf "%s %.1f %.2f %.2f %.0f\n", name, (y[1] - x[1]) / done,
              (y[2] - x[2]) / done, (y[3] - x[3]) / done, lat }'
}

echo "NSD on CPU $nsd_cpu, $rounds rounds of $secs s at 4k new names/s${burst:+, after a 60k burst}${alternate:+,
alternating between two processes started once}"
echo "system us_per_miss voluntary involuntary latency_us"
[ -z "$alternate" ] || { start greenfinch; start dnsdist; }
for r in $(seq "$rounds"); do
    for name in greenfinch dnsdist; do
        [ -n "$alternate" ] || start "$name"
        window "$name" "$r" >>"$dir/results"
        [ -n "$alternate" ] || stop "$name"
        tail -n 1 "$dir/results"
    done
done
python3 - "$dir/results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
cost = {s: [float(r[1]) for r in rows if r[0] == s] for s in ("greenfinch", "dnsdist")}
for s, v in cost.items():
    print(f"{s}: median {statistics.median(v):.1f} us per forwarded query ({' '.join(map(str, v))})")
ratios = [g / d for g, d in zip(cost["greenfinch"], cost["dnsdist"])]
print(f"greenfinch/dnsdist: x{statistics.median(ratios):.2f} (median of the paired rounds), "
      f"greenfinch lower in {sum(r < 1 for r in ratios)} of {len(ratios)}")
EOF
