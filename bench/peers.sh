#!/usr/bin/env bash
# End-to-end comparison against the peer forwarders, with ../shared/bench/peers.py: greenfinch (one worker, as
# built in build/) beside a bare echo floor, dnsdist, Unbound, dnsmasq and PowerDNS Recursor, all forwarding to the
# same NSD upstream and driven by the same dnsperf workloads, in one run. The numbers belong in README.md.
#
#   bash bench/peers.sh                      # every system, 3 rounds (medians)
#   bash bench/peers.sh --only floor,ours,dnsdist --rounds 1
#
# Needs the peers, NSD and dnsperf: `python3 ../shared/bench/peers.py --install` (as root) fetches them.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=${PEERS_PY:-../shared/bench/peers.py}
[ -x build/daemon/greenfinch ] || { echo "build first: bash .ci/bootstrap test-fast" >&2; exit 2; }
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--rounds 3)
exec python3 "$peers" --ours "$PWD/build/daemon/greenfinch --listen 127.0.0.1:{port} --upstream {upstream} --log-level warn" "${args[@]}"
