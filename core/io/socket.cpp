#include "core/io/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace greenfinch::core {

void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

Socket::Socket(int family, int type) : fd_(::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw_errno("socket");
}

Socket Socket::adopt(int fd) {
    Socket s(fd);
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl O_NONBLOCK");
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return s;
}

Socket& Socket::operator=(Socket&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

void Socket::close() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void Socket::set_option(int level, int name, int value) {
    if (::setsockopt(fd_, level, name, &value, sizeof(value)) != 0) throw_errno("setsockopt");
}

void Socket::bind(const SocketAddress& address) {
    if (::bind(fd_, address.get(), address.size()) != 0) {
        throw std::system_error(errno, std::generic_category(), "bind " + address.to_string());
    }
}

SocketAddress Socket::local_address() const {
    SocketAddress a;
    if (::getsockname(fd_, a.get(), a.size_ptr()) != 0) throw_errno("getsockname");
    return a;
}

void Socket::wait(int events, MaybeTimeout timeout) const {
    if (!Hub::current().wait_fd(fd_, events, timeout)) throw SocketTimeout();
}

}  // namespace greenfinch::core
