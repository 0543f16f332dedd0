#include "policy/local_data.hpp"

#include "dns/bytes.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/span_writer.hpp"
#include "policy/synthesised_soa.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace greenfinch::policy {

namespace {

constexpr std::uint16_t kClassAny = 255;
constexpr std::uint16_t kMaxPointerTarget = 0x3fff;

constexpr std::array<std::byte, 4> kLoopbackV4{std::byte{127}, std::byte{0}, std::byte{0}, std::byte{1}};
constexpr std::array<std::byte, 16> kLoopbackV6{
    std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
    std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}};

std::uint64_t hash_name(std::span<const std::byte> name) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (auto b : name) {
        h ^= std::to_integer<std::uint64_t>(b);
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

bool same_name(std::span<const std::byte> a, std::span<const std::byte> b) noexcept { return std::ranges::equal(a, b); }

// Whether `name` is exactly one valid uncompressed wire-form name.
bool valid_wire_name(std::span<const std::byte> name) noexcept {
    if (name.empty() || name.size() > dns::kMaxNameLength) return false;
    std::size_t i = 0;
    while (i < name.size()) {
        const auto label = std::to_integer<std::size_t>(name[i]);
        if (label == 0) return i + 1 == name.size();
        if (label > dns::kMaxLabelLength) return false;
        i += label + 1;
    }
    return false;
}

// The name after the first label; the root has none.
std::span<const std::byte> parent_of(std::span<const std::byte> name) noexcept {
    const auto label = std::to_integer<std::size_t>(name[0]);
    return name.subspan(label + 1);
}

std::string presentation(std::span<const std::byte> name) {
    std::string out;
    dns::append_presentation(out, name);
    return out;
}

// The PTR owner of an address: in-addr.arpa for 4 bytes, ip6.arpa nibbles for 16. Returns its length, 0 otherwise.
std::size_t reverse_name(std::span<const std::byte> address, std::array<std::byte, dns::kMaxNameLength>& out) {
    std::size_t n = 0;
    auto label = [&](std::string_view text) {
        out[n++] = static_cast<std::byte>(text.size());
        for (char c : text) out[n++] = static_cast<std::byte>(c);
    };
    if (address.size() == 4) {
        for (std::size_t i = 4; i-- > 0;) {
            char digits[3];
            unsigned v = std::to_integer<unsigned>(address[i]);
            std::size_t len = 0;
            char tmp[3];
            do {
                tmp[len++] = static_cast<char>('0' + v % 10);
                v /= 10;
            } while (v != 0);
            for (std::size_t j = 0; j < len; ++j) digits[j] = tmp[len - 1 - j];
            label(std::string_view(digits, len));
        }
        label("in-addr");
    } else if (address.size() == 16) {
        static constexpr char kHex[] = "0123456789abcdef";
        for (std::size_t i = 16; i-- > 0;) {
            const auto b = std::to_integer<unsigned>(address[i]);
            label(std::string_view(&kHex[b & 15], 1));
            label(std::string_view(&kHex[b >> 4], 1));
        }
        label("ip6");
    } else {
        return 0;
    }
    label("arpa");
    out[n++] = std::byte{0};
    return n;
}

}  // namespace

// Composes one response in `out`: records go in while they fit; past the end it only notes the overflow, and the
// caller sends the truncated form instead.
class LocalData::Writer {
public:
    // The name being answered: lowercased, and where an uncompressed spelling of it lies in the response.
    struct Name {
        std::span<const std::byte> lower;
        std::size_t offset = 0;
    };
    struct Step {
        dns::Rcode rcode = dns::Rcode::NoError;
        std::uint32_t cname = kNone;   // the CNAME record to follow
        std::size_t cname_target = 0;  // where its RDATA was written
    };

    Writer(const LocalData& data, std::span<std::byte> out, std::size_t pos, std::uint16_t qtype) noexcept
        : data_(data),
          w_(out, pos),
          qtype_(qtype) {}

    std::size_t pos() const noexcept { return w_.at(); }
    bool overflowed() const noexcept { return w_.overflowed(); }
    std::uint16_t answers() const noexcept { return answers_; }
    std::uint16_t authorities() const noexcept { return authorities_; }

    Step step(const Place& place, const Name& name) noexcept {
        if (!data_.exists(place)) {
            negative(place.zone, name);
            return {.rcode = dns::Rcode::NxDomain};
        }
        const Node* node = place.node != kNone ? &data_.nodes_[place.node] : nullptr;
        const Zone* zone = place.zone != kNone ? &data_.zones_[place.zone] : nullptr;
        const bool any = qtype_ == dns::type::ANY;
        std::size_t positive = 0;
        std::uint32_t cname = kNone;
        if (node) {
            for (std::uint32_t i = node->first_record; i < node->first_record + node->record_count; ++i) {
                const Record& r = data_.records_[i];
                if (r.type == dns::type::CNAME) cname = i;
                if (any || r.type == qtype_) {
                    owner(name);
                    record(r.type, r.ttl, data_.rdata_of(r));
                    ++positive;
                }
            }
        }
        if (node && zone && zone->apex == place.node && zone->soa == kNone && (any || qtype_ == dns::type::SOA)) {
            owner(name);
            synthesised_soa(name.lower);
            ++positive;
        }
        if (zone && zone->kind == ZoneKind::loopback && (!node || node->record_count == 0)) {
            if (any || qtype_ == dns::type::A) {
                owner(name);
                record(dns::type::A, kHostTtl, kLoopbackV4);
                ++positive;
            }
            if (any || qtype_ == dns::type::AAAA) {
                owner(name);
                record(dns::type::AAAA, kHostTtl, kLoopbackV6);
                ++positive;
            }
        }
        answers_ = static_cast<std::uint16_t>(answers_ + positive);
        if (positive != 0) return {};
        if (cname != kNone) {
            const Record& r = data_.records_[cname];
            owner(name);
            const std::size_t at = record(r.type, r.ttl, data_.rdata_of(r));
            ++answers_;
            return {.cname = cname, .cname_target = at};
        }
        negative(place.zone, name);
        return {};
    }

private:
    void owner(const Name& name) noexcept {
        if (name.offset <= kMaxPointerTarget) {
            w_.pointer(name.offset);
        } else {
            w_.bytes(name.lower);
        }
    }
    // `target` by a pointer into `name`'s spelling when it is a suffix of it, else in full.
    void name_within(std::span<const std::byte> target, const Name& name) noexcept {
        std::size_t i = 0;
        while (i < name.lower.size()) {
            if (name.lower.size() - i == target.size() && same_name(name.lower.subspan(i), target)) {
                if (target.size() == 1) break;  // the root: one byte, shorter than a pointer
                if (name.offset + i <= kMaxPointerTarget) return w_.pointer(name.offset + i);
                break;
            }
            i += std::to_integer<std::size_t>(name.lower[i]) + 1;
        }
        w_.bytes(target);
    }
    // TYPE, CLASS, TTL, RDLENGTH and RDATA after an owner; returns where the RDATA went.
    std::size_t record(std::uint16_t rtype, std::uint32_t ttl, std::span<const std::byte> rdata) noexcept {
        w_.u16(rtype);
        w_.u16(dns::kClassIN);
        w_.u32(ttl);
        w_.u16(static_cast<std::uint16_t>(rdata.size()));
        const std::size_t at = w_.at();
        w_.bytes(rdata);
        return at;
    }
    void synthesised_soa(std::span<const std::byte> zone) noexcept {
        w_.u16(dns::type::SOA);
        w_.u16(dns::kClassIN);
        w_.u32(kSynthesisedSoaTtl);
        w_.u16(static_cast<std::uint16_t>(zone.size() + kSoaAfterMnameSize));
        w_.bytes(zone);
        write_soa_after_mname(w_, {.refresh = 3600, .retry = 1200, .expire = 604800, .minimum = kSynthesisedSoaTtl});
    }
    // The authority of a negative answer for `name`: its zone's SOA, or one owned by the name outside every zone.
    void negative(std::uint32_t zone_index, const Name& name) noexcept {
        ++authorities_;
        if (zone_index == kNone) {
            owner(name);
            synthesised_soa(name.lower);
            return;
        }
        const Zone& zone = data_.zones_[zone_index];
        const auto apex = data_.name_of(data_.nodes_[zone.apex]);
        name_within(apex, name);
        if (zone.soa == kNone) {
            synthesised_soa(apex);
            return;
        }
        const Record& soa = data_.records_[zone.soa];
        const auto rdata = data_.rdata_of(soa);
        // RFC 2308 3: the negative TTL is the lesser of the SOA's TTL and its MINIMUM.
        const std::uint32_t minimum = dns::read_u32(rdata, rdata.size() - 4);
        record(dns::type::SOA, std::min(soa.ttl, minimum), rdata);
    }

    const LocalData& data_;
    dns::SpanWriter w_;
    std::uint16_t qtype_;
    std::uint16_t answers_ = 0;
    std::uint16_t authorities_ = 0;
};

std::uint32_t LocalData::find(std::span<const std::byte> name) const noexcept {
    return slots_.empty() ? kNone : find(name, hash_name(name));
}

std::uint32_t LocalData::find(std::span<const std::byte> name, std::uint64_t hash) const noexcept {
    if (slots_.empty()) return kNone;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        const Slot slot = slots_[i];
        if (slot.node == 0) return kNone;
        if (slot.hash == static_cast<std::uint32_t>(hash) && same_name(name_of(nodes_[slot.node - 1]), name))
            return slot.node - 1;
    }
}

LocalData::Place LocalData::locate(std::span<const std::byte> name) const noexcept {
    if (name.empty()) return {};
    if (const auto node = find(name); node != kNone) return {.node = node, .zone = nodes_[node].zone};
    if (zones_.empty()) return {};
    // The nearest ancestor we hold knows its zone, which is also this name's: every zone apex is a node.
    while (name.size() > 1) {
        name = parent_of(name);
        if (const auto node = find(name); node != kNone) return {.node = kNone, .zone = nodes_[node].zone};
    }
    return {};
}

bool LocalData::exists(const Place& place) const noexcept {
    if (place.node != kNone) {
        const Node& n = nodes_[place.node];
        if (n.record_count != 0 || (n.flags & kEmptyNonTerminal) != 0 || n.zone == kNone) return true;
        return zones_[n.zone].kind != ZoneKind::nxdomain;
    }
    return place.zone != kNone && zones_[place.zone].kind == ZoneKind::loopback;
}

std::optional<LocalAnswer> LocalData::answer(const LocalQuery& query, std::span<std::byte> out) const noexcept {
    const dns::Message& m = query.message;
    if (m.header.opcode() != 0) return std::nullopt;
    if (m.question.qclass != dns::kClassIN && m.question.qclass != kClassAny) return std::nullopt;
    Place place = locate(query.qname);
    if (place.node == kNone && place.zone == kNone) return std::nullopt;

    const std::size_t opt_size = query.opt ? dns::opt_size(*query.opt) : 0;
    const std::size_t cap = std::min({out.size(), query.limit, std::size_t{65535}});
    const std::size_t question_end = m.question.end;
    if (question_end < dns::kHeaderSize || question_end > query.wire.size() || question_end + opt_size > cap)
        return LocalAnswer{};
    std::memcpy(out.data() + dns::kHeaderSize, query.wire.data() + dns::kHeaderSize, question_end - dns::kHeaderSize);

    Writer writer(*this, out.first(cap - opt_size), question_end, m.question.qtype);
    Writer::Name name{.lower = query.qname, .offset = dns::kHeaderSize};
    std::array<std::byte, dns::kMaxNameLength> target{};
    std::array<std::uint32_t, kMaxChain + 1> visited{};
    LocalAnswer result;
    for (std::size_t hops = 0;; ++hops) {
        visited[hops] = place.node;
        const Writer::Step step = writer.step(place, name);
        result.rcode = step.rcode;
        if (step.cname == kNone || hops == kMaxChain || writer.overflowed()) break;
        const auto rdata = rdata_of(records_[step.cname]);
        std::memcpy(target.data(), rdata.data(), rdata.size());
        const auto lower = std::span(target.data(), rdata.size());
        dns::lowercase_name(lower);
        const Place next = locate(lower);
        if (next.node == kNone && next.zone == kNone) {
            result.external_target = step.cname_target;
            break;
        }
        const auto seen = std::span(visited.data(), hops + 1);
        if (next.node != kNone && std::find(seen.begin(), seen.end(), next.node) != seen.end()) break;
        place = next;
        name = {.lower = lower, .offset = step.cname_target};
    }

    // QR, AA (the data is ours), RA (we are a recursive service), and the client's RD and CD echoed.
    auto flags = static_cast<std::uint16_t>(dns::kFlagQr | dns::kFlagAa | dns::kFlagRa |
                                            (m.header.flags & (dns::kFlagRd | dns::kFlagCd)) |
                                            static_cast<unsigned>(result.rcode));
    std::size_t pos = writer.pos();
    std::uint16_t answers = writer.answers();
    std::uint16_t authorities = writer.authorities();
    if (writer.overflowed()) {
        flags |= dns::kFlagTc;
        pos = question_end;
        answers = 0;
        authorities = 0;
        result.external_target = 0;
    }
    dns::write_u16(out, 0, m.header.id);
    dns::write_u16(out, 2, flags);
    dns::write_u16(out, 4, 1);
    dns::write_u16(out, 6, answers);
    dns::write_u16(out, 8, authorities);
    dns::write_u16(out, 10, query.opt ? 1 : 0);
    if (query.opt) pos = dns::write_opt(out, pos, *query.opt);
    result.size = pos;
    return result;
}

std::uint32_t LocalData::Builder::node_for(std::span<const std::byte> name) {
    LocalData& d = data_;
    const std::uint64_t hash = hash_name(name);
    if (const auto found = d.find(name, hash); found != kNone) return found;
    if ((d.nodes_.size() + 1) * 2 > d.slots_.size()) {
        // The stored hash bits cover any table up to 2^32 slots: a rehash reads no names.
        std::vector<Slot> slots(std::max<std::size_t>(64, d.slots_.size() * 2));
        const std::size_t mask = slots.size() - 1;
        for (const Slot& s : d.slots_) {
            if (s.node == 0) continue;
            std::size_t i = s.hash & mask;
            while (slots[i].node != 0) i = (i + 1) & mask;
            slots[i] = s;
        }
        d.slots_ = std::move(slots);
    }
    const auto index = static_cast<std::uint32_t>(d.nodes_.size());
    Node node;
    node.name_offset = static_cast<std::uint32_t>(d.names_.size());
    node.name_length = static_cast<std::uint8_t>(name.size());
    d.names_.insert(d.names_.end(), name.begin(), name.end());
    d.nodes_.push_back(node);
    const std::size_t mask = d.slots_.size() - 1;
    std::size_t i = hash & mask;
    while (d.slots_[i].node != 0) i = (i + 1) & mask;
    d.slots_[i] = {.node = index + 1, .hash = static_cast<std::uint32_t>(hash)};
    return index;
}

void LocalData::Builder::add_pending(std::uint32_t node, std::uint16_t rtype, std::uint32_t ttl,
                                     std::span<const std::byte> rdata, std::uint32_t origin) {
    pending_.push_back({.node = node,
                        .type = rtype,
                        .rdata_length = static_cast<std::uint16_t>(rdata.size()),
                        .ttl = ttl,
                        .rdata_offset = static_cast<std::uint32_t>(data_.rdata_.size()),
                        .origin = origin,
                        .order = static_cast<std::uint32_t>(pending_.size())});
    data_.rdata_.insert(data_.rdata_.end(), rdata.begin(), rdata.end());
}

std::optional<LocalDataError> LocalData::Builder::add_record(std::string_view line, std::string_view origin) {
    auto parsed = dns::parse_zone_line(line);
    if (auto* error = std::get_if<dns::ZoneTextError>(&parsed))
        return LocalDataError{std::string(origin), std::move(error->problem)};
    return add_record(std::get<dns::ZoneRecord>(parsed), origin);
}

std::optional<LocalDataError> LocalData::Builder::add_record(const dns::ZoneRecord& record, std::string_view origin) {
    if (!valid_wire_name(record.owner)) return LocalDataError{std::string(origin), "bad owner name"};
    if (record.owner.size() > 2 && record.owner[0] == std::byte{1} && record.owner[1] == std::byte{'*'})
        return LocalDataError{std::string(origin), "wildcard owners are not supported: use a zone or name each host"};
    if (record.rclass != dns::kClassIN) return LocalDataError{std::string(origin), "only class IN is served"};
    if (record.type == 0 || record.type == dns::type::OPT || (record.type >= 128 && record.type <= 255))
        return LocalDataError{std::string(origin), dns::type_name(record.type) + " is not a record type"};
    if (record.rdata.size() > 65535 || !dns::rdata_fits_type(record.type, record.rdata) ||
        (record.type == dns::type::SOA && record.rdata.size() < 22))
        return LocalDataError{std::string(origin), "bad RDATA for " + dns::type_name(record.type)};
    std::array<std::byte, dns::kMaxNameLength> owner{};
    std::memcpy(owner.data(), record.owner.data(), record.owner.size());
    const auto lower = std::span(owner.data(), record.owner.size());
    dns::lowercase_name(lower);
    origins_.emplace_back(origin);
    add_pending(node_for(lower), record.type, record.ttl, record.rdata,
                static_cast<std::uint32_t>(origins_.size() - 1));
    return std::nullopt;
}

HostStatus LocalData::Builder::add_host(const HostEntry& entry) {
    const auto address = entry.address;
    const auto name = entry.name;
    if (address.size() != 4 && address.size() != 16) return HostStatus::bad_address;
    if (!valid_wire_name(name)) return HostStatus::bad_name;
    std::array<std::byte, dns::kMaxNameLength> owner{};
    std::memcpy(owner.data(), name.data(), name.size());
    const auto lower = std::span(owner.data(), name.size());
    dns::lowercase_name(lower);
    add_pending(node_for(lower), address.size() == 4 ? dns::type::A : dns::type::AAAA, settings_.host_ttl, address,
                kNone);
    if (entry.role != HostNameRole::canonical) return HostStatus::added;
    std::array<std::byte, dns::kMaxNameLength> reverse{};
    const std::size_t length = reverse_name(address, reverse);
    const auto ptr_node = node_for(std::span(reverse.data(), length));
    if ((data_.nodes_[ptr_node].flags & kHostPtr) != 0) return HostStatus::added;
    data_.nodes_[ptr_node].flags |= kHostPtr;
    add_pending(ptr_node, dns::type::PTR, settings_.host_ttl, name, kNone);
    return HostStatus::added;
}

std::optional<LocalDataError> LocalData::Builder::add_zone(std::string_view name, ZoneKind kind,
                                                           std::string_view origin) {
    auto wire = name.empty() ? std::nullopt : dns::wire_name(name);
    if (!wire) return LocalDataError{std::string(origin), "bad zone name " + std::string(name)};
    dns::lowercase_name(*wire);
    const auto node = node_for(*wire);
    Node& n = data_.nodes_[node];
    if ((n.flags & kApex) != 0) return std::nullopt;
    n.flags |= kApex;
    n.zone = static_cast<std::uint32_t>(data_.zones_.size());
    data_.zones_.push_back({.apex = node, .kind = kind, .soa = kNone});
    return std::nullopt;
}

std::variant<LocalData, LocalDataError> LocalData::Builder::build() && {
    LocalData& d = data_;
    auto rdata_of = [&](const Pending& p) { return std::span(d.rdata_.data() + p.rdata_offset, p.rdata_length); };
    std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
        if (a.node != b.node) return a.node < b.node;
        if (a.type != b.type) return a.type < b.type;
        return a.order < b.order;
    });

    // Identical records (same name, type and RDATA) are kept once, the first as written.
    std::vector<std::uint8_t> duplicate(pending_.size(), 0);
    std::vector<std::uint32_t> run;
    for (std::size_t begin = 0; begin < pending_.size();) {
        std::size_t end = begin + 1;
        while (end < pending_.size() && pending_[end].node == pending_[begin].node &&
               pending_[end].type == pending_[begin].type)
            ++end;
        if (end - begin > 1) {
            run.clear();
            for (std::size_t i = begin; i < end; ++i) run.push_back(static_cast<std::uint32_t>(i));
            std::sort(run.begin(), run.end(), [&](std::uint32_t a, std::uint32_t b) {
                const auto ra = rdata_of(pending_[a]);
                const auto rb = rdata_of(pending_[b]);
                if (ra.size() != rb.size()) return ra.size() < rb.size();
                if (!std::ranges::equal(ra, rb)) return std::ranges::lexicographical_compare(ra, rb);
                return a < b;
            });
            for (std::size_t i = 1; i < run.size(); ++i) {
                if (same_name(rdata_of(pending_[run[i - 1]]), rdata_of(pending_[run[i]]))) duplicate[run[i]] = 1;
            }
        }
        begin = end;
    }

    d.records_.reserve(pending_.size());
    for (std::size_t begin = 0; begin < pending_.size();) {
        const std::uint32_t node = pending_[begin].node;
        Node& n = d.nodes_[node];
        n.first_record = static_cast<std::uint32_t>(d.records_.size());
        std::uint32_t cname = kNone;
        std::size_t cnames = 0;
        std::size_t others = 0;
        std::size_t end = begin;
        for (; end < pending_.size() && pending_[end].node == node; ++end) {
            if (duplicate[end] != 0) continue;
            const Pending& p = pending_[end];
            if (p.type == dns::type::CNAME) {
                if (cnames++ == 0) cname = static_cast<std::uint32_t>(end);
            } else {
                ++others;
            }
            d.records_.push_back(
                {.type = p.type, .rdata_length = p.rdata_length, .ttl = p.ttl, .rdata_offset = p.rdata_offset});
        }
        n.record_count = static_cast<std::uint32_t>(d.records_.size() - n.first_record);
        if (cnames != 0) {
            const Pending& c = pending_[cname];
            const std::string origin = c.origin != kNone ? origins_[c.origin] : std::string("hosts");
            const std::string owner = presentation(d.name_of(n));
            if (cnames > 1) return LocalDataError{origin, "two CNAMEs at " + owner};
            if (others != 0) return LocalDataError{origin, "CNAME at " + owner + " beside other data"};
            n.flags |= kHasCname;
        }
        begin = end;
    }

    for (Zone& zone : d.zones_) {
        const Node& apex = d.nodes_[zone.apex];
        for (std::uint32_t i = apex.first_record; i < apex.first_record + apex.record_count; ++i) {
            if (d.records_[i].type == dns::type::SOA) {
                zone.soa = i;
                break;
            }
        }
    }

    // Each name's zone is its nearest apex; the names between it and that apex that hold nothing become empty
    // non-terminals of the zone.
    if (!d.zones_.empty()) {
        const std::size_t held = d.nodes_.size();
        std::array<std::byte, dns::kMaxNameLength> name{};
        std::array<std::size_t, dns::kMaxNameLength> missing{};
        for (std::uint32_t i = 0; i < held; ++i) {
            const Node n = d.nodes_[i];
            std::memcpy(name.data(), d.names_.data() + n.name_offset, n.name_length);
            std::span<const std::byte> above(name.data(), n.name_length);
            std::size_t missing_count = 0;
            std::uint32_t zone = kNone;
            while (above.size() > 1) {
                above = parent_of(above);
                const auto found = d.find(above);
                if (found == kNone) {
                    missing[missing_count++] = static_cast<std::size_t>(above.data() - name.data());
                } else if ((d.nodes_[found].flags & kApex) != 0) {
                    zone = d.nodes_[found].zone;
                    break;
                }
            }
            if ((n.flags & kApex) == 0) d.nodes_[i].zone = zone;
            if (zone == kNone) continue;
            for (std::size_t k = 0; k < missing_count; ++k) {
                const auto ent =
                    node_for(std::span<const std::byte>(name.data() + missing[k], n.name_length - missing[k]));
                d.nodes_[ent].flags |= kEmptyNonTerminal;
                d.nodes_[ent].zone = zone;
            }
        }
    }
    return std::move(data_);
}

}  // namespace greenfinch::policy
