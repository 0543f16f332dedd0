// Rebuilding a parsed message without some of its records (an upstream answer before it is cached).
//
// filter_records() asks a predicate about every record but OPT (which always stays) and, if it drops any, writes a
// new message: the header (section counts fixed, flags as they were), the question, and each kept record in order.
// Names are where the rebuild could go wrong: a kept record's owner, or a name in its RDATA, may be compressed into
// a dropped record's bytes. So every name is read out in full and written again, compressed only against names
// already written to the output (byte for byte, so that every name reads exactly as before); never compressed where
// the RFCs forbid it (DNAME's target, RFC 6672 2.5; SRV's, RFC 2782). RDATA of other types is copied as it is:
// RFC 3597 3 forbids compression in them, so they point nowhere. The output is parsed before it is returned.
//
// It allocates (the output, and the compression table), so it belongs on the miss path only.
#pragma once

#include "dns/message.hpp"
#include "dns/records.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

namespace greenfinch::dns {

enum class Keep : std::uint8_t { keep, drop };

// A predicate over records, borrowed for one call (like a function_ref): no copy, no allocation.
class RecordPredicate {
public:
    template <class F>
    requires(std::is_invocable_r_v<Keep, F&, const Record&> && !std::is_same_v<std::remove_cvref_t<F>, RecordPredicate>)
        RecordPredicate(F&& f)
    noexcept  // NOLINT(google-explicit-constructor): passed as a lambda at the call
        : target_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* t, const Record& r) -> Keep { return (*static_cast<std::remove_reference_t<F>*>(t))(r); }) {}

    Keep operator()(const Record& r) const { return call_(target_, r); }

private:
    void* target_;
    Keep (*call_)(void*, const Record&);
};

enum class FilterStatus : std::uint8_t {
    unchanged,  // nothing dropped: the input stands as it is (no copy was made)
    filtered,   // `wire` and `parsed` hold the new message
    too_large,  // the rebuilt message would exceed 65535 bytes (names written out in full grow it)
    malformed,  // the Message does not belong to the bytes (parse_message() did not accept them)
};

struct FilterResult {
    FilterStatus status = FilterStatus::unchanged;
    std::size_t dropped = 0;  // records the predicate dropped (0 unless filtered)
    std::vector<std::byte> wire;
    Message parsed;  // the parse of `wire`, filtered only
};

// `wire` must be what parse_message() accepted into `parsed`; bytes past parsed.end are left out of the output.
FilterResult filter_records(std::span<const std::byte> wire, const Message& parsed, RecordPredicate keep);

// Appends the answer section of `wire` (which parse_message() accepted as `parsed`) to `out`, a message being written
// whose records end where `out` does: names written out in full or compressed against the names this call wrote (so
// they read the same in `out`), every TTL less `age` seconds (0 at least). Returns how many records it appended;
// nullopt, with `out` as it was, if `out` would outgrow 65535 bytes or `parsed` is not the parse of `wire`. For
// answers made of two messages: a local CNAME and the answer for its target.
std::optional<std::uint16_t> append_answer_records(std::span<const std::byte> wire, const Message& parsed,
                                                   std::uint32_t age, std::vector<std::byte>& out);

}  // namespace greenfinch::dns
