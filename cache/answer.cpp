#include "cache/cache.hpp"

#include <algorithm>
#include <cstring>

namespace greenfinch::cache {

namespace {
constexpr double kRefreshFraction = 0.9;      // the last 10% of the TTL
constexpr std::uint32_t kMinRefreshTtl = 10;  // shorter TTLs are not worth a background refresh
}  // namespace

std::optional<Hit> classify(AnswerPtr answer, double now, std::uint32_t serve_stale) {
    const double age = std::max(0.0, now - answer->stored_at);
    const auto ttl = static_cast<double>(answer->ttl);
    if (age >= ttl + serve_stale) return std::nullopt;
    Freshness f = Freshness::Fresh;
    if (age >= ttl) {
        f = Freshness::Stale;
    } else if (answer->ttl >= kMinRefreshTtl && age >= kRefreshFraction * ttl &&
               !answer->refresh_claimed.exchange(true)) {
        f = Freshness::Refresh;
    }
    return Hit{std::move(answer), f, static_cast<std::uint32_t>(age)};
}

Answer::Answer(std::span<const std::byte> bytes, std::pmr::memory_resource& memory) : memory_(memory) {
    auto* copy = static_cast<std::byte*>(memory_.allocate(bytes.size(), alignof(std::byte)));
    std::memcpy(copy, bytes.data(), bytes.size());
    wire = {copy, bytes.size()};
}

Answer::~Answer() { memory_.deallocate(const_cast<std::byte*>(wire.data()), wire.size(), alignof(std::byte)); }

std::shared_ptr<const Answer> Answer::make(std::span<const std::byte> wire, double stored_at, std::uint32_t ttl) {
    dns::Message parsed;
    dns::parse_message(wire, parsed);
    return make(wire, std::move(parsed), stored_at, ttl);
}

std::shared_ptr<const Answer> Answer::make(std::span<const std::byte> wire, dns::Message parsed, double stored_at,
                                           std::uint32_t ttl, std::pmr::memory_resource& memory) {
    auto a = std::allocate_shared<Answer>(std::pmr::polymorphic_allocator<Answer>(&memory), wire, memory);
    a->parsed = std::move(parsed);
    a->stored_at = stored_at;
    a->ttl = ttl;
    return a;
}

}  // namespace greenfinch::cache
