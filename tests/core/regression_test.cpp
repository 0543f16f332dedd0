// Bugs found in review of the runtime, each kept as the test that reproduced it.
#include "core/engine/greenlet.hpp"
#include "core/primitives/pool.hpp"
#include "core/io/udp_socket.hpp"

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace greenfinch::core;
using namespace std::chrono_literals;

TEST_CASE("each greenlet has its own exceptions-being-handled state: a rethrow after blocking in a catch block") {
    // The C++ runtime tracks caught exceptions per thread; without a per-greenlet copy, A's `throw;` would rethrow
    // C's exception, and A leaving its handler would free C's exception object while C still uses it.
    Hub hub;
    std::string a_rethrew, c_saw;
    auto a = spawn([&] {
        try {
            throw std::runtime_error("A");
        } catch (...) {
            sleep(20ms);
            try {
                throw;
            } catch (const std::runtime_error& e) {
                a_rethrew = e.what();
            }
        }
    });
    auto c = spawn([&] {
        try {
            throw std::runtime_error("C");
        } catch (const std::exception& e) {
            sleep(40ms);
            c_saw = e.what();
        }
    });
    joinall(std::vector<Ref<Greenlet>>{a, c});
    CHECK(a_rethrew == "A");
    CHECK(c_saw == "C");
}

TEST_CASE("hub destruction runs nothing else while it unwinds, and does not wait for a greenlet that parks again") {
    const auto t0 = std::chrono::steady_clock::now();
    int ticks_during_destruction = 0;
    bool unwinding = false;
    bool destructor_ran = false;
    struct Flag {
        bool& set;
        ~Flag() { set = true; }
    };
    {
        Hub hub;
        spawn([&] {
            Flag f{destructor_ran};
            try {
                sleep(10s);
            } catch (const GreenletExit&) {
                unwinding = true;
                sleep(300ms);  // parks again in its handler: not waited for, its stack is unwound by force
                throw;
            }
        });
        spawn([&] {
            for (;;) {
                sleep(10ms);
                if (unwinding) ++ticks_during_destruction;
            }
        });
        sleep(20ms);
    }
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 0.25);
    CHECK(ticks_during_destruction == 0);
    CHECK(destructor_ran);
}

TEST_CASE("UDP: a send while the receiver is parked does not disturb the receiver's batch") {
    Hub hub;
    auto server = UdpSocket::bind(SocketAddress::loopback_v4());
    auto client = UdpSocket::bind(SocketAddress::loopback_v4());
    std::string received;
    auto receiver = spawn([&] {
        std::array<std::array<std::byte, 512>, 4> buffers{};
        std::array<Datagram, 4> batch;
        for (std::size_t i = 0; i < batch.size(); ++i) batch[i].buffer = buffers[i];
        const std::size_t n = server.recv_batch(batch, 2s);
        for (std::size_t i = 0; i < n; ++i) {
            received += std::string(reinterpret_cast<const char*>(batch[i].buffer.data()), batch[i].size);
        }
    });
    sleep(0s);  // the receiver is parked in recv_batch
    {
        std::vector<std::byte> reply(5, std::byte{'R'});
        std::array<Datagram, 1> out;
        out[0].buffer = reply;
        out[0].size = reply.size();
        out[0].peer = client.local_address();
        server.send_batch(out);
    }  // the reply's buffer is gone before the receiver wakes
    const std::string q = "query";
    client.send_to(std::as_bytes(std::span(q.data(), q.size())), server.local_address());
    receiver->join(3s);
    CHECK(received == "query");
}

TEST_CASE("a greenlet that cannot get a stack fails, and its pool slot comes back") {
#if defined(__SANITIZE_ADDRESS__)
    WARN("not run under AddressSanitizer: lowering RLIMIT_AS starves its own mappings");
#else
    Hub::Options options;
    options.stacks.max_free = 0;
    options.max_idle_coroutines = 0;
    Hub hub(options);
    std::vector<std::string> errors;
    hub.set_error_handler([&](std::string_view where, std::exception_ptr e) {
        errors.push_back(std::string(where) + ": " + describe(e));
    });
    Pool pool(1);
    sleep(0s);  // the hub greenlet has its stack now
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
    std::size_t pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlimit tight = old;
    tight.rlim_cur = pages * 4096 + 32 * 1024;  // no room left for a 68 KiB stack mapping
    REQUIRE(::setrlimit(RLIMIT_AS, &tight) == 0);
    auto g = pool.spawn([] { return 1; });
    sleep(10ms);
    REQUIRE(::setrlimit(RLIMIT_AS, &old) == 0);
    CHECK(g->join(1s));
    CHECK(g->ready());
    CHECK_FALSE(g->successful());
    CHECK(pool.size() == 0);
    REQUIRE_FALSE(errors.empty());
    CHECK(errors.front().find("cannot map a greenlet stack") != std::string::npos);
#endif
}
