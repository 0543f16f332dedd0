#include "daemon/ops/settings.hpp"

#include "cache/redis_client.hpp"
#include "core/io/socket_address.hpp"

#include <algorithm>
#include <array>

namespace greenfinch::daemon {
namespace settings {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Millis = Duration<milliseconds>;
using Secs = Duration<seconds>;

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

// A kind's value in a Config, so that the operations alike for every kind are written once.
template <class Kind>
auto& stored(const Kind& kind, Config& c) {
    return kind.bind.of(c);
}
template <class Kind>
const auto& stored(const Kind& kind, const Config& c) {
    return kind.bind.in(c);
}

template <class E>
std::string_view name_of(std::span<const Named<E>> names, E value) {
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

}  // namespace

std::string Setting::key() const { return std::string(section) + "." + std::string(name); }

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

Shape shape(const Setting& s) {
    return std::visit(Overloaded{
                          [](const Boolean&) { return Shape::boolean; },
                          [](const Whole&) { return Shape::whole; },
                          [](const Millis&) { return Shape::whole; },
                          [](const Secs&) { return Shape::whole; },
                          [](const Text&) { return Shape::text; },
                          [](const TextList&) { return Shape::text_list; },
                          [](const Choice<CacheBackend>&) { return Shape::text; },
                          [](const Choice<LogLevel>&) { return Shape::text; },
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

std::optional<std::string> assign(const Setting& s, Written written, Config& config) {
    return std::visit(Overloaded{
                          [&](const Boolean& k) -> std::optional<std::string> {
                              stored(k, config) = std::get<bool>(written);
                              return std::nullopt;
                          },
                          [&](const Whole& k) -> std::optional<std::string> {
                              const auto n = std::get<std::int64_t>(written);
                              if (auto p = number_problem(n)) return p;
                              stored(k, config) = static_cast<int>(n);
                              return std::nullopt;
                          },
                          [&]<class D>(const Duration<D>& k) -> std::optional<std::string> {
                              const auto n = std::get<std::int64_t>(written);
                              if (auto p = number_problem(n)) return p;
                              stored(k, config) = D(n);
                              return std::nullopt;
                          },
                          [&](const Text& k) -> std::optional<std::string> {
                              stored(k, config) = std::move(std::get<std::string>(written));
                              return std::nullopt;
                          },
                          [&](const TextList& k) -> std::optional<std::string> {
                              stored(k, config) = std::move(std::get<std::vector<std::string>>(written));
                              return std::nullopt;
                          },
                          [&]<class E>(const Choice<E>& k) -> std::optional<std::string> {
                              const auto& text = std::get<std::string>(written);
                              for (const auto& n : k.names) {
                                  if (n.name == text) {
                                      stored(k, config) = n.value;
                                      return std::nullopt;
                                  }
                              }
                              return quoted(text) + " is not " + choice_list(k.names);
                          },
                      },
                      s.value);
}

void reset(const Setting& s, Config& config) {
    std::visit([&](const auto& k) { stored(k, config) = k.fallback; }, s.value);
}

void copy(const Setting& s, const Config& from, Config& to) {
    std::visit([&](const auto& k) { stored(k, to) = stored(k, from); }, s.value);
}

bool same(const Setting& s, const Config& a, const Config& b) {
    return std::visit([&](const auto& k) { return stored(k, a) == stored(k, b); }, s.value);
}

std::optional<std::string> problem(const Setting& s, const Config& config) {
    auto none_if_empty = [](std::string p) -> std::optional<std::string> {
        if (p.empty()) return std::nullopt;
        return p;
    };
    return std::visit(
        Overloaded{
            [](const Boolean&) -> std::optional<std::string> { return std::nullopt; },
            [&](const Whole& k) { return none_if_empty(range_problem(k.range, stored(k, config))); },
            [&]<class D>(const Duration<D>& k) {
                return none_if_empty(range_problem(k.range, stored(k, config).count()));
            },
            [&](const Text& k) -> std::optional<std::string> {
                const auto& v = stored(k, config);
                if (v.empty()) {
                    if (k.blank == Blank::refused) return "must not be empty";
                    return std::nullopt;
                }
                if (k.syntax && !k.syntax->accepts(v)) return quoted(v) + " is not " + std::string(k.syntax->name);
                return std::nullopt;
            },
            [&](const TextList& k) -> std::optional<std::string> {
                const auto& v = stored(k, config);
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
            [](const auto&) -> std::optional<std::string> { return std::nullopt; },  // a choice holds only choices
        },
        s.value);
}

std::string literal(const Setting& s, const Config& config) {
    return std::visit(Overloaded{
                          [&](const Boolean& k) -> std::string { return stored(k, config) ? "true" : "false"; },
                          [&](const Whole& k) { return std::to_string(stored(k, config)); },
                          [&]<class D>(const Duration<D>& k) { return std::to_string(stored(k, config).count()); },
                          [&](const Text& k) { return quoted(stored(k, config)); },
                          [&](const TextList& k) { return list_literal(stored(k, config)); },
                          [&]<class E>(const Choice<E>& k) { return quoted(name_of(k.names, stored(k, config))); },
                      },
                      s.value);
}

std::string default_literal(const Setting& s) { return literal(s, Config{}); }

std::string type_name(const Setting& s) {
    return std::visit(Overloaded{
                          [](const Boolean&) -> std::string { return "boolean"; },
                          [](const Whole&) -> std::string { return "integer"; },
                          [](const Millis&) -> std::string { return "integer, milliseconds"; },
                          [](const Secs&) -> std::string { return "integer, seconds"; },
                          [](const Text&) -> std::string { return "string"; },
                          [](const TextList&) -> std::string { return "array of strings"; },
                          [](const auto&) -> std::string { return "string"; },
                      },
                      s.value);
}

std::string accepted(const Setting& s) {
    std::string out = std::visit(Overloaded{
                                     [](const Boolean&) -> std::string { return {}; },
                                     [](const Whole& k) { return range_text(k.range); },
                                     [](const Millis& k) { return range_text(k.range); },
                                     [](const Secs& k) { return range_text(k.range); },
                                     [](const Text& k) -> std::string {
                                         std::string text = k.syntax ? std::string(k.syntax->name) : "";
                                         if (k.blank == Blank::refused) return text.empty() ? "not empty" : text;
                                         if (k.syntax) text += "; empty: none";
                                         return text;
                                     },
                                     [](const TextList& k) -> std::string {
                                         std::string text = k.syntax ? "each " + std::string(k.syntax->name) : "";
                                         if (k.blank == Blank::refused)
                                             text += (text.empty() ? "" : "; ") + std::string("at least one");
                                         return text;
                                     },
                                     [](const auto& k) { return choice_list(k.names); },
                                 },
                                 s.value);
    const std::string key = s.key();
    for (const auto& r : kRules) {
        if (r.key == key) out += (out.empty() ? "" : "; ") + std::string(r.problem);
    }
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

}  // namespace settings

std::string_view to_string(CacheBackend backend) {
    return settings::name_of<CacheBackend>(settings::kBackends, backend);
}
std::string_view to_string(LogLevel level) { return settings::name_of<LogLevel>(settings::kLevels, level); }

}  // namespace greenfinch::daemon
