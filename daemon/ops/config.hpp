// Config: the daemon's settings as typed values, and how they are assembled: the defaults, then a TOML file, then
// flags, into a ConfigDraft, which is validated once and frozen into an immutable ConfigSnapshot. A reload builds a
// new snapshot the same way and swaps it in; nothing changes a Config once it is frozen.
//
// Every key is declared in one table (settings.hpp / settings.cpp): its default, type, checks, help, flag and whether
// a reload applies it; so are the keys of the repeated sections ([[forward]], one table per entry). The shipped
// conf/greenfinch.toml, docs/configuration.md and greenfinch.toml(5) are generated from it. The reader refuses what an
// operator would regret: unknown keys and sections (a typo must not silently fall back to a default), wrong types,
// values out of range; every ConfigError names the file, the line and the key (`forward[2].servers` in an entry).
#pragma once

#include "core/io/socket_address.hpp"
#include "policy/block_answer.hpp"

#include <spdlog/common.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace greenfinch::daemon {

enum class CacheBackend : std::uint8_t {
    memory,  // each daemon keeps its own cache
    redis,   // the memory cache in front of a Redis shared by a fleet
};

enum class LogLevel : std::uint8_t { trace, debug, info, warn, error, critical, off };

// The values are the table's defaults until a ConfigDraft fills them; what each key means is in settings.cpp.
struct Config {
    Config();  // every key at its default

    struct Server {
        std::vector<std::string> listen;
        int workers{};
        int max_inflight{};
        int max_tcp_connections{};
        std::chrono::milliseconds tcp_idle_timeout{};
        std::string user;
        bool operator==(const Server&) const = default;
    } server;
    struct Upstream {
        std::vector<std::string> servers;  // empty in a file: main() asks /etc/resolv.conf before freezing
        std::chrono::milliseconds timeout{};
        int max_inflight{};
        bool operator==(const Upstream&) const = default;
    } upstream;
    // One [[forward]] table: the names at or under `zone` go to `servers` instead of the upstream's.
    struct ForwardZone {
        std::string zone;  // as written; name() is how it compares
        std::vector<std::string> servers;
        std::chrono::milliseconds timeout{};  // 0: upstream.timeout
        bool operator==(const ForwardZone&) const = default;

        std::string name() const;  // canonical_name(zone): "corp.example."
        std::chrono::milliseconds timeout_or(std::chrono::milliseconds upstream) const noexcept {
            return timeout.count() > 0 ? timeout : upstream;
        }
    };
    std::vector<ForwardZone> forward;  // in the file's order, no two for the same name()
    struct Local {
        std::vector<std::string> records;  // zone-file lines, as written; the policy parses them
        std::vector<std::string> hosts_files;
        std::vector<std::string> zones;
        bool private_reverse{};
        bool rebind_protection{};
        std::vector<std::string> rebind_allow;
        bool operator==(const Local&) const = default;
    } local;
    struct Block {
        std::vector<std::string> lists;
        std::vector<std::string> allow;
        policy::BlockAnswer answer{};
        bool operator==(const Block&) const = default;
    } block;
    struct Cache {
        CacheBackend backend{};
        int max_entries{};
        std::chrono::seconds min_ttl{};
        std::chrono::seconds max_ttl{};
        std::chrono::seconds negative_ttl_max{};
        std::chrono::seconds servfail_ttl{};
        std::chrono::seconds serve_stale{};
        std::chrono::milliseconds stale_client_timeout{};
        bool prefetch{};
        bool operator==(const Cache&) const = default;
    } cache;
    struct Redis {
        std::string address;
        std::string password;
        int db{};
        std::string prefix;
        std::chrono::milliseconds timeout{};
        bool operator==(const Redis&) const = default;
    } redis;
    struct Metrics {
        std::string listen;
        bool operator==(const Metrics&) const = default;
    } metrics;
    struct Log {
        LogLevel level{};
        bool queries{};
        bool operator==(const Log&) const = default;
    } log;

    bool operator==(const Config&) const = default;
};

using ConfigSnapshot = std::shared_ptr<const Config>;

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// One key set from outside a file: a flag, or the nameservers of /etc/resolv.conf. `texts` as given (a list key:
// one per item); `origin` names them in an error ("command line (--listen)"). Borrowed for the call only.
struct Override {
    std::string_view key;
    std::span<const std::string> texts;
    std::string_view origin;
};

// A Config being assembled, with where each key's value came from, so that an error can name it.
class ConfigDraft {
public:
    ConfigDraft() = default;  // the defaults

    // Reads `path` over the current values; the file must be valid on its own. Throws ConfigError.
    void read_file(const std::string& path);
    // Throws ConfigError for a key the table lacks or a value its type cannot hold; range and syntax are checked by
    // freeze().
    void set(const Override& given);

    const Config& values() const noexcept { return config_; }
    // Checks every key and rule and hands the result over, immutable. Throws ConfigError.
    ConfigSnapshot freeze() &&;

private:
    void check() const;
    std::string origin_of(std::string_view key) const;

    Config config_;
    std::string base_origin_ = "defaults";  // a key no file or flag set
    std::map<std::string, std::string, std::less<>> origins_;
};

// Reads `path` over the defaults. Throws ConfigError.
Config load_config(const std::string& path);

// The restart-only keys (settings::Apply::on_restart) whose values differ, by full name ("redis.address"), in the
// table's order, then the restart-only repeated sections that differ, by name: what a reload to `next` cannot change.
std::vector<std::string> restart_only_changes(const Config& running, const Config& next);
// `next`, with the running values of its restart-only keys and repeated sections: what a reload really runs, and the
// next one compares to.
Config keep_restart_only(const Config& running, const Config& next);

std::string_view to_string(CacheBackend backend);
std::string_view to_string(LogLevel level);
std::string_view to_string(policy::BlockAnswer answer);
spdlog::level::level_enum spdlog_level(LogLevel level);
// A TTL or serve-stale window as the caches count it; the table's ranges keep every one within 32 bits.
constexpr std::uint32_t whole_seconds(std::chrono::seconds s) noexcept { return static_cast<std::uint32_t>(s.count()); }

// `name` as DNS compares names: ASCII letters in lowercase, with its final dot ("Corp.Example" -> "corp.example.",
// "" -> ".").
std::string canonical_name(std::string_view name);

// The "nameserver" addresses of a resolv.conf file (port 53), in order; empty if it cannot be read.
std::vector<std::string> resolv_conf_nameservers(const std::string& path);

// Refuses upstreams that are the daemon itself (one of its listen addresses, or, when it listens on a wildcard
// address, its port on loopback or on any of `own_addresses`, the host's): forwarding to itself would loop until every
// query times out. A host whose resolv.conf names its own LAN address is the usual way into that. Throws ConfigError.
void check_not_forwarding_to_self(const std::vector<std::string>& listen, const std::vector<std::string>& upstreams,
                                  const std::vector<core::SocketAddress>& own_addresses);
// The addresses of this host's interfaces (getifaddrs), port 0.
std::vector<core::SocketAddress> host_addresses();

}  // namespace greenfinch::daemon
