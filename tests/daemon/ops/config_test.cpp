#include "daemon/ops/config.hpp"
#include "daemon/ops/settings.hpp"
#include "daemon/ops/settings_doc.hpp"
#include "tests/support/temp_file.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

using namespace greenfinch::daemon;
using namespace std::chrono_literals;
namespace test = greenfinch::test;
namespace core = greenfinch::core;

namespace {
std::string error_of(const std::string& content) {
    test::TempFile f(content);
    try {
        load_config(f.path());
    } catch (const ConfigError& e) {
        return std::string(e.what()).substr(f.path().size());
    }
    return "no error";
}

// Every key of the table at a value other than its default, so that a test can change one key at a time.
constexpr const char* kEveryKeyChanged = R"(
[server]
listen = ["127.0.0.1:5399"]
workers = 3
max_inflight = 50
max_tcp_connections = 7
tcp_idle_timeout_ms = 1500
user = "nobody"
[upstream]
servers = ["192.0.2.1"]
timeout_ms = 900
max_inflight = 20
[local]
records = ["printer.lan. 3600 IN A 192.168.1.20"]
hosts_files = ["/etc/hosts"]
zones = ["lan."]
private_reverse = false
rebind_protection = true
rebind_allow = ["corp.example"]
[block]
lists = ["/etc/greenfinch/block.txt"]
allow = ["/etc/greenfinch/allow.txt"]
answer = "null"
[cache]
backend = "redis"
max_entries = 10
min_ttl = 5
max_ttl = 600
negative_ttl_max = 60
servfail_ttl = 1
serve_stale = 3600
stale_client_timeout_ms = 200
prefetch = false
[redis]
address = "unix:/run/redis.sock"
password = "secret"
db = 4
prefix = "other:"
timeout_ms = 25
[metrics]
listen = "127.0.0.1:9153"
[log]
level = "debug"
queries = true
)";

Config every_key_changed() {
    test::TempFile f(kEveryKeyChanged);
    return load_config(f.path());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}
}  // namespace

TEST_CASE("the shipped conf/greenfinch.toml loads and equals the built-in defaults") {
    const Config c = load_config(GREENFINCH_SOURCE_DIR "/conf/greenfinch.toml");
    const Config d;
    CHECK(c.server.listen == d.server.listen);
    CHECK(c.server.max_inflight == d.server.max_inflight);
    CHECK(c.server.workers == d.server.workers);
    CHECK(c.server.max_tcp_connections == d.server.max_tcp_connections);
    CHECK(c.server.tcp_idle_timeout == d.server.tcp_idle_timeout);
    CHECK(c.upstream.servers == d.upstream.servers);
    CHECK(c.upstream.timeout == d.upstream.timeout);
    CHECK(c.upstream.max_inflight == d.upstream.max_inflight);
    CHECK(c.cache.max_entries == d.cache.max_entries);
    CHECK(c.cache.min_ttl == d.cache.min_ttl);
    CHECK(c.cache.max_ttl == d.cache.max_ttl);
    CHECK(c.cache.negative_ttl_max == d.cache.negative_ttl_max);
    CHECK(c.cache.servfail_ttl == d.cache.servfail_ttl);
    CHECK(c.cache.serve_stale == d.cache.serve_stale);
    CHECK(c.cache.stale_client_timeout == d.cache.stale_client_timeout);
    CHECK(c.cache.prefetch == d.cache.prefetch);
    CHECK(c.cache.backend == d.cache.backend);
    CHECK(c.redis.address == d.redis.address);
    CHECK(c.redis.password == d.redis.password);
    CHECK(c.redis.db == d.redis.db);
    CHECK(c.redis.prefix == d.redis.prefix);
    CHECK(c.redis.timeout == d.redis.timeout);
    CHECK(c.log.level == d.log.level);
    CHECK(c.log.queries == d.log.queries);
    CHECK(c.local == d.local);
    CHECK(c.block == d.block);
    CHECK(c.forward.empty());  // the [[forward]] there is an example, commented out
    CHECK(c == d);
}

TEST_CASE("the defaults are the ones operators know") {
    const Config d;
    CHECK(d.server.listen == std::vector<std::string>{"127.0.0.1:5335", "[::1]:5335"});
    CHECK(d.server.workers == 1);
    CHECK(d.server.max_inflight == 10000);
    CHECK(d.server.max_tcp_connections == 128);
    CHECK(d.server.tcp_idle_timeout == 10s);
    CHECK(d.server.user.empty());
    CHECK(d.upstream.servers.empty());
    CHECK(d.upstream.timeout == 2s);
    CHECK(d.upstream.max_inflight == 1000);
    CHECK(d.cache.backend == CacheBackend::memory);
    CHECK(d.cache.max_entries == 100000);
    CHECK(d.cache.min_ttl == 0s);
    CHECK(d.cache.max_ttl == 86400s);
    CHECK(d.cache.negative_ttl_max == 3600s);
    CHECK(d.cache.servfail_ttl == 5s);
    CHECK(d.cache.serve_stale == 0s);
    CHECK(d.cache.stale_client_timeout == 1800ms);
    CHECK(d.cache.prefetch);
    CHECK(d.redis.address == "127.0.0.1:6379");
    CHECK(d.redis.password.empty());
    CHECK(d.redis.db == 0);
    CHECK(d.redis.prefix == "greenfinch:v1:");
    CHECK(d.redis.timeout == 50ms);
    CHECK(d.metrics.listen.empty());
    CHECK(d.log.level == LogLevel::info);
    CHECK_FALSE(d.log.queries);
    CHECK(d.forward.empty());
    CHECK(d.local.records.empty());
    CHECK(d.local.hosts_files.empty());
    CHECK(d.local.zones.empty());
    CHECK(d.local.private_reverse);
    CHECK_FALSE(d.local.rebind_protection);
    CHECK(d.local.rebind_allow.empty());
    CHECK(d.block.lists.empty());
    CHECK(d.block.allow.empty());
    CHECK(d.block.answer == greenfinch::policy::BlockAnswer::nxdomain);
}

TEST_CASE("upstream and cache sections are read and checked") {
    test::TempFile f(
        "[upstream]\nservers = [\"192.0.2.1\", \"[2001:db8::1]:5353\"]\ntimeout_ms = 500\n"
        "[cache]\nserve_stale = 3600\nstale_client_timeout_ms = 400\nprefetch = false\n");
    const Config c = load_config(f.path());
    CHECK(c.upstream.servers.size() == 2);
    CHECK(c.upstream.timeout == 500ms);
    CHECK(c.cache.serve_stale == 3600s);
    CHECK(c.cache.stale_client_timeout == 400ms);
    CHECK_FALSE(c.cache.prefetch);
    CHECK(error_of("[cache]\nprefetch = 1\n") == ":2: cache.prefetch: expected true or false");
    CHECK(error_of("[upstream]\nservers = [\"resolver.example\"]\n").find("upstream.servers") != std::string::npos);
    CHECK(error_of("[cache]\nmin_ttl = 100\nmax_ttl = 10\n").find("cache.min_ttl") != std::string::npos);
}

TEST_CASE("the redis section and the cache backend are read and checked") {
    test::TempFile f(
        "[cache]\nbackend = \"redis\"\n[redis]\naddress = \"unix:/run/redis/redis.sock\"\npassword = \"pw\"\n"
        "db = 2\nprefix = \"dns:v2:\"\ntimeout_ms = 20\n[log]\nqueries = true\n");
    const Config c = load_config(f.path());
    CHECK(c.cache.backend == CacheBackend::redis);
    CHECK(c.redis.address == "unix:/run/redis/redis.sock");
    CHECK(c.redis.password == "pw");
    CHECK(c.redis.db == 2);
    CHECK(c.redis.prefix == "dns:v2:");
    CHECK(c.redis.timeout == 20ms);
    CHECK(c.log.queries);
    CHECK(error_of("[cache]\nbackend = \"memcached\"\n").find("cache.backend: \"memcached\" is not memory or redis") !=
          std::string::npos);
    CHECK(error_of("[redis]\naddress = \"redis.example:6379\"\n") ==
          "no error");  // a host name, looked up when connecting
    CHECK(error_of("[redis]\naddress = \"redis example:6379\"\n").find("redis.address") != std::string::npos);
    CHECK(error_of("[redis]\ntimeout_ms = 0\n").find("redis.timeout_ms") != std::string::npos);
    CHECK(error_of("[redis]\nprefix = \"\"\n").find("redis.prefix") != std::string::npos);
    CHECK(error_of("[redis]\nhost = \"x\"\n") == ":2: redis.host: unknown key");
}

TEST_CASE("the local and block sections are read and checked") {
    test::TempFile f(
        "[local]\n"
        "records = [\"printer.lan. 3600 IN A 192.168.1.20\", \"lan. 3600 IN MX 10 mail.lan.\"]\n"
        "hosts_files = [\"/etc/hosts\"]\n"
        "zones = [\"lan.\", \"home.arpa\"]\n"
        "private_reverse = false\n"
        "rebind_protection = true\n"
        "rebind_allow = [\"corp.example\", \"Dyn.Example.\"]\n"
        "[block]\n"
        "lists = [\"/etc/greenfinch/ads.txt\", \"/etc/greenfinch/trackers.txt\"]\n"
        "allow = [\"/etc/greenfinch/allow.txt\"]\n"
        "answer = \"refused\"\n");
    const Config c = load_config(f.path());
    CHECK(c.local.records ==
          std::vector<std::string>{"printer.lan. 3600 IN A 192.168.1.20", "lan. 3600 IN MX 10 mail.lan."});
    CHECK(c.local.hosts_files == std::vector<std::string>{"/etc/hosts"});
    CHECK(c.local.zones == std::vector<std::string>{"lan.", "home.arpa"});
    CHECK_FALSE(c.local.private_reverse);
    CHECK(c.local.rebind_protection);
    CHECK(c.local.rebind_allow == std::vector<std::string>{"corp.example", "Dyn.Example."});
    CHECK(c.block.lists == std::vector<std::string>{"/etc/greenfinch/ads.txt", "/etc/greenfinch/trackers.txt"});
    CHECK(c.block.allow == std::vector<std::string>{"/etc/greenfinch/allow.txt"});
    CHECK(c.block.answer == greenfinch::policy::BlockAnswer::refused);

    // Records are parsed by the policy; here a record only has to be something.
    CHECK(error_of("[local]\nrecords = [\"x\"]\n") == "no error");
    CHECK(error_of("[local]\n\nrecords = [\"a. 1 IN A 192.0.2.1\", \" \"]\n") ==
          ":3: local.records: \" \" is not a zone-file line (\"NAME [TTL] [IN] TYPE RDATA\")");
    CHECK(error_of("[local]\nrecords = \"a. 1 IN A 192.0.2.1\"\n") ==
          ":2: local.records: expected an array of strings");
    CHECK(error_of("[local]\nzones = [\"lan\", \"bad..name\"]\n") ==
          ":2: local.zones: \"bad..name\" is not a domain name (\"corp.example\"; internationalised ones as xn--)");
    CHECK(error_of("[local]\nzones = [\"my lan\"]\n").rfind(":2: local.zones: \"my lan\" is not a domain name", 0) ==
          0);
    CHECK(error_of("[local]\nzones = [\"\"]\n").rfind(":2: local.zones: \"\" is not a domain name", 0) == 0);
    CHECK(error_of("[local]\nzones = [\"" + std::string(64, 'a') + ".lan\"]\n").rfind(":2: local.zones: ", 0) == 0);
    CHECK(error_of("[local]\nzones = [\"caf\xc3\xa9.lan\"]\n").rfind(":2: local.zones: ", 0) == 0);
    CHECK(error_of("[local]\nzones = [\"a\\\\.b\"]\n").rfind(":2: local.zones: ", 0) == 0);
    CHECK(error_of("[local]\n\n\nrebind_allow = [\"ok.example\", \"not ok\"]\n")
              .rfind(":4: local.rebind_allow: \"not ok\" is not a domain name", 0) == 0);
    CHECK(error_of("[local]\nhosts_files = [\"\"]\n") == ":2: local.hosts_files: \"\" is not a file path");
    CHECK(error_of("[local]\nrebind_protection = \"yes\"\n") == ":2: local.rebind_protection: expected true or false");
    CHECK(error_of("[local]\nprivate_reverse = 1\n") == ":2: local.private_reverse: expected true or false");
    CHECK(error_of("[block]\nlists = [\"/a\", \"\"]\n") == ":2: block.lists: \"\" is not a file path");
    CHECK(error_of("[block]\n\nallow = [\"\"]\n") == ":3: block.allow: \"\" is not a file path");
    CHECK(error_of("[block]\nanswer = \"sinkhole\"\n") ==
          ":2: block.answer: \"sinkhole\" is not one of nxdomain, null, refused");
    CHECK(error_of("[block]\nanswer = \"NXDOMAIN\"\n").rfind(":2: block.answer: ", 0) == 0);  // names are lowercase
    CHECK(error_of("[block]\nlist = []\n") == ":2: block.list: unknown key");
    CHECK(error_of("[local]\nrecord = []\n") == ":2: local.record: unknown key");
}

TEST_CASE("block.answer names each of policy::BlockAnswer") {
    using greenfinch::policy::BlockAnswer;
    for (const auto& [name, value] :
         {std::pair{"nxdomain", BlockAnswer::nxdomain}, std::pair{"null", BlockAnswer::null},
          std::pair{"refused", BlockAnswer::refused}}) {
        INFO(name);
        test::TempFile f(std::string("[block]\nanswer = \"") + name + "\"\n");
        CHECK(load_config(f.path()).block.answer == value);
        CHECK(to_string(value) == name);
    }
    CHECK(settings::accepted(*settings::find("block.answer")) == "one of nxdomain, null, refused");
    CHECK(settings::flag_argument(*settings::find("block.answer")) == "nxdomain|null|refused");
}

TEST_CASE("names compare in lowercase with their final dot") {
    CHECK(canonical_name("Corp.Example") == "corp.example.");
    CHECK(canonical_name("corp.example.") == "corp.example.");
    CHECK(canonical_name("") == ".");
    CHECK(canonical_name(".") == ".");
}

TEST_CASE("forward zones: each [[forward]] table is one zone, in the file's order") {
    test::TempFile f(
        "[upstream]\n"
        "timeout_ms = 1500\n"
        "\n"
        "[[forward]]\n"
        "zone = \"corp.example\"\n"
        "servers = [\"10.1.0.53\", \"[2001:db8::53]:5353\"]\n"
        "\n"
        "[[forward]]\n"
        "zone = \"168.192.IN-ADDR.ARPA.\"\n"
        "servers = [\"192.168.1.1\"]\n"
        "timeout_ms = 300\n"
        "\n"
        "[[forward]]\n"
        "zone = \"lab.corp.example\"\n"
        "servers = [\"10.2.0.53:53\"]\n"
        "timeout_ms = 0\n");
    const Config c = load_config(f.path());
    REQUIRE(c.forward.size() == 3);
    CHECK(c.forward[0] ==
          Config::ForwardZone{.zone = "corp.example", .servers = {"10.1.0.53", "[2001:db8::53]:5353"}, .timeout = 0ms});
    CHECK(c.forward[0].name() == "corp.example.");
    CHECK(c.forward[0].timeout_or(c.upstream.timeout) == 1500ms);  // absent: the upstream's
    CHECK(c.forward[1].zone == "168.192.IN-ADDR.ARPA.");           // as written
    CHECK(c.forward[1].name() == "168.192.in-addr.arpa.");
    CHECK(c.forward[1].servers == std::vector<std::string>{"192.168.1.1"});
    CHECK(c.forward[1].timeout == 300ms);
    CHECK(c.forward[1].timeout_or(c.upstream.timeout) == 300ms);
    CHECK(c.forward[2].name() == "lab.corp.example.");             // below another zone: a zone of its own
    CHECK(c.forward[2].timeout_or(c.upstream.timeout) == 1500ms);  // 0: the upstream's

    // Inline tables are the same array of tables.
    test::TempFile inline_form("forward = [{zone = \"a.example\", servers = [\"192.0.2.1\"]}]\n");
    const Config i = load_config(inline_form.path());
    REQUIRE(i.forward.size() == 1);
    CHECK(i.forward[0].zone == "a.example");
    // So is an empty array: no zones.
    test::TempFile none("forward = []\n");
    CHECK(load_config(none.path()).forward.empty());
}

TEST_CASE("forward zones: a bad entry is refused with the file, the line and forward[N].key") {
    const std::string corp = "[[forward]]\nzone = \"corp.example\"\nservers = [\"10.1.0.53\"]\n";
    CHECK(error_of(corp) == "no error");
    // Two entries for one zone, however written.
    CHECK(error_of(corp + "\n[[forward]]\nzone = \"CORP.example.\"\nservers = [\"10.1.0.54\"]\n") ==
          ":6: forward[2].zone: \"CORP.example.\" repeats forward[1].zone: one [[forward]] per zone");
    // A required key left out: the line is the entry's.
    CHECK(error_of(corp + "[[forward]]\nzone = \"lab.example\"\n") ==
          ":4: forward[2].servers: missing; every [[forward]] needs one");
    CHECK(error_of("[[forward]]\nservers = [\"10.1.0.53\"]\n") ==
          ":1: forward[1].zone: missing; every [[forward]] needs one");
    CHECK(error_of("[[forward]]\nzone = \"a.example\"\nservers = []\n") ==
          ":3: forward[1].servers: at least one address is needed");
    CHECK(error_of("[[forward]]\nzone = \"\"\nservers = [\"10.1.0.53\"]\n") ==
          ":2: forward[1].zone: must not be empty");
    // Bad values.
    CHECK(error_of(corp + "[[forward]]\nzone = \"lab.example\"\nservers = [\"10.1.0.53\", \"dns.lab.example\"]\n") ==
          ":6: forward[2].servers: \"dns.lab.example\" is not ADDR[:PORT] (IPv6 with a port: [::1]:53)");
    CHECK(error_of("[[forward]]\nzone = \"corp..example\"\nservers = [\"10.1.0.53\"]\n")
              .rfind(":2: forward[1].zone: \"corp..example\" is not a domain name", 0) == 0);
    CHECK(error_of("[[forward]]\nzone = \".\"\nservers = [\"10.1.0.53\"]\n") ==
          ":2: forward[1].zone: must not be the root (\".\"): that is what upstream.servers are for");
    CHECK(error_of("[[forward]]\nzone = \"a.example\"\nservers = [\"10.1.0.53\"]\ntimeout_ms = \"2s\"\n") ==
          ":4: forward[1].timeout_ms: expected a whole number from 0 to 1000000000");
    CHECK(error_of("[[forward]]\nzone = \"a.example\"\nservers = [\"10.1.0.53\"]\ntimeout_ms = -5\n") ==
          ":4: forward[1].timeout_ms: expected a whole number from 0 to 1000000000");
    CHECK(error_of("[[forward]]\nzone = [\"a.example\"]\nservers = [\"10.1.0.53\"]\n") ==
          ":2: forward[1].zone: expected a string");
    CHECK(error_of("[[forward]]\nzone = \"a.example\"\nservers = \"10.1.0.53\"\n") ==
          ":3: forward[1].servers: expected an array of strings");
    // Unknown keys.
    CHECK(error_of(corp + "server = [\"10.1.0.54\"]\n") == ":4: forward[1].server: unknown key");
    CHECK(error_of(corp + "[forward.options]\nx = 1\n").rfind(":4: forward[1].options: ", 0) == 0);
    // Not an array of tables.
    CHECK(error_of("[forward]\nzone = \"corp.example\"\nservers = [\"10.1.0.53\"]\n") ==
          ":1: forward: expected [[forward]] (an array of tables)");
    CHECK(error_of("forward = \"corp.example\"\n") == ":1: forward: expected [[forward]] (an array of tables)");
    CHECK(error_of("forward = [\"corp.example\"]\n") == ":1: forward: expected [[forward]] (an array of tables)");
    CHECK(error_of("[server]\nforward = []\n") == ":2: server.forward: unknown key");
}

TEST_CASE("forward zones: a reload applies them, and a later file replaces them all") {
    const Config running;
    test::TempFile f("[[forward]]\nzone = \"corp.example\"\nservers = [\"10.1.0.53\"]\n");
    const Config loaded = load_config(f.path());
    CHECK(restart_only_changes(running, loaded).empty());
    CHECK(keep_restart_only(running, loaded).forward == loaded.forward);
    CHECK(keep_restart_only(loaded, running).forward.empty());  // and a reload removes them

    test::TempFile other("[[forward]]\nzone = \"lab.example\"\nservers = [\"10.2.0.53\"]\n");
    ConfigDraft draft;
    draft.read_file(f.path());
    draft.read_file(other.path());
    const ConfigSnapshot c = std::move(draft).freeze();
    REQUIRE(c->forward.size() == 1);
    CHECK(c->forward[0].zone == "lab.example");

    const auto& sections = settings::repeated();
    REQUIRE(sections.size() == 1);
    CHECK(settings::name_of(sections[0]) == "forward");
    CHECK(settings::find_repeated("forward") == &sections[0]);
    CHECK(settings::find_repeated("upstream") == nullptr);
    CHECK(settings::find("forward.zone") == nullptr);  // not a key of the table
    CHECK(settings::entry_key("forward", 2, "servers") == "forward[2].servers");
}

TEST_CASE("a flag sets the local records and the block lists") {
    ConfigDraft draft;
    const std::vector<std::string> records{"a.lan. 60 IN A 192.168.1.2", "b.lan. 60 IN A 192.168.1.3"};
    const std::vector<std::string> lists{"/tmp/block-a.txt", "/tmp/block-b.txt"};
    draft.set({.key = "local.records", .texts = records, .origin = "command line (--local)"});
    draft.set({.key = "block.lists", .texts = lists, .origin = "command line (--block-list)"});
    const ConfigSnapshot c = std::move(draft).freeze();
    CHECK(c->local.records == records);
    CHECK(c->block.lists == lists);
    CHECK(settings::repeatable(*settings::find("local.records")));
    CHECK(settings::repeatable(*settings::find("block.lists")));

    ConfigDraft bad;
    const std::vector<std::string> blank{""};
    bad.set({.key = "block.lists", .texts = blank, .origin = "command line (--block-list)"});
    CHECK_THROWS_WITH(std::move(bad).freeze(), "command line (--block-list): block.lists: \"\" is not a file path");
}

TEST_CASE("resolv.conf nameservers become upstreams on port 53") {
    test::TempFile f("# comment\nsearch example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:1\n");
    CHECK(resolv_conf_nameservers(f.path()) == std::vector<std::string>{"192.0.2.53:53", "[2001:db8::53]:53"});
    CHECK(resolv_conf_nameservers("/nonexistent/resolv.conf").empty());
}

TEST_CASE("a config file overrides the defaults it names") {
    test::TempFile f("[server]\nlisten = [\"127.0.0.1:53\"]\nmax_inflight = 5\n[log]\nlevel = \"debug\"\n");
    const Config c = load_config(f.path());
    CHECK(c.server.listen == std::vector<std::string>{"127.0.0.1:53"});
    CHECK(c.server.max_inflight == 5);
    CHECK(c.server.max_tcp_connections == Config{}.server.max_tcp_connections);
    CHECK(c.log.level == LogLevel::debug);
}

TEST_CASE("config errors name the line and the key") {
    CHECK(error_of("[server]\n\nmax_inflite = 5\n") == ":3: server.max_inflite: unknown key");
    CHECK(error_of("[sever]\n") == ":1: sever: unknown key");
    CHECK(error_of("[server]\nmax_inflight = \"many\"\n") ==
          ":2: server.max_inflight: expected a whole number from 0 to 1000000000");
    CHECK(error_of("[server]\nlisten = \"127.0.0.1:53\"\n") == ":2: server.listen: expected an array of strings");
    CHECK(
        error_of("[server]\nlisten = [\"localhost:53\"]\n").find("server.listen: \"localhost:53\" is not ADDR:PORT") !=
        std::string::npos);
    CHECK(error_of("[log]\nlevel = \"loud\"\n") ==
          ":2: log.level: \"loud\" is not one of trace, debug, info, warn, error, critical, off");
    CHECK(error_of("[cache]\nmin_ttl = 100\n\nmax_ttl = 10\n") == ":2: cache.min_ttl: must not exceed cache.max_ttl");
    CHECK(error_of("[server]\nworkers = 0\n") == ":2: server.workers: must be 1 to 256");
    CHECK(error_of("[upstream]\n\nservers = [\"resolver.example\"]\n").rfind(":3: upstream.servers: ", 0) == 0);
    CHECK(error_of("[server\n").rfind(":1: ", 0) == 0);  // a TOML syntax error, with its line
}

TEST_CASE("listening on a wildcard address, an upstream on one of the host's own addresses is refused") {
    const std::vector<core::SocketAddress> own{*core::SocketAddress::parse("192.0.2.10:0")};
    CHECK_THROWS_AS(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.10"}, own), ConfigError);
    CHECK_THROWS_AS(check_not_forwarding_to_self({"[::]:53"}, {"192.0.2.10:53"}, own), ConfigError);
    CHECK_NOTHROW(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.10:5353"}, own));  // another port
    CHECK_NOTHROW(check_not_forwarding_to_self({"127.0.0.1:53"}, {"192.0.2.10"}, own));     // not listening there
    CHECK_NOTHROW(check_not_forwarding_to_self({"0.0.0.0:53"}, {"192.0.2.11"}, own));       // another host
    const auto host = host_addresses();
    CHECK(std::find(host.begin(), host.end(), *core::SocketAddress::parse("127.0.0.1:0")) != host.end());
}

// The table drives the reader, the flags, the reload and the documents.

TEST_CASE("settings table: every key is a section and a name, once, bound to a member of its own") {
    const Config c;
    std::set<std::string> keys;
    std::set<const void*> members;
    for (const auto& s : settings::table()) {
        INFO(s.key());
        CHECK(keys.insert(s.key()).second);
        CHECK(settings::find(s.key()) == &s);
        CHECK_FALSE(s.help.empty());
        members.insert(std::visit([&](const auto& kind) -> const void* { return &kind.bind.in(c); }, s.value));
        CHECK_FALSE(settings::problem(s, c).has_value());  // the defaults pass their own checks
    }
    CHECK(members.size() == keys.size());
    CHECK(settings::sections() ==
          std::vector<std::string_view>{"server", "upstream", "local", "block", "cache", "redis", "metrics", "log"});
    CHECK(settings::find("server.bogus") == nullptr);
    CHECK(settings::find("server") == nullptr);
}

TEST_CASE("settings table: in every section, an unknown key is refused with the file, the line and the key") {
    for (const auto section : settings::sections()) {
        const std::string s(section);
        INFO(s);
        CHECK(error_of("[" + s + "]\n\nbogus_key = 1\n") == ":3: " + s + ".bogus_key: unknown key");
    }
    CHECK(error_of("[server]\nworkers = 2\n[cache]\nprefetch = true\n[cash]\n") == ":5: cash: unknown key");
    CHECK(error_of("workers = 2\n") == ":1: workers: unknown key");
    CHECK(error_of("server = 2\n") == ":1: server: expected a section [server]");
}

TEST_CASE("settings table: every key refuses a value of the wrong type, naming the file, the line and the key") {
    for (const auto& s : settings::table()) {
        INFO(s.key());
        const auto shape = settings::shape(s);
        const std::string wrong = shape == settings::Shape::text || shape == settings::Shape::text_list ? "1" : "\"x\"";
        CHECK(error_of("[" + std::string(s.section) + "]\n" + std::string(s.name) + " = " + wrong + "\n") ==
              ":2: " + s.key() + ": " + settings::expected(shape));
    }
    CHECK(error_of("[server]\nlisten = [\"127.0.0.1:53\", 2]\n") == ":2: server.listen: expected an array of strings");
    CHECK(error_of("[server]\nmax_inflight = -1\n") ==
          ":2: server.max_inflight: expected a whole number from 0 to 1000000000");
    CHECK(error_of("[cache]\nmax_ttl = 1000000001\n") ==
          ":2: cache.max_ttl: expected a whole number from 0 to 1000000000");
}

TEST_CASE("settings table: durations keep the units of their keys") {
    test::TempFile f("[server]\ntcp_idle_timeout_ms = 250\n[cache]\nmax_ttl = 90\nstale_client_timeout_ms = 0\n");
    const Config c = load_config(f.path());
    CHECK(c.server.tcp_idle_timeout == 250ms);
    CHECK(c.cache.max_ttl == 90s);
    CHECK(c.cache.stale_client_timeout == 0ms);
    CHECK(whole_seconds(c.cache.max_ttl) == 90u);
    CHECK(error_of("[server]\ntcp_idle_timeout_ms = 0\n") == ":2: server.tcp_idle_timeout_ms: must be at least 1");
}

TEST_CASE("a flag overrides the file, and an error in it names the flag") {
    test::TempFile f("[server]\nworkers = 2\nlisten = [\"127.0.0.1:53\"]\n[log]\nlevel = \"debug\"\n");
    ConfigDraft draft;
    draft.read_file(f.path());
    const std::vector<std::string> workers{"4"};
    const std::vector<std::string> listen{"127.0.0.1:5301", "[::1]:5301"};
    draft.set({.key = "server.workers", .texts = workers, .origin = "command line (--workers)"});
    draft.set({.key = "server.listen", .texts = listen, .origin = "command line (--listen)"});
    const ConfigSnapshot c = std::move(draft).freeze();
    static_assert(std::is_const_v<ConfigSnapshot::element_type>);
    CHECK(c->server.workers == 4);
    CHECK(c->server.listen == listen);
    CHECK(c->log.level == LogLevel::debug);  // the file's, where no flag says otherwise

    const auto error_of_flag = [&](std::string_view key, const std::vector<std::string>& texts) -> std::string {
        ConfigDraft d;
        d.read_file(f.path());
        try {
            d.set({.key = key, .texts = texts, .origin = "command line (--flag)"});
            std::move(d).freeze();
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(error_of_flag("server.workers", {"many"}) ==
          "command line (--flag): server.workers: expected a whole number from 0 to 1000000000");
    CHECK(error_of_flag("server.workers", {"4x"}) ==
          "command line (--flag): server.workers: expected a whole number from 0 to 1000000000");
    CHECK(error_of_flag("server.workers", {"300"}) == "command line (--flag): server.workers: must be 1 to 256");
    CHECK(error_of_flag("cache.backend", {"memcached"}) ==
          "command line (--flag): cache.backend: \"memcached\" is not memory or redis");
    CHECK(error_of_flag("server.listen", {"127.0.0.1:53", "nonsense"})
              .rfind("command line (--flag): server.listen: \"nonsense\" is not ADDR:PORT", 0) == 0);
    CHECK(error_of_flag("server.workers", {"2", "8"}) == "no error");  // the last one counts
    CHECK(error_of_flag("server.nothing", {"1"}) == "command line (--flag): server.nothing: unknown key");
    // A key the flags leave alone is still the file's, and its errors still name the file's line.
    test::TempFile bad("[server]\n\nworkers = 0\n");
    ConfigDraft d;
    CHECK_THROWS_WITH(d.read_file(bad.path()), bad.path() + ":3: server.workers: must be 1 to 256");
}

TEST_CASE("the flags of the table are the ones operators know") {
    std::vector<std::pair<std::string, std::string>> flags;
    for (const auto& s : settings::table()) {
        if (!s.flag.name.empty()) flags.emplace_back(s.flag.name, s.key());
    }
    const std::vector<std::pair<std::string, std::string>> known{
        {"--listen", "server.listen"},      {"--workers", "server.workers"}, {"--max-inflight", "server.max_inflight"},
        {"--upstream", "upstream.servers"}, {"--local", "local.records"},    {"--block-list", "block.lists"},
        {"--cache", "cache.backend"},       {"--redis", "redis.address"},    {"--metrics", "metrics.listen"},
        {"--log-level", "log.level"},
    };
    CHECK(flags == known);
    CHECK(settings::repeatable(*settings::find("server.listen")));
    CHECK(settings::repeatable(*settings::find("upstream.servers")));
    CHECK_FALSE(settings::repeatable(*settings::find("server.workers")));
}

TEST_CASE("reload diff: the restart-only keys are the ones a running daemon cannot change") {
    std::vector<std::string> restart_only;
    for (const auto& s : settings::table()) {
        if (s.apply == settings::Apply::on_restart) restart_only.push_back(s.key());
    }
    CHECK(restart_only == std::vector<std::string>{"server.listen", "server.workers", "server.max_inflight",
                                                   "server.max_tcp_connections", "server.tcp_idle_timeout_ms",
                                                   "server.user", "upstream.max_inflight", "cache.backend",
                                                   "redis.address", "redis.password", "redis.db", "redis.prefix",
                                                   "redis.timeout_ms", "metrics.listen"});
}

TEST_CASE("reload diff: each key changed alone is named if it needs a restart, and keeps its running value") {
    const Config running;
    const Config changed = every_key_changed();
    for (const auto& s : settings::table()) {
        INFO(s.key());
        REQUIRE_FALSE(settings::same(s, running, changed));  // the test's file changes every key
        Config next = running;
        settings::copy(s, changed, next);
        const Config kept = keep_restart_only(running, next);
        if (s.apply == settings::Apply::on_restart) {
            CHECK(restart_only_changes(running, next) == std::vector<std::string>{s.key()});
            CHECK(kept == running);
        } else {
            CHECK(restart_only_changes(running, next).empty());
            CHECK(kept == next);
        }
    }
}

TEST_CASE("reload diff: a file changing keys of both kinds") {
    const Config running;
    test::TempFile f(
        "[server]\nworkers = 4\n[upstream]\nservers = [\"192.0.2.7\"]\ntimeout_ms = 700\n"
        "[redis]\naddress = \"127.0.0.1:6380\"\ndb = 3\n[log]\nlevel = \"warn\"\n");
    const Config loaded = load_config(f.path());
    CHECK(restart_only_changes(running, loaded) ==
          std::vector<std::string>{"server.workers", "redis.address", "redis.db"});
    const Config next = keep_restart_only(running, loaded);
    CHECK(next.server.workers == running.server.workers);
    CHECK(next.redis.address == running.redis.address);
    CHECK(next.redis.db == running.redis.db);
    CHECK(next.upstream.servers == std::vector<std::string>{"192.0.2.7"});
    CHECK(next.upstream.timeout == 700ms);
    CHECK(next.log.level == LogLevel::warn);
    CHECK(restart_only_changes(running, next).empty());  // what the next reload compares against
    CHECK(restart_only_changes(running, running).empty());
    CHECK(restart_only_changes(running, every_key_changed()).size() == 14);
}

TEST_CASE("choices have names, and the log levels are spdlog's") {
    CHECK(to_string(CacheBackend::memory) == "memory");
    CHECK(to_string(CacheBackend::redis) == "redis");
    CHECK(to_string(LogLevel::warn) == "warn");
    CHECK(spdlog_level(LogLevel::trace) == spdlog::level::trace);
    CHECK(spdlog_level(LogLevel::warn) == spdlog::level::warn);
    CHECK(spdlog_level(LogLevel::error) == spdlog::level::err);
    CHECK(spdlog_level(LogLevel::off) == spdlog::level::off);
}

TEST_CASE("generated documents: every key of the table appears in each, with its default") {
    const std::string toml = settings::render(settings::Document::toml);
    const std::string markdown = settings::render(settings::Document::markdown);
    const std::string man = settings::render(settings::Document::man);
    for (const auto& s : settings::table()) {
        INFO(s.key());
        const std::string name(s.name);
        CHECK(toml.find("\n# " + name + " = " + settings::default_literal(s) + "\n") != std::string::npos);
        CHECK(markdown.find("\n### " + s.key() + "\n") != std::string::npos);
        CHECK(markdown.find("`" + name + " = " + settings::default_literal(s) + "`") != std::string::npos);
        std::string man_name;
        for (char ch : name) man_name += ch == '-' ? std::string("\\-") : std::string(1, ch);
        CHECK(man.find("\n\\fB" + man_name + "\\fR = ") != std::string::npos);
        if (!s.flag.name.empty()) {
            CHECK(toml.find(std::string(s.flag.name) + " ") != std::string::npos);
            CHECK(markdown.find("`" + std::string(s.flag.name)) != std::string::npos);
        }
    }
}

TEST_CASE("generated documents: every repeated section and its keys appear in each") {
    const std::string toml = settings::render(settings::Document::toml);
    const std::string markdown = settings::render(settings::Document::markdown);
    const std::string man = settings::render(settings::Document::man);
    for (const auto& r : settings::repeated()) {
        std::visit(
            [&](const auto& section) {
                const std::string name(section.name);
                INFO(name);
                CHECK(toml.find("\n# [[" + name + "]]\n") != std::string::npos);
                CHECK(markdown.find("\n## [[" + name + "]]\n") != std::string::npos);
                CHECK(man.find("\n.SS [[" + name + "]]\n") != std::string::npos);
                for (const auto& s : section.keys) {
                    INFO(s.key());
                    const std::string key_name(s.name);
                    CHECK(toml.find("\n# " + key_name + ": ") != std::string::npos);
                    CHECK(markdown.find("\n### " + s.key() + "\n") != std::string::npos);
                    std::string man_name;
                    for (char ch : key_name) man_name += ch == '-' ? std::string("\\-") : std::string(1, ch);
                    CHECK(man.find("\n\\fB" + man_name + "\\fR") != std::string::npos);
                }
            },
            r);
    }
    // The shipped file shows a whole entry, commented out, which loads once uncommented.
    const std::string marker = "# For example:\n# [[forward]]\n";
    const auto from = toml.find(marker);
    REQUIRE(from != std::string::npos);
    std::string example = "[[forward]]\n";
    for (std::size_t at = from + marker.size(); toml.compare(at, 2, "# ") == 0;) {
        const auto end = toml.find('\n', at);
        example += toml.substr(at + 2, end - at - 2) + "\n";
        at = end + 1;
    }
    CHECK(example.find("servers = ") != std::string::npos);
    test::TempFile f(example);
    const Config c = load_config(f.path());
    REQUIRE(c.forward.size() == 1);
    CHECK(c.forward[0].zone == "corp.example");
}

TEST_CASE("generated documents: the files in the source tree are what the table generates") {
    for (const auto& f : settings::generated_files()) {
        INFO(std::string(f.path) + " differs from the settings table: run cmake --build BUILD --target settings_docs");
        CHECK(read_file(std::string(GREENFINCH_SOURCE_DIR "/") + std::string(f.path)) == settings::render(f.document));
    }
}
