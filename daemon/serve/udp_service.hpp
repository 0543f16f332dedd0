// UdpService: DNS over one UDP socket, one greenlet per query.
//
// A receive greenlet reads datagrams in batches (recvmmsg) and spawns a greenlet per query through a Pool of
// `max_inflight`; while the pool is full the receive loop waits and the kernel's socket buffer takes the pressure.
// Answers are queued and a send greenlet hands them to the kernel in batches (sendmmsg); a lone answer, with none
// queued and no other greenlet due to run in this pass, is sent at once by its own greenlet. Each query lives in an
// Exchange (its datagram, its answer, its peer) taken from a free list: the kernel writes the query straight into it,
// the query's greenlet writes the answer next to it, and the sender gives it back, so serving allocates nothing once
// warm. After a burst (an upstream outage can hold max_inflight queries) at most kMaxSpare of them stay for the next.
// stop() stops receiving; drain() waits for the queries in flight and flushes their answers.
#pragma once

#include "core/io/log_throttle.hpp"
#include "core/io/udp_socket.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/pool.hpp"
#include "daemon/resolve/responder.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace greenfinch::daemon {

class UdpService {
public:
    struct Stats {
        std::uint64_t received = 0;
        std::uint64_t answered = 0;
        std::uint64_t dropped = 0;      // not worth an answer (see Responder)
        std::uint64_t send_errors = 0;  // refused by the kernel
        std::uint64_t failed = 0;       // answered SERVFAIL: something failed inside the daemon (respond_or_servfail)
        std::uint64_t abandoned = 0;    // read, but the stop came first (set by drain())

        Stats& operator+=(const Stats& o) noexcept {
            received += o.received;
            answered += o.answered;
            dropped += o.dropped;
            send_errors += o.send_errors;
            failed += o.failed;
            abandoned += o.abandoned;
            return *this;
        }
    };

    UdpService(core::UdpSocket socket, Responder& responder, int max_inflight);
    UdpService(const UdpService&) = delete;
    UdpService& operator=(const UdpService&) = delete;

    void start();
    void stop();
    // Waits up to `timeout` for the queries in flight; true if they all finished and their answers went out.
    bool drain(core::MaybeTimeout timeout);

    core::SocketAddress local_address() const { return socket_.local_address(); }
    const Stats& stats() const noexcept { return stats_; }
    // Exchanges kept for reuse, beyond those the receive loop holds.
    std::size_t spare_exchanges() const noexcept { return free_.size(); }

    static constexpr std::size_t kMaxSpare = 1024;  // 8 MiB: what a burst leaves behind

private:
    static constexpr std::size_t kMaxQuery = 4096;   // a larger datagram is cut short, and gets FORMERR
    static constexpr std::size_t kMaxAnswer = 4096;  // above the 1232-byte EDNS cap the resolver applies
    struct Exchange {
        std::array<std::byte, kMaxQuery> query;
        std::array<std::byte, kMaxAnswer> answer;
        std::size_t query_size = 0;
        std::size_t answer_size = 0;
        core::SocketAddress peer;
    };
    using ExchangePtr = std::unique_ptr<Exchange>;

    void receive_loop();
    void send_loop();
    void answer(ExchangePtr exchange);
    ExchangePtr take_exchange();
    void give_back(ExchangePtr exchange);

    core::UdpSocket socket_;
    Responder& responder_;
    core::Pool queries_;
    std::vector<ExchangePtr> free_;
    std::vector<ExchangePtr> outgoing_;
    core::Event outgoing_ready_;
    bool stopping_ = false;
    core::Ref<core::Greenlet> receiver_;
    core::Ref<core::Greenlet> sender_;
    core::ThrottledWarning receive_failed_;
    core::ThrottledWarning query_failed_;
    Stats stats_;
};

}  // namespace greenfinch::daemon
