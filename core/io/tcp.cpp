#include "core/io/tcp.hpp"

#include "core/engine/waiter.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace greenfinch::core {

namespace {
bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }
}  // namespace

TcpStream TcpStream::connect(const SocketAddress& to, MaybeTimeout timeout) {
    Socket s(to.family(), SOCK_STREAM);
    if (::connect(s.fd(), to.get(), to.size()) != 0) {
        if (errno != EINPROGRESS && errno != EINTR) throw_errno("connect");
        s.wait(EV_WRITE, timeout);
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno("getsockopt");
        if (err != 0) throw std::system_error(err, std::generic_category(), "connect " + to.to_string());
    }
    return TcpStream(std::move(s));
}

SocketAddress TcpStream::peer_address() const {
    SocketAddress a;
    if (::getpeername(socket_.fd(), a.get(), a.size_ptr()) != 0) throw_errno("getpeername");
    return a;
}

std::size_t TcpStream::read_some(std::span<std::byte> buffer, MaybeTimeout timeout) {
    for (;;) {
        const ssize_t n = ::recv(socket_.fd(), buffer.data(), buffer.size(), 0);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno == EINTR) continue;
        if (!would_block(errno)) throw_errno("recv");
        socket_.wait(EV_READ, timeout);
    }
}

bool TcpStream::read_exact(std::span<std::byte> buffer, MaybeTimeout timeout) {
    Deadline deadline(Hub::current(), timeout);
    std::size_t got = 0;
    while (got < buffer.size()) {
        const std::size_t n = read_some(buffer.subspan(got), deadline.remaining());
        if (n == 0) return false;
        got += n;
    }
    return true;
}

void TcpStream::write_all(std::span<const std::byte> data, MaybeTimeout timeout) {
    Deadline deadline(Hub::current(), timeout);
    std::size_t sent = 0;
    while (sent < data.size()) {
        const ssize_t n = ::send(socket_.fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (!would_block(errno)) throw_errno("send");
        socket_.wait(EV_WRITE, deadline.remaining());
    }
}

void TcpStream::shutdown_write() noexcept { ::shutdown(socket_.fd(), SHUT_WR); }

void TcpStream::shutdown_read() noexcept { ::shutdown(socket_.fd(), SHUT_RD); }

TcpListener TcpListener::bind(const SocketAddress& address, Options options) {
    Socket s(address.family(), SOCK_STREAM);
    s.set_option(SOL_SOCKET, SO_REUSEADDR, 1);
    if (options.reuse_port) s.set_option(SOL_SOCKET, SO_REUSEPORT, 1);
    if (address.family() == AF_INET6) s.set_option(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    s.bind(address);
    if (::listen(s.fd(), options.backlog) != 0) throw_errno("listen");
    return TcpListener(std::move(s));
}

TcpListener TcpListener::adopt(int fd) { return TcpListener(Socket::adopt(fd)); }

TcpListener::Accepted TcpListener::accept_with_peer(MaybeTimeout timeout) {
    for (;;) {
        SocketAddress from;
        const int fd = ::accept4(socket_.fd(), from.get(), from.size_ptr(), SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return {TcpStream(Socket(fd)), from};
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (!would_block(errno)) throw_errno("accept");
        socket_.wait(EV_READ, timeout);
    }
}

}  // namespace greenfinch::core
