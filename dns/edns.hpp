// The OPT pseudo-record we write (RFC 6891): what we say of ourselves to a client or an upstream, and the one
// Extended DNS Error (RFC 8914) a response of ours may carry.
//
// We write version 0 and no flags but DO, whatever the other side sent: unknown flags and options are ignored, never
// echoed (RFC 6891 6.1.4, 6.1.2). An extended RCODE (BADVERS) is split as the RFC says: its low 4 bits go in the
// header, its high 8 bits in the OPT record's TTL. Pure functions over bytes; the caller checks the room first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace greenfinch::dns {

// The INFO-CODEs of RFC 8914 4 that this daemon gives, or may.
enum class EdeCode : std::uint16_t {
    Other = 0,
    StaleAnswer = 3,  // served past its TTL because the upstream failed (RFC 8767)
    Blocked = 15,     // the operator's block list
    Censored = 16,
    Filtered = 17,
    Prohibited = 18,  // the client may not ask us
    StaleNxDomainAnswer = 19,
    NotAuthoritative = 20,
    NotSupported = 21,
    NoReachableAuthority = 22,  // the upstream did not answer in time, or refused
    NetworkError = 23,          // no upstream server could be reached at all
};

inline constexpr std::uint16_t kEdnsOptionEde = 15;
inline constexpr std::uint16_t kOptFlagDo = 0x8000;

struct OptRecord {
    std::uint16_t udp_payload = 1232;  // the largest UDP message we take
    bool dnssec_ok = false;            // DO: DNSSEC records wanted (a query) or included (a response, RFC 3225)
    std::uint8_t extended_rcode = 0;   // the RCODE's high 8 bits (BADVERS: 1)
    std::optional<EdeCode> ede{};      // one EDE option, INFO-CODE only (no EXTRA-TEXT)
};
inline constexpr std::size_t kOptRecordSize = 11;  // root name, TYPE, CLASS, TTL, RDLENGTH=0: no options
inline constexpr std::size_t kEdeOptionSize = 6;   // OPTION-CODE, OPTION-LENGTH=2, INFO-CODE

inline constexpr std::size_t opt_size(const OptRecord& opt) noexcept {
    return kOptRecordSize + (opt.ede ? kEdeOptionSize : 0);
}

// Writes `opt` at `at` (opt_size(opt) bytes, which `out` must hold) and returns the offset after it.
std::size_t write_opt(std::span<std::byte> out, std::size_t at, const OptRecord& opt) noexcept;
// Writes an EDE option at `at` (kEdeOptionSize bytes, which `out` must hold) and returns the offset after it. The
// caller adds kEdeOptionSize to its OPT record's RDLENGTH.
std::size_t write_ede_option(std::span<std::byte> out, std::size_t at, EdeCode code) noexcept;

}  // namespace greenfinch::dns
