#include "cache/cache.hpp"

namespace greenfinch::cache {

std::shared_ptr<const Answer> Answer::make(std::vector<std::byte> wire, double stored_at, std::uint32_t ttl) {
    dns::Message parsed;
    dns::parse_message(wire, parsed);
    return make(std::move(wire), std::move(parsed), stored_at, ttl);
}

std::shared_ptr<const Answer> Answer::make(std::vector<std::byte> wire, dns::Message parsed, double stored_at,
                                          std::uint32_t ttl) {
    auto a = std::make_shared<Answer>();
    a->wire = std::move(wire);
    a->parsed = std::move(parsed);
    a->stored_at = stored_at;
    a->ttl = ttl;
    return a;
}

}  // namespace greenfinch::cache
