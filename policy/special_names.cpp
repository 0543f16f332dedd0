#include "policy/special_names.hpp"

#include <array>
#include <string>
#include <string_view>

namespace greenfinch::policy {

namespace {

constexpr std::string_view kOrigin = "special names";

// RFC 6303 4.2 and 4.3 with RFC 7793; the 172.16/12 and 100.64/10 ranges are added by loops below.
constexpr std::array<std::string_view, 17> kReverseZones{
    "10.in-addr.arpa.",
    "168.192.in-addr.arpa.",
    "0.in-addr.arpa.",
    "127.in-addr.arpa.",
    "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",  // ::
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",  // ::1
    "d.f.ip6.arpa.",                                                              // fd00::/8
    "8.e.f.ip6.arpa.",                                                            // fe80::/10
    "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.",
    "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",  // 2001:db8::/32
};

constexpr std::array<std::string_view, 2> kRecords{
    "1.0.0.127.in-addr.arpa. 300 IN PTR localhost.",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 300 IN PTR localhost.",
};

}  // namespace

void add_special_names(LocalData::Builder& builder, const SpecialNamesOptions& options) {
    for (auto zone : kReverseZones) builder.add_zone(zone, ZoneKind::local, kOrigin);
    for (int octet = 16; octet <= 31; ++octet)
        builder.add_zone(std::to_string(octet) + ".172.in-addr.arpa.", ZoneKind::local, kOrigin);
    for (int octet = 64; octet <= 127; ++octet)
        builder.add_zone(std::to_string(octet) + ".100.in-addr.arpa.", ZoneKind::local, kOrigin);
    for (auto record : kRecords) builder.add_record(record, kOrigin);
    builder.add_zone("localhost.", ZoneKind::loopback, kOrigin);
    builder.add_zone("invalid.", ZoneKind::nxdomain, kOrigin);
    builder.add_zone("onion.", ZoneKind::nxdomain, kOrigin);
    if (options.test == TestNames::nxdomain) builder.add_zone("test.", ZoneKind::nxdomain, kOrigin);
    if (options.local == LocalNames::nxdomain) builder.add_zone("local.", ZoneKind::nxdomain, kOrigin);
}

LocalData special_names(const SpecialNamesOptions& options) {
    LocalData::Builder builder;
    add_special_names(builder, options);
    auto built = std::move(builder).build();
    // The data above is fixed and its tests build it; an error here would leave the special names unserved, not
    // the daemon down.
    if (auto* data = std::get_if<LocalData>(&built)) return std::move(*data);
    return {};
}

}  // namespace greenfinch::policy
