// TcpService: DNS over TCP (RFC 7766: a two-byte length before each message, pipelining, answers out of order) on one
// listening socket.
//
// An accept greenlet takes connections while fewer than `max_connections` are open (beyond that they wait in the
// listen backlog). Per connection, a reader greenlet spawns a greenlet per query (at most `max_pipelined` at once:
// beyond that it stops reading, and TCP's own flow control holds the client back), and a writer greenlet sends the
// answers from the connection's Queue as they complete, in whatever order that is. The Queue holds `max_pipelined`
// answers: a client that asks faster than it reads is held back by TCP, and one whose answers do not move for
// `idle_timeout` is cut off (reading stops, its queries end). A connection with no query for `idle_timeout` is closed
// once its answers are out. stop() stops accepting and ends reading on every connection, so
// each closes once the queries it already sent are answered; drain() waits for that, then closes what is left.
#pragma once

#include "core/io/log_throttle.hpp"
#include "core/io/tcp.hpp"
#include "core/primitives/pool.hpp"
#include "daemon/resolve/responder.hpp"

#include <cstdint>
#include <unordered_set>

namespace greenfinch::daemon {

class TcpService {
public:
    struct Options {
        int max_connections = 128;
        core::Seconds idle_timeout{10.0};
        int max_pipelined = 100;  // queries in flight on one connection
    };
    struct Stats {
        std::uint64_t connections = 0;
        std::uint64_t queries = 0;  // each ends up answered, dropped or undelivered
        std::uint64_t answered = 0;
        std::uint64_t dropped = 0;
        std::uint64_t failed = 0;  // answered SERVFAIL: something failed inside the daemon (respond_or_servfail)
        // Queries whose answers never reached the client: it stopped reading or left first, or the daemon stopped.
        std::uint64_t undelivered = 0;

        Stats& operator+=(const Stats& o) noexcept {
            connections += o.connections;
            queries += o.queries;
            answered += o.answered;
            dropped += o.dropped;
            failed += o.failed;
            undelivered += o.undelivered;
            return *this;
        }
    };

    TcpService(core::TcpListener listener, Responder& responder, Options options);
    TcpService(const TcpService&) = delete;
    TcpService& operator=(const TcpService&) = delete;

    void start();
    void stop();
    bool drain(core::MaybeTimeout timeout);

    core::SocketAddress local_address() const { return listener_.local_address(); }
    const Stats& stats() const noexcept { return stats_; }

private:
    void accept_loop();
    void serve(core::TcpStream stream, const core::SocketAddress& peer);

    core::TcpListener listener_;
    Responder& responder_;
    Options options_;
    core::Pool connections_;
    std::unordered_set<core::TcpStream*> open_;  // streams still reading queries: stop() ends their reading
    core::Ref<core::Greenlet> acceptor_;
    core::ThrottledWarning accept_failed_;
    core::ThrottledWarning query_failed_;
    Stats stats_;
};

}  // namespace greenfinch::daemon
