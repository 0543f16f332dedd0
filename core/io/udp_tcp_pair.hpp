// A UDP socket and a TCP listener on the same address, as a DNS server needs.
//
// With port 0 the kernel picks the UDP port, and the TCP listener must then take that same port, which another
// process may already hold for TCP: the pair is then retried on a fresh port (a few times) instead of failing.
#pragma once

#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"

namespace greenfinch::core {

struct UdpTcpPair {
    UdpSocket udp;
    TcpListener tcp;
};

// Throws std::system_error as UdpSocket::bind / TcpListener::bind do.
UdpTcpPair bind_udp_and_tcp(const SocketAddress& address, UdpSocket::Options udp = {}, TcpListener::Options tcp = {});

}  // namespace greenfinch::core
