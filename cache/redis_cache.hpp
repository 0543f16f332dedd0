// RedisCache: the Cache in Redis, so that a fleet of daemons shares what each learned and keeps it across restarts.
//
// One per hub, over that hub's RedisClient. lookup() is a GET that parks the calling greenlet for at most the
// client's timeout (Redis down, slow, or the breaker open: a miss, at once or after that timeout, never longer);
// store() is a SET ... EX that is only queued: nothing waits for it. Keys and values: redis_format.hpp. Each key
// expires after what is left of the answer's TTL plus the serve-stale window, so Redis never fills with dead entries
// (operators should still set `maxmemory-policy allkeys-lru`).
//
// Entries carry the wall-clock time they were stored, because other daemons (other machines) read them; lookup()
// turns it into the caller's monotonic clock. `clock` and `wall_clock` must tick together (tests move both).
#pragma once

#include "cache/cache.hpp"
#include "cache/redis_client.hpp"

#include <functional>
#include <string>

namespace greenfinch::cache {

class RedisCache final : public Cache {
public:
    struct Options {
        std::string prefix = "greenfinch:v1:";
        std::uint32_t serve_stale = 0;
        std::function<double()> clock;       // the monotonic seconds Answer::stored_at is on
        std::function<double()> wall_clock;  // unix seconds
    };

    RedisCache(RedisClient& client, Options options);

    std::optional<Hit> lookup(const dns::QueryKey& key, double now) override;
    void store(const dns::QueryKey& key, AnswerPtr answer) override;
    void erase(const dns::QueryKey& key) override;
    // Deletes every key under the prefix (SCAN and UNLINK, batch by batch; parks the caller meanwhile).
    void clear() override;
    // Deletes every entry for `name` (presentation form, any case, final dot optional), whatever its type.
    void erase_name(const std::string& name);
    void set_serve_stale(std::uint32_t seconds) noexcept { options_.serve_stale = seconds; }
    CacheStats stats() const override { return stats_; }

    struct Extra {
        std::uint64_t foreign = 0;  // values under our prefix that were not ours, or answered another question
        std::uint64_t stores = 0;

        Extra& operator+=(const Extra& o) noexcept {
            foreign += o.foreign;
            stores += o.stores;
            return *this;
        }
    };
    const Extra& extra() const noexcept { return extra_; }

private:
    // SCAN MATCH `literal` followed by `*`, and UNLINK what it finds.
    void unlink_matching(const std::string& literal);

    RedisClient& client_;
    Options options_;
    CacheStats stats_;
    Extra extra_;
};

}  // namespace greenfinch::cache
