// Hosts files: hosts(5) lines as entries (address, name, canonical or alias), and the lines they must refuse.
#include "policy/hosts_file.hpp"

#include "dns/name.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace greenfinch;
using policy::HostNameRole;

namespace {

struct Entry {
    std::string address;  // as inet_ntop writes it
    std::string name;     // presentation form, with the final dot
    HostNameRole role;
    bool operator==(const Entry&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Entry& e) {
    return out << e.address << " " << e.name << (e.role == HostNameRole::canonical ? " (canonical)" : " (alias)");
}

void collect(std::vector<Entry>& entries, const policy::HostEntry& entry) {
    REQUIRE((entry.address.size() == 4 || entry.address.size() == 16));
    const auto span = dns::read_name(entry.name, 0);
    REQUIRE(span);
    REQUIRE(span->end == entry.name.size());
    REQUIRE(entry.name.size() > 1);
    for (const auto b : entry.name) {
        REQUIRE_FALSE((std::to_integer<char>(b) >= 'A' && std::to_integer<char>(b) <= 'Z'));
    }
    char address[INET6_ADDRSTRLEN];
    REQUIRE(::inet_ntop(entry.address.size() == 4 ? AF_INET : AF_INET6, entry.address.data(), address,
                        sizeof address) != nullptr);
    std::string name;
    dns::append_presentation(name, entry.name);
    entries.push_back({.address = address, .name = name, .role = entry.role});
}

struct Parsed {
    policy::HostsReport report;
    std::vector<Entry> entries;
};

Parsed parse(std::string_view text) {
    Parsed out;
    out.report = policy::parse_hosts(text, [&](const policy::HostEntry& e) { collect(out.entries, e); });
    return out;
}

using Entries = std::vector<Entry>;
constexpr auto canonical = HostNameRole::canonical;
constexpr auto alias = HostNameRole::alias;

}  // namespace

TEST_CASE("Debian's /etc/hosts reads as its entries, localhost included") {
    const auto p = parse(
        "127.0.0.1\tlocalhost\n"
        "127.0.1.1\tmyhost.example.org\tmyhost\n"
        "\n"
        "# The following lines are desirable for IPv6 capable hosts\n"
        "::1     localhost ip6-localhost ip6-loopback\n"
        "ff02::1 ip6-allnodes\n"
        "ff02::2 ip6-allrouters\n");
    CHECK(p.entries == Entries{
                           {"127.0.0.1", "localhost.", canonical},
                           {"127.0.1.1", "myhost.example.org.", canonical},
                           {"127.0.1.1", "myhost.", alias},
                           {"::1", "localhost.", canonical},
                           {"::1", "ip6-localhost.", alias},
                           {"::1", "ip6-loopback.", alias},
                           {"ff02::1", "ip6-allnodes.", canonical},
                           {"ff02::2", "ip6-allrouters.", canonical},
                       });
    CHECK(p.report.lines == 7);
    CHECK(p.report.entries == 8);
    CHECK(p.report.unusable == 0);
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("addresses come as 4 or 16 bytes in network order") {
    std::vector<std::vector<std::byte>> addresses;
    policy::parse_hosts("192.0.2.1 a\n2001:db8::1 b\n::ffff:192.0.2.7 c\n", [&](const policy::HostEntry& e) {
        addresses.emplace_back(e.address.begin(), e.address.end());
    });
    REQUIRE(addresses.size() == 3);
    CHECK(addresses[0] == std::vector<std::byte>{std::byte{192}, std::byte{0}, std::byte{2}, std::byte{1}});
    REQUIRE(addresses[1].size() == 16);
    CHECK(addresses[1][0] == std::byte{0x20});
    CHECK(addresses[1][1] == std::byte{0x01});
    CHECK(addresses[1][15] == std::byte{0x01});
    REQUIRE(addresses[2].size() == 16);
    CHECK(addresses[2][10] == std::byte{0xff});
    CHECK(addresses[2][15] == std::byte{7});
}

TEST_CASE("hosts lines: comments, CRLF, a BOM, tabs, case and final dots") {
    const auto p = parse(
        "\xEF\xBB\xBF"
        "192.168.1.1  Router.LAN. router   # the box in the hall\r\n"
        "  \t# indented comment\r\n"
        "192.168.1.2\tnas#tight comment\r\n"
        "192.168.1.3 _service.lan");
    CHECK(p.entries == Entries{
                           {"192.168.1.1", "router.lan.", canonical},
                           {"192.168.1.1", "router.", alias},
                           {"192.168.1.2", "nas.", canonical},
                           {"192.168.1.3", "_service.lan.", canonical},
                       });
    CHECK(p.report.lines == 4);
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("a zoned IPv6 address makes the line unusable, not bad") {
    const auto p = parse("fe80::1%lo0 localhost\nfe80::1%en0 a b\n::1 localhost\n");
    CHECK(p.entries == Entries{{"::1", "localhost.", canonical}});
    CHECK(p.report.unusable == 2);
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("hosts lines that are no entry are bad lines, and none of their names is used") {
    const char* const bad_lines[] = {
        "host.example",             // no address
        "192.0.2.1",                // no name
        "192.0.2.1 good bad!name",  // the whole line is refused
        "192.0.2.1 *.example",      // no wildcards in a hosts file
        "300.1.1.1 x",              // not an address
        "192.168.1 short",          // inet_aton's short forms are not taken
        "192.0.2.1 1.2.3.4",        // an address where a name should be
        "2001:db8::g x",            // not an address
        "fe80::1% x",               // an empty zone
        "192.0.2.1/24 x",           // a prefix
        "192.0.2.1 a..b",           // an empty label
        "192.0.2.1 b\xC3\xBC"
        "cher.lan",  // UTF-8
    };
    for (const char* line : bad_lines) {
        INFO(line);
        const auto p = parse(std::string(line) + "\n");
        CHECK(p.entries.empty());
        CHECK(p.report.entries == 0);
        CHECK(p.report.unusable == 0);
        CHECK(p.report.bad.count == 1);
    }
}

TEST_CASE("the hosts report keeps the number and text of the first five bad lines") {
    std::string text;
    for (int i = 0; i < 8; ++i)
        text += "192.0.2." + std::to_string(i) + " ok" + std::to_string(i) + "\nbad line " + "\n";
    const auto p = parse(text);
    CHECK(p.report.lines == 16);
    CHECK(p.report.entries == 8);
    CHECK(p.report.bad.count == 8);
    REQUIRE(p.report.bad.first.size() == policy::kReportedBadLines);
    for (std::size_t i = 0; i < policy::kReportedBadLines; ++i) {
        CHECK(p.report.bad.first[i].number == 2 + 2 * i);
        CHECK(p.report.bad.first[i].text == "bad line ");
    }
}

TEST_CASE("NUL bytes, binary junk and very long lines in a hosts file never crash") {
    const std::string with_nul("192.0.2.1 a\0b\n192.0.2.2 c\n\0\n", 28);
    const auto p = parse(with_nul);
    CHECK(p.entries == Entries{{"192.0.2.2", "c.", canonical}});
    CHECK(p.report.bad.count == 2);

    std::string names = "192.0.2.9";
    for (int i = 0; i < 5000; ++i) names += " h" + std::to_string(i);
    const auto q = parse(std::string(1 << 20, '1') + "\n" + names + "\n");
    CHECK(q.report.bad.count == 1);
    REQUIRE(q.entries.size() == 5000);
    CHECK(q.entries.front() == Entry{"192.0.2.9", "h0.", canonical});
    CHECK(q.entries.back() == Entry{"192.0.2.9", "h4999.", alias});

    std::mt19937 rng(11);
    for (int round = 0; round < 200; ++round) {
        std::string junk(1 + rng() % 4096, '\0');
        constexpr std::string_view alphabet = " \t\n.:0123456789abcdef%#";
        for (auto& c : junk) c = alphabet[rng() % alphabet.size()];
        const auto r = parse(junk);  // collect() checks each entry it gets
        CHECK(r.report.bad.count + r.report.unusable <= r.report.lines);
    }
}

TEST_CASE("read_hosts reads a file, or says why it cannot") {
    const test::TempFile file("127.0.0.1 localhost\n");
    std::vector<Entry> entries;
    const auto each = [&](const policy::HostEntry& e) { collect(entries, e); };
    std::string error;
    const auto report = policy::read_hosts(file.path(), each, error);
    REQUIRE(report);
    CHECK(entries == Entries{{"127.0.0.1", "localhost.", canonical}});

    const std::string dir = std::filesystem::path(file.path()).parent_path().string();
    CHECK_FALSE(policy::read_hosts(dir + "/none", each, error));
    CHECK(error == "No such file or directory");
    CHECK_FALSE(policy::read_hosts(dir, each, error));
    CHECK(error == "a directory");
    CHECK(entries.size() == 1);
}
