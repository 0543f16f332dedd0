// AresUpstream: the plain Upstream (upstream/plain.hpp), c-ares on the hub, for the upstream resolvers of one worker.
//
// c-ares reports which sockets it wants watched (ARES_OPT_SOCK_STATE_CB); the channel mirrors them as libev
// watchers on the hub and keeps one timer armed from ares_timeout(), so retries and per-attempt timeouts run on the
// loop with no thread and no polling. Servers are tried in order (failover on timeout, SERVFAIL or REFUSED),
// starting at the first one ServerHealth does not hold to be down: compat(c-ares 1.18) always starts at its first server,
// so there is one c-ares channel per starting server (made when first needed; with one upstream, only one).
// A truncated UDP answer is retried over TCP by c-ares itself. Queries are sent with EDNS (ARES_FLAG_EDNS), so an
// answer up to the payload size they advertise is taken over UDP: without the flag compat(c-ares 1.18) drops any UDP answer
// over 512 bytes and asks again over TCP. c-ares turns that flag off for good on a channel whose server once
// answered FORMERR without an OPT record; such a channel is replaced by a fresh one (at most every `edns_retry_s`,
// so that an upstream without EDNS cannot make one per query), the old one living on until its queries are done.
// Once c-ares has turned EDNS off, a later FORMERR without an OPT record reaches query(), which asks once more
// without the query's OPT record (c-ares does that only the first time).
// Sockets stay open between queries
// (ARES_FLAG_STAYOPEN): without it compat(c-ares 1.18) closes them whenever no query is pending, and a lightly loaded
// daemon paid a socket, connect and close per query. As with dnsdist's per-backend sockets, the source port is then
// fixed per server for the channel's life; the query ID stays random.
//
// query() looks for the answer right after the send, while that keeps finding it (EarlyReads): an upstream on the
// same host has often answered before the send returned.
//
// query() sends the client's query under a fresh random ID (compat(c-ares 1.18) keeps the caller's ID, and clients' IDs
// would collide and be guessable) and parks the calling greenlet until the answer, a failure, or `timeout`. The
// c-ares callback only copies the answer into a box shared with the waiter (core::CallbackResult) and schedules its
// wake-up, so it stays safe when the waiting greenlet was killed or timed out long before. c-ares' status becomes an
// Outcome here: compat(c-ares 1.18) reports every server answering SERVFAIL or REFUSED as ECONNREFUSED, so the rcodes of the
// answers it drops are read from the sockets (AresSockets) to tell them apart from a port that is not listening.
#pragma once

#include "core/engine/callback_result.hpp"
#include "core/engine/hub.hpp"
#include "core/io/socket_address.hpp"
#include "core/primitives/event.hpp"
#include "upstream/ares_sockets.hpp"
#include "upstream/early_reads.hpp"
#include "upstream/plain.hpp"
#include "upstream/random_ids.hpp"
#include "upstream/server_health.hpp"
#include "upstream/upstream.hpp"

#include <ares.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace greenfinch::upstream {

class AresUpstream final : public Upstream {
public:
    using Options = PlainOptions;

    AresUpstream(core::Hub& hub, Options options);
    ~AresUpstream() override;
    AresUpstream(const AresUpstream&) = delete;
    AresUpstream& operator=(const AresUpstream&) = delete;

    Reply query(std::span<const std::byte> query, core::MaybeTimeout timeout) override;
    std::size_t in_flight() const noexcept override { return in_flight_; }
    void wait_unused() override;

private:
    struct Rotation;
    // One query through c-ares, its status made an Outcome.
    Reply send(std::span<const std::byte> query, core::MaybeTimeout timeout);
    // What c-ares' callback reports for one query.
    struct Answer {
        int status = ARES_SUCCESS;
        std::vector<std::byte> answer;
    };
    // What the callback counts down as the query leaves.
    struct InFlight {
        std::size_t* total = nullptr;
        // Lives until this query's callback: a channel is destroyed only with none in flight.
        Rotation* rotation = nullptr;
    };
    using Pending = core::CallbackResult<Answer, InFlight>;
    struct Watcher {
        ev_io io;
        AresUpstream* channel;
        ares_channel ares;  // the c-ares channel whose socket this is
    };
    // A c-ares channel with the servers in order from one of them, then round.
    struct Rotation {
        AresUpstream* owner = nullptr;
        ares_channel channel = nullptr;
        double born = 0;         // hub time
        bool edns_lost = false;  // c-ares has turned ARES_FLAG_EDNS off
        std::size_t in_flight = 0;
    };
    // The channel starting at server `first`, made (or remade, if it lost EDNS) when needed.
    Rotation& rotation(std::size_t first);
    // After c-ares has read answers: notes the channels a FORMERR among them cost EDNS, and destroys retired
    // channels with nothing left in flight. Never from inside a c-ares callback.
    void after_reads();
    void destroy_idle_retired();
    template <typename F>
    void for_each_channel(F f) {
        for (auto& r : rotations_) {
            if (r) f(*r);
        }
        for (auto& r : retired_) f(*r);
    }

    static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable);
    static void on_io(struct ev_loop*, ev_io* w, int revents);
    static void on_timer(struct ev_loop*, ev_timer* w, int);
    static void on_answer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
    void read_early(const Rotation& rotation, const Pending& pending);
    void rearm_timer();
    // rearm_timer() unless the timer already fires no later than any deadline c-ares can have set since: a new try
    // is never due sooner than one attempt timeout from now. Keeps ares_timeout() off most queries' path. With no
    // query left, c-ares has no deadline: the timer stops, so an idle hub sleeps without one.
    void rearm_timer_if_needed();

    core::Hub& hub_;
    Options options_;
    double attempt_timeout_;  // seconds
    ServerHealth health_;
    AresSockets sockets_;                               // before rotations_: c-ares calls into it until ares_destroy()
    std::vector<std::unique_ptr<Rotation>> rotations_;  // [i] starts at server i
    std::vector<std::unique_ptr<Rotation>> retired_;    // replaced, until their last query is done
    std::unordered_map<ares_socket_t, std::unique_ptr<Watcher>> watchers_;
    ev_timer timer_;
    std::size_t in_flight_ = 0;
    std::size_t callers_ = 0;  // greenlets inside query()
    core::Event unused_;       // set whenever callers_ drops to 0
    RandomIds ids_;
    EarlyReads early_reads_;
};

}  // namespace greenfinch::upstream
