// Listeners: the sockets each worker serves, bound by us or inherited from systemd (socket activation).
#pragma once

#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"

#include <optional>
#include <string>
#include <vector>

namespace greenfinch::daemon {

// One listen address for one worker: UDP and TCP, or (from socket activation) just one of them.
struct ListenSockets {
    std::optional<core::UdpSocket> udp;
    std::optional<core::TcpListener> tcp;
};

// Binds every listen address `workers` times (SO_REUSEPORT when more than one); a port 0 is resolved by the first
// binding and reused by the others. Addresses that cannot be bound are logged and skipped; throws if none can.
std::vector<std::vector<ListenSockets>> bind_listeners(const std::vector<std::string>& listen, int workers);

// Takes over the sockets systemd passed (see systemd::inherited_sockets), pairing UDP and TCP by address. Every
// worker gets its own descriptor for each (dup), all on the same sockets. Throws if none is a UDP or TCP socket.
std::vector<std::vector<ListenSockets>> adopt_listeners(const std::vector<int>& fds, int workers);

}  // namespace greenfinch::daemon
