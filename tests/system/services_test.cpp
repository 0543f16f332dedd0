// The serving path as the real binary runs it: forwarding, caching, workers, hostile datagrams, TC and TCP.
#include "core/engine/greenlet.hpp"
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "dns/header.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/query_a.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace std::chrono_literals;

namespace {
// One query from `client`; the test hub runs (and with it the test upstream) while we wait.
dns::Header ask(core::UdpSocket& client, const core::SocketAddress& server, std::uint16_t id) {
    client.send_to(test::query_a(id), server);
    std::array<std::byte, 512> buf{};
    const std::size_t n = client.recv_from(buf, 5s).size;
    auto h = dns::parse_header(std::span(buf.data(), n));
    REQUIRE(h);
    return *h;
}
}  // namespace

TEST_CASE("the greenfinch binary forwards to its upstream, caches, and exits 0 on SIGTERM") {
    core::Hub hub;
    test::TestUpstream upstream;
    test::DaemonProcess daemon({"--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    for (std::uint16_t id : {42, 43}) {
        const auto h = ask(client, daemon.address(), id);
        CHECK(h.id == id);
        CHECK(h.rcode() == dns::Rcode::NoError);
        CHECK(h.ancount == 1);
    }
    CHECK(upstream.count("a") == 1);  // the second came from the cache
    CHECK(daemon.terminate() == 0);
}

TEST_CASE("the greenfinch binary with two workers shares one cache between them") {
    core::Hub hub;
    test::TestUpstream upstream;
    test::DaemonProcess daemon(
        {"--listen", "127.0.0.1:0", "--workers", "2", "--upstream", upstream.address().to_string()});
    // Many client sockets: SO_REUSEPORT spreads them over both workers' sockets.
    int answered = 0;
    for (std::uint16_t id = 1; id <= 20; ++id) {
        auto client = core::UdpSocket::open(AF_INET);
        const auto h = ask(client, daemon.address(), id);
        answered += (h.id == id && h.ancount == 1) ? 1 : 0;
    }
    CHECK(answered == 20);
    CHECK(upstream.count("a") == 1);
    CHECK(daemon.terminate() == 0);
    // Both workers answered some of them: "(by worker: N M)" with neither 0.
    const std::string& log = daemon.log();
    const auto at = log.find("(by worker: ");
    REQUIRE(at != std::string::npos);
    unsigned first = 0, second = 0;
    REQUIRE(std::sscanf(log.c_str() + at, "(by worker: %u %u)", &first, &second) == 2);
    CHECK(first + second == 20);
    CHECK(first > 0);
    CHECK(second > 0);
}

TEST_CASE("the greenfinch binary survives a flood of malformed datagrams and answers every valid query") {
    core::Hub hub;
    test::TestUpstream upstream;
    test::DaemonProcess daemon({"--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto flooder = core::UdpSocket::open(AF_INET);
    auto client = core::UdpSocket::open(AF_INET);
    std::mt19937 rng(7);
    int answered = 0;
    for (int round = 0; round < 20; ++round) {
        std::vector<core::Datagram> junk(100);
        std::vector<std::vector<std::byte>> bytes(100);
        for (std::size_t i = 0; i < junk.size(); ++i) {
            bytes[i].resize(1 + rng() % 300);
            for (auto& b : bytes[i]) b = static_cast<std::byte>(rng());
            if (bytes[i].size() > 2) bytes[i][2] &= std::byte{0x7f};  // mostly "queries": many get FORMERR back
            junk[i] = {bytes[i], bytes[i].size(), daemon.address()};
        }
        flooder.send_batch(junk);
        const auto h = ask(client, daemon.address(), static_cast<std::uint16_t>(1000 + round));
        answered += (h.rcode() == dns::Rcode::NoError && h.ancount == 1) ? 1 : 0;
    }
    CHECK(answered == 20);
    CHECK(daemon.terminate() == 0);
}

TEST_CASE("through greenfinch, an answer too big for UDP comes back TC=1, and whole over TCP") {
    core::Hub hub;
    test::TestUpstream upstream;
    upstream.script("a", {test::TestUpstream::Action::Answer, 0, 300, {192, 0, 2, 1}, 40});  // about 680 bytes
    test::DaemonProcess daemon({"--listen", "127.0.0.1:0", "--upstream", upstream.address().to_string()});
    auto client = core::UdpSocket::open(AF_INET);
    const auto h = ask(client, daemon.address(), 7);  // no EDNS: 512 bytes at most
    CHECK(h.flags & 0x0200);
    CHECK(h.ancount == 0);
    auto conn = core::TcpStream::connect(daemon.address(), 5s);
    auto q = test::query_a(8);
    std::array<std::byte, 2> len{std::byte{0}, static_cast<std::byte>(q.size())};
    conn.write_all(len);
    conn.write_all(q);
    REQUIRE(conn.read_exact(len, 5s));
    std::vector<std::byte> answer((std::to_integer<std::size_t>(len[0]) << 8) | std::to_integer<std::size_t>(len[1]));
    REQUIRE(conn.read_exact(answer, 5s));
    const auto th = dns::parse_header(answer);
    CHECK_FALSE(th->flags & 0x0200);
    CHECK(th->ancount == 40);
    CHECK(daemon.terminate() == 0);
}
