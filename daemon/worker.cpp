#include "daemon/worker.hpp"

#include "cache/redis_cache.hpp"
#include "cache/redis_client.hpp"
#include "daemon/resolver.hpp"
#include "daemon/tcp_service.hpp"
#include "daemon/udp_service.hpp"
#include "daemon/upstream_channel.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

namespace greenfinch::daemon {

namespace {
constexpr core::Seconds kDrainBudget{2.0};

double wall_clock() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

std::vector<std::vector<ListenSockets>> bind_listeners(const std::vector<std::string>& listen, int workers) {
    std::vector<std::vector<ListenSockets>> per_worker(static_cast<std::size_t>(workers));
    const bool reuse_port = workers > 1;
    for (const auto& text : listen) {
        auto address = *core::SocketAddress::parse(text);  // validated with the configuration
        try {
            std::vector<ListenSockets> bound;
            for (int w = 0; w < workers; ++w) {
                auto udp = core::UdpSocket::bind(address, {reuse_port, 0, 0});
                address = udp.local_address();  // port 0: every worker takes the port the first one got
                auto tcp = core::TcpListener::bind(address, {1024, reuse_port});
                bound.push_back({std::move(udp), std::move(tcp)});
            }
            for (int w = 0; w < workers; ++w) per_worker[static_cast<std::size_t>(w)].push_back(std::move(bound[static_cast<std::size_t>(w)]));
            spdlog::info("listening on {} (udp, tcp)", address.to_string());
        } catch (const std::system_error& e) {
            spdlog::warn("cannot listen on {}: {}", text, e.what());
        }
    }
    if (per_worker.front().empty()) throw std::runtime_error("no listen address could be bound");
    return per_worker;
}

void WorkerControl::request_stop() {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
    if (hub_) hub_->post([stop = stop_] { stop->set(); });
}

bool WorkerControl::attach(core::Hub& hub, core::Event& stop) {
    std::lock_guard lock(mutex_);
    hub_ = &hub;
    stop_ = &stop;
    return stop_requested_;
}

void WorkerControl::detach() {
    std::lock_guard lock(mutex_);
    hub_ = nullptr;
    stop_ = nullptr;
}

WorkerResult run_worker(const Config& config, cache::MemoryCache& cache, std::vector<ListenSockets> sockets,
                        WorkerControl& control) {
    core::Hub hub;
    std::vector<core::SocketAddress> upstreams;
    for (const auto& u : config.upstream.servers) upstreams.push_back(*core::SocketAddress::parse(u, 53));
    // c-ares' own retries fit in the budget: two rounds over the servers.
    const int attempt_ms = std::max(100, config.upstream.timeout_ms / (2 * static_cast<int>(upstreams.size())));
    UpstreamChannel upstream(hub, {upstreams, attempt_ms, 2});

    Resolver::Options options;
    options.policy = {static_cast<std::uint32_t>(config.cache.min_ttl), static_cast<std::uint32_t>(config.cache.max_ttl),
                      static_cast<std::uint32_t>(config.cache.negative_ttl_max),
                      static_cast<std::uint32_t>(config.cache.servfail_ttl)};
    options.prefetch = config.cache.prefetch;
    options.upstream_timeout = core::Seconds(config.upstream.timeout_ms / 1000.0);
    options.max_upstream_inflight = config.upstream.max_inflight;
    options.log_queries = config.log.queries;
    // With the Redis backend each hub has its own connection, on its own loop, behind the shared memory cache.
    std::optional<cache::RedisClient> redis;
    std::optional<cache::RedisCache> shared;
    if (config.cache.backend == "redis") {
        redis.emplace(hub, cache::RedisClient::Options{*cache::parse_redis_address(config.redis.address),
                                                       config.redis.password, config.redis.db,
                                                       core::Seconds(config.redis.timeout_ms / 1000.0)});
        shared.emplace(*redis, cache::RedisCache::Options{config.redis.prefix,
                                                          static_cast<std::uint32_t>(config.cache.serve_stale),
                                                          &Resolver::now, &wall_clock});
    }
    Resolver resolver(cache, shared ? &*shared : nullptr, upstream, options);
    Responder answer = [&resolver](std::span<const std::byte> q, const QueryOrigin& origin, std::span<std::byte> out) {
        return resolver.resolve(q, origin, out);
    };

    const TcpService::Options tcp_options{config.server.max_tcp_connections,
                                          core::Seconds(config.server.tcp_idle_timeout_ms / 1000.0)};
    std::vector<std::unique_ptr<UdpService>> udp;
    std::vector<std::unique_ptr<TcpService>> tcp;
    for (auto& s : sockets) {
        udp.push_back(std::make_unique<UdpService>(std::move(s.udp), answer, config.server.max_inflight));
        tcp.push_back(std::make_unique<TcpService>(std::move(s.tcp), answer, tcp_options));
    }
    for (auto& s : udp) s->start();
    for (auto& s : tcp) s->start();

    core::Event stop;
    if (control.attach(hub, stop)) stop.set();
    stop.wait();
    control.detach();

    for (auto& s : udp) s->stop();
    for (auto& s : tcp) s->stop();
    WorkerResult result;
    for (auto& s : udp) result.drained = s->drain(kDrainBudget) && result.drained;
    for (auto& s : tcp) result.drained = s->drain(kDrainBudget) && result.drained;
    for (auto& s : udp) result.answered += s->stats().answered;
    for (auto& s : tcp) result.answered += s->stats().answered;
    return result;
}

}  // namespace greenfinch::daemon
