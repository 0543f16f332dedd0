// parsed(wire): the parse of a message a test built or received, which must parse.
#pragma once

#include "dns/message.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

namespace greenfinch::test {

inline dns::Message parsed(const std::vector<std::byte>& wire) {
    dns::Message m;
    REQUIRE(dns::parse_message(wire, m) == dns::ParseStatus::Ok);
    return m;
}

}  // namespace greenfinch::test
