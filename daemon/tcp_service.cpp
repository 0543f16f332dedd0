#include "daemon/tcp_service.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <vector>

namespace greenfinch::daemon {

TcpService::TcpService(core::TcpListener listener, Responder& responder, Options options)
    : listener_(std::move(listener)), responder_(responder), options_(options), connections_(options.max_connections) {}

void TcpService::start() {
    acceptor_ = core::spawn([this] { accept_loop(); });
}

void TcpService::accept_loop() {
    for (;;) {
        connections_.wait_available();
        core::TcpStream conn;
        try {
            conn = listener_.accept();
        } catch (const std::system_error& e) {
            // EMFILE and friends: back off instead of spinning on a listener that stays readable.
            spdlog::warn("tcp {}: accept failed: {}", listener_.local_address().to_string(), e.what());
            core::sleep(core::Seconds(0.1));
            continue;
        }
        ++stats_.connections;
        connections_.spawn([this](core::TcpStream c) { serve(std::move(c)); }, std::move(conn));
    }
}

void TcpService::serve(core::TcpStream conn) {
    std::vector<std::byte> query(65535);
    std::vector<std::byte> out(2 + 65535);
    try {
        for (;;) {
            std::array<std::byte, 2> prefix{};
            if (!conn.read_exact(prefix, options_.idle_timeout)) return;  // the client closed
            const std::size_t length =
                (std::to_integer<std::size_t>(prefix[0]) << 8) | std::to_integer<std::size_t>(prefix[1]);
            if (!conn.read_exact(std::span(query.data(), length), options_.idle_timeout)) return;
            const std::size_t size = responder_(std::span(query.data(), length), std::span(out).subspan(2));
            if (size == 0) {
                ++stats_.dropped;
                return;  // not a query: a TCP client gets no second chance to desynchronise the stream
            }
            out[0] = static_cast<std::byte>(size >> 8);
            out[1] = static_cast<std::byte>(size & 0xff);
            conn.write_all(std::span(out.data(), size + 2), options_.idle_timeout);
            ++stats_.answered;
        }
    } catch (const core::SocketTimeout&) {
        // idle (or a stalled writer): close
    } catch (const std::system_error& e) {
        spdlog::debug("tcp connection closed: {}", e.what());
    }
}

void TcpService::stop() {
    if (acceptor_) acceptor_->kill();
    listener_.close();
}

bool TcpService::drain(core::MaybeTimeout timeout) {
    if (connections_.join(timeout)) return true;
    connections_.kill();
    return false;
}

}  // namespace greenfinch::daemon
