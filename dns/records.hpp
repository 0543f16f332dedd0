// Walking the resource records of a message that parse_message() accepted, and reading the CNAME chain of an answer.
//
// RecordWalk yields each record's section, type, class and the offsets of its owner name, TTL field and RDATA, in
// wire order, without allocating. It trusts nothing: on bytes parse_message() would have refused (a Message that does
// not belong to these bytes) it stops and says so, rather than reading past them. For an accepted message it never
// fails, and it sees exactly the header's counts of records, ending at the parse's `end`.
//
// CnameChain follows the answer section from the question name: the CNAME record owned by the current name (compared
// case-insensitively, the first one if a broken answer has several), whose target becomes the current name, and so
// on. Each target comes out expanded and lowercased, so that a caller can look it up in a blocklist (CNAME cloaking:
// a tracker hidden behind a CNAME in the site's own domain). A chain stops at a name it has seen already and after
// kMaxCnameHops targets.
#pragma once

#include "dns/message.hpp"
#include "dns/name.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

namespace greenfinch::dns {

enum class Section : std::uint8_t { answer, authority, additional };

struct Record {
    Section section = Section::answer;
    std::uint16_t type = 0;
    std::uint16_t rclass = 0;    // for OPT, the payload size
    std::size_t offset = 0;      // where the record starts: its owner name, possibly compressed
    std::size_t ttl_offset = 0;  // the 4-byte TTL field (for OPT, the extended rcode and flags)
    std::size_t rdata_offset = 0;
    std::size_t rdlength = 0;

    std::size_t end() const noexcept { return rdata_offset + rdlength; }
};

class RecordWalk {
public:
    // `parsed` must outlive the walk; only its header counts and `end` are read.
    RecordWalk(std::span<const std::byte> wire, const Message& parsed) noexcept;

    // The next record, or nullopt after the last one (or at bytes that do not hold a record: see failed()).
    std::optional<Record> next() noexcept;
    // Whether the walk stopped short: a count the bytes do not hold, or a record running past the parse's end.
    bool failed() const noexcept { return failed_; }

    class iterator {
    public:
        using value_type = Record;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(RecordWalk& walk) noexcept : walk_(&walk), current_(walk.next()) {}
        const Record& operator*() const noexcept { return *current_; }
        const Record* operator->() const noexcept { return &*current_; }
        iterator& operator++() noexcept {
            current_ = walk_->next();
            return *this;
        }
        void operator++(int) noexcept { ++*this; }
        bool operator==(std::default_sentinel_t) const noexcept { return !current_; }

    private:
        RecordWalk* walk_ = nullptr;
        std::optional<Record> current_;
    };
    // A single pass: begin() starts from wherever next() has got to.
    iterator begin() noexcept { return iterator(*this); }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    std::span<const std::byte> wire_;
    std::array<std::size_t, 3> left_;  // records still to come in each section
    std::size_t section_ = 0;
    std::size_t at_;
    std::size_t end_;  // the parse's end: no record reaches past it, and the last one ends there
    bool failed_ = false;
};

// Calls on_record(const Record&) for every record; true if the walk reached the end (see RecordWalk::failed()).
template <class OnRecord>
bool for_each_record(std::span<const std::byte> wire, const Message& parsed, OnRecord&& on_record) {
    RecordWalk walk(wire, parsed);
    for (const Record& r : walk) on_record(r);
    return !walk.failed();
}

// The offset just past the (possibly compressed) name at `at`, without following its pointer; nullopt if the bytes
// before `limit` do not hold one.
std::optional<std::size_t> skip_name(std::span<const std::byte> wire, std::size_t at, std::size_t limit) noexcept;

inline constexpr std::size_t kMaxCnameHops = 16;

enum class ChainEnd : std::uint8_t {
    none,       // not yet at the end
    complete,   // the current name owns no CNAME in the answer section
    loop,       // the next target is the question name or a target already given
    hop_limit,  // kMaxCnameHops targets given; more CNAMEs follow
    malformed,  // a name that does not read (a Message that does not belong to the bytes)
};

class CnameChain {
public:
    // `parsed` must outlive the chain. CNAME records count only in the question's class.
    CnameChain(std::span<const std::byte> wire, const Message& parsed) noexcept;

    // The next target name, in lowercased uncompressed wire form; valid until the next call. nullopt at the end.
    std::optional<std::span<const std::byte>> next() noexcept;
    // Why next() returned nullopt (ChainEnd::none before that).
    ChainEnd end_reason() const noexcept { return end_; }

private:
    // Whether the name in `name` equals the question name or one of the targets given so far.
    bool seen(std::span<const std::byte> name) const noexcept;

    std::span<const std::byte> wire_;
    const Message* parsed_;
    std::array<std::byte, kMaxNameLength> current_{};  // lowercased
    std::size_t current_length_ = 0;
    std::array<std::size_t, kMaxCnameHops> targets_{};  // where each target given so far lies in the wire
    std::size_t hops_ = 0;
    ChainEnd end_ = ChainEnd::none;
};

}  // namespace greenfinch::dns
