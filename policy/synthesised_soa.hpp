// The SOA records the daemon makes for names it answers itself (a local zone without one of its own, a blocked name):
// an RDATA whose MNAME the caller writes (the name the SOA speaks for), then a mailbox that cannot exist
// (nobody.invalid., as RFC 6303 3 has it), serial 1 and the caller's timers. Negative answers carry one so that stub resolvers cache them.
#pragma once

#include "dns/span_writer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

namespace greenfinch::policy {

struct SoaTimers {
    std::uint32_t refresh = 3600;
    std::uint32_t retry = 600;
    std::uint32_t expire = 86400;
    std::uint32_t minimum = 300;  // the negative-caching TTL (RFC 2308)
};

inline constexpr std::array<std::byte, 16> kNoMailbox{std::byte{6},   std::byte{'n'}, std::byte{'o'}, std::byte{'b'},
                                                      std::byte{'o'}, std::byte{'d'}, std::byte{'y'}, std::byte{7},
                                                      std::byte{'i'}, std::byte{'n'}, std::byte{'v'}, std::byte{'a'},
                                                      std::byte{'l'}, std::byte{'i'}, std::byte{'d'}, std::byte{0}};
// What write_soa_after_mname() writes: RNAME, serial and the four timers.
inline constexpr std::size_t kSoaAfterMnameSize = kNoMailbox.size() + 5 * 4;

inline void write_soa_after_mname(dns::SpanWriter& w, const SoaTimers& timers) noexcept {
    w.bytes(kNoMailbox);
    w.u32(1);  // serial
    w.u32(timers.refresh);
    w.u32(timers.retry);
    w.u32(timers.expire);
    w.u32(timers.minimum);
}

}  // namespace greenfinch::policy
