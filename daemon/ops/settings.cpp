#include "daemon/ops/settings.hpp"

#include "cache/redis_client.hpp"
#include "core/io/socket_address.hpp"
#include "dns/presentation.hpp"

#include <algorithm>
#include <array>

namespace greenfinch::daemon {
namespace settings {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Millis = Duration<milliseconds>;
using Secs = Duration<seconds>;
using ForwardZone = Config::ForwardZone;

constexpr Syntax kListenAddress{
    .name = "ADDR:PORT (IPv6 in brackets: [::1]:5335)",
    .noun = "address",
    .accepts = [](const std::string& s) { return core::SocketAddress::parse(s).has_value(); },
};
constexpr Syntax kUpstreamAddress{
    .name = "ADDR[:PORT] (IPv6 with a port: [::1]:53)",
    .noun = "address",
    .accepts = [](const std::string& s) { return core::SocketAddress::parse(s, 53).has_value(); },
};
constexpr Syntax kRedisAddress{
    .name = "IP:PORT, [IPv6]:PORT, HOST:PORT or unix:/path",
    .noun = "address",
    .accepts = [](const std::string& s) { return cache::parse_redis_address(s).has_value(); },
};

// Printable ASCII without escapes (a zone file's `\.` has no meaning here), in labels wire_name() takes.
bool is_domain_name(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c <= ' ' || c > '~' || c == '\\') return false;
    }
    return dns::wire_name(s).has_value();
}
constexpr Syntax kDomainName{
    .name = "a domain name (\"corp.example\"; internationalised ones as xn--)",
    .noun = "name",
    .accepts = is_domain_name,
};
constexpr Syntax kFilePath{
    .name = "a file path",
    .noun = "file",
    .accepts = [](const std::string& s) { return !s.empty() && s.find('\0') == std::string::npos; },
};
constexpr Syntax kRecord{
    .name = "a zone-file line (\"NAME [TTL] [IN] TYPE RDATA\")",
    .noun = "record",
    .accepts = [](const std::string& s) { return s.find_first_not_of(" \t") != std::string::npos; },
};

constexpr std::array<Named<CacheBackend>, 2> kBackends{{
    {.name = "memory", .value = CacheBackend::memory},
    {.name = "redis", .value = CacheBackend::redis},
}};
constexpr std::array<Named<LogLevel>, 7> kLevels{{
    {.name = "trace", .value = LogLevel::trace},
    {.name = "debug", .value = LogLevel::debug},
    {.name = "info", .value = LogLevel::info},
    {.name = "warn", .value = LogLevel::warn},
    {.name = "error", .value = LogLevel::error},
    {.name = "critical", .value = LogLevel::critical},
    {.name = "off", .value = LogLevel::off},
}};

constexpr std::array<Named<policy::BlockAnswer>, 3> kBlockAnswers{{
    {.name = "nxdomain", .value = policy::BlockAnswer::nxdomain},
    {.name = "null", .value = policy::BlockAnswer::null},
    {.name = "refused", .value = policy::BlockAnswer::refused},
}};

constexpr Range kPositive{.min = 1};

// The table. Its order is the documents' order.
const std::vector<Setting>& all() {
    static const std::vector<Setting> settings = {
        {
            .section = "server",
            .name = "listen",
            .value = TextList{.bind = member<&Config::server, &Config::Server::listen>(),
                              .fallback = {"127.0.0.1:5335", "[::1]:5335"},
                              .syntax = &kListenAddress,
                              .blank = Blank::refused},
            .apply = Apply::on_restart,
            .help = "Where to serve DNS, UDP and TCP alike.",
            .details = "IPv6 addresses go in brackets. Port 53 needs root or CAP_NET_BIND_SERVICE; 5335 does not. "
                       "Started by systemd socket activation, greenfinch serves the sockets systemd passes instead.",
            .flag = {.name = "--listen", .value_name = "ADDR:PORT"},
        },
        {
            .section = "server",
            .name = "workers",
            .value = Whole{.bind = member<&Config::server, &Config::Server::workers>(),
                           .fallback = 1,
                           .range = {.min = 1, .max = 256}},
            .apply = Apply::on_restart,
            .help = "Worker threads, each with its own event loop and its own sockets on every listen address.",
            .details = "The sockets are bound with SO_REUSEPORT, so the kernel spreads clients over the workers; all "
                       "share one memory cache. One per core is the usual choice.",
            .flag = {.name = "--workers", .value_name = "N"},
        },
        {
            .section = "server",
            .name = "max_inflight",
            .value = Whole{.bind = member<&Config::server, &Config::Server::max_inflight>(),
                           .fallback = 10000,
                           .range = kPositive},
            .apply = Apply::on_restart,
            .help = "Queries served at once per UDP listener, each in its own greenlet.",
            .details = "When they are all busy the listener stops reading and the kernel's socket buffer holds the "
                       "rest.",
            .flag = {.name = "--max-inflight", .value_name = "N"},
        },
        {
            .section = "server",
            .name = "max_tcp_connections",
            .value = Whole{.bind = member<&Config::server, &Config::Server::max_tcp_connections>(),
                           .fallback = 128,
                           .range = kPositive},
            .apply = Apply::on_restart,
            .help = "Open TCP connections per listener; more wait in the listen backlog.",
        },
        {
            .section = "server",
            .name = "tcp_idle_timeout_ms",
            .value = Millis{.bind = member<&Config::server, &Config::Server::tcp_idle_timeout>(),
                            .fallback = milliseconds(10000),
                            .range = kPositive},
            .apply = Apply::on_restart,
            .help = "A TCP connection that sends no query for this long is closed, in milliseconds.",
        },
        {
            .section = "server",
            .name = "user",
            .value = Text{.bind = member<&Config::server, &Config::Server::user>()},
            .apply = Apply::on_restart,
            .help = "Started as root, greenfinch drops to this user once its sockets are bound; empty: it stays "
                    "who it is.",
            .details = "Root is needed to bind port 53 without systemd. Under systemd the unit's DynamicUser= does "
                       "this instead.",
        },
        {
            .section = "upstream",
            .name = "servers",
            .value =
                TextList{.bind = member<&Config::upstream, &Config::Upstream::servers>(), .syntax = &kUpstreamAddress},
            .help = "Upstream resolvers, tried in order (failover on timeout, SERVFAIL or REFUSED).",
            .details = "Without any, greenfinch forwards to the nameservers of /etc/resolv.conf. It refuses to "
                       "forward to its own listen addresses. A reload sends new queries to the new servers; those in "
                       "flight finish on the old ones.",
            .example = R"(["192.0.2.53", "[2001:db8::53]:53"])",
            .flag = {.name = "--upstream", .value_name = "ADDR[:PORT]"},
        },
        {
            .section = "upstream",
            .name = "timeout_ms",
            .value = Millis{.bind = member<&Config::upstream, &Config::Upstream::timeout>(),
                            .fallback = milliseconds(2000),
                            .range = kPositive},
            .help = "The whole time one query may spend on a miss before the client gets SERVFAIL, in milliseconds.",
            .details = "It includes the shared cache's lookup (redis.timeout_ms at most) and the upstream's retries "
                       "and failover. With cache.serve_stale the client may get a stale answer instead of SERVFAIL.",
        },
        {
            .section = "upstream",
            .name = "max_inflight",
            .value = Whole{.bind = member<&Config::upstream, &Config::Upstream::max_inflight>(),
                           .fallback = 1000,
                           .range = kPositive},
            .apply = Apply::on_restart,
            .help = "Upstream queries in flight at once, per worker; more wait for a slot within their timeout.",
        },
        {
            .section = "local",
            .name = "records",
            .value = TextList{.bind = member<&Config::local, &Config::Local::records>(), .syntax = &kRecord},
            .help = "Records greenfinch answers from itself, one zone-file line each: NAME [TTL] [CLASS] TYPE RDATA.",
            .details = "Every name is absolute, with or without its final dot; the TTL is 3600 and the class IN "
                       "unless given. A name with local data is answered from it, never from the cache or an "
                       "upstream; local data wins over a block list, and over a forward zone no deeper than it.",
            .example = R"(["printer.lan. 3600 IN A 192.168.1.20", "lan. 3600 IN MX 10 mail.lan."])",
            .flag = {.name = "--local", .value_name = "RECORD"},
        },
        {
            .section = "local",
            .name = "hosts_files",
            .value = TextList{.bind = member<&Config::local, &Config::Local::hosts_files>(), .syntax = &kFilePath},
            .help = "Files in /etc/hosts format, read as local data: A or AAAA for each name, and the matching PTR.",
            .details = "A reload reads them again.",
            .example = R"(["/etc/hosts"])",
        },
        {
            .section = "local",
            .name = "zones",
            .value = TextList{.bind = member<&Config::local, &Config::Local::zones>(), .syntax = &kDomainName},
            .help = "Zones answered from local data only: a name in one that local data lacks gets NXDOMAIN with an "
                    "SOA, and nothing in them is asked upstream.",
            .details = "A forward zone below one of them still forwards its own names.",
            .example = R"(["lan."])",
        },
        {
            .section = "local",
            .name = "private_reverse",
            .value = Boolean{.bind = member<&Config::local, &Config::Local::private_reverse>(), .fallback = true},
            .help = "Answer the special-use names of RFC 6303 and RFC 6761 here (the reverse zones of private "
                    "addresses, localhost., invalid.) instead of asking upstream.",
            .details = "localhost. answers 127.0.0.1 and ::1; invalid. and onion. are NXDOMAIN; test. and local. are "
                       "forwarded. A forward zone or local data for one of them takes precedence: a [[forward]] for "
                       "168.192.in-addr.arpa sends the LAN's reverse lookups to the LAN's own server.",
        },
        {
            .section = "local",
            .name = "rebind_protection",
            .value = Boolean{.bind = member<&Config::local, &Config::Local::rebind_protection>(), .fallback = false},
            .help = "Remove private, loopback and link-local addresses from upstream answers (DNS rebinding "
                    "protection).",
            .details = "Answers from forward zones and from the rebind_allow zones keep theirs.",
        },
        {
            .section = "local",
            .name = "rebind_allow",
            .value = TextList{.bind = member<&Config::local, &Config::Local::rebind_allow>(), .syntax = &kDomainName},
            .help = "Zones whose upstream answers may carry private addresses despite rebind_protection.",
            .example = R"(["corp.example."])",
        },
        {
            .section = "block",
            .name = "lists",
            .value = TextList{.bind = member<&Config::block, &Config::Block::lists>(), .syntax = &kFilePath},
            .help = "Block lists: the names in these files, and every name under them, get block.answer.",
            .details = "A list is in hosts format (\"0.0.0.0 ads.example.com\") or holds one name per line; '#' "
                       "starts a comment. A line that cannot be read is skipped and counted; a reload reads the files "
                       "again. A name in an upstream answer's CNAME chain is blocked too.",
            .example = R"(["/etc/greenfinch/blocklist.txt"])",
            .flag = {.name = "--block-list", .value_name = "PATH"},
        },
        {
            .section = "block",
            .name = "allow",
            .value = TextList{.bind = member<&Config::block, &Config::Block::allow>(), .syntax = &kFilePath},
            .help = "Allow lists, in the block lists' formats: a name in one (or under one) is never blocked.",
            .example = R"(["/etc/greenfinch/allowlist.txt"])",
        },
        {
            .section = "block",
            .name = "answer",
            .value = Choice<policy::BlockAnswer>{.bind = member<&Config::block, &Config::Block::answer>(),
                                                 .fallback = policy::BlockAnswer::nxdomain,
                                                 .names = kBlockAnswers},
            .help = "What a query for a blocked name gets: nxdomain; null (A 0.0.0.0, AAAA ::, NODATA for other "
                    "types); refused.",
            .details = "null suits clients that retry another resolver on NXDOMAIN.",
        },
        {
            .section = "cache",
            .name = "backend",
            .value = Choice<CacheBackend>{.bind = member<&Config::cache, &Config::Cache::backend>(),
                                          .fallback = CacheBackend::memory,
                                          .names = kBackends},
            .apply = Apply::on_restart,
            .help = "memory: each daemon keeps its own cache; redis: memory in front of a Redis shared by a fleet.",
            .details = "With redis the memory cache stays in front (popular names never leave the process) and the "
                       "Redis behind it is shared by every daemon pointed at it, and survives restarts. See the "
                       "[redis] section.",
            .flag = {.name = "--cache"},
        },
        {
            .section = "cache",
            .name = "max_entries",
            .value = Whole{.bind = member<&Config::cache, &Config::Cache::max_entries>(),
                           .fallback = 100000,
                           .range = kPositive},
            .help = "Answers kept in memory.",
            .details = "Popular names survive scans of one-off names (segmented LRU). Lowered by a reload, the cache "
                       "shrinks as answers are next stored.",
        },
        {
            .section = "cache",
            .name = "min_ttl",
            .value = Secs{.bind = member<&Config::cache, &Config::Cache::min_ttl>(), .fallback = seconds(0)},
            .help = "The shortest TTL an answer is cached (and served) with, in seconds.",
        },
        {
            .section = "cache",
            .name = "max_ttl",
            .value = Secs{.bind = member<&Config::cache, &Config::Cache::max_ttl>(), .fallback = seconds(86400)},
            .help = "The longest TTL an answer is cached (and served) with, in seconds.",
        },
        {
            .section = "cache",
            .name = "negative_ttl_max",
            .value =
                Secs{.bind = member<&Config::cache, &Config::Cache::negative_ttl_max>(), .fallback = seconds(3600)},
            .help = "NXDOMAIN and NODATA are cached for the SOA's negative TTL (RFC 2308), at most this long, in "
                    "seconds.",
        },
        {
            .section = "cache",
            .name = "servfail_ttl",
            .value = Secs{.bind = member<&Config::cache, &Config::Cache::servfail_ttl>(), .fallback = seconds(5)},
            .help = "SERVFAIL is cached this long, in seconds, so that a broken zone is not asked again on every "
                    "query; 0: never.",
        },
        {
            .section = "cache",
            .name = "serve_stale",
            .value = Secs{.bind = member<&Config::cache, &Config::Cache::serve_stale>(), .fallback = seconds(0)},
            .help = "Seconds an expired answer is kept and served (with TTL 30) when the upstream fails or times out "
                    "(RFC 8767); 0: off.",
        },
        {
            .section = "cache",
            .name = "stale_client_timeout_ms",
            .value = Millis{.bind = member<&Config::cache, &Config::Cache::stale_client_timeout>(),
                            .fallback = milliseconds(1800)},
            .help = "How long a client whose answer is stale (within serve_stale) waits for its refresh before it "
                    "gets the stale answer, in milliseconds.",
            .details = "The refresh goes on in the background and its answer replaces the stale one (RFC 8767's "
                       "client response timer). 0: the stale answer at once. At or above upstream.timeout_ms the "
                       "client waits for the refresh as for a miss.",
        },
        {
            .section = "cache",
            .name = "prefetch",
            .value = Boolean{.bind = member<&Config::cache, &Config::Cache::prefetch>(), .fallback = true},
            .help = "Refresh a popular answer in the background when it is hit in the last 10% of its TTL.",
        },
        {
            .section = "redis",
            .name = "address",
            .value = Text{.bind = member<&Config::redis, &Config::Redis::address>(),
                          .fallback = "127.0.0.1:6379",
                          .syntax = &kRedisAddress,
                          .blank = Blank::refused},
            .apply = Apply::on_restart,
            .help = "The Redis of cache.backend = \"redis\".",
            .details = "A host name is looked up before every connection attempt, as the system resolves names. Set "
                       "Redis' own maxmemory and maxmemory-policy allkeys-lru: every key also expires on its own.",
            .flag = {.name = "--redis", .value_name = "ADDR"},
        },
        {
            .section = "redis",
            .name = "password",
            .value = Text{.bind = member<&Config::redis, &Config::Redis::password>()},
            .apply = Apply::on_restart,
            .help = "The AUTH password (Redis' requirepass); empty: none.",
        },
        {
            .section = "redis",
            .name = "db",
            .value = Whole{.bind = member<&Config::redis, &Config::Redis::db>(), .fallback = 0},
            .apply = Apply::on_restart,
            .help = "The database number, selected when it is not 0.",
        },
        {
            .section = "redis",
            .name = "prefix",
            .value = Text{.bind = member<&Config::redis, &Config::Redis::prefix>(),
                          .fallback = "greenfinch:v1:",
                          .blank = Blank::refused},
            .apply = Apply::on_restart,
            .help = "Put before every key.",
            .details = "Daemons that should share answers use the same prefix; change the version to start afresh.",
        },
        {
            .section = "redis",
            .name = "timeout_ms",
            .value = Millis{.bind = member<&Config::redis, &Config::Redis::timeout>(),
                            .fallback = milliseconds(50),
                            .range = kPositive},
            .apply = Apply::on_restart,
            .help = "The longest a query waits for Redis, in milliseconds.",
            .details = "A slow or dead Redis costs a query at most this; after a few timeouts in a row greenfinch "
                       "stops asking it and reconnects in the background.",
        },
        {
            .section = "metrics",
            .name = "listen",
            .value = Text{.bind = member<&Config::metrics, &Config::Metrics::listen>(), .syntax = &kListenAddress},
            .apply = Apply::on_restart,
            .help = "Where greenfinch serves its HTTP endpoint; empty: nowhere.",
            .details = "GET /metrics (Prometheus text) answers anyone who can reach it; POST /cache/flush (all of it) "
                       "and POST /cache/flush?name=NAME (one name), from memory and Redis, answer loopback clients "
                       "only.",
            .example = R"("127.0.0.1:9153")",
            .flag = {.name = "--metrics", .value_name = "ADDR:PORT"},
        },
        {
            .section = "log",
            .name = "level",
            .value =
                Choice<LogLevel>{
                    .bind = member<&Config::log, &Config::Log::level>(), .fallback = LogLevel::info, .names = kLevels},
            .help = "The least severe messages that are logged.",
            .flag = {.name = "--log-level", .value_name = "LEVEL"},
        },
        {
            .section = "log",
            .name = "queries",
            .value = Boolean{.bind = member<&Config::log, &Config::Log::queries>(), .fallback = false},
            .help = "One info line per query: client, transport, name, type, rcode, where the answer came from "
                    "(cache, upstream, stale, local) and the time taken.",
            .details = "Off by default: at full load it costs more than answering from cache.",
        },
    };
    return settings;
}

// What one [[forward]] entry holds.
const std::vector<SettingOf<ForwardZone>>& forward_keys() {
    static const std::vector<SettingOf<ForwardZone>> keys = {
        {
            .section = "forward",
            .name = "zone",
            .value =
                TextOf<ForwardZone>{
                    .bind = field<&ForwardZone::zone>(), .syntax = &kDomainName, .blank = Blank::refused},
            .presence = Presence::required,
            .help = "The zone: this name and every name under it.",
            .details = "Case and a final dot make no difference. When zones nest, a name goes to the deepest one it "
                       "lies in.",
            .example = R"("corp.example")",
        },
        {
            .section = "forward",
            .name = "servers",
            .value =
                TextListOf<ForwardZone>{
                    .bind = field<&ForwardZone::servers>(), .syntax = &kUpstreamAddress, .blank = Blank::refused},
            .presence = Presence::required,
            .help = "The zone's resolvers, tried in order, with failover as for upstream.servers.",
            .example = R"(["10.1.0.53", "[2001:db8::53]:5353"])",
        },
        {
            .section = "forward",
            .name = "timeout_ms",
            .value = DurationOf<ForwardZone, milliseconds>{.bind = field<&ForwardZone::timeout>()},
            .help = "The whole time one of the zone's queries may spend on a miss, as upstream.timeout_ms does for "
                    "the others, in milliseconds; 0: upstream.timeout_ms.",
        },
    };
    return keys;
}

constexpr std::array<RuleOf<ForwardZone>, 1> kForwardRules{{
    {.key = "zone",
     .problem = "must not be the root (\".\"): that is what upstream.servers are for",
     .holds = [](const ForwardZone& f) { return f.zone.empty() || f.name() != "."; }},
}};

const std::vector<Repeated>& all_repeated() {
    static const std::vector<Repeated> sections = {
        RepeatedSection<ForwardZone>{
            .name = "forward",
            .bind = field<&Config::forward>(),
            .keys = forward_keys(),
            .rules = kForwardRules,
            .unique = {.key = "zone",
                       .identity = [](const ForwardZone& f) { return f.name(); },
                       .rule = "one [[forward]] per zone"},
            .max_entries = 65535,  // the policy numbers the zones in 16 bits, 0 being upstream.servers
            .after = "upstream",
            .help = "Split DNS: the names at or under a zone go to the zone's own servers instead of "
                    "upstream.servers.",
            .details = "Their answers are cached in memory, not in Redis (the daemons sharing it may send the zone "
                       "elsewhere), and keep private addresses despite local.rebind_protection; a block list still "
                       "blocks names in them. A reload that changes a zone's servers drops its cached answers.",
        },
    };
    return sections;
}

constexpr std::array<Rule, 1> kRules{{
    {.key = "cache.min_ttl",
     .problem = "must not exceed cache.max_ttl",
     .holds = [](const Config& c) { return c.cache.min_ttl <= c.cache.max_ttl; }},
}};

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string range_problem(const Range& r, std::int64_t v) {
    if (v >= r.min && v <= r.max) return {};
    if (r.max == kMaxWhole) return "must be at least " + std::to_string(r.min);
    return "must be " + std::to_string(r.min) + " to " + std::to_string(r.max);
}

std::string range_text(const Range& r) {
    if (r.min == 0 && r.max == kMaxWhole) return {};
    if (r.max == kMaxWhole) return "at least " + std::to_string(r.min);
    return std::to_string(r.min) + " to " + std::to_string(r.max);
}

std::optional<std::string> number_problem(std::int64_t n) {
    if (n < 0 || n > kMaxWhole) return expected(Shape::whole);
    return std::nullopt;
}

// A kind's value in its owner, so that the operations alike for every kind are written once.
template <class Kind, class Owner>
auto& stored(const Kind& kind, Owner& o) {
    return kind.bind.of(o);
}
template <class Kind, class Owner>
const auto& stored(const Kind& kind, const Owner& o) {
    return kind.bind.in(o);
}

template <class E>
std::string_view choice_name(std::span<const Named<E>> names, E value) {
    for (const auto& n : names) {
        if (n.value == value) return n.name;
    }
    return "?";
}

std::string list_literal(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ", ") + quoted(items[i]);
    return out + "]";
}

// A value of a kind as TOML writes it.
std::string value_literal(bool v) { return v ? "true" : "false"; }
std::string value_literal(int v) { return std::to_string(v); }
template <class Rep, class Period>
std::string value_literal(std::chrono::duration<Rep, Period> v) {
    return std::to_string(v.count());
}
std::string value_literal(const std::string& v) { return quoted(v); }
std::string value_literal(const std::vector<std::string>& v) { return list_literal(v); }

template <class Owner>
std::string accepted_by_kind(const SettingOf<Owner>& s) {
    return std::visit(Overloaded{
                          [](const BooleanOf<Owner>&) -> std::string { return {}; },
                          [](const WholeOf<Owner>& k) { return range_text(k.range); },
                          []<class D>(const DurationOf<Owner, D>& k) { return range_text(k.range); },
                          [](const TextOf<Owner>& k) -> std::string {
                              std::string text = k.syntax ? std::string(k.syntax->name) : "";
                              if (k.blank == Blank::refused) return text.empty() ? "not empty" : text;
                              if (k.syntax) text += "; empty: none";
                              return text;
                          },
                          [](const TextListOf<Owner>& k) -> std::string {
                              std::string text = k.syntax ? "each " + std::string(k.syntax->name) : "";
                              if (k.blank == Blank::refused)
                                  text += (text.empty() ? "" : "; ") + std::string("at least one");
                              return text;
                          },
                          []<class E>(const ChoiceOf<Owner, E>& k) { return choice_list(k.names); },
                      },
                      s.value);
}

void append_clause(std::string& out, std::string_view clause) {
    if (clause.empty()) return;
    if (!out.empty()) out += "; ";
    out += clause;
}

}  // namespace

std::span<const Setting> table() { return all(); }
std::span<const Rule> rules() { return kRules; }

std::vector<std::string_view> sections() {
    std::vector<std::string_view> out;
    for (const auto& s : all()) {
        if (std::find(out.begin(), out.end(), s.section) == out.end()) out.push_back(s.section);
    }
    return out;
}

const Setting* find(std::string_view section, std::string_view name) {
    for (const auto& s : all()) {
        if (s.section == section && s.name == name) return &s;
    }
    return nullptr;
}

const Setting* find(std::string_view key) {
    const auto dot = key.find('.');
    if (dot == std::string_view::npos) return nullptr;
    return find(key.substr(0, dot), key.substr(dot + 1));
}

std::span<const Repeated> repeated() { return all_repeated(); }

std::string_view name_of(const Repeated& r) {
    return std::visit([](const auto& section) { return section.name; }, r);
}

const Repeated* find_repeated(std::string_view name) {
    for (const auto& r : all_repeated()) {
        if (name_of(r) == name) return &r;
    }
    return nullptr;
}

std::string entry_key(std::string_view section, std::size_t index, std::string_view name) {
    return std::string(section) + "[" + std::to_string(index) + "]." + std::string(name);
}

template <class Owner>
Shape shape(const SettingOf<Owner>& s) {
    return std::visit(Overloaded{
                          [](const BooleanOf<Owner>&) { return Shape::boolean; },
                          [](const WholeOf<Owner>&) { return Shape::whole; },
                          []<class D>(const DurationOf<Owner, D>&) { return Shape::whole; },
                          [](const TextOf<Owner>&) { return Shape::text; },
                          [](const TextListOf<Owner>&) { return Shape::text_list; },
                          []<class E>(const ChoiceOf<Owner, E>&) { return Shape::text; },
                      },
                      s.value);
}

std::string expected(Shape shape) {
    switch (shape) {
        case Shape::boolean: return "expected true or false";
        case Shape::whole: return "expected a whole number from 0 to " + std::to_string(kMaxWhole);
        case Shape::text: return "expected a string";
        case Shape::text_list: return "expected an array of strings";
    }
    return {};
}

template <class Owner>
std::optional<std::string> assign(const SettingOf<Owner>& s, Written written, Owner& owner) {
    return std::visit(Overloaded{
                          [&](const BooleanOf<Owner>& k) -> std::optional<std::string> {
                              stored(k, owner) = std::get<bool>(written);
                              return std::nullopt;
                          },
                          [&](const WholeOf<Owner>& k) -> std::optional<std::string> {
                              const auto n = std::get<std::int64_t>(written);
                              if (auto p = number_problem(n)) return p;
                              stored(k, owner) = static_cast<int>(n);
                              return std::nullopt;
                          },
                          [&]<class D>(const DurationOf<Owner, D>& k) -> std::optional<std::string> {
                              const auto n = std::get<std::int64_t>(written);
                              if (auto p = number_problem(n)) return p;
                              stored(k, owner) = D(n);
                              return std::nullopt;
                          },
                          [&](const TextOf<Owner>& k) -> std::optional<std::string> {
                              stored(k, owner) = std::move(std::get<std::string>(written));
                              return std::nullopt;
                          },
                          [&](const TextListOf<Owner>& k) -> std::optional<std::string> {
                              stored(k, owner) = std::move(std::get<std::vector<std::string>>(written));
                              return std::nullopt;
                          },
                          [&]<class E>(const ChoiceOf<Owner, E>& k) -> std::optional<std::string> {
                              const auto& text = std::get<std::string>(written);
                              for (const auto& n : k.names) {
                                  if (n.name == text) {
                                      stored(k, owner) = n.value;
                                      return std::nullopt;
                                  }
                              }
                              return quoted(text) + " is not " + choice_list(k.names);
                          },
                      },
                      s.value);
}

template <class Owner>
void reset(const SettingOf<Owner>& s, Owner& owner) {
    std::visit([&](const auto& k) { stored(k, owner) = k.fallback; }, s.value);
}

template <class Owner>
void copy(const SettingOf<Owner>& s, const Owner& from, Owner& to) {
    std::visit([&](const auto& k) { stored(k, to) = stored(k, from); }, s.value);
}

template <class Owner>
bool same(const SettingOf<Owner>& s, const Owner& a, const Owner& b) {
    return std::visit([&](const auto& k) { return stored(k, a) == stored(k, b); }, s.value);
}

template <class Owner>
std::optional<std::string> problem(const SettingOf<Owner>& s, const Owner& owner) {
    auto none_if_empty = [](std::string p) -> std::optional<std::string> {
        if (p.empty()) return std::nullopt;
        return p;
    };
    return std::visit(
        Overloaded{
            [](const BooleanOf<Owner>&) -> std::optional<std::string> { return std::nullopt; },
            [&](const WholeOf<Owner>& k) { return none_if_empty(range_problem(k.range, stored(k, owner))); },
            [&]<class D>(const DurationOf<Owner, D>& k) {
                return none_if_empty(range_problem(k.range, stored(k, owner).count()));
            },
            [&](const TextOf<Owner>& k) -> std::optional<std::string> {
                const auto& v = stored(k, owner);
                if (v.empty()) {
                    if (k.blank == Blank::refused) return "must not be empty";
                    return std::nullopt;
                }
                if (k.syntax && !k.syntax->accepts(v)) return quoted(v) + " is not " + std::string(k.syntax->name);
                return std::nullopt;
            },
            [&](const TextListOf<Owner>& k) -> std::optional<std::string> {
                const auto& v = stored(k, owner);
                if (v.empty() && k.blank == Blank::refused) {
                    return "at least one " + std::string(k.syntax ? k.syntax->noun : "item") + " is needed";
                }
                for (const auto& item : v) {
                    if (k.syntax && !k.syntax->accepts(item)) {
                        return quoted(item) + " is not " + std::string(k.syntax->name);
                    }
                }
                return std::nullopt;
            },
            // A choice holds only choices.
            []<class E>(const ChoiceOf<Owner, E>&) -> std::optional<std::string> { return std::nullopt; },
        },
        s.value);
}

template <class Owner>
std::string literal(const SettingOf<Owner>& s, const Owner& owner) {
    return std::visit(
        Overloaded{
            [&]<class E>(const ChoiceOf<Owner, E>& k) { return quoted(choice_name(k.names, stored(k, owner))); },
            [&](const auto& k) { return value_literal(stored(k, owner)); },
        },
        s.value);
}

template <class Owner>
std::string default_literal(const SettingOf<Owner>& s) {
    return std::visit(Overloaded{
                          []<class E>(const ChoiceOf<Owner, E>& k) { return quoted(choice_name(k.names, k.fallback)); },
                          [](const auto& k) { return value_literal(k.fallback); },
                      },
                      s.value);
}

template <class Owner>
std::string type_name(const SettingOf<Owner>& s) {
    return std::visit(Overloaded{
                          [](const BooleanOf<Owner>&) -> std::string { return "boolean"; },
                          [](const WholeOf<Owner>&) -> std::string { return "integer"; },
                          [](const DurationOf<Owner, milliseconds>&) -> std::string { return "integer, milliseconds"; },
                          [](const DurationOf<Owner, seconds>&) -> std::string { return "integer, seconds"; },
                          [](const TextOf<Owner>&) -> std::string { return "string"; },
                          [](const TextListOf<Owner>&) -> std::string { return "array of strings"; },
                          []<class E>(const ChoiceOf<Owner, E>&) -> std::string { return "string"; },
                      },
                      s.value);
}

std::string accepted(const Setting& s) {
    std::string out = accepted_by_kind(s);
    const std::string key = s.key();
    for (const auto& r : kRules) {
        if (r.key == key) append_clause(out, r.problem);
    }
    return out;
}

template <class Entry>
std::string accepted(const RepeatedSection<Entry>& section, const SettingOf<Entry>& s) {
    std::string out = accepted_by_kind(s);
    for (const auto& r : section.rules) {
        if (r.key == s.name) append_clause(out, r.problem);
    }
    if (section.unique.key == s.name) append_clause(out, section.unique.rule);
    return out;
}

bool repeatable(const Setting& s) { return std::holds_alternative<TextList>(s.value); }

std::string flag_argument(const Setting& s) {
    if (!s.flag.value_name.empty()) return std::string(s.flag.value_name);
    return std::visit(Overloaded{
                          []<class E>(const Choice<E>& k) {
                              std::string names;
                              for (const auto& n : k.names) names += (names.empty() ? "" : "|") + std::string(n.name);
                              return names;
                          },
                          [](const auto&) { return std::string("VALUE"); },
                      },
                      s.value);
}

// The operations exist for the table's keys and for each repeated section's.
template Shape shape<Config>(const SettingOf<Config>&);
template std::optional<std::string> assign<Config>(const SettingOf<Config>&, Written, Config&);
template void reset<Config>(const SettingOf<Config>&, Config&);
template void copy<Config>(const SettingOf<Config>&, const Config&, Config&);
template bool same<Config>(const SettingOf<Config>&, const Config&, const Config&);
template std::optional<std::string> problem<Config>(const SettingOf<Config>&, const Config&);
template std::string literal<Config>(const SettingOf<Config>&, const Config&);
template std::string default_literal<Config>(const SettingOf<Config>&);
template std::string type_name<Config>(const SettingOf<Config>&);
template Shape shape<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&);
template std::optional<std::string> assign<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&, Written,
                                                                Config::ForwardZone&);
template void reset<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&, Config::ForwardZone&);
template void copy<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&, const Config::ForwardZone&,
                                        Config::ForwardZone&);
template bool same<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&, const Config::ForwardZone&,
                                        const Config::ForwardZone&);
template std::optional<std::string> problem<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&,
                                                                 const Config::ForwardZone&);
template std::string literal<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&, const Config::ForwardZone&);
template std::string default_literal<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&);
template std::string type_name<Config::ForwardZone>(const SettingOf<Config::ForwardZone>&);
template std::string accepted<Config::ForwardZone>(const RepeatedSection<Config::ForwardZone>&,
                                                   const SettingOf<Config::ForwardZone>&);

}  // namespace settings

std::string_view to_string(CacheBackend backend) {
    return settings::choice_name<CacheBackend>(settings::kBackends, backend);
}
std::string_view to_string(LogLevel level) { return settings::choice_name<LogLevel>(settings::kLevels, level); }
std::string_view to_string(policy::BlockAnswer answer) {
    return settings::choice_name<policy::BlockAnswer>(settings::kBlockAnswers, answer);
}

}  // namespace greenfinch::daemon
