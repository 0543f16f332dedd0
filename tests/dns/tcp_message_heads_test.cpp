#include "dns/tcp_message_heads.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

using greenfinch::dns::TcpMessageHeads;

namespace {
std::vector<std::byte> bytes(std::initializer_list<int> values) {
    std::vector<std::byte> out;
    for (int v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}

// Feeds `stream` in pieces of `piece` bytes; returns every head handed out, as 4-byte vectors.
std::vector<std::vector<int>> heads_of(const std::vector<std::byte>& stream, std::size_t piece) {
    TcpMessageHeads heads;
    std::vector<std::vector<int>> seen;
    for (std::size_t at = 0; at < stream.size(); at += piece) {
        const std::size_t n = std::min(piece, stream.size() - at);
        heads.feed(std::span(stream).subspan(at, n), [&](const TcpMessageHeads::Head& h) {
            seen.push_back({std::to_integer<int>(h[0]), std::to_integer<int>(h[1]), std::to_integer<int>(h[2]),
                            std::to_integer<int>(h[3])});
        });
    }
    return seen;
}
}  // namespace

TEST_CASE("TcpMessageHeads hands out the ID and flags of each message, however the stream is cut") {
    // Three messages: 6 bytes, none, 12 bytes.
    const auto stream = bytes({0, 6,  0x12, 0x34, 0x81, 0x82, 0xaa, 0xbb,  //
                               0, 0,                                       //
                               0, 12, 0xbe, 0xef, 0x81, 0x80, 0,    1,    0, 0, 0, 0, 0, 0});
    const std::vector<std::vector<int>> want{{0x12, 0x34, 0x81, 0x82}, {0xbe, 0xef, 0x81, 0x80}};
    for (std::size_t piece : {1u, 2u, 3u, 5u, 7u, 100u}) {
        INFO("pieces of " << piece);
        CHECK(heads_of(stream, piece) == want);
    }
}

TEST_CASE("TcpMessageHeads hands out nothing for a message shorter than a head, and keeps its place after it") {
    const auto stream = bytes({0, 3, 1, 2, 3, 0, 4, 9, 8, 0x81, 0x85});
    CHECK(heads_of(stream, 1) == std::vector<std::vector<int>>{{9, 8, 0x81, 0x85}});
    CHECK(heads_of(stream, 64) == std::vector<std::vector<int>>{{9, 8, 0x81, 0x85}});
}
