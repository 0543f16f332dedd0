// Policy: what the daemon answers by itself and where it sends the rest, for every query, from one immutable object
// built from the operator's configuration and files (policy_loader.hpp). Every worker shares the one in force; a
// reload builds a new one beside it and swaps it in whole, so no query sees half a list.
//
// The pipeline (docs/architecture.md): route() decides from the query's name alone (routing.hpp), before the cache:
// local data and special names are answered here (answer_local), blocked names too (answer_blocked); the rest go to
// their forward zone's route. An upstream's answer then passes screen() on its way into the cache: rebinding
// protection and the CNAME chain's block check.
#pragma once

#include "dns/message.hpp"
#include "policy/block_answer.hpp"
#include "policy/blocked_response.hpp"
#include "policy/local_data.hpp"
#include "policy/name_table.hpp"
#include "policy/routing.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace greenfinch::policy {

class Policy {
public:
    struct Parts {
        NameTable table;                 // every name below, marked (routing.hpp)
        std::vector<std::string> zones;  // by Verdict::zone: "." then each forward zone, "corp.example."
        LocalData local;                 // the operator's records, hosts files and zones
        LocalData special;               // RFC 6303 / RFC 6761 names ([local] private_reverse)
        BlockAnswer block_answer = BlockAnswer::nxdomain;
        bool rebind_protection = false;
        bool blocks = false;  // some block list has a name: upstream answers' CNAME chains are checked
        // Change whenever what screen() does may change: the block and allow names and the block answer (the CNAME
        // check), the rebinding settings. A reload that changes one must drop the cached answers it passed or made.
        std::uint64_t blocking = 0;
        std::uint64_t rebinding = 0;
    };

    Policy() = default;  // forwards everything to zone 0, answers nothing itself
    explicit Policy(Parts parts) : parts_(std::move(parts)) {}

    // `name`: the query's name, lowercased wire form.
    Verdict route(std::span<const std::byte> name) const noexcept { return policy::route(parts_.table, name); }
    const std::string& zone_name(std::uint16_t zone) const noexcept;
    std::size_t zone_count() const noexcept { return parts_.zones.size(); }

    struct Query {
        std::span<const std::byte> wire;  // the client's query, which parse_message accepted as `parsed`
        const dns::Message& parsed;
        std::span<const std::byte> name;  // its name, lowercased
    };
    // For Decision::Local and Decision::Special: the response in `out` (its size 0 if `out` cannot hold it, and where
    // a CNAME chain leaves local data, if it does); nullopt when local data does not answer such a query after all (a
    // class other than IN, say): it is forwarded then.
    std::optional<LocalAnswer> answer_local(const Query& query, const Verdict& verdict, const ReplyRoom& room,
                                            std::span<std::byte> out) const noexcept;
    // For Decision::Blocked.
    std::size_t answer_blocked(const Query& query, const Verdict& verdict, const ReplyRoom& room,
                               std::span<std::byte> out) const noexcept;

    // What screen() did to an upstream's answer.
    enum class Screened : std::uint8_t {
        Kept,      // as it came
        Filtered,  // rebinding protection removed records: `filtered` holds the answer to store
        Blocked,   // its CNAME chain leads to a blocked name: `filtered` holds the blocked response to store
    };
    struct Screening {
        Screened outcome = Screened::Kept;
        std::vector<std::byte> filtered{};
        std::size_t removed = 0;  // Filtered: the records removed
    };
    // `wire`/`parsed`: an upstream's answer, to a query whose route() gave `verdict`. Filtered with nothing in
    // `filtered`: records had to go and could not be taken out, so nothing of the answer may reach a client.
    Screening screen(std::span<const std::byte> wire, const dns::Message& parsed, const Verdict& verdict) const;

    std::uint16_t forward_zone(std::span<const std::byte> name) const noexcept {
        return policy::forward_zone(parts_.table, name);
    }
    std::uint64_t blocking() const noexcept { return parts_.blocking; }
    std::uint64_t rebinding() const noexcept { return parts_.rebinding; }
    bool rebind_protection() const noexcept { return parts_.rebind_protection; }
    const NameTable& table() const noexcept { return parts_.table; }

private:
    Parts parts_;
};

using PolicySnapshot = std::shared_ptr<const Policy>;

}  // namespace greenfinch::policy
