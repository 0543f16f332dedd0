#include "daemon/config.hpp"

#include "core/socket_address.hpp"

#include <toml++/toml.h>

#include <array>
#include <string_view>

namespace greenfinch::daemon {

namespace {

std::string where(const std::string& path, const toml::node& node, std::string_view key) {
    return path + ":" + std::to_string(node.source().begin.line) + ": " + std::string(key);
}

// Reads table[key] into `out` if present; a value of the wrong type is an error.
template <class T>
void read(const std::string& path, const toml::table& table, std::string_view section, std::string_view key, T& out) {
    const toml::node* node = table.get(key);
    if (!node) return;
    const std::string name = std::string(section) + "." + std::string(key);
    if constexpr (std::is_same_v<T, int>) {
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
    const toml::table empty;
    reject_unknown(path, root, "", {"server", "log"});
    const auto& server = section(path, root, "server", empty);
    reject_unknown(path, server, "server", {"listen", "max_inflight", "max_tcp_connections", "tcp_idle_timeout_ms"});
    read(path, server, "server", "listen", c.server.listen);
    read(path, server, "server", "max_inflight", c.server.max_inflight);
    read(path, server, "server", "max_tcp_connections", c.server.max_tcp_connections);
    read(path, server, "server", "tcp_idle_timeout_ms", c.server.tcp_idle_timeout_ms);
    const auto& log = section(path, root, "log", empty);
    reject_unknown(path, log, "log", {"level"});
    read(path, log, "log", "level", c.log.level);
    validate(c, path);
    return c;
}

void validate(const Config& c, const std::string& origin) {
    if (c.server.listen.empty()) throw ConfigError(origin + ": server.listen: at least one address is needed");
    for (const auto& a : c.server.listen) {
        if (!core::SocketAddress::parse(a)) {
            throw ConfigError(origin + ": server.listen: \"" + a + "\" is not ADDR:PORT (IPv6 in brackets: [::1]:5335)");
        }
    }
    if (c.server.max_inflight < 1) throw ConfigError(origin + ": server.max_inflight: must be at least 1");
    if (c.server.max_tcp_connections < 1) throw ConfigError(origin + ": server.max_tcp_connections: must be at least 1");
    if (c.server.tcp_idle_timeout_ms < 1) throw ConfigError(origin + ": server.tcp_idle_timeout_ms: must be at least 1");
    constexpr std::array<std::string_view, 7> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    bool known = false;
    for (auto l : levels) known = known || c.log.level == l;
    if (!known) throw ConfigError(origin + ": log.level: \"" + c.log.level + "\" is not one of trace, debug, info, warn, error, critical, off");
}

}  // namespace greenfinch::daemon
