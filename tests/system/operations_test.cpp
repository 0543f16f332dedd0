// Running greenfinch for real: systemd's notify protocol and socket activation, dropping root, the system resolver
// pointed at it, metrics, reload, flush and the statistics signal. Each test runs the real binary.
#include "core/engine/greenlet.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "core/io/udp_tcp_pair.hpp"
#include "dns/header.hpp"
#include "dns/presentation.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace std::chrono_literals;
using test::http;
using test::metrics_address;
using test::TestUpstream;

namespace {
std::string temp_path(const std::string& name) { return std::string(BINARY_TEST_DIR) + "/" + name; }

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = temp_path(name);
    std::ofstream(path) << text;
    return path;
}

dns::Header ask(const core::SocketAddress& server, const std::string& name, std::uint16_t id = 1) {
    auto client = core::UdpSocket::open(server.family());
    client.send_to(*dns::build_query(name, dns::type::A, id, std::nullopt, false), server);
    std::array<std::byte, 512> buf{};
    const std::size_t n = client.recv_from(buf, 5s).size;
    auto h = dns::parse_header(std::span(buf.data(), n));
    REQUIRE(h);
    return *h;
}

// The value of one sample line ("name{labels} value") in Prometheus text; -1 if absent.
double metric(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
public:
    NotifySocket() : path_(temp_path("notify-" + std::to_string(::getpid()) + ".sock")) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ::unlink(path_.c_str());
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    }
    ~NotifySocket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    std::string env() const { return "NOTIFY_SOCKET=" + path_; }
    // The next message containing `text`; empty if none came within `timeout`.
    std::string wait_for(const std::string& text, core::Seconds timeout) {
        core::Deadline deadline(core::Hub::current(), timeout);
        for (;;) {
            char buf[512];
            const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
            if (n > 0) {
                std::string m(buf, static_cast<std::size_t>(n));
                if (m.find(text) != std::string::npos) return m;
                continue;
            }
            if (!core::Hub::current().wait_fd(fd_, EV_READ, deadline.remaining())) return {};
        }
    }

private:
    std::string path_;
    int fd_ = -1;
};
}  // namespace

TEST_CASE("systemd notify: READY once serving, RELOADING and READY around a reload, WATCHDOG pings, STOPPING") {
    core::Hub hub;
    TestUpstream up;
    NotifySocket notify;
    test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--workers", "2"},
                          {{notify.env(), "WATCHDOG_USEC=200000"}, {}, {}});
    const std::string ready = notify.wait_for("READY=1", 10s);
    INFO(d.log());
    CHECK(ready.find("STATUS=serving") != std::string::npos);
    CHECK(ask(d.address(), "a.example").rcode() == dns::Rcode::NoError);  // READY meant it
    CHECK_FALSE(notify.wait_for("WATCHDOG=1", 2s).empty());
    d.signal(SIGHUP);
    CHECK(notify.wait_for("RELOADING=1", 5s).find("MONOTONIC_USEC=") != std::string::npos);
    CHECK_FALSE(notify.wait_for("READY=1", 5s).empty());
    d.signal(SIGTERM);
    CHECK_FALSE(notify.wait_for("STOPPING=1", 5s).empty());
    CHECK(d.wait(10s) == 0);
    INFO(d.log());  // the whole log, should anything above have failed
    CHECK(d.log().find("did not") == std::string::npos);
}

TEST_CASE("socket activation: greenfinch serves the UDP and TCP sockets it inherits") {
    core::Hub hub;
    TestUpstream up;
    auto [udp, tcp] = core::bind_udp_and_tcp(core::SocketAddress::loopback_v4());
    test::DaemonProcess d({"--upstream", up.address().to_string(), "--workers", "2"}, {{}, {udp.fd(), tcp.fd()}, {}});
    CHECK(d.address() == udp.local_address());
    CHECK(d.log().find("from systemd") != std::string::npos);
    udp.close();  // only the daemon holds the sockets now
    CHECK(ask(d.address(), "a.example").ancount == 1);
    auto conn = core::TcpStream::connect(d.address(), 5s);
    auto q = *dns::build_query("a.example", dns::type::A, 9, std::nullopt, false);
    std::array<std::byte, 2> len{std::byte{0}, static_cast<std::byte>(q.size())};
    conn.write_all(len, 5s);
    conn.write_all(q, 5s);
    REQUIRE(conn.read_exact(len, 5s));
    std::vector<std::byte> answer(std::to_integer<std::size_t>(len[1]));
    REQUIRE(conn.read_exact(answer, 5s));
    CHECK(dns::parse_header(answer)->id == 9);
    CHECK(d.terminate() == 0);
}

TEST_CASE("started as root with server.user, greenfinch drops to that user once its sockets are bound") {
    if (::geteuid() != 0) {
        WARN("not root: dropping privileges cannot be shown here (CI runs as root)");
        return;
    }
    core::Hub hub;
    TestUpstream up;
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody);
    const auto config = write_file("drop.toml", "[server]\nuser = \"nobody\"\n");
    test::DaemonProcess d({"--config", config, "--listen", "127.0.0.1:0", "--upstream", up.address().to_string()});
    REQUIRE(d.wait_for_log("running as user nobody", 5s));
    std::ifstream status("/proc/" + std::to_string(d.pid()) + "/status");
    std::string line;
    std::string uid_line;
    while (std::getline(status, line)) {
        if (line.rfind("Uid:", 0) == 0) uid_line = line;
    }
    const std::string uid = std::to_string(nobody->pw_uid);
    CHECK(uid_line == "Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid);
    CHECK(ask(d.address(), "a.example").ancount == 1);
    CHECK(d.terminate() == 0);
}

TEST_CASE("the system resolver pointed at greenfinch: getent hosts resolves through it") {
    if (::geteuid() != 0) {
        WARN("not root: port 53 and a private mount namespace need root (CI runs as root)");
        return;
    }
    core::Hub hub;
    TestUpstream up;
    up.script("e2e.greenfinch.test", {TestUpstream::Action::Answer, 0, 300, {192, 0, 2, 77}});
    test::DaemonProcess d({"--listen", "127.0.0.1:53", "--upstream", up.address().to_string()});
    // Only this test's mount namespace sees this resolv.conf; the machine's own file is untouched.
    const auto resolv = write_file("resolv.conf", "nameserver 127.0.0.1\noptions attempts:1 timeout:3\n");
    const auto r =
        test::run_process({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                           "mount --bind " + resolv + " /etc/resolv.conf && getent ahostsv4 e2e.greenfinch.test"},
                          10s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("192.0.2.77") != std::string::npos);
    CHECK(up.count("e2e.greenfinch.test") >= 1);
    CHECK(d.terminate() == 0);
}

TEST_CASE("metrics: after known traffic the counters say what happened") {
    core::Hub hub;
    TestUpstream up;
    up.script("missing.example", {TestUpstream::Action::NxDomain, 0.05, 60});  // 50 ms: seen in the latency sum
    test::DaemonProcess d(
        {"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--metrics", "127.0.0.1:0"});
    const auto admin = metrics_address(d);
    CHECK(ask(d.address(), "a.example").ancount == 1);
    CHECK(ask(d.address(), "a.example").ancount == 1);
    CHECK(ask(d.address(), "missing.example").rcode() == dns::Rcode::NxDomain);
    const auto r = http(admin, "GET", "/metrics");
    CHECK(r.status == 200);
    INFO(r.body);
    CHECK(metric(r.body, "greenfinch_queries_total") == 3);
    CHECK(metric(r.body, "greenfinch_cache_hits_total") == 1);
    CHECK(metric(r.body, "greenfinch_cache_misses_total") == 2);
    CHECK(metric(r.body, "greenfinch_upstream_queries_total") == 2);
    CHECK(metric(r.body, "greenfinch_responses_total{transport=\"udp\",rcode=\"NOERROR\"}") == 2);
    CHECK(metric(r.body, "greenfinch_responses_total{transport=\"udp\",rcode=\"NXDOMAIN\"}") == 1);
    CHECK(metric(r.body, "greenfinch_upstream_latency_seconds_count") == 2);
    CHECK(metric(r.body, "greenfinch_upstream_latency_seconds_sum") >= 0.045);
    CHECK(metric(r.body, "greenfinch_upstream_latency_seconds_sum") < 1.0);
    CHECK(metric(r.body, "greenfinch_cache_entries") == 2);
    CHECK(metric(r.body, "greenfinch_cache_memory_bytes") == 2 * 1024 * 1024);  // one chunk holds both
    CHECK(metric(r.body, "greenfinch_workers_unresponsive") == 0);
    CHECK(http(admin, "GET", "/nope").status == 404);
    CHECK(http(admin, "POST", "/metrics").status == 405);
    // Counters never reset on read.
    CHECK(metric(http(admin, "GET", "/metrics").body, "greenfinch_queries_total") == 3);
    CHECK(d.terminate() == 0);
}

TEST_CASE("reload: SIGHUP takes new upstreams and keeps the cache, and a bad file is refused and the old one stays") {
    core::Hub hub;
    TestUpstream first, second;
    const auto config = temp_path("reload.toml");
    std::ofstream(config) << "[upstream]\nservers = [\"" << first.address().to_string() << "\"]\n";
    test::DaemonProcess d({"--config", config, "--listen", "127.0.0.1:0"});
    CHECK(ask(d.address(), "before.example").ancount == 1);
    CHECK(first.count("before.example") == 1);

    std::ofstream(config) << "[upstream]\nservers = [\"" << second.address().to_string()
                          << "\"]\n[log]\nqueries = true\n";
    std::size_t mark = d.log().size();
    d.signal(SIGHUP);
    REQUIRE(d.wait_for_log("configuration reloaded", 5s, mark));
    CHECK(ask(d.address(), "after.example").ancount == 1);
    CHECK(second.count("after.example") == 1);
    CHECK(first.count("after.example") == 0);
    CHECK(ask(d.address(), "before.example").ancount == 1);  // still cached: no upstream asked
    CHECK(first.count("before.example") + second.count("before.example") == 1);
    CHECK(d.wait_for_log("before.example. A -> NOERROR cache", 5s, mark));  // the query log came with the reload

    std::ofstream(config) << "[upstream\nservers = oops\n";
    mark = d.log().size();
    d.signal(SIGHUP);
    REQUIRE(d.wait_for_log("reload refused", 5s, mark));
    CHECK(ask(d.address(), "still.example").ancount == 1);
    CHECK(second.count("still.example") == 1);
    CHECK(d.terminate() == 0);
}

TEST_CASE("flush: one name, every type, goes from the cache, the rest stays, and dnsq calls it") {
    core::Hub hub;
    TestUpstream up;
    test::DaemonProcess d(
        {"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--metrics", "127.0.0.1:0"});
    const auto admin = metrics_address(d);
    ask(d.address(), "gone.example");
    ask(d.address(), "kept.example");
    const auto r = http(admin, "POST", "/cache/flush?name=GONE.example.");
    CHECK(r.status == 200);
    CHECK(r.body.find("1 entries") != std::string::npos);
    ask(d.address(), "gone.example");
    ask(d.address(), "kept.example");
    CHECK(up.count("gone.example") == 2);
    CHECK(up.count("kept.example") == 1);

    const auto flushed = test::run_process({DNSQ_BINARY, "--flush-all", "--admin", admin.to_string()}, 10s);
    CHECK(flushed.exit_code == 0);
    CHECK(flushed.output.find("flushed the whole cache") != std::string::npos);
    ask(d.address(), "kept.example");
    CHECK(up.count("kept.example") == 2);
    const auto one = test::run_process({DNSQ_BINARY, "--flush", "kept.example", "--admin", admin.to_string()}, 10s);
    CHECK(one.exit_code == 0);
    CHECK(one.output.find("flushed kept.example: 1 entries") != std::string::npos);
    CHECK(d.terminate() == 0);
}

TEST_CASE("SIGUSR1 logs a statistics summary") {
    core::Hub hub;
    TestUpstream up;
    test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string()});
    ask(d.address(), "a.example");
    ask(d.address(), "a.example");
    d.signal(SIGUSR1);
    REQUIRE(d.wait_for_log("statistics:", 5s));
    CHECK(d.wait_for_log("2 queries, 1 cache hits", 5s));
    CHECK(d.terminate() == 0);
}

TEST_CASE("SIGPIPE does not end the daemon: a write to a closed connection is an error, not an exit") {
    core::Hub hub;
    TestUpstream up;
    test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string()});
    CHECK(ask(d.address(), "a.example").ancount == 1);
    d.signal(SIGPIPE);
    CHECK(ask(d.address(), "b.example").ancount == 1);
    CHECK(d.terminate() == 0);
}

TEST_CASE("the systemd units pass systemd-analyze verify") {
    if (::access("/usr/bin/systemd-analyze", X_OK) != 0) {
        WARN("systemd-analyze is not installed here");
        return;
    }
    core::Hub hub;
    // The units name /usr/sbin/greenfinch; verify copies that run the binary just built instead.
    const std::string dir = temp_path("units");
    std::filesystem::create_directories(dir);
    for (const char* unit : {"greenfinch.service", "greenfinch.socket"}) {
        std::ifstream in(std::string(GREENFINCH_SOURCE_DIR) + "/systemd/" + unit);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (auto at = text.find("/usr/sbin/greenfinch"); at != std::string::npos;
             at = text.find("/usr/sbin/greenfinch")) {
            text.replace(at, std::string("/usr/sbin/greenfinch").size(), GREENFINCH_BINARY);
        }
        std::ofstream(dir + "/" + unit) << text;
    }
    const auto r = test::run_process(
        {"/usr/bin/systemd-analyze", "verify", dir + "/greenfinch.socket", dir + "/greenfinch.service"}, 30s);
    INFO(r.output);
    CHECK(r.exit_code == 0);
}
