// Keys and answers for cache tests, built with the wire builder.
#pragma once

#include "cache/cache.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace greenfinch::test {

inline std::vector<std::byte> query_for(const std::string& name, std::uint16_t qtype = dns::type::A) {
    return Wire().header(1, 0x0100, 1, 0, 0, 0).question(name, qtype);
}

inline dns::QueryKey key_for(const std::string& name, std::uint16_t qtype = dns::type::A) {
    const auto w = query_for(name, qtype);
    dns::Message m;
    REQUIRE(dns::parse_message(w, m) == dns::ParseStatus::Ok);
    return dns::QueryKey(w, m);
}

// An answer with one A record of `ttl`, stored at `stored_at` for `ttl` seconds.
inline cache::AnswerPtr answer_for(const std::string& name, double stored_at, std::uint32_t ttl) {
    const std::vector<std::byte> wire = Wire()
                                            .header(1, 0x8180, 1, 1, 0, 0)
                                            .question(name, dns::type::A)
                                            .pointer(12)
                                            .rr_fixed(dns::type::A, ttl, 4)
                                            .raw({192, 0, 2, 1});
    return cache::Answer::make(wire, stored_at, ttl);
}

}  // namespace greenfinch::test
