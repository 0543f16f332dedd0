#include "daemon/tcp_service.hpp"

#include "core/queue.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <memory>
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
        core::SocketAddress peer;
        try {
            conn = listener_.accept(&peer);
        } catch (const std::system_error& e) {
            // EMFILE and friends: back off instead of spinning on a listener that stays readable.
            spdlog::warn("tcp {}: accept failed: {}", listener_.local_address().to_string(), e.what());
            core::sleep(core::Seconds(0.1));
            continue;
        }
        ++stats_.connections;
        connections_.spawn([this, peer](core::TcpStream c) { serve(std::move(c), peer); }, std::move(conn));
    }
}

namespace {
// What one connection's greenlets share. Held by each of them, so none outlives what it uses, however the
// connection ends.
struct Connection {
    Connection(core::TcpStream s, const core::SocketAddress& p, int max_pipelined)
        : stream(std::move(s)), peer(p), queries(max_pipelined) {}
    core::TcpStream stream;
    core::SocketAddress peer;
    core::Pool queries;
    core::Queue<std::vector<std::byte>> answers;  // framed; an empty one tells the writer to finish
};
}  // namespace

void TcpService::serve(core::TcpStream stream, const core::SocketAddress& peer) {
    auto conn = std::make_shared<Connection>(std::move(stream), peer, options_.max_pipelined);
    auto writer = core::spawn([conn, this] {
        try {
            for (;;) {
                std::vector<std::byte> framed = conn->answers.get();
                if (framed.empty()) return;
                conn->stream.write_all(framed, options_.idle_timeout);
                ++stats_.answered;
            }
        } catch (const core::SocketTimeout&) {
        } catch (const std::system_error&) {
            // the client went away; its remaining answers have nowhere to go
        }
    });
    struct Cleanup {  // on any exit, killed included: stop this connection's greenlets without waiting for them
        std::shared_ptr<Connection>& conn;
        core::Ref<core::Greenlet> writer;
        ~Cleanup() {
            conn->queries.kill(nullptr, false);
            writer->kill(nullptr, false);
        }
    } cleanup{conn, writer};
    open_.insert(&conn->stream);
    struct Unregister {
        std::unordered_set<core::TcpStream*>& open;
        core::TcpStream* stream;
        ~Unregister() { open.erase(stream); }
    } unregister{open_, &conn->stream};

    try {
        for (;;) {
            std::array<std::byte, 2> prefix{};
            if (!conn->stream.read_exact(prefix, options_.idle_timeout)) break;  // the client closed
            const std::size_t length =
                (std::to_integer<std::size_t>(prefix[0]) << 8) | std::to_integer<std::size_t>(prefix[1]);
            std::vector<std::byte> query(length);
            if (!conn->stream.read_exact(query, options_.idle_timeout)) break;
            conn->queries.spawn([conn, this](std::vector<std::byte> q) {
                std::vector<std::byte> framed(2 + 65535);
                const std::size_t size = responder_(q, {conn->peer, Transport::Tcp}, std::span(framed).subspan(2));
                if (size == 0) {
                    ++stats_.dropped;
                    return;
                }
                framed[0] = static_cast<std::byte>(size >> 8);
                framed[1] = static_cast<std::byte>(size & 0xff);
                framed.resize(size + 2);
                conn->answers.put(std::move(framed));
            }, std::move(query));
        }
    } catch (const core::SocketTimeout&) {
        // idle
    } catch (const std::system_error& e) {
        spdlog::debug("tcp connection closed: {}", e.what());
    }
    // No more queries: let the ones in flight finish and their answers go out, then close.
    conn->queries.join();
    conn->answers.put({});
    writer->join(options_.idle_timeout);
}

void TcpService::stop() {
    if (acceptor_) acceptor_->kill();
    listener_.close();
    // Idle connections would otherwise hold the drain until their idle timeout: end their reading, so each closes
    // once the queries it already sent are answered.
    for (core::TcpStream* s : open_) s->shutdown_read();
}

bool TcpService::drain(core::MaybeTimeout timeout) {
    if (connections_.join(timeout)) return true;
    connections_.kill();
    return false;
}

}  // namespace greenfinch::daemon
