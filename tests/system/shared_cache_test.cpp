// Daemons sharing one real Redis, as the real binary runs them: the fleet's cache, Redis by host name, Redis paused.
#include "core/engine/greenlet.hpp"
#include "core/io/udp_socket.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/presentation.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>

using namespace greenfinch;
using namespace std::chrono_literals;
using test::TestUpstream;

namespace {
dns::Header ask(core::UdpSocket& client, const core::SocketAddress& server, const std::string& name, std::uint16_t id,
                std::uint32_t* ttl = nullptr) {
    client.send_to(*dns::build_query(name, dns::type::A, id, std::nullopt, false), server);
    std::array<std::byte, 512> buf{};
    const std::size_t n = client.recv_from(buf, 5s).size;
    dns::Message m;
    REQUIRE(dns::parse_message(std::span(buf.data(), n), m) == dns::ParseStatus::Ok);
    if (ttl && !m.ttl_offsets.empty()) *ttl = dns::read_u32(std::span(buf.data(), n), m.ttl_offsets[0]);
    return m.header;
}
}  // namespace

TEST_CASE("two greenfinch binaries sharing one Redis: what one resolved the other answers without the upstream") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    const std::vector<std::string> common = {"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(),
                                             "--cache",  "redis",       "--redis",    redis.address()};
    test::DaemonProcess one(common), two(common);
    REQUIRE(one.wait_for_log("redis " + redis.address() + ": connected", 5s));
    REQUIRE(two.wait_for_log("redis " + redis.address() + ": connected", 5s));
    auto client = core::UdpSocket::open(AF_INET);
    CHECK(ask(client, one.address(), "fleet.example", 1).ancount == 1);
    CHECK(up.count("fleet.example") == 1);
    // The SET follows the answer; the key's appearance is what says it is there.
    for (int i = 0; i < 100 && redis.command({"EXISTS", "greenfinch:v1:fleet.example.:A:IN:do0cd0"}).integer == 0;
         ++i) {
        core::sleep(0.01s);
    }
    std::uint32_t ttl = 0;
    CHECK(ask(client, two.address(), "fleet.example", 2, &ttl).ancount == 1);
    CHECK(ttl <= 300);
    CHECK(up.count("fleet.example") == 1);
    CHECK(redis.command({"TTL", "greenfinch:v1:fleet.example.:A:IN:do0cd0"}).integer > 0);

    // Redis dies under load: every query is still answered, none waits on it for long.
    redis.kill();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint16_t i = 0; i < 50; ++i) {
        CHECK(ask(client, one.address(), "after" + std::to_string(i) + ".example", static_cast<std::uint16_t>(100 + i))
                  .ancount == 1);
        CHECK(ask(client, two.address(), "fleet.example", static_cast<std::uint16_t>(200 + i)).ancount == 1);
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 1.0);
    CHECK(one.wait_for_log("lost", 5s));

    // It comes back: the daemons reconnect and writes resume.
    redis.start();
    REQUIRE(one.wait_for_log("back after", 10s));
    CHECK(ask(client, one.address(), "resumed.example", 300).ancount == 1);
    for (int i = 0; i < 100 && redis.command({"EXISTS", "greenfinch:v1:resumed.example.:A:IN:do0cd0"}).integer == 0;
         ++i) {
        core::sleep(0.01s);
    }
    CHECK(redis.command({"EXISTS", "greenfinch:v1:resumed.example.:A:IN:do0cd0"}).integer == 1);
    CHECK(one.terminate() == 0);
    CHECK(two.terminate() == 0);
}

TEST_CASE("a greenfinch binary finds Redis by host name, looked up again for every connection attempt") {
    if (::geteuid() != 0) {
        WARN("not root: a private /etc/hosts needs a mount namespace (CI runs as root)");
        return;
    }
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    const std::string port = redis.address().substr(redis.address().rfind(':') + 1);
    const std::string dir = BINARY_TEST_DIR;
    const auto hosts = [&](const std::string& text) { std::ofstream(dir + "/redis-by-name.hosts") << text; };
    hosts("127.0.0.1 localhost\n127.0.0.2 redis.greenfinch.test\n");  // Redis is not on 127.0.0.2
    // No DNS: nothing answers on 127.0.0.3, so a name that is not in the hosts file fails at once.
    std::ofstream(dir + "/redis-by-name.resolv") << "nameserver 127.0.0.3\noptions attempts:1 timeout:1\n";
    const test::DaemonProcess::Launch launch{
        {}, {}, {{dir + "/redis-by-name.hosts", "/etc/hosts"}, {dir + "/redis-by-name.resolv", "/etc/resolv.conf"}}};
    auto client = core::UdpSocket::open(AF_INET);

    SECTION("it moves to where the name now points") {
        test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--cache", "redis",
                               "--redis", "redis.greenfinch.test:" + port},
                              launch);
        REQUIRE(d.wait_for_log("127.0.0.2:", 5s));  // the attempt at the old address failed
        CHECK(d.log().find("connected") == std::string::npos);
        hosts("127.0.0.1 localhost\n127.0.0.1 redis.greenfinch.test\n");
        REQUIRE(d.wait_for_log("redis redis.greenfinch.test:" + port + ": connected", 10s));
        CHECK(ask(client, d.address(), "named.example", 1).ancount == 1);
        const std::string key = "greenfinch:v1:named.example.:A:IN:do0cd0";
        for (int i = 0; i < 100 && redis.command({"EXISTS", key}).integer == 0; ++i) core::sleep(0.01s);
        CHECK(redis.command({"EXISTS", key}).integer == 1);
        CHECK(d.terminate() == 0);
    }
    SECTION("a name that does not resolve: answers go on from memory and upstream") {
        test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--cache", "redis",
                               "--redis", "nowhere.greenfinch.test:" + port},
                              launch);
        REQUIRE(d.wait_for_log("cannot resolve nowhere.greenfinch.test", 10s));
        CHECK(ask(client, d.address(), "unshared.example", 2).ancount == 1);
        CHECK(ask(client, d.address(), "unshared.example", 3).ancount == 1);
        CHECK(up.count("unshared.example") == 1);
        CHECK(d.terminate() == 0);
    }
}

TEST_CASE("a greenfinch binary with Redis paused keeps answering within its budget") {
    core::Hub hub;
    test::RedisServer redis;
    TestUpstream up;
    test::DaemonProcess d({"--listen", "127.0.0.1:0", "--upstream", up.address().to_string(), "--cache", "redis",
                           "--redis", redis.address()});
    REQUIRE(d.wait_for_log("connected", 5s));
    auto client = core::UdpSocket::open(AF_INET);
    CHECK(ask(client, d.address(), "warm.example", 1).ancount == 1);
    REQUIRE(redis.command({"CLIENT", "PAUSE", "1500", "ALL"}).ok);
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint16_t i = 0; i < 20; ++i) {
        const auto t = std::chrono::steady_clock::now();
        CHECK(ask(client, d.address(), "slow" + std::to_string(i) + ".example", static_cast<std::uint16_t>(10 + i))
                  .ancount == 1);
        CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count() < 0.3);
        CHECK(ask(client, d.address(), "warm.example", static_cast<std::uint16_t>(50 + i)).ancount == 1);
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 1.5);
    CHECK(d.terminate() == 0);
}
