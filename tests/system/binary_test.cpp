// The greenfinch binary under conditions an operator meets: shutdown with queries in flight, an upstream that dies
// under load, and what it then writes to its log.
#include "core/engine/greenlet.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "dns/header.hpp"
#include "dns/presentation.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace std::chrono_literals;
using test::TestUpstream;

namespace {
void send_query(core::UdpSocket& client, const core::SocketAddress& server, const std::string& name, std::uint16_t id) {
    client.send_to(*dns::build_query(name, dns::type::A, id, std::nullopt, false), server);
}

// Answers on `client` until `n` have come or `timeout` passed, by ID.
std::map<std::uint16_t, dns::Header> collect(core::UdpSocket& client, std::size_t n, core::Seconds timeout) {
    std::map<std::uint16_t, dns::Header> answers;
    core::Deadline deadline(core::Hub::current(), timeout);
    std::array<std::byte, 1500> buf{};
    while (answers.size() < n) {
        std::size_t size = 0;
        try {
            size = client.recv_from(buf, deadline.remaining()).size;
        } catch (const core::SocketTimeout&) {
            break;
        }
        if (auto h = dns::parse_header(std::span(buf.data(), size))) answers[h->id] = *h;
    }
    return answers;
}

std::string write_config(const std::string& name, const std::string& text) {
    const std::string path = std::string(BINARY_TEST_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("on SIGTERM the binary answers the queries in flight, closes idle TCP connections, then exits 0") {
    core::Hub hub;
    TestUpstream upstream({TestUpstream::Action::Answer, 0.3});  // every answer takes 300 ms
    test::DaemonProcess daemon({"--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    auto idle = core::TcpStream::connect(daemon.address(), 5s);  // must not hold the shutdown for its idle timeout
    constexpr int kQueries = 20;
    for (int i = 0; i < kQueries; ++i)
        send_query(client, daemon.address(), "q" + std::to_string(i) + ".example", static_cast<std::uint16_t>(i + 1));
    REQUIRE(upstream.wait_for_total(kQueries, 5s));  // all of them are now waiting upstream
    daemon.signal(SIGTERM);
    const auto answers = collect(client, kQueries, 5s);
    CHECK(answers.size() == kQueries);
    for (const auto& [id, h] : answers) {
        CHECK(h.rcode() == dns::Rcode::NoError);
        CHECK(h.ancount == 1);
    }
    CHECK(daemon.wait(5s) == 0);
    CHECK(daemon.log().find("abandoned") == std::string::npos);
}

TEST_CASE(
    "on SIGTERM, queries still waiting upstream when the drain budget runs out are abandoned, and the exit is clean") {
    core::Hub hub;
    TestUpstream upstream({TestUpstream::Action::Answer, 4.0});  // slower than the 2 s drain, within the budget below
    const std::string config = write_config("slow-upstream.toml", "[upstream]\ntimeout_ms = 6000\n");
    test::DaemonProcess daemon(
        {"--config", config, "--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    for (int i = 0; i < 5; ++i)
        send_query(client, daemon.address(), "slow" + std::to_string(i) + ".example",
                   static_cast<std::uint16_t>(i + 1));
    REQUIRE(upstream.wait_for_total(5, 5s));
    daemon.signal(SIGTERM);
    CHECK(daemon.wait(5s) == 0);
    CHECK(daemon.log().find("abandoned") != std::string::npos);
}

TEST_CASE("on SIGQUIT one drain budget covers every listener: UDP and TCP queries stuck upstream end it in about 2 s") {
    core::Hub hub;
    TestUpstream upstream({TestUpstream::Action::Answer, 4.0});
    const std::string config = write_config("slow-upstream-quit.toml", "[upstream]\ntimeout_ms = 6000\n");
    test::DaemonProcess daemon(
        {"--config", config, "--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    for (int i = 0; i < 3; ++i)
        send_query(client, daemon.address(), "u" + std::to_string(i) + ".example", static_cast<std::uint16_t>(i + 1));
    auto conn = core::TcpStream::connect(daemon.address(), 5s);
    const auto q = *dns::build_query("t.example", dns::type::A, 9, std::nullopt, false);
    const std::array<std::byte, 2> len{std::byte{0}, static_cast<std::byte>(q.size())};
    conn.write_all(len);
    conn.write_all(q);
    REQUIRE(upstream.wait_for_total(4, 5s));
    const auto t0 = std::chrono::steady_clock::now();
    daemon.signal(SIGQUIT);
    CHECK(daemon.wait(8s) == 0);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(took >= 1.9);  // the queries were given their chance ...
    CHECK(took < 3.0);   // ... once, not once per listener
}

TEST_CASE("when the upstream dies under load, cached names still answer and the rest get SERVFAIL within the budget") {
    core::Hub hub;
    TestUpstream upstream;
    const std::string config = write_config("dying-upstream.toml", "[upstream]\ntimeout_ms = 400\n");
    test::DaemonProcess daemon(
        {"--config", config, "--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    send_query(client, daemon.address(), "cached.example", 1);
    REQUIRE(collect(client, 1, 5s).at(1).ancount == 1);

    upstream.script("cached.example", {TestUpstream::Action::Drop});  // the cache must answer this one anyway
    for (int i = 0; i < 200; ++i)
        upstream.script("gone" + std::to_string(i) + ".example", {TestUpstream::Action::Drop});
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i)
        send_query(client, daemon.address(), "gone" + std::to_string(i) + ".example",
                   static_cast<std::uint16_t>(100 + i));
    send_query(client, daemon.address(), "cached.example", 2);
    const auto answers = collect(client, 201, 5s);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    REQUIRE(answers.size() == 201);
    CHECK(answers.at(2).rcode() == dns::Rcode::NoError);
    CHECK(answers.at(2).ancount == 1);
    int servfail = 0;
    for (const auto& [id, h] : answers) servfail += (id >= 100 && h.rcode() == dns::Rcode::ServFail) ? 1 : 0;
    CHECK(servfail == 200);
    CHECK(took < 2.0);  // one 400 ms budget, with room for a slow machine; not 200 of them one after another
    CHECK(upstream.count("cached.example") == 1);

    CHECK(daemon.terminate() == 0);
    // 200 failures, one warning line with the count of the others held back
    CHECK(count(daemon.log(), "upstream: ") == 1);
}

TEST_CASE("with [log] queries on, every query gets one log line naming client, name, type, rcode and source") {
    core::Hub hub;
    TestUpstream upstream;
    upstream.script("missing.example", {TestUpstream::Action::NxDomain, 0, 60});
    const std::string config = write_config("query-log.toml", "[log]\nqueries = true\n");
    test::DaemonProcess daemon(
        {"--config", config, "--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    std::uint16_t id = 0;
    for (const char* name : {"www.Example", "www.example", "missing.example"}) {
        send_query(client, daemon.address(), name, ++id);
        REQUIRE(collect(client, 1, 5s).size() == 1);
    }
    CHECK(daemon.wait_for_log("missing.example. A -> NXDOMAIN upstream", 5s));
    const std::string me = "127.0.0.1:" + std::to_string(client.local_address().port());  // bound by the first send
    const std::string& log = daemon.log();
    INFO(log);
    CHECK(log.find("query " + me + " udp www.Example. A -> NOERROR upstream ") != std::string::npos);
    CHECK(log.find("query " + me + " udp www.example. A -> NOERROR cache ") != std::string::npos);
    CHECK(count(log, "query 127.0.0.1:") == 3);
    CHECK(daemon.terminate() == 0);
}
