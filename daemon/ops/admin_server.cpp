#include "daemon/ops/admin_server.hpp"

#include "core/engine/greenlet.hpp"
#include "core/engine/hub.hpp"
#include "core/engine/waiter.hpp"
#include "core/io/accept_retrying.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <string_view>

namespace greenfinch::daemon {

namespace {
constexpr std::size_t kMaxRequest = 8192;

std::string response(int status, std::string_view reason, std::string_view body,
                     std::string_view type = "text/plain; charset=utf-8") {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    r += "Content-Type: " + std::string(type) + "\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    r += body;
    return r;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<std::string> url_decode(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out += ' ';
        } else if (text[i] == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

AdminServer::AdminServer(core::TcpListener listener, Handlers handlers, core::Seconds request_timeout)
    : listener_(std::move(listener)),
      handlers_(std::move(handlers)),
      request_timeout_(request_timeout) {}

AdminServer::~AdminServer() {
    if (acceptor_) acceptor_->kill();
    connections_.kill();
}

void AdminServer::start() {
    acceptor_ = core::spawn([this] {
        for (;;) {
            connections_.wait_available();
            core::TcpListener::Accepted accepted = core::accept_retrying(listener_, accept_failed_, "admin");
            connections_.spawn([this, peer = accepted.peer](core::TcpStream s) { serve(std::move(s), peer); },
                               std::move(accepted.stream));
        }
    });
}

void AdminServer::serve(core::TcpStream stream, const core::SocketAddress& peer) {
    std::string request;
    std::string reply;
    try {
        // One deadline for the whole request: a timeout per read would let a byte every few seconds hold a connection
        // (and 64 of them the endpoint) for hours.
        const core::Deadline deadline(core::Hub::current(), request_timeout_);
        std::array<std::byte, 2048> buf{};
        while (request.find("\r\n\r\n") == std::string::npos) {
            if (request.size() > kMaxRequest) {
                const std::string too_large = response(431, "Request Header Fields Too Large", "too large\n");
                stream.write_all(std::as_bytes(std::span(too_large)), request_timeout_);
                return;
            }
            const std::size_t n = stream.read_some(buf, deadline.remaining());
            if (n == 0) return;
            request.append(reinterpret_cast<const char*>(buf.data()), n);
        }
        const std::string_view line(request.data(), request.find("\r\n"));
        const auto sp1 = line.find(' ');
        const auto sp2 = line.find(' ', sp1 == std::string_view::npos ? 0 : sp1 + 1);
        if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) {
            reply = response(400, "Bad Request", "bad request line\n");
        } else {
            const std::string_view method = line.substr(0, sp1);
            const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
            const std::string_view path = target.substr(0, target.find('?'));
            const std::string_view query =
                target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
            if (path == "/metrics") {
                reply = method == "GET"
                            ? response(200, "OK", handlers_.metrics(), "text/plain; version=0.0.4; charset=utf-8")
                            : response(405, "Method Not Allowed", "GET only\n");
            } else if (path == "/cache/flush") {
                if (method != "POST") {
                    reply = response(405, "Method Not Allowed", "POST only\n");
                } else if (!peer.is_loopback()) {
                    reply = response(403, "Forbidden", "flushing is for loopback clients only\n");
                } else if (query.empty()) {
                    reply = response(200, "OK", handlers_.flush(std::nullopt));
                } else if (query.starts_with("name=")) {
                    auto name = url_decode(query.substr(5));
                    reply = name && !name->empty() ? response(200, "OK", handlers_.flush(*name))
                                                   : response(400, "Bad Request", "bad name\n");
                } else {
                    reply = response(400, "Bad Request", "expected ?name=NAME or nothing\n");
                }
            } else {
                reply = response(404, "Not Found", "try /metrics\n");
            }
        }
        stream.write_all(std::as_bytes(std::span(reply)), request_timeout_);
    } catch (const core::SocketTimeout&) {
        // a client that stalls gets nothing
    } catch (const std::system_error& e) {
        spdlog::debug("admin connection from {}: {}", peer.to_string(), e.what());
    }
}

}  // namespace greenfinch::daemon
