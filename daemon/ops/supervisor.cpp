#include "daemon/ops/supervisor.hpp"

#include "cache/memory_cache.hpp"
#include "core/engine/greenlet.hpp"
#include "core/io/signal.hpp"
#include "core/io/thread_call.hpp"
#include "core/primitives/event.hpp"
#include "core/primitives/pool.hpp"
#include "daemon/ops/admin_server.hpp"
#include "daemon/ops/metrics.hpp"
#include "daemon/ops/policy_sources.hpp"
#include "daemon/ops/systemd.hpp"
#include "daemon/ops/worker.hpp"
#include "daemon/ops/worker_requests.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"

#include <spdlog/spdlog.h>

#include <malloc.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

namespace greenfinch::daemon {

namespace {
constexpr core::Seconds kAskWorkers{2.0};

// A worker that is not serving by then is broken; systemd's own start timeout (90 s by default) is longer.
constexpr core::Seconds kStartBudget{30.0};

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

std::string summary(const std::vector<std::optional<WorkerStats>>& workers, const cache::CacheStats& memory) {
    const WorkerTotals totals = add_up(workers);
    const ResolverStats& r = totals.sum.resolver;
    return fmt::format(
        "statistics: {}/{} workers answering; {} queries, {} cache hits, {} misses ({} from redis, {} "
        "coalesced); upstream {} queries, {} failed, {} timed out, {} in flight; {} stale served, {} "
        "SERVFAIL, {} FORMERR, {} dropped; {} entries cached, {} evicted",
        totals.answering, totals.workers, r.queries, r.cache_hits, r.cache_misses, r.shared_cache_hits, r.coalesced,
        r.upstream_queries, r.upstream_failures, r.upstream_timeouts, totals.sum.upstream_in_flight, r.stale_served,
        r.servfail, r.formerr, r.dropped, memory.size, memory.evictions);
}
}  // namespace

Supervisor::Supervisor(ConfigSnapshot config, policy::LoadedPolicy policy, std::function<ConfigSnapshot()> reload)
    : config_(std::move(config)),
      policy_(std::move(policy)),
      policy_loaded_at_(wall_seconds()),
      reload_(std::move(reload)) {}

int Supervisor::run(std::vector<std::vector<ListenSockets>> sockets, std::optional<core::TcpListener> admin_listener) {
    cache::MemoryCache cache({.max_entries = static_cast<std::size_t>(config_->cache.max_entries),
                              .serve_stale = whole_seconds(config_->cache.serve_stale),
                              .shards = 64});
    const ConfigSnapshot started_with = config_;  // what the workers were built from
    std::vector<WorkerControl> controls(static_cast<std::size_t>(config_->server.workers));
    std::vector<WorkerResult> results(controls.size());
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < controls.size(); ++w) {
        // Each worker's own reference, moved into it: once every worker has taken a reload's policy, nothing holds
        // the first one (a million names' worth of memory).
        threads.emplace_back([&, w, policy = policy_.policy]() mutable {
            try {
                Worker worker(started_with, std::move(policy), cache, std::move(sockets[w]));
                results[w] = worker.serve(controls[w]);
            } catch (const std::exception& e) {
                spdlog::critical("worker {} failed: {}", w, e.what());
                controls[w].detach();  // requests to it fail at once instead of queueing for a worker that is gone
                results[w].drained = false;
            }
        });
    }

    {
        core::Hub hub;
        core::Event stop;
        core::Group tasks;  // reloads, statistics, the watchdog: killed on the way out
        auto reload = [&] {
            systemd::notify_reloading();
            try {
                const ConfigSnapshot loaded = reload_();
                if (auto fixed = restart_only_changes(*config_, *loaded); !fixed.empty()) {
                    spdlog::warn("reload: {} changed, which needs a restart: the running value stays", join(fixed));
                }
                // Keep what is really running, so that the next reload compares against it.
                const ConfigSnapshot next = std::make_shared<const Config>(keep_restart_only(*config_, *loaded));
                // A list of a million names takes a few tenths of a second to read: off this hub, which serves the
                // metrics and the watchdog.
                policy::LoadedPolicy policy =
                    *core::call_on_thread([next] { return load_policy(*next); }, std::nullopt);
                spdlog::set_level(spdlog_level(next->log.level));
                cache.reconfigure(static_cast<std::size_t>(next->cache.max_entries),
                                  whole_seconds(next->cache.serve_stale));
                const policy::PolicySnapshot snapshot = policy.policy;
                const auto done = on_every_worker(
                    controls, [next, snapshot](RunningWorker& worker, std::size_t) { worker.reload(next, snapshot); },
                    kAskWorkers);
                for (std::size_t i = 0; i < done.size(); ++i) {
                    if (!done[i]) spdlog::error("reload: worker {} did not take the new configuration in time", i);
                }
                // Once every worker runs the new policy: an answer to a question asked before is not stored after
                // (Resolver::fetch), so what is dropped now stays dropped.
                if (const std::size_t dropped =
                        drop_changed_answers(cache, *config_, *policy_.policy, *next, *policy.policy)) {
                    spdlog::info("reload: {} cached answers dropped (their forward zone or screening changed)",
                                 dropped);
                }
                config_ = next;
                policy_ = std::move(policy);
                // compat(glibc 2.36): the old policy's index went back to malloc in pieces it keeps; give them back.
                ::malloc_trim(0);
                policy_loaded_at_ = wall_seconds();
                ++reloads_;
                log_policy(policy_);
                spdlog::info("configuration reloaded: forwarding to {}; cache of {} entries, serve-stale {} s, log {}",
                             join(next->upstream.servers), next->cache.max_entries, next->cache.serve_stale.count(),
                             to_string(next->log.level));
            } catch (const std::exception& e) {
                ++reloads_refused_;
                spdlog::error("reload refused, the running configuration stays: {}", e.what());
            }
            systemd::notify_ready("serving (reloaded)");
        };

        std::vector<std::unique_ptr<core::SignalHandler>> signals;
        for (int signo : {SIGTERM, SIGINT, SIGQUIT}) {
            signals.push_back(std::make_unique<core::SignalHandler>(signo, [&stop, signo] {
                spdlog::info("signal {}: shutting down", signo);
                stop.set();
            }));
        }
        signals.push_back(std::make_unique<core::SignalHandler>(SIGHUP, [&] { tasks.spawn(reload); }));
        signals.push_back(std::make_unique<core::SignalHandler>(SIGUSR1, [&] {
            tasks.spawn([&] { spdlog::info("{}", summary(collect_stats(controls, kAskWorkers), cache.stats())); });
        }));

        std::unique_ptr<AdminServer> admin;
        if (admin_listener) {
            AdminServer::Handlers handlers;
            handlers.metrics = [&] {
                return render_metrics(collect_stats(controls, kAskWorkers), cache.stats(),
                                      {.loaded = policy_,
                                       .loaded_at = policy_loaded_at_,
                                       .reloads = reloads_,
                                       .reloads_refused = reloads_refused_});
            };
            handlers.flush = [&](const std::optional<std::string>& name) -> std::string {
                std::string text;
                if (name) {
                    auto wire = dns::wire_name(*name);
                    if (!wire) return "not a domain name: " + *name + "\n";
                    dns::lowercase_name(*wire);
                    text = "flushed " + *name + ": " + std::to_string(cache.erase_name(*wire)) + " entries from memory";
                } else {
                    const auto before = cache.stats().size;
                    cache.clear();
                    text = "flushed the whole cache: " + std::to_string(before) + " entries from memory";
                }
                if (config_->cache.backend == CacheBackend::redis) {
                    // Redis is shared: one worker's connection is enough.
                    const auto done = on_every_worker(
                        controls,
                        [name](RunningWorker& worker, std::size_t i) {
                            if (i == 0) worker.flush_shared(name);
                        },
                        kAskWorkers);
                    text += done.empty() || !done[0] ? ", Redis not flushed (no answer in time)" : ", and from Redis";
                }
                spdlog::info("admin: {}", text);
                return text + "\n";
            };
            admin = std::make_unique<AdminServer>(std::move(*admin_listener), std::move(handlers));
            spdlog::info("metrics on http://{}/metrics", admin->local_address().to_string());
            admin->start();
        }

        // Ready once every worker's hub answers: all sockets are being served.
        const auto up = on_every_worker(
            controls, [](RunningWorker&, std::size_t) {}, kStartBudget);
        std::size_t serving = 0;
        for (bool u : up) serving += u ? 1 : 0;
        if (serving == up.size()) {
            systemd::notify_ready("serving, forwarding to " + join(config_->upstream.servers));
        } else {
            spdlog::error("{} of {} workers did not start", up.size() - serving, up.size());
            stop.set();
        }

        if (auto interval = systemd::watchdog_interval()) {
            tasks.spawn([&controls, interval] {
                for (;;) {
                    core::sleep(*interval);
                    const auto alive = on_every_worker(
                        controls, [](RunningWorker&, std::size_t) {}, *interval / 2);
                    bool all = true;
                    for (std::size_t i = 0; i < alive.size(); ++i) {
                        if (!alive[i])
                            spdlog::error("watchdog: worker {} did not answer; not telling systemd we are alive", i);
                        all = all && alive[i];
                    }
                    if (all) systemd::notify_watchdog();
                }
            });
        }

        auto keep = hub.keep_alive();  // nothing else may keep this loop alive while it waits for a signal
        stop.wait();
        systemd::notify_stopping();
        tasks.kill();
    }
    for (auto& c : controls) c.request_stop();
    for (auto& t : threads) t.join();

    std::uint64_t answered = 0;
    bool clean = true;
    std::string by_worker;  // how evenly SO_REUSEPORT spread the clients
    for (std::size_t i = 0; i < results.size(); ++i) {
        answered += results[i].answered;
        clean = clean && results[i].drained;
        by_worker += fmt::format("{}{}", i == 0 ? "" : " ", results[i].answered);
    }
    if (!clean) spdlog::warn("some queries were still in flight after 2 s and were abandoned");
    if (results.size() > 1) {
        spdlog::info("stopped after answering {} queries (by worker: {})", answered, by_worker);
    } else {
        spdlog::info("stopped after answering {} queries", answered);
    }
    return 0;
}

}  // namespace greenfinch::daemon
