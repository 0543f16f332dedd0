#include "daemon/ops/policy_sources.hpp"

#include "dns/records.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace greenfinch::daemon {

policy::PolicySources policy_sources(const Config& config) {
    policy::PolicySources s;
    for (const auto& z : config.forward) s.forward_zones.push_back(z.name());
    s.records = config.local.records;
    s.hosts_files = config.local.hosts_files;
    s.local_zones = config.local.zones;
    s.private_reverse =
        config.local.private_reverse ? policy::PrivateReverse::answered : policy::PrivateReverse::forwarded;
    s.rebind_protection = config.local.rebind_protection ? policy::RebindProtection::on : policy::RebindProtection::off;
    s.rebind_allow = config.local.rebind_allow;
    s.block_lists = config.block.lists;
    s.allow_lists = config.block.allow;
    s.block_answer = config.block.answer;
    return s;
}

policy::LoadedPolicy load_policy(const Config& config) {
    policy::LoadedPolicy loaded;
    try {
        loaded = policy::load_policy(policy_sources(config));
    } catch (const policy::PolicyError& e) {
        throw ConfigError(e.what());
    }
    for (const auto& f : loaded.files) {
        if (f.bad.count == 0) continue;
        std::string where;
        for (const auto& line : f.bad.first) {
            where += fmt::format("{}{}:{}: \"{}\"", where.empty() ? "" : "; ", f.path, line.number, line.text);
        }
        spdlog::warn("{}: {}: {} bad lines skipped ({})", f.key, f.path, f.bad.count, where);
    }
    return loaded;
}

void log_policy(const policy::LoadedPolicy& loaded) {
    std::string files;
    for (const auto& f : loaded.files) {
        files += fmt::format("; {} {}: {} entries in {:.2f} s", f.key, f.path, f.entries, f.seconds);
    }
    spdlog::info("policy: {} forward zone(s), {} names indexed ({:.1f} MiB){}", loaded.policy->zone_count() - 1,
                 loaded.names, static_cast<double>(loaded.memory_bytes) / (1 << 20), files);
}

std::size_t drop_changed_answers(cache::MemoryCache& cache, const Config& running, const policy::Policy& running_policy,
                                 const Config& next, const policy::Policy& next_policy) {
    // The servers behind each zone, by name: a zone whose servers differ (or that is in one only) changed.
    const auto servers = [](const Config& c) {
        std::map<std::string, const Config::ForwardZone*> out;
        for (const auto& z : c.forward) out.emplace(z.name(), &z);
        return out;
    };
    const auto before = servers(running);
    const auto after = servers(next);
    // [upstream] servers answer for the internet, and another set of them gives the same answers: their cache stays.
    // A forward zone's servers hold data of their own (a company's, a lab's): new ones may say otherwise.
    const auto changed = [&](const std::string& zone) {
        if (zone == ".") return false;
        const auto b = before.find(zone);
        const auto a = after.find(zone);
        return b == before.end() || a == after.end() || b->second->servers != a->second->servers;
    };
    bool any_zone = false;
    for (const auto& [zone, z] : before) any_zone = any_zone || changed(zone);
    for (const auto& [zone, z] : after) any_zone = any_zone || changed(zone);
    const bool blocking = running_policy.blocking() != next_policy.blocking();
    const bool rebinding = running_policy.rebinding() != next_policy.rebinding();
    if (!any_zone && !blocking && !rebinding) return 0;

    return cache.erase_if([&](std::span<const std::byte> name, const cache::Answer& answer) {
        if (any_zone) {
            const std::string& was = running_policy.zone_name(running_policy.forward_zone(name));
            const std::string& will = next_policy.zone_name(next_policy.forward_zone(name));
            if (was != will || changed(was)) return true;
        }
        if (!blocking && !rebinding) return false;
        // The CNAME check shows in an answer as a CNAME it followed or the EDE of the blocked response it made (the
        // only option a stored answer carries); rebinding protection as the addresses it kept, or, where it took them
        // all, the CNAME left (an answer left with nothing else is not cached).
        if (blocking && answer.parsed.edns.present && dns::read_u16(answer.wire, answer.parsed.edns.offset + 9) != 0) {
            return true;
        }
        bool screened = false;
        dns::for_each_record(answer.wire, answer.parsed, [&](const dns::Record& r) {
            if (r.section != dns::Section::answer) return;
            screened = screened || ((blocking || rebinding) && r.type == dns::type::CNAME) ||
                       (rebinding && (r.type == dns::type::A || r.type == dns::type::AAAA));
        });
        return screened;
    });
}

}  // namespace greenfinch::daemon
