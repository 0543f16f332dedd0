#include "core/io/udp_socket.hpp"

#include "core/io/direct_syscalls.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace greenfinch::core {

namespace {
bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }
}  // namespace

UdpSocket UdpSocket::bind(const SocketAddress& address, Options options) {
    Socket s(address.family(), SOCK_DGRAM);
    if (options.reuse_port) s.set_option(SOL_SOCKET, SO_REUSEPORT, 1);
    if (address.family() == AF_INET6) s.set_option(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    if (options.receive_buffer > 0) s.set_option(SOL_SOCKET, SO_RCVBUF, options.receive_buffer);
    if (options.send_buffer > 0) s.set_option(SOL_SOCKET, SO_SNDBUF, options.send_buffer);
    s.bind(address);
    return UdpSocket(std::move(s));
}

UdpSocket UdpSocket::open(int family) { return UdpSocket(Socket(family, SOCK_DGRAM)); }

UdpSocket UdpSocket::adopt(int fd) { return UdpSocket(Socket::adopt(fd)); }

UdpSocket::Received UdpSocket::recv_from(std::span<std::byte> buffer, MaybeTimeout timeout) {
    for (;;) {
        SocketAddress from;
        const ssize_t n = direct::recvfrom(socket_.fd(), buffer.data(), buffer.size(), 0, from.get(), from.size_ptr());
        if (n >= 0) return {static_cast<std::size_t>(n), from};
        if (errno == EINTR) continue;
        if (!would_block(errno)) throw_errno("recvfrom");
        socket_.wait(EV_READ, timeout);
    }
}

void UdpSocket::send_to(std::span<const std::byte> data, const SocketAddress& to, MaybeTimeout timeout) {
    for (;;) {
        if (direct::sendto(socket_.fd(), data.data(), data.size(), 0, to.get(), to.size()) >= 0) return;
        if (errno == EINTR) continue;
        if (!would_block(errno)) throw_errno("sendto");
        socket_.wait(EV_WRITE, timeout);
    }
}

UdpSocket::TrySend UdpSocket::try_send_to(std::span<const std::byte> data, const SocketAddress& to) noexcept {
    for (;;) {
        if (direct::sendto(socket_.fd(), data.data(), data.size(), MSG_DONTWAIT, to.get(), to.size()) >= 0)
            return TrySend::Sent;
        if (errno == EINTR) continue;
        return would_block(errno) ? TrySend::WouldBlock : TrySend::Refused;
    }
}

std::size_t UdpSocket::recv_batch(std::span<Datagram> batch, MaybeTimeout timeout) {
    if (batch.empty()) return 0;
    if (std::exchange(drained_, false)) {
        if (!wait_readable(timeout)) throw SocketTimeout();
        if (window_ == 1 && Hub::current().last_wait_seconds() < kQueuedWait) window_ = kBacklogWindow;
    }
    // Offer the kernel only as many entries as the traffic has lately filled (doubling while batches come back full):
    // a lone query then costs a few headers set up, not the whole batch's.
    const std::size_t offered = std::min(batch.size(), window_);
    if (offered > 1) {
        receiving_.reserve(offered);
        for (std::size_t i = 0; i < offered; ++i) receiving_.receive_into(i, batch[i]);
    }
    for (;;) {
        int n = 0;
        if (offered == 1) {
            // recvfrom, not recvmsg: the kernel copies in no message header.
            // A lone read cannot tell whether more wait; rather than spend a read on EAGAIN, the next call waits for
            // readiness, which answers at once if they do (and then opens the window).
            socklen_t length = SocketAddress::capacity();
            const ssize_t size = direct::recvfrom(socket_.fd(), batch[0].buffer.data(), batch[0].buffer.size(),
                                                  MSG_DONTWAIT, batch[0].peer.get(), &length);
            if (size >= 0) {
                batch[0].size = static_cast<std::size_t>(size);
                *batch[0].peer.size_ptr() = length;
                drained_ = true;
                window_ = 1;
                return 1;
            }
            n = -1;
        } else {
            n = receiving_.receive(socket_.fd(), offered);
        }
        if (n > 0) {
            const auto got = static_cast<std::size_t>(n);
            receiving_.collect(batch.first(got));
            drained_ = got < offered;
            window_ = got == 1 ? 1 : 2 * got;
            return got;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && !would_block(errno)) throw_errno("recvmmsg");
        if (!wait_readable(timeout)) throw SocketTimeout();
    }
}

bool UdpSocket::wait_readable(MaybeTimeout timeout) {
    if (!read_watch_) read_watch_ = std::make_unique<IoWatch>(Hub::current(), socket_.fd(), EV_READ);
    return read_watch_->wait(timeout);
}

std::size_t UdpSocket::send_batch(std::span<const Datagram> batch, MaybeTimeout timeout) {
    sending_.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) sending_.send_from(i, batch[i]);
    std::size_t done = 0;
    std::size_t refused = 0;
    while (done < batch.size()) {
        const int n = sending_.send(socket_.fd(), done, batch.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (would_block(errno)) {
            socket_.wait(EV_WRITE, timeout);
            continue;
        }
        ++refused;  // the first datagram of the rest failed for good: skip it, send the others
        ++done;
    }
    return refused;
}

}  // namespace greenfinch::core
