// The OPT record we write, with and without an Extended DNS Error (RFC 6891, RFC 8914).
#include "dns/edns.hpp"
#include "dns/message.hpp"
#include "tests/dns/wire_builder.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <vector>

using namespace greenfinch::dns;
using greenfinch::test::Wire;

namespace {
std::vector<std::uint8_t> bytes_of(std::span<const std::byte> b) {
    std::vector<std::uint8_t> out;
    for (auto x : b) out.push_back(std::to_integer<std::uint8_t>(x));
    return out;
}
}  // namespace

TEST_CASE("edns: our OPT record says our payload size, version 0, DO as given and no option") {
    std::array<std::byte, 32> out{};
    const OptRecord opt{.udp_payload = 1232, .dnssec_ok = true};
    REQUIRE(opt_size(opt) == kOptRecordSize);
    REQUIRE(write_opt(out, 3, opt) == 3 + kOptRecordSize);
    CHECK(bytes_of(std::span(out).subspan(3, kOptRecordSize)) ==
          std::vector<std::uint8_t>{0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0});
    REQUIRE(write_opt(out, 0, OptRecord{.udp_payload = 512}) == kOptRecordSize);
    CHECK(bytes_of(std::span(out).first(kOptRecordSize)) ==
          std::vector<std::uint8_t>{0, 0, 41, 0x02, 0x00, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("edns: an EDE is one option 15 of two bytes, the INFO-CODE, and an extended rcode goes in the TTL") {
    std::array<std::byte, 32> out{};
    const OptRecord opt{.udp_payload = 1232, .extended_rcode = 1, .ede = EdeCode::NetworkError};
    REQUIRE(opt_size(opt) == kOptRecordSize + kEdeOptionSize);
    REQUIRE(write_opt(out, 0, opt) == kOptRecordSize + kEdeOptionSize);
    CHECK(bytes_of(std::span(out).first(kOptRecordSize + kEdeOptionSize)) ==
          std::vector<std::uint8_t>{0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 6, 0, 15, 0, 2, 0, 23});
    // It parses as the only OPT record of a message, with its options inside it.
    std::vector<std::byte> message = Wire().header(1, 0x8182, 1, 0, 0, 1).question("a.example", type::A);
    const std::size_t at = message.size();
    message.resize(at + opt_size(opt));
    write_opt(message, at, opt);
    Message m;
    REQUIRE(parse_message(message, m) == ParseStatus::Ok);
    CHECK(m.edns.present);
    CHECK(m.edns.extended_rcode == 1);
    CHECK(m.edns.version == 0);
    CHECK(m.end == message.size());
}

TEST_CASE("edns: the INFO-CODEs are RFC 8914's") {
    CHECK(static_cast<unsigned>(EdeCode::StaleAnswer) == 3);
    CHECK(static_cast<unsigned>(EdeCode::Blocked) == 15);
    CHECK(static_cast<unsigned>(EdeCode::Prohibited) == 18);
    CHECK(static_cast<unsigned>(EdeCode::NoReachableAuthority) == 22);
    CHECK(static_cast<unsigned>(EdeCode::NetworkError) == 23);
    std::array<std::byte, kEdeOptionSize> out{};
    REQUIRE(write_ede_option(out, 0, EdeCode::StaleAnswer) == kEdeOptionSize);
    CHECK(bytes_of(out) == std::vector<std::uint8_t>{0, 15, 0, 2, 0, 3});
}
