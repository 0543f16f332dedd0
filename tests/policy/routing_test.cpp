// Routing: which of local data, block lists, special names and forward zones decides a name, at every depth.
#include "policy/routing.hpp"

#include "dns/presentation.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace greenfinch::policy;

namespace {
std::vector<std::byte> wire(const std::string& name) { return *greenfinch::dns::wire_name(name); }

NameTable table(std::vector<std::pair<std::string, NameTable::Value>> names) {
    NameTable::Builder b;
    for (const auto& [name, value] : names) b.add(wire(name), value);
    return std::move(b).build();
}

Verdict route_of(const NameTable& t, const std::string& name) { return route(t, wire(name)); }
}  // namespace

TEST_CASE("the deepest forward zone wins, and names outside every zone go to zone 0") {
    const NameTable t = table({{"corp.example", mark::zone(1)}, {"eu.corp.example", mark::zone(2)}});
    CHECK(route_of(t, "www.corp.example").zone == 1);
    CHECK(route_of(t, "corp.example").zone == 1);
    CHECK(route_of(t, "x.eu.corp.example").zone == 2);
    CHECK(route_of(t, "example").zone == 0);
    CHECK(route_of(t, "notcorp.example").zone == 0);
    CHECK(forward_zone(t, wire("x.eu.corp.example")) == 2);
    CHECK(forward_zone(t, wire("corp.example")) == 1);
    CHECK(forward_zone(t, wire("example")) == 0);
    CHECK(route_of(t, "www.corp.example").decision == Decision::Forward);
    CHECK(route_of(t, "www.corp.example").rebind_exempt);
    CHECK_FALSE(route_of(t, "example.org").rebind_exempt);
}

TEST_CASE("local data: a name is local at exactly its name, a zone in its whole subtree") {
    const NameTable t = table({{"printer.home", mark::kLocalName}, {"lan", mark::kLocalZone}});
    CHECK(route_of(t, "printer.home").decision == Decision::Local);
    CHECK(route_of(t, "x.printer.home").decision == Decision::Forward);
    CHECK(route_of(t, "home").decision == Decision::Forward);
    CHECK(route_of(t, "lan").decision == Decision::Local);
    CHECK(route_of(t, "a.b.lan").decision == Decision::Local);
}

TEST_CASE("between local data and a forward zone the deeper wins, local data when as deep") {
    const NameTable t = table({{"lan", mark::kLocalZone},
                               {"corp.lan", mark::zone(1)},
                               {"x.corp.lan", mark::kLocalName},
                               {"same.example", mark::kLocalZone | mark::zone(2)}});
    CHECK(route_of(t, "host.lan").decision == Decision::Local);
    CHECK(route_of(t, "host.corp.lan").decision == Decision::Forward);
    CHECK(route_of(t, "host.corp.lan").zone == 1);
    CHECK(route_of(t, "x.corp.lan").decision == Decision::Local);
    CHECK(route_of(t, "a.same.example").decision == Decision::Local);
}

TEST_CASE("a block list blocks a name's subtree, an allow list wins over it at any depth") {
    const NameTable t = table({{"ads.example", mark::kBlocked},
                               {"ok.ads.example", mark::kAllowed},
                               {"tracker.example", mark::kBlocked | mark::kAllowed},
                               {"allowed.example", mark::kAllowed},
                               {"bad.allowed.example", mark::kBlocked}});
    CHECK(route_of(t, "ads.example").decision == Decision::Blocked);
    CHECK(route_of(t, "x.y.ads.example").decision == Decision::Blocked);
    CHECK(route_of(t, "ok.ads.example").decision == Decision::Forward);
    CHECK(route_of(t, "a.ok.ads.example").decision == Decision::Forward);
    CHECK(route_of(t, "tracker.example").decision == Decision::Forward);
    CHECK(route_of(t, "bad.allowed.example").decision == Decision::Forward);
    CHECK(route_of(t, "example").decision == Decision::Forward);
    CHECK(blocked(t, wire("x.ads.example")));
    CHECK_FALSE(blocked(t, wire("ok.ads.example")));
    CHECK_FALSE(blocked(t, wire("example")));
}

TEST_CASE("local data wins over a block list, a block list over a forward zone") {
    const NameTable t = table({{"ads.example", mark::kBlocked | mark::kLocalName},
                               {"corp.example", mark::zone(1)},
                               {"ads.corp.example", mark::kBlocked}});
    CHECK(route_of(t, "ads.example").decision == Decision::Local);
    CHECK(route_of(t, "sub.ads.example").decision == Decision::Blocked);
    CHECK(route_of(t, "ads.corp.example").decision == Decision::Blocked);
    CHECK(route_of(t, "www.corp.example").decision == Decision::Forward);
}

TEST_CASE("special names give way to a forward zone or local data at any depth") {
    const NameTable t = table({{"10.in-addr.arpa", mark::kSpecialZone},
                               {"168.192.in-addr.arpa", mark::kSpecialZone | mark::zone(1)},
                               {"localhost", mark::kSpecialZone},
                               {"16.172.in-addr.arpa", mark::kSpecialZone},
                               {"1.16.172.in-addr.arpa", mark::kLocalName},
                               {"in-addr.arpa", mark::zone(2)}});
    CHECK(route_of(t, "1.0.0.10.in-addr.arpa").decision == Decision::Forward);  // in-addr.arpa is forwarded
    const NameTable no_arpa_zone = table({{"10.in-addr.arpa", mark::kSpecialZone}, {"localhost", mark::kSpecialZone}});
    CHECK(route_of(no_arpa_zone, "1.0.0.10.in-addr.arpa").decision == Decision::Special);
    CHECK(route_of(no_arpa_zone, "localhost").decision == Decision::Special);
    CHECK(route_of(no_arpa_zone, "a.localhost").decision == Decision::Special);
    CHECK(route_of(t, "5.1.168.192.in-addr.arpa").zone == 1);
    CHECK(route_of(t, "1.16.172.in-addr.arpa").decision == Decision::Local);
}

TEST_CASE("rebind_allow exempts its subtree from rebinding protection") {
    const NameTable t = table({{"home.example", mark::kRebindAllow}});
    CHECK(route_of(t, "nas.home.example").rebind_exempt);
    CHECK_FALSE(route_of(t, "example").rebind_exempt);
}

TEST_CASE("a blocked verdict says where the deepest listed name starts") {
    const NameTable t = table({{"example", mark::kBlocked}, {"ads.example", mark::kBlocked}});
    CHECK(route_of(t, "x.ads.example").listed_at == 2);
    CHECK(route_of(t, "other.example").listed_at == 6);
}
