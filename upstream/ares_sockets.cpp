#include "upstream/ares_sockets.hpp"

#include "core/io/direct_syscalls.hpp"
#include "dns/header.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

namespace greenfinch::upstream {

AresSockets::UdpBatch::UdpBatch() {
    for (std::size_t i = 0; i < kBatch; ++i) {
        datagrams[i].buffer = buffers[i];
        headers.receive_into(i, datagrams[i]);
    }
}

void AresSockets::install(ares_channel channel) {
    static constexpr ares_socket_functions kFunctions{&AresSockets::open, &AresSockets::close, &AresSockets::connect,
                                                      &AresSockets::receive, &AresSockets::send};
    ares_set_socket_functions(channel, &kFunctions, this);
}

ares_socket_t AresSockets::open(int domain, int type, int protocol, void* self) {
    // c-ares configures only the sockets it opens itself: with these functions installed it neither makes them
    // non-blocking (a blocking connect or send would hold the whole hub) nor, for TCP, turns Nagle off.
    const int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd >= 0 && (type & 0xf) == SOCK_STREAM) {
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
        static_cast<AresSockets*>(self)->tcp_[fd] = TcpConnection{};
    }
    if (fd >= 0 && (type & 0xf) == SOCK_DGRAM) static_cast<AresSockets*>(self)->udp_[fd] = std::make_unique<UdpBatch>();
    return fd;
}

int AresSockets::close(ares_socket_t fd, void* self) {
    auto* sockets = static_cast<AresSockets*>(self);
    sockets->udp_.erase(fd);
    sockets->tcp_.erase(fd);
    if (sockets->last_udp_send_ == fd) sockets->last_udp_send_ = ARES_SOCKET_BAD;
    return ::close(fd);
}

int AresSockets::connect(ares_socket_t fd, const sockaddr* address, ares_socklen_t length, void* self) {
    auto* sockets = static_cast<AresSockets*>(self);
    const core::SocketAddress to(address, length);
    const auto known = std::find(sockets->servers_.begin(), sockets->servers_.end(), to);
    if (known != sockets->servers_.end()) {
        const auto server = static_cast<std::size_t>(known - sockets->servers_.begin());
        if (auto udp = sockets->udp_.find(fd); udp != sockets->udp_.end()) {
            udp->second->server = server;
        } else if (auto tcp = sockets->tcp_.find(fd); tcp != sockets->tcp_.end()) {
            tcp->second.server = server;
        }
    }
    return ::connect(fd, address, length);
}

ares_ssize_t AresSockets::receive(ares_socket_t fd, void* buffer, std::size_t length, int flags, sockaddr* from,
                                  ares_socklen_t* from_length, void* self) {
    auto* sockets = static_cast<AresSockets*>(self);
    auto it = sockets->udp_.find(fd);
    if (it == sockets->udp_.end()) {
        const ares_ssize_t n = core::direct::recvfrom(fd, buffer, length, flags, from, from_length);
        if (n > 0) {
            if (auto tcp = sockets->tcp_.find(fd); tcp != sockets->tcp_.end()) {
                sockets->note_heard(tcp->second.server);
                tcp->second.heads.feed(std::span(static_cast<const std::byte*>(buffer), static_cast<std::size_t>(n)),
                                       [sockets](const dns::TcpMessageHeads::Head& head) {
                                           sockets->note_rcode(head.data(), static_cast<ares_ssize_t>(head.size()));
                                       });
            }
        }
        return n;
    }
    UdpBatch& b = *it->second;
    if (b.next == b.count) {
        if (std::exchange(b.drained, false)) {
            errno = EAGAIN;
            return -1;
        }
        const std::size_t awaited = sockets->awaited_ ? *sockets->awaited_ : kBatch;
        const std::size_t want = std::clamp<std::size_t>(awaited, 1, kBatch);
        if (want == 1) {
            // The one answer awaited goes straight into c-ares' buffer: no message header, no copy.
            const ares_ssize_t size =
                core::direct::recvfrom(fd, buffer, length, flags | MSG_DONTWAIT, from, from_length);
            b.drained = size >= 0;
            sockets->note_rcode(buffer, size);
            if (size >= 0) sockets->note_heard(b.server);
            return size;
        }
        // The kernel wrote only the address lengths (and flags) of the datagrams it filled last time.
        b.headers.rearm(b.count);
        const int n = b.headers.receive(fd, want);
        if (n <= 0) return n;
        b.count = static_cast<std::size_t>(n);
        b.headers.collect(std::span(b.datagrams).first(b.count));
        b.next = 0;
        b.drained = b.count < want || b.count >= awaited;
        sockets->note_heard(b.server);
    }
    const core::Datagram& d = b.datagrams[b.next++];
    const std::size_t size = std::min(d.size, length);
    std::memcpy(buffer, d.buffer.data(), size);
    sockets->note_rcode(buffer, static_cast<ares_ssize_t>(size));
    if (from && from_length) {
        const auto n = std::min<ares_socklen_t>(*from_length, d.peer.size());
        std::memcpy(from, d.peer.get(), n);
        *from_length = d.peer.size();
    }
    return static_cast<ares_ssize_t>(size);
}

void AresSockets::note_rcode(const void* answer, ares_ssize_t size) noexcept {
    if (size < 0) return;
    const std::optional<dns::MessageHead> head =
        dns::parse_message_head(std::span(static_cast<const std::byte*>(answer), static_cast<std::size_t>(size)));
    if (!head || !head->qr()) return;
    switch (head->rcode()) {
        case dns::Rcode::FormErr: formerr_read_ = true; break;
        case dns::Rcode::ServFail:
        case dns::Rcode::NotImp:
        case dns::Rcode::Refused: (*discarded_)[head->id] = static_cast<std::uint8_t>(head->rcode()); break;
        default: break;
    }
}

ares_ssize_t AresSockets::send(ares_socket_t fd, const iovec* data, int count, void* self) {
    auto* sockets = static_cast<AresSockets*>(self);
    const auto batch = sockets->udp_.find(fd);
    const bool udp = batch != sockets->udp_.end();
    sockets->last_udp_send_ = udp ? fd : ARES_SOCKET_BAD;
    if (udp) {
        sockets->note_sent(batch->second->server);
    } else if (auto tcp = sockets->tcp_.find(fd); tcp != sockets->tcp_.end()) {
        sockets->note_sent(tcp->second.server);
    }
    // Socket calls rather than writev: no trip through the file layer, and no SIGPIPE from a TCP connection that is
    // gone. A single piece (every UDP query) goes by sendto, which copies in no message header.
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(data);
    message.msg_iovlen = static_cast<std::size_t>(count);
    const auto transmit = [&] {
        return count == 1 ? core::direct::sendto(fd, data[0].iov_base, data[0].iov_len, MSG_NOSIGNAL, nullptr, 0)
                          : core::direct::sendmsg(fd, &message, MSG_NOSIGNAL);
    };
    ares_ssize_t sent = transmit();
    if (sent < 0 && udp && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        // compat(c-ares 1.18) treats a UDP send that would block as a failed server: the query moves on to the next
        // one, or with a single server fails at once. The send buffer fills only in a burst the device has not drained yet,
        // so wait for room briefly (the hub stalls at most that long), then let c-ares decide.
        pollfd room{fd, POLLOUT, 0};
        if (::poll(&room, 1, kUdpSendWaitMs) > 0) sent = transmit();
    }
    return sent;
}

}  // namespace greenfinch::upstream
