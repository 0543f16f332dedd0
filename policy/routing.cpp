#include "policy/routing.hpp"

namespace greenfinch::policy {

namespace {
constexpr std::size_t kNone = static_cast<std::size_t>(-1);
}  // namespace

Verdict route(const NameTable& table, std::span<const std::byte> name) noexcept {
    // Offsets into `name`: the smaller, the deeper the match.
    std::size_t local = kNone;
    std::size_t forward = kNone;
    std::uint16_t zone = 0;
    std::size_t listed = kNone;
    bool allowed = false;
    bool special = false;
    bool rebind_allow = false;
    table.for_each_suffix(name, [&](const NameTable::Match& m) {
        const NameTable::Value v = m.value;
        if (local == kNone && ((v & mark::kLocalZone) || (m.offset == 0 && (v & mark::kLocalName)))) local = m.offset;
        if (forward == kNone && (v >> mark::kZoneShift) != 0) {
            forward = m.offset;
            zone = static_cast<std::uint16_t>(v >> mark::kZoneShift);
        }
        if (listed == kNone && (v & mark::kBlocked)) listed = m.offset;
        allowed = allowed || (v & mark::kAllowed);
        special = special || (v & mark::kSpecialZone) || (m.offset == 0 && (v & mark::kSpecialName));
        rebind_allow = rebind_allow || (v & mark::kRebindAllow);
        return true;
    });
    if (local != kNone && local <= forward) return {.decision = Decision::Local};
    if (listed != kNone && !allowed) return {.decision = Decision::Blocked, .listed_at = listed};
    if (forward != kNone) return {.decision = Decision::Forward, .zone = zone, .rebind_exempt = true};
    if (special && local == kNone) return {.decision = Decision::Special};
    return {.decision = Decision::Forward, .rebind_exempt = rebind_allow};
}

std::uint16_t forward_zone(const NameTable& table, std::span<const std::byte> name) noexcept {
    std::uint16_t zone = 0;
    table.for_each_suffix(name, [&](const NameTable::Match& m) {
        zone = static_cast<std::uint16_t>(m.value >> mark::kZoneShift);
        return zone == 0;
    });
    return zone;
}

bool blocked(const NameTable& table, std::span<const std::byte> name) noexcept {
    bool is_blocked = false;
    bool allowed = false;
    table.for_each_suffix(name, [&](const NameTable::Match& m) {
        is_blocked = is_blocked || (m.value & mark::kBlocked);
        allowed = allowed || (m.value & mark::kAllowed);
        return !allowed;
    });
    return is_blocked && !allowed;
}

}  // namespace greenfinch::policy
