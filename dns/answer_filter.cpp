#include "dns/answer_filter.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/name.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <unordered_map>

namespace greenfinch::dns {

namespace {

constexpr std::size_t kMaxMessageSize = 65535;
constexpr std::size_t kMaxPointerTarget = 0x3fff;  // 14 bits
constexpr std::size_t kTypeClassTtl = 8;

enum class Compression : std::uint8_t { allowed, forbidden };

// Writes names into the output, each compressed against the longest suffix of a name written before it, compared
// byte for byte: the name then reads exactly as it did in the input, spelling included.
class NameWriter {
public:
    explicit NameWriter(std::vector<std::byte>& out) : out_(out) {}

    // `name` is uncompressed wire form.
    void write(std::span<const std::byte> name, Compression compression) {
        const std::size_t labels = suffix_hashes(name);
        std::size_t literal = name.size();  // bytes written as labels; the rest is a pointer
        std::optional<std::size_t> pointer;
        if (compression == Compression::allowed) {
            for (std::size_t i = 0; i < labels; ++i) {
                pointer = find(name.subspan(starts_[i]), hashes_[i]);
                if (pointer) {
                    literal = starts_[i];
                    break;
                }
            }
        }
        const std::size_t at = out_.size();
        out_.insert(out_.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(literal));
        if (pointer) {
            out_.push_back(static_cast<std::byte>(0xc0 | (*pointer >> 8)));
            out_.push_back(static_cast<std::byte>(*pointer & 0xff));
        }
        // Labels written out in full become targets for the names that follow.
        for (std::size_t i = 0; i < labels && starts_[i] < literal; ++i) {
            if (at + starts_[i] > kMaxPointerTarget) break;
            targets_.try_emplace(hashes_[i], static_cast<std::uint16_t>(at + starts_[i]));
        }
    }

private:
    // Fills starts_ and hashes_ for every label of `name` but the root; returns how many. Each suffix's hash is made
    // from the next one's, so all of them cost one pass.
    std::size_t suffix_hashes(std::span<const std::byte> name) {
        std::size_t labels = 0;
        for (std::size_t at = 0; at < name.size() && name[at] != std::byte{0};
             at += 1 + std::to_integer<std::size_t>(name[at])) {
            starts_[labels++] = at;
        }
        std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
        for (std::size_t i = labels; i-- > 0;) {
            const std::size_t end = i + 1 < labels ? starts_[i + 1] : name.size() - 1;
            for (std::size_t at = starts_[i]; at < end; ++at) {
                h = (h ^ std::to_integer<std::uint64_t>(name[at])) * 0x100000001b3ull;
            }
            hashes_[i] = h;
        }
        return labels;
    }

    // An earlier name's offset in the output whose expansion is `suffix`, confirmed byte for byte.
    std::optional<std::size_t> find(std::span<const std::byte> suffix, std::uint64_t hash) const {
        const auto it = targets_.find(hash);
        if (it == targets_.end()) return std::nullopt;
        std::array<std::byte, kMaxNameLength> there;
        const auto n = read_name(out_, it->second, there);
        if (!n || n->length != suffix.size() || std::memcmp(there.data(), suffix.data(), suffix.size()) != 0) {
            return std::nullopt;
        }
        return it->second;
    }

    std::vector<std::byte>& out_;
    std::unordered_map<std::uint64_t, std::uint16_t> targets_;
    std::array<std::size_t, kMaxNameLength / 2 + 1> starts_{};
    std::array<std::uint64_t, kMaxNameLength / 2 + 1> hashes_{};
};

void append(std::vector<std::byte>& out, std::span<const std::byte> wire, std::size_t at, std::size_t n) {
    const auto from = wire.begin() + static_cast<std::ptrdiff_t>(at);
    out.insert(out.end(), from, from + static_cast<std::ptrdiff_t>(n));
}

// Reads the name at `at` inside [.., limit) of `wire` and writes it; the offset just past it in the input.
std::optional<std::size_t> copy_name(std::span<const std::byte> wire, std::size_t at, std::size_t limit,
                                     NameWriter& names, Compression compression) {
    std::array<std::byte, kMaxNameLength> expanded;
    const auto n = read_name(wire.first(limit), at, expanded);
    if (!n) return std::nullopt;
    names.write(std::span(expanded).first(n->length), compression);
    return n->end;
}

// The RDATA of `r`, its names rewritten. False if it does not hold what its type says.
bool copy_rdata(std::span<const std::byte> wire, const Record& r, NameWriter& names, std::vector<std::byte>& out) {
    const std::size_t at = r.rdata_offset;
    const std::size_t end = r.end();
    const auto name_then = [&](std::size_t fixed, Compression compression, std::size_t trailing) {
        if (end - at < fixed) return false;
        append(out, wire, at, fixed);
        auto after = copy_name(wire, at + fixed, end, names, compression);
        if (!after || end - *after != trailing) return false;
        append(out, wire, *after, trailing);
        return true;
    };
    switch (r.type) {
        case type::NS:
        case type::CNAME:
        case type::PTR: return name_then(0, Compression::allowed, 0);
        case type::DNAME: return name_then(0, Compression::forbidden, 0);
        case type::MX: return name_then(2, Compression::allowed, 0);
        case type::SRV: return name_then(6, Compression::forbidden, 0);
        case type::SOA: {
            const auto mname = copy_name(wire, at, end, names, Compression::allowed);
            if (!mname) return false;
            const auto rname = copy_name(wire, *mname, end, names, Compression::allowed);
            if (!rname || end - *rname != 20) return false;
            append(out, wire, *rname, 20);
            return true;
        }
        default: append(out, wire, at, r.rdlength); return true;
    }
}

}  // namespace

FilterResult filter_records(std::span<const std::byte> wire, const Message& parsed, RecordPredicate keep) {
    FilterResult result;
    // What to do with each record, recorded only from the first drop on: keeping everything allocates nothing.
    std::vector<Keep> decisions;
    bool dropping = false;
    std::size_t index = 0;
    RecordWalk first(wire, parsed);
    for (const Record& r : first) {
        const Keep k = r.type == type::OPT ? Keep::keep : keep(r);
        if (k == Keep::drop && !dropping) {
            dropping = true;
            decisions.assign(index, Keep::keep);
        }
        if (dropping) decisions.push_back(k);
        ++index;
    }
    if (first.failed() || parsed.question.end > wire.size() || parsed.question.end < kHeaderSize + 5) {
        result.status = FilterStatus::malformed;
        return result;
    }
    if (!dropping) return result;

    std::vector<std::byte>& out = result.wire;
    out.reserve(parsed.end + 64);
    append(out, wire, 0, kHeaderSize);
    NameWriter names(out);
    // The question as it was (uncompressed, as parse_message() wants it): a target for the names that follow.
    if (!copy_name(wire, kHeaderSize, parsed.question.end - 4, names, Compression::forbidden)) {
        result.status = FilterStatus::malformed;
        return result;
    }
    append(out, wire, parsed.question.end - 4, 4);
    std::array<std::uint16_t, 3> counts{};
    RecordWalk second(wire, parsed);
    index = 0;
    for (const Record& r : second) {
        if (decisions[index++] == Keep::drop) {
            ++result.dropped;
            continue;
        }
        if (!copy_name(wire, r.offset, r.ttl_offset, names, Compression::allowed)) {
            result.status = FilterStatus::malformed;
            return result;
        }
        append(out, wire, r.ttl_offset - 4, kTypeClassTtl);
        const std::size_t rdlength_at = out.size();
        out.resize(out.size() + 2);
        if (!copy_rdata(wire, r, names, out)) {
            result.status = FilterStatus::malformed;
            return result;
        }
        if (out.size() > kMaxMessageSize) {
            result.status = FilterStatus::too_large;
            return result;
        }
        write_u16(out, rdlength_at, static_cast<std::uint16_t>(out.size() - rdlength_at - 2));
        ++counts[static_cast<std::size_t>(r.section)];
    }
    write_u16(out, 6, counts[0]);
    write_u16(out, 8, counts[1]);
    write_u16(out, 10, counts[2]);
    // Every rule the parser checks was kept by construction; the parse is needed anyway, for the new offsets.
    result.status =
        parse_message(out, result.parsed) == ParseStatus::Ok ? FilterStatus::filtered : FilterStatus::malformed;
    return result;
}

std::optional<std::uint16_t> append_answer_records(std::span<const std::byte> wire, const Message& parsed,
                                                   std::uint32_t age, std::vector<std::byte>& out) {
    const std::size_t before = out.size();
    const auto fail = [&] {
        out.resize(before);
        return std::nullopt;
    };
    NameWriter names(out);
    std::uint16_t count = 0;
    RecordWalk walk(wire, parsed);
    for (const Record& r : walk) {
        if (r.section != Section::answer) break;
        if (!copy_name(wire, r.offset, r.ttl_offset, names, Compression::allowed)) return fail();
        append(out, wire, r.ttl_offset - 4, kTypeClassTtl);
        std::uint32_t ttl = read_u32(out, out.size() - 4);
        if (ttl & 0x80000000u) ttl = 0;  // RFC 2181 8
        write_u32(out, out.size() - 4, ttl > age ? ttl - age : 0);
        const std::size_t rdlength_at = out.size();
        out.resize(out.size() + 2);
        if (!copy_rdata(wire, r, names, out) || out.size() > kMaxMessageSize) return fail();
        write_u16(out, rdlength_at, static_cast<std::uint16_t>(out.size() - rdlength_at - 2));
        ++count;
    }
    if (walk.failed()) return fail();
    return count;
}

}  // namespace greenfinch::dns
