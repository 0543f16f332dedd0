#include "daemon/serve/tcp_service.hpp"

#include "core/engine/hub.hpp"
#include "core/io/accept_retrying.hpp"
#include "core/primitives/queue.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <memory>
#include <utility>
#include <vector>

namespace greenfinch::daemon {

TcpService::TcpService(core::TcpListener listener, Responder& responder, Options options)
    : listener_(std::move(listener)),
      responder_(responder),
      options_(options),
      connections_(options.max_connections) {}

void TcpService::start() {
    acceptor_ = core::spawn([this] { accept_loop(); });
}

void TcpService::accept_loop() {
    for (;;) {
        connections_.wait_available();
        core::TcpListener::Accepted accepted = core::accept_retrying(listener_, accept_failed_, "tcp");
        ++stats_.connections;
        connections_.spawn([this, peer = accepted.peer](core::TcpStream c) { serve(std::move(c), peer); },
                           std::move(accepted.stream));
    }
}

namespace {
constexpr std::size_t kMaxMessage = 65535;  // what a two-byte length can frame

// Counts one query whose answer did not reach the client, unless told otherwise before it goes.
class Undelivered {
public:
    explicit Undelivered(std::uint64_t& count) noexcept : count_(&count) {}
    Undelivered(Undelivered&& o) noexcept : count_(std::exchange(o.count_, nullptr)) {}
    Undelivered& operator=(Undelivered&&) = delete;
    ~Undelivered() {
        if (count_) ++*count_;
    }
    void settled() noexcept { count_ = nullptr; }

private:
    std::uint64_t* count_;
};

// What one connection's greenlets share. Held by each of them, so none outlives what it uses, however the
// connection ends.
struct Connection {
    Connection(core::TcpStream s, const core::SocketAddress& p, int max_pipelined)
        : stream(std::move(s)),
          peer(p),
          queries(max_pipelined),
          answers(static_cast<std::size_t>(max_pipelined)) {}
    // The client stopped taking answers (or left): they have nowhere to go, so stop reading queries and end the
    // ones running. Without this a client that writes and never reads would have its answers pile up unbounded.
    void writer_gone() noexcept {
        gone = true;
        stream.shutdown_read();
        queries.kill_nowait();  // frees the reader, should it wait for a slot
    }
    bool gone = false;
    core::TcpStream stream;
    core::SocketAddress peer;
    core::Pool queries;
    // Framed answers, an empty one telling the writer to finish. Bounded: while the client reads slower than it
    // asks, query greenlets wait here, the pool fills, the reader stops, and TCP holds the client back.
    core::Queue<std::vector<std::byte>> answers;
};
}  // namespace

void TcpService::serve(core::TcpStream stream, const core::SocketAddress& peer) {
    auto conn = std::make_shared<Connection>(std::move(stream), peer, options_.max_pipelined);
    auto writer = core::spawn([conn, this] {
        try {
            for (;;) {
                std::vector<std::byte> framed = conn->answers.get();
                if (framed.empty()) return;
                Undelivered in_hand(stats_.undelivered);
                conn->stream.write_all(framed, options_.idle_timeout);
                in_hand.settled();
                ++stats_.answered;
            }
        } catch (const core::SocketTimeout&) {
            conn->writer_gone();  // answers have not moved for idle_timeout
        } catch (const std::system_error&) {
            conn->writer_gone();  // the client went away
        }
    });
    struct Cleanup {  // on any exit, killed included: stop this connection's greenlets without waiting for them
        std::shared_ptr<Connection>& conn;
        core::Ref<core::Greenlet> writer;
        std::uint64_t& undelivered;
        ~Cleanup() {
            conn->queries.kill_nowait();
            writer->kill_nowait();
            while (!conn->answers.empty()) {  // answered, but the writer will not send them now
                if (!conn->answers.get_nowait().empty()) ++undelivered;
            }
        }
    } cleanup{conn, writer, stats_.undelivered};
    open_.insert(&conn->stream);
    struct Unregister {
        std::unordered_set<core::TcpStream*>& open;
        core::TcpStream* stream;
        ~Unregister() { open.erase(stream); }
    } unregister{open_, &conn->stream};

    try {
        while (!conn->gone) {  // Linux still delivers what arrives after shutdown_read(): the flag ends the loop
            std::array<std::byte, 2> prefix{};
            if (!conn->stream.read_exact(prefix, options_.idle_timeout)) break;  // the client closed
            const std::size_t length =
                (std::to_integer<std::size_t>(prefix[0]) << 8) | std::to_integer<std::size_t>(prefix[1]);
            std::vector<std::byte> query(length);
            if (!conn->stream.read_exact(query, options_.idle_timeout)) break;
            ++stats_.queries;
            // Counted unless settled: killed on the way (before it even starts, too), say when the client stops
            // reading.
            Undelivered pending(stats_.undelivered);
            if (conn->gone) break;
            conn->queries.spawn(
                [conn, this, pending = std::move(pending)](std::vector<std::byte> q) mutable {
                    // Room for the largest answer, left unwritten: while the query waits for its answer (12800 can, at
                    // the defaults) the kernel backs none of it, and afterwards only the pages the answer fills.
                    const auto scratch = std::make_unique_for_overwrite<std::byte[]>(kMaxMessage);
                    const std::size_t size =
                        respond_or_servfail(responder_, q, {conn->peer, Transport::Tcp},
                                            std::span(scratch.get(), kMaxMessage), stats_.failed, query_failed_);
                    if (size == 0) {
                        pending.settled();
                        ++stats_.dropped;
                        return;
                    }
                    // Queued in the bytes it needs, not in the 64 KiB the largest answer would.
                    std::vector<std::byte> framed(size + 2);
                    framed[0] = static_cast<std::byte>(size >> 8);
                    framed[1] = static_cast<std::byte>(size & 0xff);
                    std::copy_n(scratch.get(), size, framed.begin() + 2);
                    if (conn->gone) return;
                    conn->answers.put(std::move(framed));
                    pending.settled();  // the writer has it now
                },
                std::move(query));
        }
    } catch (const core::SocketTimeout&) {
        // idle
    } catch (const std::system_error& e) {
        spdlog::debug("tcp connection closed: {}", e.what());
    }
    // No more queries: let the ones in flight finish and their answers go out, then close.
    if (conn->gone) {
        conn->queries.kill();
        return;
    }
    conn->queries.join();  // should the writer end meanwhile, it ends these itself
    if (conn->gone) return;
    try {
        conn->answers.put_for({}, options_.idle_timeout);
    } catch (const core::QueueFull&) {
        return;  // the writer is stuck on a client that does not read; Cleanup ends it
    }
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
