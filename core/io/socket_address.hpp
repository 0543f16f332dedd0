// SocketAddress: an IPv4 or IPv6 address with a port, as the kernel wants it (sockaddr_storage + length).
//
// parse() accepts "1.2.3.4:53", "[::1]:53", and, with a default port, "1.2.3.4" or "::1"; it returns nullopt for
// anything else (no name resolution: this is configuration and wire data, not a resolver).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace greenfinch::core {

class SocketAddress {
public:
    SocketAddress() noexcept;
    SocketAddress(const sockaddr* sa, socklen_t len) noexcept;

    static std::optional<SocketAddress> parse(std::string_view text, std::optional<std::uint16_t> default_port = {});
    // The same family's loopback with port 0, for tests and tools: "give me any free port".
    static SocketAddress loopback_v4(std::uint16_t port = 0);
    static SocketAddress loopback_v6(std::uint16_t port = 0);

    int family() const noexcept { return storage_.ss_family; }
    std::uint16_t port() const noexcept;
    void set_port(std::uint16_t port) noexcept;
    bool is_loopback() const noexcept;
    std::string to_string() const;  // "1.2.3.4:53" or "[::1]:53"

    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return len_; }
    socklen_t* size_ptr() noexcept { return &len_; }
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t len_;
};

}  // namespace greenfinch::core
