#include "core/io/udp_tcp_pair.hpp"

#include <cerrno>
#include <system_error>

namespace greenfinch::core {

namespace {
constexpr int kAttempts = 10;
}

UdpTcpPair bind_udp_and_tcp(const SocketAddress& address, UdpSocket::Options udp, TcpListener::Options tcp) {
    for (int attempt = 1;; ++attempt) {
        UdpSocket u = UdpSocket::bind(address, udp);
        try {
            TcpListener t = TcpListener::bind(u.local_address(), tcp);
            return {std::move(u), std::move(t)};
        } catch (const std::system_error& e) {
            if (address.port() != 0 || e.code().value() != EADDRINUSE || attempt == kAttempts) throw;
        }
    }
}

}  // namespace greenfinch::core
