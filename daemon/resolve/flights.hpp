// Flights: identical questions in flight on one hub, coalesced (gevent's AsyncResult as a rendezvous).
//
// The first query for a key leads a flight: it registers one (LeadFlight), does the fetching, and lands it with the
// answer (nullptr: there is none to give), waking every query that joined meanwhile. A follower waits on the flight
// under its own timeout. A leader that is killed or times out before it lands abandons the flight, so its followers
// learn the question is still open (Flight::abandoned) and ask again within what is left of their own budget, rather
// than waiting it out.
#pragma once

#include "cache/cache.hpp"
#include "core/memory/hash_index.hpp"
#include "core/memory/ref.hpp"
#include "core/primitives/event.hpp"
#include "dns/edns.hpp"
#include "dns/query_key.hpp"

#include <cstdint>
#include <optional>

namespace greenfinch::daemon {

class Flights {
public:
    struct Flight : core::RefCounted<Flight> {
        explicit Flight(const dns::QueryKey& k) noexcept : key(&k) {}
        const dns::QueryKey* key;                    // the leader's, which outlives the flight's entry in the table
        core::AsyncResult<cache::AnswerPtr> result;  // nullptr: the upstream gave no usable answer
        bool abandoned = false;                 // the leader was killed or timed out first: the question is still open
        std::optional<dns::EdeCode> failure{};  // no answer: why, as every asker's SERVFAIL tells it (RFC 8914)
    };

    // The flight in progress for `key`, if any.
    Flight* find(const dns::QueryKey& key);

    // The flight the caller leads, listed until it lands; destroyed unlanded (an exception, a kill, a Timeout on the
    // way out), it lands abandoned.
    class LeadFlight {
    public:
        LeadFlight(Flights& flights, const dns::QueryKey& key);
        ~LeadFlight();
        LeadFlight(const LeadFlight&) = delete;
        LeadFlight& operator=(const LeadFlight&) = delete;
        // `failure`: why there is no answer, if there is none and the reason is known.
        void land(cache::AnswerPtr answer, std::optional<dns::EdeCode> failure = std::nullopt);

    private:
        // Landed: the leader's answer (nullptr: none). Abandoned: the leader left before it had one.
        enum class Ending : std::uint8_t { Landed, Abandoned };
        void finish(cache::AnswerPtr answer, Ending ending);
        Flights& flights_;
        const dns::QueryKey& key_;
        core::Ref<Flight> flight_;
        bool landed_ = false;
    };

private:
    // In-flight upstream queries by key hash; the leader's Ref keeps each alive while it is listed. A flat table that
    // shrinks as flights land: at low load it is a few warm cache lines, where a map kept its peak bucket array.
    core::HashIndex<Flight*> table_;
};

}  // namespace greenfinch::daemon
