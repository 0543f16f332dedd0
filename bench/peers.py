#!/usr/bin/env python3
"""Caching DNS forwarders side by side on loopback, driven by the same workloads.

Every system forwards to the same authoritative upstream (NSD serving a generated zone, bench.test) and is measured
alone, a fresh process each round. With 2+ CPUs the system under test and NSD run on CPU 1 and the clients on CPU 0.

Columns (per system and round):
  sat_kqps_core  thousands of cached answers per second of the system's CPU, saturated by bench/floors/blaster.c
                 (one name, 512 queries in flight): the headline figure, robust to a slow client
  hit_qps        answered queries/s, 1000 names already cached (dnsperf, 500 in flight; middle of 3 runs)
  hit_us         the system's CPU microseconds per cached query at a fixed 40k q/s (hit_lat_ms: mean latency)
  miss_qps       answered queries/s when every name is new, so forwarded (--miss names, 200 in flight)
  miss_us        the system's CPU microseconds per forwarded query at a fixed 4k q/s (miss_lat_ms: mean latency)
  rss_mb         resident memory of the system after all workloads
  lost_pct       share of dnsperf's queries never answered, over all its runs

Rows 'floor' (bench/floors/echo_floor.c, echoes the query with QR set) and 'fwdfloor' (bench/floors/
forward_floor.c, a bare forwarder without cache) are what the kernel and the client alone cost, for a cached and
for a forwarded query; fwdfloor forwards its hit_* queries too, so only its miss_* figures are a floor.

Systems: floor, fwdfloor, dnsmasq, unbound, dnsdist, pdns-recursor, and any given as commands that stay in the
foreground, where {port} is the port to answer on (UDP and TCP, 127.0.0.1) and {upstream} NSD's 127.0.0.1:PORT:
  peers.py --ours 'build/daemon/greenfinch --listen 127.0.0.1:{port} --upstream {upstream}'
  peers.py --system old='/tmp/a --listen ...' --system new='/tmp/b --listen ...' --only old,new --ratio new/old
  peers.py --install            # as root: apt-get the peers, NSD, dnsperf, gcc and dig (Debian, Ubuntu)

The report: medians over rounds, every round's values, and for each --ratio A/B (default ours/dnsdist) each
round's A/B, their median and range. Ratios are paired by round: on a busy machine whose speed drifts, two
systems measured minutes apart differ by more than the systems do.
"""
import argparse, ctypes, json, os, re, shlex, shutil, signal, socket, statistics, struct, subprocess, sys
import tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
FLOORS = ["floor", "fwdfloor"]
PEERS = ["dnsmasq", "unbound", "dnsdist", "pdns-recursor"]
APT = ["nsd", "dnsperf", "dnsmasq-base", "unbound", "dnsdist", "pdns-recursor", "gcc", "dnsutils"]
COLUMNS = [("sat_kqps_core", "%.1f"), ("hit_qps", "%.0f"), ("hit_us", "%.2f"), ("hit_lat_ms", "%.3f"),
           ("miss_qps", "%.0f"), ("miss_us", "%.1f"), ("miss_lat_ms", "%.2f"), ("rss_mb", "%.1f"),
           ("lost_pct", "%.2f")]
HIT_NAMES = 1000
PROBE = ("h7.bench.test", bytes([10, 0, 0, 7]))  # a name in the zone and its address
SERVER_CPU, CLIENT_CPU = 1, 0
PINNED = (os.cpu_count() or 1) >= 2
LIBC = ctypes.CDLL(None, use_errno=True)


class Interrupted(BaseException):  # not caught by a stray `except Exception`
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def child_setup(cpu):
    """For Popen's preexec_fn: die with the harness even if it is killed outright, and run on CPU (when pinning)."""
    LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if PINNED:
        os.sched_setaffinity(0, {cpu})


def session(leader):
    """Pids of the processes in the session LEADER started (a system's process and everything it forked)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == leader:
                pids.append(int(entry))
    return pids


def cpu_seconds(leader):
    """CPU time of the whole session, every thread, exited threads included: the process CPU clock of each
    process (clock_getcpuclockid), exact to the nanosecond where /proc/PID/stat counts clock ticks."""
    total = 0
    for pid in session(leader):
        try:
            total += time.clock_gettime_ns(((~pid) << 3) | 2)
        except OSError:
            pass
    return total / 1e9


def rss_mb(leader):
    kib = 0
    for pid in session(leader):
        try:
            kib += next((int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return kib / 1024


def pin_session(leader, cpu):
    """Pins every thread of the session, for a program that set its own affinity after it started."""
    if PINNED:
        for pid in session(leader):
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:  # exited meanwhile
                continue
            for tid in tids:
                try:
                    os.sched_setaffinity(int(tid), {cpu})
                except OSError:
                    pass


def query(name):
    header = struct.pack(">HHHHHH", int.from_bytes(os.urandom(2), "big"), 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"
    return header + qname + struct.pack(">HH", 1, 1)


def answers(port, want):
    """True if the server on PORT replies to the probe, with the probe's address unless WANT is False."""
    q = query(PROBE[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        try:
            s.sendto(q, ("127.0.0.1", port))
            while True:
                r = s.recv(4096)
                if r[:2] == q[:2]:
                    return not want or (r[3] & 15 == 0 and PROBE[1] in r[len(q):])
        except OSError:  # timeout, or nothing listening yet
            return False


class Ports:
    """Ports free for UDP and TCP on 127.0.0.1: counted up from --base-port, or chosen by the kernel."""

    def __init__(self, base):
        self.next = base

    def take(self):
        for _ in range(1000):
            port = self.next or 0
            if self.next:
                self.next += 1
            t, u = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                t.bind(("127.0.0.1", port))
                port = t.getsockname()[1]
                u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
            finally:
                t.close()
                u.close()
        sys.exit("no free port on 127.0.0.1")


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="greenfinch-peers-")
        self.ports = Ports(args.base_port)
        self.servers, self.clients = [], []  # every process started and not yet stopped
        self.bins = {}
        self.upstream = None

    # ---- processes --------------------------------------------------------
    def start(self, argv, name, cpu=SERVER_CPU):
        """A server in a session of its own, so that it and whatever it forks can be found and stopped together."""
        with open(os.path.join(self.dir, f"{name}.log"), "w") as log:
            p = subprocess.Popen(argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=lambda: child_setup(cpu))
        self.servers.append(p)
        return p

    def stop(self, p):
        """SIGTERM to every process of the session, SIGKILL to whatever of it is left 5 s later."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in session(p.pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while session(p.pid) and time.monotonic() < deadline:
                p.poll()  # reaps the leader, which would otherwise stay in the session as a zombie
                time.sleep(0.05)
            if not session(p.pid):
                break
        self.servers.remove(p)

    def client(self, argv, timeout):
        """Runs a client (dnsperf, the blaster) on the client CPU and returns its output."""
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: child_setup(CLIENT_CPU))
        self.clients.append(p)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        self.clients.remove(p)
        return out

    def cleanup(self):
        for p in self.clients:
            p.kill()
            p.wait()
        for p in reversed(self.servers):  # the system under test, then NSD
            self.stop(p)
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def wait_answering(self, p, port, want):
        for _ in range(100):
            if answers(port, want):
                return True
            if p.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def log_tail(self, name):
        try:
            return " | ".join(open(os.path.join(self.dir, f"{name}.log")).read().strip().splitlines()[-3:])
        except OSError:
            return ""

    # ---- setup ------------------------------------------------------------
    def compile(self, names):
        for name in names:
            out = os.path.join(self.dir, name)
            r = subprocess.run(["gcc", "-O2", "-o", out, os.path.join(HERE, "floors", f"{name}.c")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"gcc failed on bench/floors/{name}.c:\n{r.stderr}")
            self.bins[name] = out

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def names(self, tag, n):
        """A dnsperf input of N names that no system has seen (the zone's wildcard answers them all)."""
        return self.write(f"{tag}.txt", "".join(f"{tag}x{i}.w.bench.test A\n" for i in range(n)))

    def start_upstream(self):
        zone = ["$ORIGIN bench.test.", "$TTL 3600", "@ IN SOA ns1.bench.test. host.bench.test. 1 3600 600 86400 300",
                "@ IN NS ns1.bench.test.", "ns1 IN A 127.0.0.1", "*.w IN A 10.9.9.9"]
        zone += [f"h{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(HIT_NAMES)]
        self.write("bench.test.zone", "\n".join(zone) + "\n")
        self.hit_file = self.write("hit.txt", "".join(f"h{i}.bench.test A\n" for i in range(HIT_NAMES)))
        port, d = self.ports.take(), self.dir
        template = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "nsd.conf.in")).read()
        conf = self.write("nsd.conf", template.replace("@PORT@", str(port)).replace("@DIR@", d))
        p = self.start(["nsd", "-d", "-c", conf], "nsd")
        if not self.wait_answering(p, port, True):
            sys.exit(f"NSD did not answer on 127.0.0.1:{port}: {self.log_tail('nsd')}")
        self.upstream = port

    def argv(self, name, port):
        """The command line of system NAME answering on PORT, after writing whatever configuration it reads."""
        d, up = self.dir, self.upstream
        if name == "floor":
            return [self.bins["echo_floor"], str(port)]
        if name == "fwdfloor":
            return [self.bins["forward_floor"], str(port), str(up)]
        if name == "dnsmasq":
            return ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", f"--server=127.0.0.1#{up}",
                    "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}", "--cache-size=150000",
                    "--dns-forward-max=1000", "--user=root", f"--pid-file={d}/dnsmasq.pid"]
        if name == "unbound":
            # One thread, forwarding everything; test. is one of the zones Unbound answers itself unless told not to.
            conf = self.write("unbound.conf", f"""server:
    interface: 127.0.0.1@{port}
    port: {port}
    num-threads: 1
    do-daemonize: no
    username: ""
    chroot: ""
    pidfile: "{d}/unbound.pid"
    use-syslog: no
    logfile: ""
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    msg-cache-size: 64m
    rrset-cache-size: 128m
    module-config: "iterator"
    local-zone: "test." nodefault
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{up}
""")
            return ["unbound", "-d", "-c", conf]
        if name == "dnsdist":
            conf = self.write("dnsdist.conf", f"""setLocal("127.0.0.1:{port}")
newServer({{address="127.0.0.1:{up}", checkName="bench.test."}})
pc = newPacketCache(500000, {{maxTTL=86400, minTTL=0, temporaryFailureTTL=60, staleTTL=60, dontAge=false}})
getPool(""):setCache(pc)
setSecurityPollSuffix("")
""")
            return ["dnsdist", "--supervised", "-C", conf]
        if name == "pdns-recursor":
            rec = os.path.join(d, "recursor")
            os.makedirs(rec, exist_ok=True)
            self.write("recursor/recursor.conf", f"""local-address=127.0.0.1
local-port={port}
forward-zones-recurse=.=127.0.0.1:{up}
threads=1
daemon=no
socket-dir={rec}
dnssec=off
security-poll-suffix=
max-cache-entries=1000000
""")
            return ["pdns_recursor", f"--config-dir={rec}"]
        argv = shlex.split(self.args.systems[name].replace("{port}", str(port)).replace("{upstream}",
                                                                                        f"127.0.0.1:{up}"))
        if "/" in argv[0]:  # systems run in the temporary directory: a relative path is the caller's
            argv[0] = os.path.abspath(argv[0])
        return argv

    # ---- measurement ------------------------------------------------------
    def dnsperf(self, port, qfile, extra, totals):
        out = self.client(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", qfile, "-c", "4", "-T", "1"] + extra,
                          timeout=self.args.secs + 300)
        r = {}
        for key, pattern in (("sent", r"Queries sent:\s+(\d+)"), ("done", r"Queries completed:\s+(\d+)"),
                             ("qps", r"Queries per second:\s+([\d.]+)"), ("lat", r"Average Latency \(s\):\s+([\d.]+)")):
            m = re.search(pattern, out)
            r[key] = float(m.group(1)) if m else 0.0
        totals[0] += r["sent"]
        totals[1] += r["done"]
        return r

    def cpu_per_query_us(self, p, run):
        before = cpu_seconds(p.pid)
        r = run()
        return (cpu_seconds(p.pid) - before) * 1e6 / max(1, r["done"]), r

    def measure(self, name, seq):
        argv = self.argv(name, port := self.ports.take())
        if shutil.which(argv[0]) is None:
            return {"error": f"{argv[0]} not installed"}
        p = self.start(argv, name)
        try:
            if not self.wait_answering(p, port, name != "floor"):
                why = "did not answer in 10 s" if p.poll() is None else f"exited with status {p.returncode}"
                return {"error": f"{why}: {self.log_tail(name) or 'nothing in its log'}"}
            pin_session(p.pid, SERVER_CPU)
            secs, totals, r = str(self.args.secs), [0, 0], {}
            self.dnsperf(port, self.hit_file, ["-n", "2", "-q", "100"], [0, 0])  # fill the cache
            runs = [self.dnsperf(port, self.hit_file, ["-l", secs, "-q", "500"], totals)["qps"] for _ in range(3)]
            r["hit_qps"] = statistics.median(runs)  # the middle of three: dnsperf itself is noisy
            r["hit_us"], x = self.cpu_per_query_us(
                p, lambda: self.dnsperf(port, self.hit_file, ["-l", secs, "-q", "500", "-Q", "40000"], totals))
            r["hit_lat_ms"] = x["lat"] * 1000
            before = cpu_seconds(p.pid)
            out = self.client([self.bins["blaster"], str(port), "512", secs, PROBE[0]], self.args.secs + 30).split()
            used = cpu_seconds(p.pid) - before
            r["sat_kqps_core"] = int(out[0]) / used / 1000 if out and used > 0 else 0.0
            if name != "floor":  # the echo has nothing to forward
                x = self.dnsperf(port, self.names(f"m{seq}", self.args.miss), ["-n", "1", "-q", "200", "-t", "2"], totals)
                r["miss_qps"] = x["qps"]
                fresh = self.names(f"c{seq}", 4000 * self.args.secs + 4000)
                r["miss_us"], x = self.cpu_per_query_us(
                    p, lambda: self.dnsperf(port, fresh, ["-l", secs, "-q", "200", "-Q", "4000", "-t", "2"], totals))
                r["miss_lat_ms"] = x["lat"] * 1000
            r["rss_mb"] = rss_mb(p.pid)
            r["lost_pct"] = 100.0 * (totals[0] - totals[1]) / max(1, totals[0])
            return r
        finally:
            self.stop(p)


def version(name):
    cmd = {"nsd": ["nsd", "-v"], "dnsperf": ["dnsperf", "-h"], "dnsmasq": ["dnsmasq", "--version"],
           "unbound": ["unbound", "-V"], "dnsdist": ["dnsdist", "--version"],
           "pdns-recursor": ["pdns_recursor", "--version"]}.get(name)
    if not cmd or shutil.which(cmd[0]) is None:
        return None
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    m = re.search(r"(?:ersion|dnsdist|Recursor)\s+(\d+\.\d+[\w.]*)", out)
    return f"{name} {m.group(1)}" if m else None


def fmt(value, f):
    return "-" if value is None else f % value


def report(systems, runs, ratios):
    def table(header, rows):
        print("| " + " | ".join(header) + " |")
        print("|---" * len(header) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()

    cols = [c for c, _ in COLUMNS]
    medians = {}
    rows = []
    for s in systems:
        ok = [r for r in runs[s] if "error" not in r]
        if not ok:
            rows.append([s, runs[s][0]["error"]] + [""] * (len(cols) - 1))
            continue
        medians[s] = {c: statistics.median([r[c] for r in ok if c in r]) for c in cols if c in ok[0]}
        rows.append([s] + [fmt(medians[s].get(c), f) for c, f in COLUMNS])
    rounds = len(next(iter(runs.values())))
    print(f"medians of {rounds} round{'s' * (rounds != 1)}")
    table(["system"] + cols, rows)

    print("every round")
    table(["system", "round"] + cols,
          [[s, str(i + 1)] + ([r["error"]] + [""] * (len(cols) - 1) if "error" in r else
                              [fmt(r.get(c), f) for c, f in COLUMNS]) for s in systems for i, r in enumerate(runs[s])])

    for a, b in ratios:
        rows = []
        for c in cols:
            paired = [ra[c] / rb[c] if c in ra and c in rb and rb[c] else None for ra, rb in zip(runs[a], runs[b])]
            good = [x for x in paired if x is not None]
            if not good:
                continue
            rows.append([c] + [fmt(x, "%.3f") for x in paired] +
                        [f"{statistics.median(good):.3f}", f"{min(good):.3f}–{max(good):.3f}"])
        if not rows:
            print(f"{a} ÷ {b}: no round measured both\n")
            continue
        print(f"{a} ÷ {b}, paired by round")
        table(["column"] + [f"round {i + 1}" for i in range(len(runs[a]))] + ["median", "range"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ours", metavar="CMD", help="the system under test, named ours: same as --system ours=CMD")
    ap.add_argument("--system", action="append", default=[], metavar="NAME=CMD",
                    help="a system to measure, given by its command line with {port} and {upstream} (repeatable)")
    ap.add_argument("--only", metavar="A,B", help="the systems to measure, in this order (default: all)")
    ap.add_argument("--ratio", action="append", default=[], metavar="A/B",
                    help="report A's figures over B's, paired by round (repeatable; default ours/dnsdist)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of every system (default 1)")
    ap.add_argument("--order", choices=["abba", "fixed"], default="abba",
                    help="abba: every other round runs the systems in reverse order, so that a drift of the "
                         "machine's speed does not favour whichever always runs first (default); fixed: never")
    ap.add_argument("--secs", type=int, default=5, help="seconds per timed workload (default 5)")
    ap.add_argument("--miss", type=int, default=60000, help="new names in the miss_qps run (default 60000)")
    ap.add_argument("--base-port", type=int, default=0, help="take ports from here up (default: the kernel's)")
    ap.add_argument("--json", metavar="FILE", help="also write every round's figures to FILE")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (configurations, logs)")
    ap.add_argument("--install", action="store_true", help="apt-get install the peers and tools, then exit")
    args = ap.parse_args()

    if args.install:
        if os.geteuid() != 0:
            sys.exit("--install runs apt-get: run it as root")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.check_call(["apt-get", "update"], env=env)
        sys.exit(subprocess.call(["apt-get", "install", "-y", "--no-install-recommends"] + APT, env=env))

    args.systems = {}
    for spec in ([f"ours={args.ours}"] if args.ours else []) + args.system:
        name, eq, cmd = spec.partition("=")
        if not eq or not name or not cmd or name in FLOORS + PEERS:
            sys.exit(f"--system wants NAME=COMMAND with a name of its own, not {spec!r}")
        args.systems[name] = cmd
    known = FLOORS + list(args.systems) + PEERS
    systems = [s for s in args.only.split(",") if s] if args.only else known
    if unknown := [s for s in systems if s not in known]:
        sys.exit(f"unknown systems {','.join(unknown)}: choose from {','.join(known)}")
    ratios = [tuple(r.split("/", 1)) for r in args.ratio]
    if not args.ratio and "ours" in systems and "dnsdist" in systems:
        ratios = [("ours", "dnsdist")]
    if bad := [f"{a}/{b}" for a, b in ratios if a not in systems or b not in systems]:
        sys.exit(f"--ratio {','.join(bad)}: both sides must be measured")
    for tool in ("nsd", "dnsperf", "gcc"):
        if shutil.which(tool) is None:
            sys.exit(f"missing {tool}: run `python3 {sys.argv[0]} --install` as root")

    print("# " + ", ".join(filter(None, map(version, ["nsd", "dnsperf"] + [s for s in systems if s in PEERS]))) +
          (f"; systems on CPU {SERVER_CPU}, clients on CPU {CLIENT_CPU}" if PINNED else "; one CPU: nothing pinned"),
          flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGINT too: a background job starts ignoring it
        signal.signal(sig, on_signal)
    bench = Bench(args)
    runs = {s: [] for s in systems}
    try:
        bench.compile(["blaster"] + ["echo_floor"] * ("floor" in systems) + ["forward_floor"] * ("fwdfloor" in systems))
        bench.start_upstream()
        seq = 0
        for i in range(args.rounds):
            for s in systems if args.order == "fixed" or i % 2 == 0 else systems[::-1]:
                seq += 1
                r = bench.measure(s, seq)
                runs[s].append(r)
                print(f"# round {i + 1} {s}: " + (r.get("error") or
                      ", ".join(f"{c} {fmt(r.get(c), f)}" for c, f in COLUMNS if c in r)), file=sys.stderr, flush=True)
    except Interrupted as e:
        sys.exit(f"interrupted by {e}: every process the harness started is stopped")
    finally:
        bench.cleanup()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)
    print()
    report(systems, runs, ratios)


if __name__ == "__main__":
    main()
