// Talking to a daemon's admin endpoint from a test: one HTTP/1.1 request on its own connection, and where the
// endpoint listens, read from the daemon's log.
#pragma once

#include "core/io/socket_address.hpp"
#include "core/io/tcp.hpp"
#include "tests/support/daemon_process.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <span>
#include <string>

namespace greenfinch::test {

struct HttpReply {
    int status = 0;
    std::string body;
};

inline HttpReply http(const core::SocketAddress& to, const std::string& method, const std::string& target) {
    using namespace std::chrono_literals;
    auto conn = core::TcpStream::connect(to, 5s);
    const std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    conn.write_all(std::as_bytes(std::span(req)), 5s);
    std::string reply;
    std::array<std::byte, 4096> buf{};
    while (const std::size_t n = conn.read_some(buf, 5s)) reply.append(reinterpret_cast<const char*>(buf.data()), n);
    HttpReply r;
    if (reply.size() > 12) r.status = std::stoi(reply.substr(9, 3));
    if (auto at = reply.find("\r\n\r\n"); at != std::string::npos) r.body = reply.substr(at + 4);
    return r;
}

// The address of `d`'s metrics endpoint, from its "metrics on http://ADDR/metrics" line.
inline core::SocketAddress metrics_address(DaemonProcess& d) {
    using namespace std::chrono_literals;
    const std::string marker = "metrics on http://";
    REQUIRE(d.wait_for_log("/metrics", 5s));
    const auto at = d.log().find(marker) + marker.size();
    return *core::SocketAddress::parse(d.log().substr(at, d.log().find("/metrics", at) - at));
}

}  // namespace greenfinch::test
