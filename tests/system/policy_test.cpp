// Split DNS, local data, special names, block lists and rebinding protection, through the real binary: two test
// upstreams (the default one and a forward zone's) count the queries for each name, so each route is proved, and so
// is that local, special and blocked names never reach an upstream.
#include "core/io/tcp.hpp"
#include "core/io/udp_socket.hpp"
#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/presentation.hpp"
#include "tests/support/admin_client.hpp"
#include "tests/support/daemon_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

using namespace greenfinch;
using namespace std::chrono_literals;
using test::TestUpstream;

namespace {
std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = std::string(BINARY_TEST_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

struct Reply {
    std::vector<std::byte> wire;
    dns::Message m;

    dns::Rcode rcode() const { return m.header.rcode(); }
    bool aa() const { return (m.header.flags & dns::kFlagAa) != 0; }
    // Each answer record as dig prints it, tabs and all.
    std::vector<std::string> answers() const {
        std::vector<std::string> out;
        std::size_t at = m.question.end;
        for (unsigned i = 0; i < m.header.ancount; ++i) {
            std::size_t next = 0;
            out.push_back(dns::format_record(wire, at, next));
            at = next;
        }
        return out;
    }
    // The INFO-CODE of the EDE option in the OPT record, if there is one.
    std::optional<std::uint16_t> ede() const {
        if (!m.edns.present) return std::nullopt;
        const std::size_t rdlength = dns::read_u16(wire, m.edns.offset + 9);
        for (std::size_t at = m.edns.offset + dns::kOptRecordSize; at + 4 <= m.edns.offset + 11 + rdlength;) {
            const std::uint16_t code = dns::read_u16(wire, at);
            const std::uint16_t length = dns::read_u16(wire, at + 2);
            if (code == 15 && length >= 2) return dns::read_u16(wire, at + 4);
            at += 4 + length;
        }
        return std::nullopt;
    }
};

enum class Edns : std::uint8_t { with, without };

Reply ask(const core::SocketAddress& server, const std::string& name, std::uint16_t qtype = dns::type::A,
          Edns edns = Edns::with) {
    auto client = core::UdpSocket::open(AF_INET);
    const auto size = edns == Edns::with ? std::optional<std::uint16_t>(1232) : std::nullopt;
    client.send_to(*dns::build_query(name, qtype, 0x2a2a, size, false), server);
    std::array<std::byte, 4096> buf{};
    const std::size_t n = client.recv_from(buf, 5s).size;
    Reply r;
    r.wire.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    REQUIRE(dns::parse_message(r.wire, r.m) == dns::ParseStatus::Ok);
    REQUIRE(r.m.header.id == 0x2a2a);
    return r;
}

// The daemon, the default upstream and corp.example's, with local data, a hosts file and lists.
struct SplitRig {
    explicit SplitRig(const std::string& tag, const std::string& extra = "")
        : hosts(write_file(tag + "-hosts",
                           "192.168.1.30 nas.home nas  # the NAS\n"
                           "fd00::30 nas.home\n"
                           "10.0.0.7\tbuild.home build-server\n")),
          ads(write_file(tag + "-ads.txt",
                         "# hosts format\n0.0.0.0 ads.example\n127.0.0.1 localhost\n"
                         "0.0.0.0 pixel.example metrics.example\nnot a name\n")),
          trackers(write_file(tag + "-trackers.txt", "tracker.example\n*.spy.example\n")),
          allow(write_file(tag + "-allow.txt", "ok.ads.example\n")),
          config(
              write_file(tag + ".toml",
                         "[[forward]]\n"
                         "zone = \"corp.example\"\n"
                         "servers = [\"" +
                             corp.address().to_string() +
                             "\"]\n"
                             "[[forward]]\n"
                             "zone = \"lab.corp.example\"\n"
                             "servers = [\"" +
                             internet.address().to_string() +
                             "\"]\n"
                             "[local]\n"
                             "records = [\"printer.lan. 3600 IN A 192.168.1.20\", "
                             "\"lan. 3600 IN MX 10 mail.lan.\", \"alias.lan. 600 IN CNAME www.elsewhere.example.\"]\n"
                             "hosts_files = [\"" +
                             hosts +
                             "\"]\n"
                             "zones = [\"lan.\"]\n"
                             "rebind_protection = true\n"
                             "rebind_allow = [\"home.example\"]\n"
                             "[block]\n"
                             "lists = [\"" +
                             ads + "\", \"" + trackers +
                             "\"]\n"
                             "allow = [\"" +
                             allow + "\"]\n" + extra)),
          daemon({"--config", config, "--listen", "127.0.0.1:0", "--upstream", internet.address().to_string()}) {}

    // Neither upstream was asked for `name`.
    bool unseen(const std::string& name) const { return internet.count(name) == 0 && corp.count(name) == 0; }

    TestUpstream internet;
    TestUpstream corp{{TestUpstream::Action::Answer, 0, 300, {10, 1, 0, 9}}};
    std::string hosts, ads, trackers, allow, config;
    test::DaemonProcess daemon;
};
}  // namespace

TEST_CASE("forward zones: the deepest zone's servers answer, the rest go to [upstream] servers") {
    core::Hub hub;
    SplitRig rig("split-routes");
    const auto at = rig.daemon.address();
    CHECK(ask(at, "www.corp.example").answers() == std::vector<std::string>{"www.corp.example.\t300\tIN\tA\t10.1.0.9"});
    CHECK(rig.corp.count("www.corp.example") == 1);
    CHECK(rig.internet.count("www.corp.example") == 0);
    ask(at, "corp.example");
    CHECK(rig.corp.count("corp.example") == 1);
    ask(at, "x.lab.corp.example");  // nested: lab.corp.example's own servers
    CHECK(rig.internet.count("x.lab.corp.example") == 1);
    CHECK(rig.corp.count("x.lab.corp.example") == 0);
    ask(at, "www.example");
    CHECK(rig.internet.count("www.example") == 1);
    CHECK(rig.corp.count("www.example") == 0);
    // The cache works across zones.
    ask(at, "www.corp.example");
    CHECK(rig.corp.count("www.corp.example") == 1);
    // Answers from a forward zone keep their private addresses (it is the company's own network).
    CHECK(ask(at, "intranet.corp.example").answers().size() == 1);
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("local records and zones are answered here with AA, NODATA and NXDOMAIN carrying the zone's SOA") {
    core::Hub hub;
    SplitRig rig("split-local");
    const auto at = rig.daemon.address();
    const Reply printer = ask(at, "Printer.LAN");
    CHECK(printer.aa());
    CHECK(printer.answers() == std::vector<std::string>{"Printer.LAN.\t3600\tIN\tA\t192.168.1.20"});
    CHECK(ask(at, "lan", dns::type::MX).answers() == std::vector<std::string>{"lan.\t3600\tIN\tMX\t10 mail.lan."});
    const Reply nodata = ask(at, "printer.lan", dns::type::AAAA);
    CHECK(nodata.rcode() == dns::Rcode::NoError);
    CHECK(nodata.answers().empty());
    CHECK(nodata.m.soa);
    const Reply missing = ask(at, "nothing.lan");
    CHECK(missing.rcode() == dns::Rcode::NxDomain);
    CHECK(missing.aa());
    CHECK(missing.m.soa);
    for (const char* name : {"printer.lan", "lan", "nothing.lan"}) CHECK(rig.unseen(name));
    // A local CNAME out of local data brings its target's answer along, from the target's route, then the cache.
    for (int i = 0; i < 2; ++i) {
        const Reply alias = ask(at, "alias.lan");
        CHECK(alias.answers() == std::vector<std::string>{"alias.lan.\t600\tIN\tCNAME\twww.elsewhere.example.",
                                                          "www.elsewhere.example.\t300\tIN\tA\t192.0.2.1"});
        CHECK(alias.rcode() == dns::Rcode::NoError);
    }
    CHECK(rig.internet.count("www.elsewhere.example") == 1);
    CHECK(rig.unseen("alias.lan"));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("a hosts file gives A and AAAA for every name of a line, and PTRs back to its first name") {
    core::Hub hub;
    SplitRig rig("split-hosts");
    const auto at = rig.daemon.address();
    CHECK(ask(at, "nas.home").answers() == std::vector<std::string>{"nas.home.\t300\tIN\tA\t192.168.1.30"});
    CHECK(ask(at, "nas").answers() == std::vector<std::string>{"nas.\t300\tIN\tA\t192.168.1.30"});
    CHECK(ask(at, "nas.home", dns::type::AAAA).answers() ==
          std::vector<std::string>{"nas.home.\t300\tIN\tAAAA\tfd00:0:0:0:0:0:0:30"});
    CHECK(ask(at, "build-server").answers() == std::vector<std::string>{"build-server.\t300\tIN\tA\t10.0.0.7"});
    CHECK(ask(at, "30.1.168.192.in-addr.arpa", dns::type::PTR).answers() ==
          std::vector<std::string>{"30.1.168.192.in-addr.arpa.\t300\tIN\tPTR\tnas.home."});
    const std::string v6_reverse = "0.3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa";
    CHECK(ask(at, v6_reverse, dns::type::PTR).answers() ==
          std::vector<std::string>{v6_reverse + ".\t300\tIN\tPTR\tnas.home."});
    CHECK(ask(at, "7.0.0.10.in-addr.arpa", dns::type::PTR).answers() ==
          std::vector<std::string>{"7.0.0.10.in-addr.arpa.\t300\tIN\tPTR\tbuild.home."});
    for (const char* name : {"nas.home", "nas", "build-server", "30.1.168.192.in-addr.arpa"}) CHECK(rig.unseen(name));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("special names: localhost. is loopback, private reverses and invalid. do not exist, none asked upstream") {
    core::Hub hub;
    SplitRig rig("split-special");
    const auto at = rig.daemon.address();
    CHECK(ask(at, "localhost").answers() == std::vector<std::string>{"localhost.\t300\tIN\tA\t127.0.0.1"});
    CHECK(ask(at, "db.localhost", dns::type::AAAA).answers().size() == 1);
    const Reply reverse = ask(at, "5.0.0.10.in-addr.arpa", dns::type::PTR);
    CHECK(reverse.rcode() == dns::Rcode::NxDomain);
    CHECK(reverse.m.soa);
    CHECK(ask(at, "www.invalid").rcode() == dns::Rcode::NxDomain);
    for (const char* name : {"localhost", "db.localhost", "5.0.0.10.in-addr.arpa", "www.invalid"})
        CHECK(rig.unseen(name));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("block lists: both formats, subtrees, the allow list, CNAME cloaking, EDE 15 only to EDNS clients") {
    core::Hub hub;
    SplitRig rig("split-block");
    rig.internet.script("shop.example", {.cname = "t.pixel.example"});
    const auto at = rig.daemon.address();
    for (const char* name : {"ads.example", "x.y.ads.example", "pixel.example", "metrics.example", "tracker.example",
                             "spy.example", "a.spy.example"}) {
        INFO(name);
        const Reply r = ask(at, name);
        CHECK(r.rcode() == dns::Rcode::NxDomain);
        CHECK(r.ede() == std::optional<std::uint16_t>(15));
        CHECK_FALSE(r.aa());
        CHECK(rig.unseen(name));
    }
    CHECK(ask(at, "ads.example", dns::type::A, Edns::without).ede() == std::nullopt);
    // The allow list wins over the blocked parent; localhost in a hosts-format list is no entry.
    CHECK(ask(at, "ok.ads.example").rcode() == dns::Rcode::NoError);
    CHECK(rig.internet.count("ok.ads.example") == 1);
    CHECK(ask(at, "localhost").answers().size() == 1);
    // An answer whose CNAME chain leads to a blocked name is blocked, and stays so from the cache.
    for (int i = 0; i < 2; ++i) {
        const Reply cloaked = ask(at, "shop.example");
        CHECK(cloaked.rcode() == dns::Rcode::NxDomain);
        CHECK(cloaked.ede() == std::optional<std::uint16_t>(15));
    }
    CHECK(rig.internet.count("shop.example") == 1);
    // dig reads the EDE back.
    const auto dig = test::run_process(
        {"/usr/bin/dig", "@127.0.0.1", "-p", std::to_string(at.port()), "+tries=1", "+time=5", "metrics.example"}, 10s);
    INFO(dig.output);
    CHECK(dig.output.find("EDE: 15 (Blocked)") != std::string::npos);
    CHECK(dig.output.find("status: NXDOMAIN") != std::string::npos);
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("rebinding protection takes private addresses out of upstream answers, except for exempt zones") {
    core::Hub hub;
    SplitRig rig("split-rebind");
    rig.internet.script("evil.example", {TestUpstream::Action::Answer, 0, 300, {192, 168, 0, 1}});
    rig.internet.script("nas.home.example", {TestUpstream::Action::Answer, 0, 300, {192, 168, 0, 2}});
    const auto at = rig.daemon.address();
    const Reply evil = ask(at, "evil.example");
    CHECK(evil.rcode() == dns::Rcode::NoError);
    CHECK(evil.answers().empty());
    CHECK(ask(at, "nas.home.example").answers() ==
          std::vector<std::string>{"nas.home.example.\t300\tIN\tA\t192.168.0.2"});
    CHECK(ask(at, "www.example").answers().size() == 1);  // 192.0.2.1 is no private address
    CHECK(rig.daemon.wait_for_log("rebinding protection: 1 private or local address(es) removed", 5s));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("[block] answer = \"null\" answers 0.0.0.0 and ::, and NODATA for other types") {
    core::Hub hub;
    SplitRig rig("split-null", "answer = \"null\"\n");
    const auto at = rig.daemon.address();
    CHECK(ask(at, "ads.example").answers() == std::vector<std::string>{"ads.example.\t10\tIN\tA\t0.0.0.0"});
    CHECK(ask(at, "ads.example", dns::type::AAAA).answers() ==
          std::vector<std::string>{"ads.example.\t10\tIN\tAAAA\t0:0:0:0:0:0:0:0"});
    const Reply mx = ask(at, "ads.example", dns::type::MX);
    CHECK(mx.rcode() == dns::Rcode::NoError);
    CHECK(mx.answers().empty());
    CHECK(mx.ede() == std::optional<std::uint16_t>(15));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("SIGHUP reads the lists again and swaps them in whole, and an unreadable list keeps the old set") {
    core::Hub hub;
    SplitRig rig("split-reload", "[metrics]\nlisten = \"127.0.0.1:0\"\n");
    const auto at = rig.daemon.address();
    const auto metrics = test::metrics_address(rig.daemon);
    CHECK(ask(at, "ads.example").rcode() == dns::Rcode::NxDomain);
    CHECK(ask(at, "new-ads.example").rcode() == dns::Rcode::NoError);
    std::string page = test::http(metrics, "GET", "/metrics").body;
    CHECK(page.find("greenfinch_policy_file_entries{key=\"block.lists\",path=\"" + rig.ads + "\"} 3\n") !=
          std::string::npos);
    CHECK(page.find("greenfinch_policy_file_bad_lines{key=\"block.lists\",path=\"" + rig.ads + "\"} 1\n") !=
          std::string::npos);
    CHECK(page.find("greenfinch_policy_answers_total{source=\"blocked\"} 1\n") != std::string::npos);
    CHECK(page.find("greenfinch_zone_upstream_queries_total{zone=\".\"} 1\n") != std::string::npos);

    write_file("split-reload-ads.txt", "new-ads.example\n");
    std::size_t mark = rig.daemon.log().size();
    rig.daemon.signal(SIGHUP);
    REQUIRE(rig.daemon.wait_for_log("configuration reloaded", 10s, mark));
    CHECK(ask(at, "new-ads.example").rcode() == dns::Rcode::NxDomain);
    CHECK(ask(at, "ads.example").rcode() == dns::Rcode::NoError);
    CHECK(rig.internet.count("new-ads.example") == 1);  // before the reload only

    std::filesystem::remove(rig.ads);
    std::filesystem::create_directory(rig.ads);  // a list path that is now a directory: it cannot be read
    mark = rig.daemon.log().size();
    rig.daemon.signal(SIGHUP);
    REQUIRE(rig.daemon.wait_for_log("reload refused", 10s, mark));
    CHECK(rig.daemon.log().find(rig.ads, mark) != std::string::npos);
    CHECK(ask(at, "new-ads.example").rcode() == dns::Rcode::NxDomain);  // the running set stays
    page = test::http(metrics, "GET", "/metrics").body;
    CHECK(page.find("greenfinch_reloads_total{outcome=\"applied\"} 1\n") != std::string::npos);
    CHECK(page.find("greenfinch_reloads_total{outcome=\"refused\"} 1\n") != std::string::npos);
    CHECK(rig.daemon.terminate() == 0);
    std::filesystem::remove(rig.ads);
}

TEST_CASE("the query log names the source: local, special, blocked, and the forward zone") {
    core::Hub hub;
    SplitRig rig("split-log", "[log]\nqueries = true\n");
    const auto at = rig.daemon.address();
    ask(at, "printer.lan");
    ask(at, "localhost");
    ask(at, "ads.example");
    ask(at, "www.corp.example");
    ask(at, "www.corp.example");
    REQUIRE(rig.daemon.wait_for_log("www.corp.example. A -> NOERROR cache zone=corp.example", 5s));
    const std::string& log = rig.daemon.log();
    CHECK(log.find("printer.lan. A -> NOERROR local ") != std::string::npos);
    CHECK(log.find("localhost. A -> NOERROR special ") != std::string::npos);
    CHECK(log.find("ads.example. A -> NXDOMAIN blocked ") != std::string::npos);
    CHECK(log.find("www.corp.example. A -> NOERROR upstream zone=corp.example ") != std::string::npos);
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("a reload that gives a forward zone other servers drops that zone's cached answers, and only those") {
    core::Hub hub;
    SplitRig rig("split-zone-reload");
    TestUpstream replacement{{TestUpstream::Action::Answer, 0, 300, {10, 2, 0, 9}}};
    const auto at = rig.daemon.address();
    ask(at, "www.corp.example");
    ask(at, "www.example");
    std::string config;
    {
        std::ifstream in(rig.config);
        config.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string old_server = "\"" + rig.corp.address().to_string() + "\"";
    config.replace(config.find(old_server), old_server.size(), "\"" + replacement.address().to_string() + "\"");
    write_file("split-zone-reload.toml", config);
    const std::size_t mark = rig.daemon.log().size();
    rig.daemon.signal(SIGHUP);
    REQUIRE(rig.daemon.wait_for_log("configuration reloaded", 10s, mark));
    CHECK(rig.daemon.log().find("reload: 1 cached answers dropped", mark) != std::string::npos);
    CHECK(ask(at, "www.corp.example").answers() == std::vector<std::string>{"www.corp.example.\t300\tIN\tA\t10.2.0.9"});
    CHECK(replacement.count("www.corp.example") == 1);
    ask(at, "www.example");
    CHECK(rig.internet.count("www.example") == 1);  // [upstream]'s answer stayed cached
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("bad lines of a list are skipped with one warning naming them as file:line") {
    core::Hub hub;
    SplitRig rig("split-bad-lines");
    CHECK(rig.daemon.wait_for_log(
        "block.lists: " + rig.ads + ": 1 bad lines skipped (" + rig.ads + ":5: \"not a name\")", 5s));
    CHECK(rig.daemon.terminate() == 0);
}

TEST_CASE("dig reads EDE 23 on a SERVFAIL when no upstream server can be reached") {
    core::Hub hub;
    std::string dead;  // a port nothing answers on: taken from the kernel, then let go
    {
        const auto taken = core::UdpSocket::bind(core::SocketAddress::loopback_v4());
        dead = taken.local_address().to_string();
    }
    test::DaemonProcess daemon({"--listen", "127.0.0.1:0", "--upstream", dead});
    const auto dig = test::run_process({"/usr/bin/dig", "@127.0.0.1", "-p", std::to_string(daemon.address().port()),
                                        "+tries=1", "+time=5", "www.example"},
                                       10s);
    INFO(dig.output);
    CHECK(dig.output.find("status: SERVFAIL") != std::string::npos);
    CHECK(dig.output.find("EDE: 23 (Network Error)") != std::string::npos);
    CHECK(daemon.terminate() == 0);
}
