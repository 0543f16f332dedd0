// TcpListener and TcpStream: cooperative TCP.
//
// accept(), connect(), read_some(), read_exact() and write_all() block only the calling greenlet; each takes an
// optional timeout and throws SocketTimeout when it passes, std::system_error on a socket error.
// read_exact() returns false if the peer closed the connection before the buffer was full (0 bytes read at a
// message boundary is the normal end of a DNS-over-TCP connection). accept_with_peer() returns the stream and its
// peer's address together (no out-parameter).
#pragma once

#include "core/io/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstddef>
#include <span>

namespace greenfinch::core {

class TcpStream {
public:
    TcpStream() = default;
    explicit TcpStream(Socket s) : socket_(std::move(s)) {}

    static TcpStream connect(const SocketAddress& to, MaybeTimeout timeout = std::nullopt);

    int fd() const noexcept { return socket_.fd(); }
    explicit operator bool() const noexcept { return static_cast<bool>(socket_); }
    SocketAddress local_address() const { return socket_.local_address(); }
    SocketAddress peer_address() const;

    // Whatever is available, at least one byte; 0 means the peer closed.
    std::size_t read_some(std::span<std::byte> buffer, MaybeTimeout timeout = std::nullopt);
    bool read_exact(std::span<std::byte> buffer, MaybeTimeout timeout = std::nullopt);
    void write_all(std::span<const std::byte> data, MaybeTimeout timeout = std::nullopt);
    void shutdown_write() noexcept;
    // Ends reading: a read parked on this stream, or the next one, sees end of stream (Linux).
    void shutdown_read() noexcept;
    void close() noexcept { socket_.close(); }
    // TCP_NODELAY: small writes go out at once instead of waiting for the previous one's acknowledgement.
    void enable_nodelay() { socket_.set_option(IPPROTO_TCP, TCP_NODELAY, 1); }

private:
    Socket socket_;
};

class TcpListener {
public:
    struct Options {
        int backlog = 1024;
        bool reuse_port = false;
    };
    static TcpListener bind(const SocketAddress& address, Options options);
    static TcpListener bind(const SocketAddress& address) { return bind(address, Options{}); }
    static TcpListener adopt(int fd);

    SocketAddress local_address() const { return socket_.local_address(); }
    int fd() const noexcept { return socket_.fd(); }
    void close() noexcept { socket_.close(); }

    struct Accepted {
        TcpStream stream;
        SocketAddress peer;
    };
    // The next connection.
    TcpStream accept(MaybeTimeout timeout = std::nullopt) { return accept_with_peer(timeout).stream; }
    // The next connection, with its peer's address.
    Accepted accept_with_peer(MaybeTimeout timeout = std::nullopt);

private:
    explicit TcpListener(Socket s) : socket_(std::move(s)) {}
    Socket socket_;
};

}  // namespace greenfinch::core
