// What must hold for any bytes the daemon takes from the network or from a shared Redis, checked on one input.
//
// The input is taken as a client's query and as an upstream's answer in turn, through every function that reads
// untrusted bytes: the error responses, the parser, the cache key, the caching policy and its TTL rewrite, the
// answer written for a client, dnsq's printing, the Redis value format, the record walk, the CNAME chain and the
// rebuild without some records. Memory errors are the sanitizers' to find; the properties are the ones a cache
// relies on: what was accepted once is accepted again after our own rewrites (TTLs, ID, the name's case, the size
// limit, records removed), a stored answer comes back from Redis as it went in, and records read as they did.
//
// Shared by the fuzz target (libFuzzer, clang) and by the test that replays the corpus and mutates it (any build).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace greenfinch::test {

// Empty when every property holds; otherwise what broke.
std::string wire_property_violation(std::span<const std::byte> input);

}  // namespace greenfinch::test
