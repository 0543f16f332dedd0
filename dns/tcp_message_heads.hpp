// TcpMessageHeads: follows one connection's DNS-over-TCP byte stream (a two-byte length, then the message; RFC 1035
// 4.2.2) through reads of any size, and hands out the first four bytes (ID and flags) of each message as they arrive.
//
// A reader that does its own framing (c-ares reads the length and the message with separate calls, each in as many
// pieces as the kernel hands it) can be watched from below this way, without buffering a message.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace greenfinch::dns {

class TcpMessageHeads {
public:
    using Head = std::array<std::byte, 4>;

    // Takes the next bytes of the stream; calls on_head(const Head&) for each message whose first four bytes are now in.
    template <class OnHead>
    void feed(std::span<const std::byte> bytes, OnHead&& on_head) {
        while (!bytes.empty()) {
            if (length_bytes_ < 2) {
                length_ = static_cast<std::uint16_t>(length_ << 8 | std::to_integer<unsigned>(bytes.front()));
                ++length_bytes_;
                bytes = bytes.subspan(1);
            } else {
                const std::size_t take = std::min<std::size_t>(bytes.size(), length_ - body_bytes_);
                for (std::size_t i = body_bytes_; i < std::min(head_.size(), body_bytes_ + take); ++i) {
                    head_[i] = bytes[i - body_bytes_];
                }
                const bool head_completed = body_bytes_ < head_.size() && body_bytes_ + take >= head_.size();
                body_bytes_ += take;
                bytes = bytes.subspan(take);
                if (head_completed) on_head(std::as_const(head_));
            }
            if (length_bytes_ == 2 && body_bytes_ == length_) {
                length_ = 0;
                length_bytes_ = 0;
                body_bytes_ = 0;
            }
        }
    }

private:
    Head head_{};
    std::uint16_t length_ = 0;
    std::size_t length_bytes_ = 0;  // of the two, read so far
    std::size_t body_bytes_ = 0;    // of the message, read so far
};

}  // namespace greenfinch::dns
