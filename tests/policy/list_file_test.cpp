// Name lists: every format public block lists use, the lines they must refuse, and the report of those lines.
#include "policy/list_file.hpp"

#include "dns/name.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

using namespace greenfinch;
using policy::ListReport;

namespace {

struct Parsed {
    ListReport report;
    std::vector<std::string> names;  // presentation form, with the final dot
};

// Every name the sink gets must be a whole, valid, lowercase wire name; anything else fails the test here.
void collect(std::vector<std::string>& names, std::span<const std::byte> wire) {
    const auto span = dns::read_name(wire, 0);
    REQUIRE(span);
    REQUIRE(span->end == wire.size());
    REQUIRE_FALSE(span->compressed);
    REQUIRE(wire.size() > 1);
    for (const auto b : wire) REQUIRE_FALSE((std::to_integer<char>(b) >= 'A' && std::to_integer<char>(b) <= 'Z'));
    std::string text;
    dns::append_presentation(text, wire);
    names.push_back(text);
}

Parsed parse(std::string_view text) {
    Parsed out;
    out.report = policy::parse_name_list(text, [&](std::span<const std::byte> wire) { collect(out.names, wire); });
    return out;
}

using Names = std::vector<std::string>;

// A string literal's bytes, NULs included.
template <std::size_t N>
std::string bytes(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}

}  // namespace

TEST_CASE("a list in hosts format gives the names after any IPv4 or IPv6 address") {
    const auto p = parse(
        "0.0.0.0 ads.example.com\n"
        "127.0.0.1 tracker.example.net\n"
        ":: six.example\n"
        "::1 loop.example\n"
        "2001:db8::53 doc.example\n"
        "192.0.2.1 real.example\n");
    CHECK(p.names == Names{"ads.example.com.", "tracker.example.net.", "six.example.", "loop.example.", "doc.example.",
                           "real.example."});
    CHECK(p.report.lines == 6);
    CHECK(p.report.names == 6);
    CHECK(p.report.skipped == 0);
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("a hosts-format line may hold several names") {
    const auto p = parse("0.0.0.0 a.example b.example\t c.example\n0.0.0.0 one.example\n");
    CHECK(p.names == Names{"a.example.", "b.example.", "c.example.", "one.example."});
    CHECK(p.report.names == 4);
    CHECK(p.report.lines == 2);
}

TEST_CASE("a list of one name per line, the final dot optional, case folded") {
    const auto p = parse("ads.example.com\ntracker.example.net.\nMiXeD.Example.ORG\n");
    CHECK(p.names == Names{"ads.example.com.", "tracker.example.net.", "mixed.example.org."});
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("comments, blank lines, CRLF, tabs, runs of spaces and a BOM are read as public lists write them") {
    const auto p = parse(
        "\xEF\xBB\xBF# Title: a list\r\n"
        "\r\n"
        "   \t  \n"
        "  0.0.0.0   \t ads.example.com   # a comment after content\r\n"
        "\tplain.example\t\r\n"
        "tight.example#no space before the comment\n"
        "0.0.0.0 # an address, then only a comment\n"
        "# 0.0.0.0 commented.example\n"
        "last.example");
    CHECK(p.names == Names{"ads.example.com.", "plain.example.", "tight.example.", "last.example."});
    CHECK(p.report.lines == 9);
    CHECK(p.report.bad.count == 1);  // the address with no name
    REQUIRE(p.report.bad.first.size() == 1);
    CHECK(p.report.bad.first[0].number == 7);
}

TEST_CASE("the last line counts whether or not it ends in a line end") {
    CHECK(parse("").report.lines == 0);
    CHECK(parse("\xEF\xBB\xBF").report.lines == 0);
    CHECK(parse("\n").report.lines == 1);
    CHECK(parse("a.example").report.lines == 1);
    CHECK(parse("a.example\n").report.lines == 1);
    CHECK(parse("a.example\nb.example").report.lines == 2);
    CHECK(parse("a.example\r\nb.example\r\n").names == Names{"a.example.", "b.example."});
}

TEST_CASE("the names hosts files carry for the machine itself are skipped silently") {
    const auto p = parse(
        "127.0.0.1 localhost\n"
        "127.0.0.1 localhost.localdomain\n"
        "127.0.0.1 local\n"
        "255.255.255.255 broadcasthost\n"
        "::1 localhost ip6-localhost ip6-loopback\n"
        "fe80::1%lo0 localhost\n"
        "ff00::0 ip6-localnet\n"
        "ff00::0 ip6-mcastprefix\n"
        "ff02::1 ip6-allnodes\n"
        "ff02::2 ip6-allrouters\n"
        "ff02::3 ip6-allhosts\n"
        "0.0.0.0 0.0.0.0\n"
        "127.0.0.1 LocalHost.\n"
        "localhost\n"
        "0.0.0.0 localhost ads.example\n");
    CHECK(p.names == Names{"ads.example."});
    CHECK(p.report.skipped == 17);
    CHECK(p.report.bad.count == 0);
}

TEST_CASE("a zoned IPv6 address is an address like any other in a list") {
    const auto p = parse("fe80::1%lo0 zoned.example\nfe80::1% bad.example\n");
    CHECK(p.names == Names{"zoned.example."});
    CHECK(p.report.bad.count == 1);
}

TEST_CASE("a wildcard name reads as the name it stands under") {
    const auto p = parse("*.example.com\n0.0.0.0 *.ads.example\n*.example.com.\n");
    CHECK(p.names == Names{"example.com.", "ads.example.", "example.com."});
    const auto bad = parse("*\n*.\n*.com\na.*.example\n**.example\n*example.com\n");
    CHECK(bad.names.empty());
    CHECK(bad.report.bad.count == 6);
}

TEST_CASE("underscores, hyphens and digits are host name bytes") {
    const auto p = parse("_dmarc.example.com\nads_tracker.example\nr3---sn-abc.googlevideo.com\n123.example.com\n");
    CHECK(p.names ==
          Names{"_dmarc.example.com.", "ads_tracker.example.", "r3---sn-abc.googlevideo.com.", "123.example.com."});
}

TEST_CASE("labels of 63 bytes and names of 255 are taken, one byte more is a bad line") {
    const std::string label63(63, 'a');
    const std::string label64(64, 'a');
    // 253 characters of text are 255 bytes in wire form.
    const std::string name255 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
    REQUIRE(name255.size() == 253);
    const auto p = parse(label63 + ".example\n" + label64 + ".example\n" + name255 + "\n" + name255 + ".\n" + "c" +
                         name255 + "\n");
    REQUIRE(p.names.size() == 3);
    CHECK(p.names[0] == label63 + ".example.");
    CHECK(p.names[1] == name255 + ".");
    CHECK(p.names[2] == name255 + ".");
    CHECK(p.report.bad.count == 2);
    REQUIRE(p.report.bad.first.size() == 2);
    CHECK(p.report.bad.first[0].number == 2);
    CHECK(p.report.bad.first[1].number == 5);
}

TEST_CASE("lines that are no name are bad lines, and none of their names is used") {
    const char* const bad_lines[] = {
        "||ads.example^$third-party",  // adblock syntax
        "@@||allowed.example^",        // adblock exception
        "ads!.example",                // a byte no host name holds
        "b\xC3\xBC"
        "cher.example",                       // UTF-8, not in punycode
        "a..example",                         // an empty label
        ".example",                           // an empty first label
        "single",                             // one label: it would block a top-level domain
        "ads.example extra",                  // a second word after a name
        "0.0.0.0",                            // an address with no name
        "0.0.0.0 good.example bad!.example",  // the whole line is refused
        "0.0.0.0 1.2.3.4",                    // an address where a name should be
        "ads.example.123",                    // a top label of digits
        "ads.example:8080",                   // a port
        "http://ads.example/",                // a URL
        "1.2.3.4.5 ads.example",              // no address: two words
        "address=/ads.example/0.0.0.0",       // dnsmasq syntax
    };
    for (const char* line : bad_lines) {
        INFO(line);
        const auto p = parse(std::string(line) + "\n");
        CHECK(p.names.empty());
        CHECK(p.report.names == 0);
        CHECK(p.report.bad.count == 1);
    }
}

TEST_CASE("the report counts every bad line and keeps the number and text of the first five") {
    std::string text = "good.example\n";
    for (int i = 0; i < 7; ++i) text += "||bad" + std::to_string(i) + ".example^\n# fine\n";
    const auto p = parse(text);
    CHECK(p.report.lines == 15);
    CHECK(p.report.names == 1);
    CHECK(p.report.bad.count == 7);
    REQUIRE(p.report.bad.first.size() == policy::kReportedBadLines);
    for (std::size_t i = 0; i < policy::kReportedBadLines; ++i) {
        CHECK(p.report.bad.first[i].number == 2 + 2 * i);
        CHECK(p.report.bad.first[i].text == "||bad" + std::to_string(i) + ".example^");
    }
}

TEST_CASE("a bad line's text is shortened and shows only printable ASCII") {
    const std::string long_line(1000, 'x');
    const auto p = parse(long_line + "!\r\nbad\x01\x7f\xff!line\r\n");
    REQUIRE(p.report.bad.first.size() == 2);
    CHECK(p.report.bad.first[0].text == std::string(policy::kBadLineTextLength, 'x') + "...");
    CHECK(p.report.bad.first[1].text ==
          "bad???"
          "!line");  // split: "??!" would be a trigraph
}

TEST_CASE("NUL bytes and binary junk are bad lines, never a crash") {
    const auto p = parse(bytes("a.example\n\0\0\0\nb\0.example\n0.0.0.0 c.example\0\nd.example\n"));
    CHECK(p.names == Names{"a.example.", "d.example."});
    CHECK(p.report.bad.count == 3);
    CHECK(p.report.bad.first[0].text == "???");

    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::string junk(1 + rng() % 4096, '\0');
        for (auto& c : junk) c = static_cast<char>(rng());
        const auto r = parse(junk);  // collect() checks each name it gets
        CHECK(r.report.bad.count <= r.report.lines);
    }
}

TEST_CASE("very long lines are read to their end") {
    std::string names = "0.0.0.0";
    for (int i = 0; i < 10000; ++i) names += " n" + std::to_string(i) + ".example";
    const auto p = parse(std::string(1 << 20, 'a') + "\n" + names + "\n" + std::string(1 << 20, ' ') + "z.example\n");
    CHECK(p.report.lines == 3);
    CHECK(p.report.bad.count == 1);
    REQUIRE(p.names.size() == 10001);
    CHECK(p.names.front() == "n0.example.");
    CHECK(p.names[9999] == "n9999.example.");
    CHECK(p.names.back() == "z.example.");
}

TEST_CASE("read_name_list reads a file whole and parses it") {
    const test::TempFile file("0.0.0.0 ads.example\nplain.example\n||bad^\n");
    std::vector<std::string> names;
    std::string error;
    const auto report = policy::read_name_list(
        file.path(), [&](std::span<const std::byte> wire) { collect(names, wire); }, error);
    REQUIRE(report);
    CHECK(names == Names{"ads.example.", "plain.example."});
    CHECK(report->lines == 3);
    CHECK(report->bad.count == 1);
    CHECK(error.empty());
}

TEST_CASE("read_name_list says why a file cannot be read") {
    const test::TempFile file("");
    const std::string dir = std::filesystem::path(file.path()).parent_path().string();
    std::size_t calls = 0;
    const auto count = [&](std::span<const std::byte>) { ++calls; };
    std::string error;

    SECTION("missing") {
        CHECK_FALSE(policy::read_name_list(dir + "/missing.list", count, error));
        CHECK(error == "No such file or directory");
    }
    SECTION("a directory") {
        CHECK_FALSE(policy::read_name_list(dir, count, error));
        CHECK(error == "a directory");
    }
    SECTION("not text") {
        test::TempFile binary(bytes("a.example\n\x1f\x8b\0\0junk"));
        CHECK_FALSE(policy::read_name_list(binary.path(), count, error));
        CHECK(error == "not a text file (a NUL byte on line 2)");
    }
    SECTION("empty") {
        const auto report = policy::read_name_list(file.path(), count, error);
        REQUIRE(report);
        CHECK(report->lines == 0);
    }
    SECTION("no permission") {
        if (::geteuid() == 0) {
            WARN("running as root: permissions are not enforced, not tested");
        } else {
            REQUIRE(::chmod(file.path().c_str(), 0) == 0);
            CHECK_FALSE(policy::read_name_list(file.path(), count, error));
            CHECK(error == "Permission denied");
        }
    }
    CHECK(calls == 0);
}

TEST_CASE("FunctionRef calls the callable it refers to, and keeps its state") {
    int sum = 0;
    auto add = [&sum](int x) { sum += x; };
    const policy::FunctionRef<void(int)> ref(add);
    ref(2);
    ref(3);
    CHECK(sum == 5);
    const auto twice = [](int x) { return 2 * x; };
    CHECK(policy::FunctionRef<int(int)>(twice)(21) == 42);
}
