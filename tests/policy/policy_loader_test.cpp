// load_policy: the operator's records, zones, hosts files and lists put together, the routes they give, and what
// is refused (with the item named) or only counted.
#include "policy/policy_loader.hpp"

#include "dns/presentation.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace greenfinch::policy;

namespace {
std::vector<std::byte> wire(const std::string& name) { return *greenfinch::dns::wire_name(name); }

Decision decision(const Policy& p, const std::string& name) { return p.route(wire(name)).decision; }

// A file with `text` beside the temporary file's own, named `name`.
std::string write_beside(const greenfinch::test::TempFile& dir, const std::string& name, const std::string& text) {
    const std::string path = std::filesystem::path(dir.path()).parent_path() / name;
    std::ofstream(path) << text;
    return path;
}
}  // namespace

TEST_CASE("a loaded policy routes forward zones, local data, special names and listed names") {
    const greenfinch::test::TempFile dir("");
    const std::string hosts = write_beside(dir, "hosts", "192.168.1.20 printer.lan printer\n::1 ip6-localhost\n");
    const std::string ads = write_beside(dir, "ads.txt", "0.0.0.0 ads.example tracker.example\nbad..name\n");
    const std::string allow = write_beside(dir, "allow.txt", "ok.ads.example\n");
    const LoadedPolicy loaded = load_policy({.forward_zones = {"corp.example", "168.192.in-addr.arpa"},
                                             .records = {"router.home. 60 IN A 192.168.1.1"},
                                             .hosts_files = {hosts},
                                             .local_zones = {"lan."},
                                             .block_lists = {ads},
                                             .allow_lists = {allow}});
    const Policy& p = *loaded.policy;
    CHECK(p.zone_count() == 3);
    CHECK(p.zone_name(1) == "corp.example.");
    CHECK(p.route(wire("www.corp.example")).zone == 1);
    CHECK(p.route(wire("5.1.168.192.in-addr.arpa")).zone == 2);  // a forward zone wins over RFC 6303
    CHECK(decision(p, "1.0.0.10.in-addr.arpa") == Decision::Special);
    CHECK(decision(p, "localhost") == Decision::Special);
    CHECK(decision(p, "www.test") == Decision::Forward);  // test. is forwarded (RFC 6761 6.2 is a SHOULD)
    CHECK(decision(p, "router.home") == Decision::Local);
    CHECK(decision(p, "printer.lan") == Decision::Local);
    CHECK(decision(p, "nothing.lan") == Decision::Local);
    CHECK(decision(p, "printer") == Decision::Local);
    CHECK(decision(p, "x.ads.example") == Decision::Blocked);
    CHECK(decision(p, "tracker.example") == Decision::Blocked);
    CHECK(decision(p, "ok.ads.example") == Decision::Forward);
    CHECK(decision(p, "www.example") == Decision::Forward);

    REQUIRE(loaded.files.size() == 3);
    CHECK(loaded.files[0].key == "local.hosts_files");
    CHECK(loaded.files[0].entries == 3);
    CHECK(loaded.files[1].key == "block.lists");
    CHECK(loaded.files[1].entries == 2);
    CHECK(loaded.files[1].bad.count == 1);
    REQUIRE(loaded.files[1].bad.first.size() == 1);
    CHECK(loaded.files[1].bad.first[0].number == 2);
    CHECK(loaded.files[2].key == "block.allow");
}

TEST_CASE("with private_reverse off the special names are forwarded") {
    const LoadedPolicy loaded = load_policy({.private_reverse = PrivateReverse::forwarded});
    CHECK(decision(*loaded.policy, "1.0.0.10.in-addr.arpa") == Decision::Forward);
    CHECK(decision(*loaded.policy, "localhost") == Decision::Forward);
}

TEST_CASE("a bad record, zone or unreadable file is refused, naming the item") {
    const auto refused = [](const PolicySources& s) {
        try {
            load_policy(s);
        } catch (const PolicyError& e) {
            return std::string(e.what());
        }
        return std::string("loaded");
    };
    CHECK(refused({.records = {"ok.lan. A 10.0.0.1", "bad.lan. A 300.1.1.1"}}).rfind("local.records[2]: ", 0) == 0);
    CHECK(refused({.local_zones = {"bad..zone"}}).rfind("local.zones[1]: ", 0) == 0);
    CHECK(refused({.forward_zones = {"."}}).rfind("forward[1].zone: ", 0) == 0);
    CHECK(refused({.block_lists = {"/nonexistent/list.txt"}}) ==
          "block.lists: /nonexistent/list.txt: No such file or directory");
    CHECK(refused({.hosts_files = {"/nonexistent/hosts"}}).rfind("local.hosts_files: /nonexistent/hosts: ", 0) == 0);
}

TEST_CASE("the screening fingerprints change with the lists and rebinding settings, not with their order") {
    const greenfinch::test::TempFile dir("");
    const std::string ab = write_beside(dir, "ab.txt", "a.example\nb.example\n");
    const std::string ba = write_beside(dir, "ba.txt", "b.example\na.example\n");
    const std::string ac = write_beside(dir, "ac.txt", "a.example\nc.example\n");
    const auto load = [](PolicySources s) { return load_policy(s).policy; };
    CHECK(load({.block_lists = {ab}})->blocking() == load({.block_lists = {ba}})->blocking());
    CHECK(load({.block_lists = {ab}})->blocking() != load({.block_lists = {ac}})->blocking());
    CHECK(load({.block_lists = {ab}})->blocking() != load({.allow_lists = {ab}})->blocking());
    CHECK(load({})->rebinding() != load({.rebind_protection = RebindProtection::on})->rebinding());
    CHECK(load({.rebind_protection = RebindProtection::on})->rebinding() !=
          load({.rebind_protection = RebindProtection::on, .rebind_allow = {"home.example"}})->rebinding());
}
