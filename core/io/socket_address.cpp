#include "core/io/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace greenfinch::core {

SocketAddress::SocketAddress() noexcept : storage_{}, len_(sizeof(storage_)) {}

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) noexcept : storage_{}, len_(len) {
    if (len_ > sizeof(storage_)) len_ = sizeof(storage_);
    std::memcpy(&storage_, sa, len_);
}

namespace {
std::optional<std::uint16_t> parse_port(std::string_view s) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty() || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
}
}  // namespace

std::optional<SocketAddress> SocketAddress::parse(std::string_view text, std::optional<std::uint16_t> default_port) {
    std::string host;
    std::optional<std::uint16_t> port = default_port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port = parse_port(rest.substr(1));
            if (!port) return std::nullopt;
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        const auto colon = text.find(':');
        host = std::string(text.substr(0, colon));
        port = parse_port(text.substr(colon + 1));
        if (!port) return std::nullopt;
    } else {
        host = std::string(text);
    }
    if (!port) return std::nullopt;

    SocketAddress a;
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(*port);
        return SocketAddress(reinterpret_cast<sockaddr*>(&v4), sizeof(v4));
    }
    if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(*port);
        return SocketAddress(reinterpret_cast<sockaddr*>(&v6), sizeof(v6));
    }
    return std::nullopt;
}

SocketAddress SocketAddress::loopback_v4(std::uint16_t port) { return *parse("127.0.0.1", port); }
SocketAddress SocketAddress::loopback_v6(std::uint16_t port) { return *parse("::1", port); }

std::uint16_t SocketAddress::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

void SocketAddress::set_port(std::uint16_t port) noexcept {
    if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

bool SocketAddress::is_loopback() const noexcept {
    if (family() == AF_INET) {
        return (ntohl(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr) >> 24) == 127;
    }
    if (family() == AF_INET6) {
        const auto* a = &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) != 0;
    }
    return false;
}

std::string SocketAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof(buf));
        return std::string(buf) + ":" + std::to_string(port());
    }
    if (family() == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf, sizeof(buf));
        return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    return "(unknown address family)";
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

}  // namespace greenfinch::core
