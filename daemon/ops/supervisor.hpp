// Supervisor: the main thread once the sockets are bound. It starts the workers and, on its own hub, handles what
// is not query traffic:
// - signals: SIGTERM/SIGINT/SIGQUIT stop (the workers drain for up to 2 s), SIGHUP reloads the configuration,
//   SIGUSR1 logs a statistics summary;
// - the admin endpoint ([metrics] listen): metrics and cache flushes;
// - systemd: READY=1 once every worker serves, RELOADING=1/READY=1 around a reload, STOPPING=1, and WATCHDOG=1 pings
//   sent only while every worker's hub answers, so a stuck hub gets the service restarted.
//
// A reload applies what can change without dropping the cache or a query in flight: upstream servers, forward zones
// and budgets (new queries go to the new servers; the cached answers of a zone whose servers changed are dropped),
// local data, hosts files and lists (read again; swapped in whole), cache limits and serve-stale, TTL clamps,
// prefetch, log level, query log. A file that does not load (the configuration, a list, a hosts file) is refused
// with a log line naming it and the running configuration and policy stay; settings that need a
// restart (those the settings table marks so: docs/configuration.md) are named in a warning and keep their running
// values.
#pragma once

#include "core/io/tcp.hpp"
#include "daemon/ops/config.hpp"
#include "daemon/serve/listeners.hpp"
#include "policy/policy_loader.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace greenfinch::daemon {

class Supervisor {
public:
    // `policy`: loaded from `config` (policy_sources.hpp). `reload`: reads the configuration again (the file, then
    // the same flags); throws ConfigError. A reload reads the policy's files again too, on a thread of its own.
    Supervisor(ConfigSnapshot config, policy::LoadedPolicy policy, std::function<ConfigSnapshot()> reload);

    // Serves until a stop signal; returns the process's exit status.
    int run(std::vector<std::vector<ListenSockets>> sockets, std::optional<core::TcpListener> admin);

private:
    ConfigSnapshot config_;        // what runs: swapped whole on reload, never changed
    policy::LoadedPolicy policy_;  // the same
    double policy_loaded_at_ = 0;
    std::uint64_t reloads_ = 0;
    std::uint64_t reloads_refused_ = 0;
    std::function<ConfigSnapshot()> reload_;
};

}  // namespace greenfinch::daemon
