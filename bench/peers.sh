#!/usr/bin/env bash
# greenfinch (one worker) beside the floors, dnsdist, Unbound, dnsmasq and PowerDNS Recursor, all forwarding to
# the same NSD upstream and driven by the same workloads: bench/peers.py, with greenfinch from build/ (or
# $GREENFINCH_BIN). Arguments go to peers.py (3 rounds unless they say otherwise). Results go in bench/RESULTS.md.
#
#   bash bench/peers.sh                      # every system, 3 rounds
#   bash bench/peers.sh --only floor,ours,dnsdist --rounds 1
#
# Needs the peers, NSD, dnsperf and gcc: `python3 bench/peers.py --install` (as root).
set -euo pipefail
here=$(dirname "$0")
bin=$(realpath -m "${GREENFINCH_BIN:-$here/../build/daemon/greenfinch}")
[ -x "$bin" ] || { echo "no $bin: build first (bash .ci/bootstrap test-fast) or set GREENFINCH_BIN" >&2; exit 2; }
exec python3 "$here/peers.py" --ours "$(printf %q "$bin") --listen 127.0.0.1:{port} --upstream {upstream} --log-level warn" \
    --rounds 3 "$@"  # the last --rounds wins: the caller's
