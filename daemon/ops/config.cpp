#include "daemon/ops/config.hpp"

#include "cache/redis_client.hpp"
#include "core/io/socket_address.hpp"

#include <toml++/toml.h>

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>

#include <array>
#include <fstream>
#include <sstream>
#include <string_view>

namespace greenfinch::daemon {

namespace {

std::string where(const std::string& path, const toml::node& node, std::string_view key) {
    return path + ":" + std::to_string(node.source().begin.line) + ": " + std::string(key);
}

// Reads table[key] into `out` if present, noting its line in `lines`; a value of the wrong type is an error.
template <class T>
void read(const std::string& path, const toml::table& table, std::string_view section, std::string_view key, T& out,
          KeyLines& lines) {
    const toml::node* node = table.get(key);
    if (!node) return;
    const std::string name = std::string(section) + "." + std::string(key);
    lines[name] = node->source().begin.line;
    if constexpr (std::is_same_v<T, bool>) {
        if (!node->is_boolean()) throw ConfigError(where(path, *node, name) + ": expected true or false");
        out = *node->value<bool>();
    } else if constexpr (std::is_same_v<T, int>) {
        auto v = node->value<std::int64_t>();
        if (!node->is_integer() || !v || *v < 0 || *v > 1'000'000'000) {
            throw ConfigError(where(path, *node, name) + ": expected a whole number from 0 to 1000000000");
        }
        out = static_cast<int>(*v);
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!node->is_string()) throw ConfigError(where(path, *node, name) + ": expected a string");
        out = *node->value<std::string>();
    } else {
        const auto* array = node->as_array();
        if (!array) throw ConfigError(where(path, *node, name) + ": expected an array of strings");
        out.clear();
        for (const auto& item : *array) {
            if (!item.is_string()) throw ConfigError(where(path, item, name) + ": expected an array of strings");
            out.push_back(*item.value<std::string>());
        }
    }
}

void reject_unknown(const std::string& path, const toml::table& table, std::string_view section,
                    std::initializer_list<std::string_view> known) {
    for (const auto& [key, node] : table) {
        bool ok = false;
        for (auto k : known) ok = ok || key.str() == k;
        if (!ok) {
            const std::string name = section.empty() ? std::string(key.str()) : std::string(section) + "." + std::string(key.str());
            throw ConfigError(where(path, node, name) + ": unknown key");
        }
    }
}

const toml::table& section(const std::string& path, const toml::table& root, std::string_view name,
                           const toml::table& empty) {
    const toml::node* node = root.get(name);
    if (!node) return empty;
    if (!node->is_table()) throw ConfigError(where(path, *node, name) + ": expected a section [" + std::string(name) + "]");
    return *node->as_table();
}

}  // namespace

Config load_config(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    Config c;
    KeyLines lines;
    const toml::table empty;
    reject_unknown(path, root, "", {"server", "upstream", "cache", "redis", "metrics", "log"});
    const auto& server = section(path, root, "server", empty);
    reject_unknown(path, server, "server",
                   {"listen", "workers", "max_inflight", "max_tcp_connections", "tcp_idle_timeout_ms", "user"});
    read(path, server, "server", "user", c.server.user, lines);
    read(path, server, "server", "workers", c.server.workers, lines);
    read(path, server, "server", "listen", c.server.listen, lines);
    read(path, server, "server", "max_inflight", c.server.max_inflight, lines);
    read(path, server, "server", "max_tcp_connections", c.server.max_tcp_connections, lines);
    read(path, server, "server", "tcp_idle_timeout_ms", c.server.tcp_idle_timeout_ms, lines);
    const auto& upstream = section(path, root, "upstream", empty);
    reject_unknown(path, upstream, "upstream", {"servers", "timeout_ms", "max_inflight"});
    read(path, upstream, "upstream", "servers", c.upstream.servers, lines);
    read(path, upstream, "upstream", "timeout_ms", c.upstream.timeout_ms, lines);
    read(path, upstream, "upstream", "max_inflight", c.upstream.max_inflight, lines);
    const auto& cache = section(path, root, "cache", empty);
    reject_unknown(path, cache, "cache",
                   {"backend", "max_entries", "min_ttl", "max_ttl", "negative_ttl_max", "servfail_ttl", "serve_stale",
                    "stale_client_timeout_ms",                     "prefetch"});
    read(path, cache, "cache", "backend", c.cache.backend, lines);
    read(path, cache, "cache", "max_entries", c.cache.max_entries, lines);
    read(path, cache, "cache", "min_ttl", c.cache.min_ttl, lines);
    read(path, cache, "cache", "max_ttl", c.cache.max_ttl, lines);
    read(path, cache, "cache", "negative_ttl_max", c.cache.negative_ttl_max, lines);
    read(path, cache, "cache", "servfail_ttl", c.cache.servfail_ttl, lines);
    read(path, cache, "cache", "serve_stale", c.cache.serve_stale, lines);
    read(path, cache, "cache", "stale_client_timeout_ms", c.cache.stale_client_timeout_ms, lines);
    read(path, cache, "cache", "prefetch", c.cache.prefetch, lines);
    const auto& redis = section(path, root, "redis", empty);
    reject_unknown(path, redis, "redis", {"address", "password", "db", "prefix", "timeout_ms"});
    read(path, redis, "redis", "address", c.redis.address, lines);
    read(path, redis, "redis", "password", c.redis.password, lines);
    read(path, redis, "redis", "db", c.redis.db, lines);
    read(path, redis, "redis", "prefix", c.redis.prefix, lines);
    read(path, redis, "redis", "timeout_ms", c.redis.timeout_ms, lines);
    const auto& metrics = section(path, root, "metrics", empty);
    reject_unknown(path, metrics, "metrics", {"listen"});
    read(path, metrics, "metrics", "listen", c.metrics.listen, lines);
    const auto& log = section(path, root, "log", empty);
    reject_unknown(path, log, "log", {"level", "queries"});
    read(path, log, "log", "level", c.log.level, lines);
    read(path, log, "log", "queries", c.log.queries, lines);
    validate(c, path, lines);
    return c;
}

void validate(const Config& c, const std::string& origin, const KeyLines& lines) {
    const auto fail = [&](const std::string& key, const std::string& problem) {
        const auto line = lines.find(key);
        throw ConfigError(origin + (line == lines.end() ? "" : ":" + std::to_string(line->second)) + ": " + key + ": " +
                          problem);
    };
    if (c.server.listen.empty()) fail("server.listen", "at least one address is needed");
    for (const auto& a : c.server.listen) {
        if (!core::SocketAddress::parse(a)) fail("server.listen", "\"" + a + "\" is not ADDR:PORT (IPv6 in brackets: [::1]:5335)");
    }
    for (const auto& a : c.upstream.servers) {
        if (!core::SocketAddress::parse(a, 53)) {
            fail("upstream.servers", "\"" + a + "\" is not ADDR[:PORT] (IPv6 with a port: [::1]:53)");
        }
    }
    if (c.upstream.timeout_ms < 1) fail("upstream.timeout_ms", "must be at least 1");
    if (c.upstream.max_inflight < 1) fail("upstream.max_inflight", "must be at least 1");
    if (c.cache.max_entries < 1) fail("cache.max_entries", "must be at least 1");
    if (c.cache.min_ttl > c.cache.max_ttl) fail("cache.min_ttl", "must not exceed cache.max_ttl");
    if (c.cache.backend != "memory" && c.cache.backend != "redis") {
        fail("cache.backend", "\"" + c.cache.backend + "\" is not memory or redis");
    }
    if (!cache::parse_redis_address(c.redis.address)) {
        fail("redis.address", "\"" + c.redis.address + "\" is not IP:PORT, [IPv6]:PORT, HOST:PORT or unix:/path");
    }
    if (!c.metrics.listen.empty() && !core::SocketAddress::parse(c.metrics.listen)) {
        fail("metrics.listen", "\"" + c.metrics.listen + "\" is not ADDR:PORT");
    }
    if (c.redis.prefix.empty()) fail("redis.prefix", "must not be empty");
    if (c.redis.timeout_ms < 1) fail("redis.timeout_ms", "must be at least 1");
    if (c.server.workers < 1 || c.server.workers > 256) fail("server.workers", "must be 1 to 256");
    if (c.server.max_inflight < 1) fail("server.max_inflight", "must be at least 1");
    if (c.server.max_tcp_connections < 1) fail("server.max_tcp_connections", "must be at least 1");
    if (c.server.tcp_idle_timeout_ms < 1) fail("server.tcp_idle_timeout_ms", "must be at least 1");
    constexpr std::array<std::string_view, 7> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool known = false;
    for (auto l : levels) known = known || c.log.level == l;
    if (!known) fail("log.level", "\"" + c.log.level + "\" is not one of trace, debug, info, warn, error, critical, off");
}

std::vector<std::string> resolv_conf_nameservers(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword, address;
        if (words >> keyword >> address && keyword == "nameserver") {
            if (auto a = core::SocketAddress::parse(address, 53)) out.push_back(a->to_string());
        }
    }
    return out;
}

void check_not_forwarding_to_self(const std::vector<std::string>& listen, const std::vector<std::string>& upstreams,
                                  const std::vector<core::SocketAddress>& own_addresses) {
    for (const auto& u : upstreams) {
        const auto up = core::SocketAddress::parse(u, 53);
        if (!up) continue;
        core::SocketAddress up_host = *up;
        up_host.set_port(0);
        const bool ours = up->is_loopback() ||
                          std::find(own_addresses.begin(), own_addresses.end(), up_host) != own_addresses.end();
        for (const auto& l : listen) {
            const auto own = core::SocketAddress::parse(l);
            if (!own) continue;
            const bool wildcard = own->to_string().rfind("0.0.0.0:", 0) == 0 || own->to_string().rfind("[::]:", 0) == 0;
            if (*up == *own || (wildcard && ours && up->port() == own->port())) {
                throw ConfigError("upstream " + up->to_string() + " is greenfinch's own listen address " + l +
                                  ": it would forward to itself");
            }
        }
    }
}

std::vector<core::SocketAddress> host_addresses() {
    std::vector<core::SocketAddress> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (const ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        const int family = i->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        core::SocketAddress a(i->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        a.set_port(0);
        out.push_back(a);
    }
    ::freeifaddrs(list);
    return out;
}

}  // namespace greenfinch::daemon
