// Config: the daemon's settings, one struct with the defaults, filled from a TOML file and then from flags,
// validated once. conf/greenfinch.toml ships every key, commented, with these same defaults.
//
// load_config() refuses what an operator would regret: unknown keys and sections (a typo must not silently fall back
// to a default), wrong types, values out of range. Every ConfigError names the file, the line and the key.
#pragma once

#include "core/io/socket_address.hpp"

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfinch::daemon {

struct Config {
    struct Server {
        std::vector<std::string> listen = {"127.0.0.1:5335", "[::1]:5335"};
        int max_inflight = 10000;        // queries served at once per UDP listener
        int max_tcp_connections = 128;   // open TCP connections per listener
        int tcp_idle_timeout_ms = 10000; // a TCP connection without a query for this long is closed
        int workers = 1;                 // threads, each with a hub and its own SO_REUSEPORT sockets
        std::string user;                // started as root: drop to this user once the sockets are bound
    } server;
    struct Upstream {
        std::vector<std::string> servers;  // empty: the nameservers of /etc/resolv.conf
        int timeout_ms = 2000;             // the whole budget of one upstream resolution
        int max_inflight = 1000;           // upstream queries in flight at once, per worker
    } upstream;
    struct Cache {
        std::string backend = "memory";  // "redis": memory in front, Redis behind, shared by a fleet
        int max_entries = 100000;
        int min_ttl = 0;
        int max_ttl = 86400;
        int negative_ttl_max = 3600;
        int servfail_ttl = 5;
        int serve_stale = 0;  // seconds an expired answer may still be served when the upstream fails; 0: off
        int stale_client_timeout_ms = 1800;  // how long a client with an expired answer waits for its refresh
        bool prefetch = true;
    } cache;
    struct Redis {
        std::string address = "127.0.0.1:6379";  // IP:PORT, [IPv6]:PORT, HOST:PORT or unix:/path
        std::string password;                     // AUTH when set
        int db = 0;                               // SELECT when not 0
        std::string prefix = "greenfinch:v1:";    // before every key; daemons that share entries share it
        int timeout_ms = 50;                      // the longest a query waits on Redis
    } redis;
    struct Metrics {
        std::string listen;  // ADDR:PORT of the HTTP endpoint (/metrics, /cache/flush); empty: none
    } metrics;
    struct Log {
        std::string level = "info";  // trace, debug, info, warn, error, critical, off
        bool queries = false;        // one info line per query (client, name, type, rcode, source, time)
    } log;
};

struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Reads `path` over the defaults. Throws ConfigError.
Config load_config(const std::string& path);
// The line of each key read from a file ("cache.min_ttl" -> 12), so that an error names it.
using KeyLines = std::map<std::string, std::uint32_t, std::less<>>;
// Checks values that flags may also have set. Throws ConfigError naming `origin` (a file, or "command line"), and the
// key's line when `lines` has it.
void validate(const Config& config, const std::string& origin, const KeyLines& lines = {});

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
