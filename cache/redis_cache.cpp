#include "cache/redis_cache.hpp"

#include "cache/redis_format.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace greenfinch::cache {

RedisCache::RedisCache(RedisClient& client, Options options) : client_(client), options_(std::move(options)) {}

std::optional<Hit> RedisCache::lookup(const dns::QueryKey& key, double now) {
    const std::string k = redis_key(options_.prefix, key);
    std::optional<RedisReply> r = client_.command({"GET", k});
    if (!r || r->type != RedisReply::Type::String) {
        ++stats_.misses;
        return std::nullopt;
    }
    std::optional<RedisValue> v = decode_redis_value(r->str, key);
    if (!v) {
        ++extra_.foreign;
        ++stats_.misses;
        return std::nullopt;
    }
    const double stored_at = v->stored_at_unix - (options_.wall_clock() - now);
    std::optional<Hit> hit =
        classify(Answer::make(v->wire, std::move(v->parsed), stored_at, v->ttl), now, options_.serve_stale);
    if (!hit) {
        ++stats_.expired;
        ++stats_.misses;
    } else if (hit->freshness == Freshness::Stale) {
        ++stats_.stale_hits;
    } else {
        ++stats_.hits;
    }
    return hit;
}

void RedisCache::store(const dns::QueryKey& key, AnswerPtr answer) {
    const double now = options_.clock();
    const double age = std::max(0.0, now - answer->stored_at);
    const double left = static_cast<double>(answer->ttl) - age + options_.serve_stale;
    if (left < 1.0) return;  // nothing worth sharing
    const std::string k = redis_key(options_.prefix, key);
    const std::string value = encode_redis_value(*answer, options_.wall_clock() - age);
    const std::string ex = std::to_string(static_cast<long long>(std::ceil(left)));
    if (client_.send({"SET", k, value, "EX", ex})) ++extra_.stores;
}

void RedisCache::erase(const dns::QueryKey& key) {
    const std::string k = redis_key(options_.prefix, key);
    client_.send({"UNLINK", k});
}

void RedisCache::clear() { unlink_matching(options_.prefix); }

void RedisCache::erase_name(const std::string& name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.empty() || lower.back() != '.') lower += '.';
    unlink_matching(options_.prefix + lower + ":");
}

void RedisCache::unlink_matching(const std::string& literal) {
    std::string pattern;
    for (char c : literal) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
        pattern += c;
    }
    pattern += '*';
    std::string cursor = "0";
    do {
        std::optional<RedisReply> r = client_.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (!r || r->type != RedisReply::Type::Array || r->elements.size() != 2) return;
        cursor = r->elements[0].str;
        std::vector<std::string_view> unlink{"UNLINK"};
        for (const auto& k : r->elements[1].elements) unlink.push_back(k.str);
        if (unlink.size() > 1) client_.send(unlink);
    } while (cursor != "0");
}

}  // namespace greenfinch::cache
