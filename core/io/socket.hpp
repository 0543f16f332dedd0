// Socket: an owned, non-blocking socket descriptor, and the cooperative wait that all socket I/O is built on.
//
// Every operation tries the system call first and, only on EAGAIN, parks the calling greenlet until the descriptor
// is ready (or the timeout passes: SocketTimeout). Other errors throw std::system_error. The descriptor is closed
// when the Socket goes.
#pragma once

#include "core/engine/hub.hpp"
#include "core/io/socket_address.hpp"

#include <utility>

namespace greenfinch::core {

class Socket {
public:
    Socket() noexcept = default;
    explicit Socket(int fd) noexcept : fd_(fd) {}
    // A new non-blocking, close-on-exec socket; throws std::system_error.
    Socket(int family, int type);
    // Takes over an inherited descriptor (socket activation hands them over blocking) and makes it non-blocking.
    static Socket adopt(int fd);
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Socket& operator=(Socket&& o) noexcept;
    ~Socket() { close(); }

    int fd() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    void close() noexcept;
    // Gives up ownership (e.g. of an inherited descriptor handed to another owner).
    int release() noexcept { return std::exchange(fd_, -1); }

    void set_option(int level, int name, int value);
    void bind(const SocketAddress& address);
    SocketAddress local_address() const;

    // Parks until the descriptor is ready for `events` (EV_READ / EV_WRITE); SocketTimeout if `timeout` passes.
    void wait(int events, MaybeTimeout timeout) const;

private:
    int fd_ = -1;
};

[[noreturn]] void throw_errno(const char* what);

}  // namespace greenfinch::core
