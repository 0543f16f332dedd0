#!/usr/bin/env bash
# Before/after for a change that must not move performance: two greenfinch builds through bench/peers.py's
# workloads, fresh processes in alternating rounds (old new, new old, old new, ...), then each column's medians,
# every round's new÷old and the median and range of those paired ratios. On a busy machine the speed drifts
# more between minutes than a refactor moves it: only ratios of adjacent windows say anything.
#
#   bash bench/compare.sh OLD_BINARY NEW_BINARY                 # 6 rounds of 5 s workloads
#   bash bench/compare.sh /tmp/old/greenfinch build/daemon/greenfinch --rounds 10 --secs 3
#
# A side given as a whole command line with {port} and {upstream} is taken as it is (to compare options, say);
# further arguments go to peers.py. Needs NSD, dnsperf and gcc: `python3 bench/peers.py --install` (as root).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
command_for() {
    case $1 in
        *'{port}'*) echo "$1" ;;
        *) [ -x "$1" ] || { echo "not an executable: $1" >&2; exit 2; }
           echo "$(printf %q "$(realpath "$1")") --listen 127.0.0.1:{port} --upstream {upstream} --log-level warn" ;;
    esac
}
old=$(command_for "$1")
new=$(command_for "$2")
shift 2
# peers.py takes the last of a repeated option: the caller's --rounds wins over the default here.
exec python3 "$(dirname "$0")/peers.py" --system old="$old" --system new="$new" --only old,new --ratio new/old --order abba \
    --rounds 6 "$@"
