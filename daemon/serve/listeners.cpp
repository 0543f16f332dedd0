#include "daemon/serve/listeners.hpp"

#include "core/io/udp_tcp_pair.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <system_error>

namespace greenfinch::daemon {

std::vector<std::vector<ListenSockets>> bind_listeners(const std::vector<std::string>& listen, int workers) {
    std::vector<std::vector<ListenSockets>> per_worker(static_cast<std::size_t>(workers));
    const bool reuse_port = workers > 1;
    for (const auto& text : listen) {
        auto address = *core::SocketAddress::parse(text);  // validated with the configuration
        try {
            std::vector<ListenSockets> bound;
            for (int w = 0; w < workers; ++w) {
                auto [udp, tcp] = core::bind_udp_and_tcp(address, {reuse_port, 0, 0}, {1024, reuse_port});
                address = udp.local_address();  // port 0: every worker takes the port the first one got
                bound.push_back({std::move(udp), std::move(tcp)});
            }
            for (int w = 0; w < workers; ++w)
                per_worker[static_cast<std::size_t>(w)].push_back(std::move(bound[static_cast<std::size_t>(w)]));
            spdlog::info("listening on {} (udp, tcp)", address.to_string());
        } catch (const std::system_error& e) {
            spdlog::warn("cannot listen on {}: {}", text, e.what());
        }
    }
    if (per_worker.front().empty()) throw std::runtime_error("no listen address could be bound");
    return per_worker;
}

std::vector<std::vector<ListenSockets>> adopt_listeners(const std::vector<int>& fds, int workers) {
    // Pair the UDP and TCP sockets of one address, in the order systemd passed them.
    std::map<std::string, ListenSockets> by_address;
    std::vector<std::string> order;
    for (const int fd : fds) {
        int type = 0;
        socklen_t len = sizeof(type);
        if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || (type != SOCK_DGRAM && type != SOCK_STREAM)) {
            spdlog::warn("inherited descriptor {} is not a UDP or TCP socket: ignored", fd);
            continue;
        }
        sockaddr_storage ss{};
        socklen_t ss_len = sizeof(ss);
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &ss_len);
        const std::string address = core::SocketAddress(reinterpret_cast<const sockaddr*>(&ss), ss_len).to_string();
        if (!by_address.contains(address)) order.push_back(address);
        ListenSockets& l = by_address[address];
        if (type == SOCK_DGRAM) {
            l.udp = core::UdpSocket::adopt(fd);
        } else {
            l.tcp = core::TcpListener::adopt(fd);
        }
    }
    if (order.empty()) throw std::runtime_error("socket activation passed no usable socket");
    std::vector<std::vector<ListenSockets>> per_worker(static_cast<std::size_t>(workers));
    for (const auto& address : order) {
        ListenSockets& l = by_address[address];
        // Every worker serves the same inherited socket (its own descriptor for it): the kernel wakes one of them.
        for (int w = 1; w < workers; ++w) {
            ListenSockets copy;
            if (l.udp) copy.udp = core::UdpSocket::adopt(::dup(l.udp->fd()));
            if (l.tcp) copy.tcp = core::TcpListener::adopt(::dup(l.tcp->fd()));
            per_worker[static_cast<std::size_t>(w)].push_back(std::move(copy));
        }
        spdlog::info("listening on {} ({}{}{}, from systemd)", address, l.udp ? "udp" : "", l.udp && l.tcp ? ", " : "",
                     l.tcp ? "tcp" : "");
        per_worker[0].push_back(std::move(l));
    }
    return per_worker;
}

}  // namespace greenfinch::daemon
