// Cooperative sockets over loopback: every port comes from the kernel (bind port 0).
#include "core/greenlet.hpp"
#include "core/io_watch.hpp"
#include "core/tcp.hpp"
#include "core/udp_socket.hpp"
#include "core/udp_tcp_pair.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <string>
#include <vector>

using namespace greenfinch::core;
using namespace std::chrono_literals;

namespace {
std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
}  // namespace

TEST_CASE("SocketAddress parses and prints IPv4 and IPv6 endpoints") {
    auto v4 = SocketAddress::parse("127.0.0.1:5335");
    REQUIRE(v4);
    CHECK(v4->to_string() == "127.0.0.1:5335");
    CHECK(v4->is_loopback());
    auto v6 = SocketAddress::parse("[::1]:53");
    REQUIRE(v6);
    CHECK(v6->port() == 53);
    CHECK(v6->to_string() == "[::1]:53");
    CHECK(SocketAddress::parse("10.0.0.1", 53)->port() == 53);
    CHECK(SocketAddress::parse("::1", 53)->is_loopback());
    CHECK_FALSE(SocketAddress::parse("10.0.0.1"));
    CHECK_FALSE(SocketAddress::parse("10.0.0.1:99999"));
    CHECK_FALSE(SocketAddress::parse("example.com:53"));
    CHECK_FALSE(SocketAddress::parse("[::1:53"));
}

TEST_CASE("UDP: a batch sent with sendmmsg arrives through recvmmsg, blocking only the receiver") {
    Hub hub;
    auto server = UdpSocket::bind(SocketAddress::loopback_v4());
    const auto server_addr = server.local_address();
    REQUIRE(server_addr.port() != 0);

    auto receiver = spawn([&] {
        std::array<std::array<std::byte, 512>, 16> buffers{};
        std::array<Datagram, 16> batch;
        for (std::size_t i = 0; i < batch.size(); ++i) batch[i].buffer = buffers[i];
        std::size_t got = 0;
        std::string joined;
        while (got < 8) {
            const std::size_t n = server.recv_batch(batch, 5s);
            for (std::size_t i = 0; i < n; ++i) joined += text(std::span(batch[i].buffer.data(), batch[i].size));
            got += n;
        }
        return joined;
    });

    auto client = UdpSocket::open(AF_INET);
    std::array<std::string, 8> payloads;
    std::array<Datagram, 8> out;
    for (std::size_t i = 0; i < out.size(); ++i) {
        payloads[i] = std::to_string(i);
        out[i].buffer = std::as_writable_bytes(std::span(payloads[i].data(), payloads[i].size()));
        out[i].size = payloads[i].size();
        out[i].peer = server_addr;
    }
    CHECK(client.send_batch(out) == 0);
    CHECK(receiver->get() == "01234567");
}

TEST_CASE("UDP: recv_batch offers a lone datagram a small window and doubles it while a backlog fills it") {
    Hub hub;
    auto server = UdpSocket::bind(SocketAddress::loopback_v4());
    auto client = UdpSocket::open(AF_INET);
    const auto send = [&](std::size_t count) {
        std::vector<Datagram> out(count);
        std::string payload = "x";
        for (auto& d : out) {
            d.buffer = std::as_writable_bytes(std::span(payload.data(), payload.size()));
            d.size = payload.size();
            d.peer = server.local_address();
        }
        REQUIRE(client.send_batch(out) == 0);  // loopback: queued at the receiver when this returns
    };
    std::array<std::array<std::byte, 64>, 64> buffers{};
    std::array<Datagram, 64> batch;
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].buffer = buffers[i];
    const auto receive = [&] { return server.recv_batch(batch, 5s); };

    send(40);
    CHECK(receive() == 4);
    CHECK(receive() == 8);
    CHECK(receive() == 16);
    CHECK(receive() == 12);  // short: the backlog is gone
    send(1);
    CHECK(receive() == 1);   // the window is back to 4
    send(10);
    CHECK(receive() == 4);
    CHECK(receive() == 6);
}

TEST_CASE("UDP: recv with a timeout throws SocketTimeout when nothing comes") {
    Hub hub;
    auto sock = UdpSocket::bind(SocketAddress::loopback_v4());
    std::array<std::byte, 64> buf{};
    SocketAddress from;
    hub.update_now();
    const double start = hub.now();
    CHECK_THROWS_AS(sock.recv_from(buf, from, 20ms), SocketTimeout);
    hub.update_now();
    CHECK(hub.now() - start >= 0.015);
}

TEST_CASE("UDP: request and reply between two greenlets, with the sender's address") {
    Hub hub;
    auto server = UdpSocket::bind(SocketAddress::loopback_v6());
    auto echo = spawn([&] {
        std::array<std::byte, 512> buf{};
        SocketAddress from;
        const std::size_t n = server.recv_from(buf, from);
        server.send_to(std::span(buf.data(), n), from);
    });
    auto client = UdpSocket::bind(SocketAddress::loopback_v6());
    client.send_to(bytes("hello"), server.local_address());
    std::array<std::byte, 512> buf{};
    SocketAddress from;
    const std::size_t n = client.recv_from(buf, from, 5s);
    CHECK(text(std::span(buf.data(), n)) == "hello");
    CHECK(from == server.local_address());
    echo->join();
}

TEST_CASE("TCP: accept, read_exact and write_all between greenlets, and EOF ends the reader") {
    Hub hub;
    auto listener = TcpListener::bind(SocketAddress::loopback_v4());
    auto server = spawn([&] {
        SocketAddress peer;
        TcpStream conn = listener.accept(&peer, 5s);
        CHECK(peer.is_loopback());
        int messages = 0;
        for (;;) {
            std::array<std::byte, 2> len{};
            if (!conn.read_exact(len, 5s)) break;  // the client closed
            const std::size_t n = (std::to_integer<std::size_t>(len[0]) << 8) | std::to_integer<std::size_t>(len[1]);
            std::string body(n, '\0');
            REQUIRE(conn.read_exact(std::as_writable_bytes(std::span(body.data(), n)), 5s));
            conn.write_all(len);
            conn.write_all(bytes(body));
            ++messages;
        }
        return messages;
    });

    TcpStream client = TcpStream::connect(listener.local_address(), 5s);
    std::string pipelined;
    for (const std::string msg : {"one", "two", "three"}) {
        pipelined += static_cast<char>(msg.size() >> 8);
        pipelined += static_cast<char>(msg.size() & 0xff);
        pipelined += msg;
    }
    client.write_all(bytes(pipelined));  // all three at once: the server answers them in order
    std::string echoed(pipelined.size(), '\0');
    REQUIRE(client.read_exact(std::as_writable_bytes(std::span(echoed.data(), echoed.size())), 5s));
    CHECK(echoed == pipelined);
    client.shutdown_write();
    CHECK(server->get() == 3);
}

TEST_CASE("TCP: connect to a closed port fails, accept times out") {
    Hub hub;
    SocketAddress closed;
    {
        auto l = TcpListener::bind(SocketAddress::loopback_v4());
        closed = l.local_address();
    }
    CHECK_THROWS_AS(TcpStream::connect(closed, 2s), std::system_error);
    auto listener = TcpListener::bind(SocketAddress::loopback_v4());
    CHECK_THROWS_AS(listener.accept(nullptr, 10ms), SocketTimeout);
}

TEST_CASE("TCP: a reader blocked on one connection does not block another greenlet") {
    Hub hub;
    auto listener = TcpListener::bind(SocketAddress::loopback_v4());
    auto silent = TcpStream::connect(listener.local_address(), 2s);
    TcpStream accepted = listener.accept(nullptr, 2s);
    auto blocked = spawn([&] {
        std::array<std::byte, 8> buf{};
        return accepted.read_some(buf);
    });
    int ticks = 0;
    auto ticker = spawn([&] {
        for (int i = 0; i < 5; ++i) {
            sleep(1ms);
            ++ticks;
        }
    });
    ticker->join();
    CHECK(ticks == 5);
    CHECK_FALSE(blocked->ready());
    silent.close();
    CHECK(blocked->get() == 0);
}

TEST_CASE("a UDP socket and a TCP listener on one port: port 0 gives both the same port, and a taken TCP port is an error") {
    Hub hub;
    auto pair = bind_udp_and_tcp(SocketAddress::loopback_v4());
    CHECK(pair.udp.local_address() == pair.tcp.local_address());
    CHECK(pair.udp.local_address().port() != 0);
    // A fixed port whose TCP half is taken is not silently moved elsewhere.
    auto tcp_only = TcpListener::bind(SocketAddress::loopback_v4());
    CHECK_THROWS_AS(bind_udp_and_tcp(tcp_only.local_address()), std::system_error);
}

TEST_CASE("IoWatch: wakes its waiter on readiness, times out, and stops itself when ready with nobody waiting") {
    Hub hub;
    auto receiver = UdpSocket::bind(SocketAddress::loopback_v4());
    auto sender = UdpSocket::open(AF_INET);
    IoWatch watch(hub, receiver.fd(), EV_READ);
    CHECK_FALSE(watch.wait(Seconds(0.02)));  // nothing sent yet

    const std::array<std::byte, 1> one{std::byte{1}};
    auto g = spawn([&] { sender.send_to(one, receiver.local_address()); });
    CHECK(watch.wait(Seconds(2.0)));
    g->join();

    // Readable while nobody waits (we do not read): the watch must not spin the loop, and the next wait returns at once.
    const auto before = hub.loop_iterations();
    sleep(Seconds(0.05));
    CHECK(hub.loop_iterations() - before < 10);
    CHECK(watch.wait(Seconds(0.0)));
}
