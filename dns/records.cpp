#include "dns/records.hpp"

#include "dns/bytes.hpp"

#include <algorithm>
#include <cstring>

namespace greenfinch::dns {

namespace {
constexpr std::size_t kRecordFixed = 10;  // TYPE, CLASS, TTL, RDLENGTH

// Both are lowercased already.
bool same_name(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// The name at `at`, expanded into `out` and lowercased; empty if it does not read.
std::span<std::byte> lowercased_name(std::span<const std::byte> wire, std::size_t at,
                                     std::array<std::byte, kMaxNameLength>& out) noexcept {
    const auto n = read_name(wire, at, out);
    if (!n) return {};
    const auto name = std::span(out).first(n->length);
    lowercase_name(name);
    return name;
}
}  // namespace

std::optional<std::size_t> skip_name(std::span<const std::byte> wire, std::size_t at, std::size_t limit) noexcept {
    limit = std::min(limit, wire.size());
    while (at < limit) {
        const auto b = std::to_integer<std::size_t>(wire[at]);
        if ((b & 0xc0) == 0xc0) {
            if (at + 2 > limit) return std::nullopt;
            return at + 2;
        }
        if ((b & 0xc0) != 0) return std::nullopt;
        if (b == 0) return at + 1;
        at += 1 + b;
    }
    return std::nullopt;
}

RecordWalk::RecordWalk(std::span<const std::byte> wire, const Message& parsed) noexcept
    : wire_(wire),
      left_{parsed.header.ancount, parsed.header.nscount, parsed.header.arcount},
      at_(parsed.question.end),
      end_(std::min(parsed.end, wire.size())) {}

std::optional<Record> RecordWalk::next() noexcept {
    while (section_ < left_.size() && left_[section_] == 0) ++section_;
    if (failed_) return std::nullopt;
    if (section_ == left_.size()) {
        // Past the last record: where the parse ended, or the Message was not this message's.
        if (at_ != end_) failed_ = true;
        return std::nullopt;
    }
    const auto name_end = skip_name(wire_, at_, end_);
    if (!name_end || end_ - *name_end < kRecordFixed) {
        failed_ = true;
        return std::nullopt;
    }
    Record r{
        .section = static_cast<Section>(section_),
        .type = read_u16(wire_, *name_end),
        .rclass = read_u16(wire_, *name_end + 2),
        .offset = at_,
        .ttl_offset = *name_end + 4,
        .rdata_offset = *name_end + kRecordFixed,
        .rdlength = read_u16(wire_, *name_end + 8),
    };
    if (r.rdlength > end_ - r.rdata_offset) {
        failed_ = true;
        return std::nullopt;
    }
    at_ = r.end();
    --left_[section_];
    return r;
}

CnameChain::CnameChain(std::span<const std::byte> wire, const Message& parsed) noexcept
    : wire_(wire),
      parsed_(&parsed) {
    const Question& q = parsed.question;
    if (q.name_length == 0 || q.name_length > kMaxNameLength || q.name_offset + q.name_length > wire.size()) {
        end_ = ChainEnd::malformed;
        return;
    }
    std::memcpy(current_.data(), wire.data() + q.name_offset, q.name_length);
    current_length_ = q.name_length;
    lowercase_name(std::span(current_).first(current_length_));
}

bool CnameChain::seen(std::span<const std::byte> name) const noexcept {
    const Question& q = parsed_->question;
    std::array<std::byte, kMaxNameLength> other;
    if (name.size() == q.name_length) {
        std::memcpy(other.data(), wire_.data() + q.name_offset, q.name_length);
        lowercase_name(std::span(other).first(q.name_length));
        if (same_name(name, std::span(other).first(q.name_length))) return true;
    }
    for (std::size_t i = 0; i < hops_; ++i) {
        if (same_name(name, lowercased_name(wire_, targets_[i], other))) return true;
    }
    return false;
}

std::optional<std::span<const std::byte>> CnameChain::next() noexcept {
    if (end_ != ChainEnd::none) return std::nullopt;
    const auto current = std::span(current_).first(current_length_);
    RecordWalk walk(wire_, *parsed_);
    std::array<std::byte, kMaxNameLength> owner_buffer;
    for (const Record& r : walk) {
        if (r.section != Section::answer) break;
        if (r.type != type::CNAME || r.rclass != parsed_->question.qclass) continue;
        const auto owner = lowercased_name(wire_, r.offset, owner_buffer);
        if (owner.empty()) {
            end_ = ChainEnd::malformed;
            return std::nullopt;
        }
        if (!same_name(owner, current)) continue;
        std::array<std::byte, kMaxNameLength> target_buffer;
        const auto target = lowercased_name(wire_.first(r.end()), r.rdata_offset, target_buffer);
        if (target.empty()) {
            end_ = ChainEnd::malformed;
            return std::nullopt;
        }
        if (seen(target)) {
            end_ = ChainEnd::loop;
            return std::nullopt;
        }
        if (hops_ == kMaxCnameHops) {
            end_ = ChainEnd::hop_limit;
            return std::nullopt;
        }
        targets_[hops_++] = r.rdata_offset;
        std::memcpy(current_.data(), target.data(), target.size());
        current_length_ = target.size();
        return std::span<const std::byte>(current_).first(current_length_);
    }
    end_ = walk.failed() ? ChainEnd::malformed : ChainEnd::complete;
    return std::nullopt;
}

}  // namespace greenfinch::dns
