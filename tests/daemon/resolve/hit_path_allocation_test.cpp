// A query answered from cache allocates nothing once the daemon is warm: the UDP service, its greenlet per query,
// the resolver and the memory cache, in process, with every operator new of this program counted per thread.
#include "cache/memory_cache.hpp"
#include "core/io/udp_socket.hpp"
#include "daemon/resolve/resolver.hpp"
#include "daemon/serve/udp_service.hpp"
#include "tests/daemon/resolve/resolve_helpers.hpp"
#include "tests/dns/wire_builder.hpp"
#include "tests/support/test_upstream.hpp"
#include "upstream/plain.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <new>
#include <vector>

namespace {
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace greenfinch;
using namespace std::chrono_literals;

TEST_CASE("a query answered from cache allocates nothing once warm") {
    core::Hub hub;
    test::TestUpstream upstream;
    cache::MemoryCache cache({1000, 0, 4});
    daemon::Resolver resolver(
        cache, nullptr,
        test::one_route(upstream::make_plain_upstream(
            hub, {.servers = {upstream.address()}, .attempt_timeout = std::chrono::milliseconds(500), .tries = 1})),
        test::forward_all(), {});
    daemon::Responder responder = [&resolver](std::span<const std::byte> q, const daemon::QueryOrigin& origin,
                                              std::span<std::byte> out) { return resolver.resolve(q, origin, out); };
    daemon::UdpService service(core::UdpSocket::bind(core::SocketAddress::loopback_v4()), responder, 64);
    service.start();
    auto client = core::UdpSocket::open(AF_INET);
    const core::SocketAddress server = service.local_address();
    std::vector<std::vector<std::byte>> queries;
    for (int i = 0; i < 4; ++i) {
        queries.push_back(
            test::Wire().header(static_cast<unsigned>(i), 0x0100, 1, 0, 0, 1).question("www.example", 1).opt(1232));
    }
    std::array<std::byte, 1500> buffer{};
    const auto round = [&] {  // four at once, as dnsperf sends them, then their answers
        for (const auto& q : queries) client.send_to(q, server);
        for (std::size_t i = 0; i < queries.size(); ++i) REQUIRE(client.recv_from(buffer).size > 12);
    };
    for (int i = 0; i < 20; ++i) round();  // the upstream once, then warm: greenlets, buffers, the cache's entry
    REQUIRE(upstream.count("www.example") == 1);
    const std::size_t before = allocations;
    for (int i = 0; i < 100; ++i) round();
    CHECK(allocations - before == 0);
    CHECK(resolver.stats().cache_hits >= 400);
    service.stop();
    CHECK(service.drain(1s));
}
