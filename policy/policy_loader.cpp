#include "policy/policy_loader.hpp"

#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "policy/hosts_file.hpp"
#include "policy/special_names.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>
#include <utility>
#include <variant>

namespace greenfinch::policy {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string item(std::string_view key, std::size_t index) {
    return std::string(key) + "[" + std::to_string(index + 1) + "]";
}

// `name` in lowercased wire form; a PolicyError naming `origin` if it is no domain name (or the root).
std::vector<std::byte> zone_wire(const std::string& name, const std::string& origin) {
    auto wire = dns::wire_name(name);
    if (!wire || wire->size() <= 1) throw PolicyError(origin + ": not a domain name: \"" + name + "\"");
    dns::lowercase_name(*wire);
    return *std::move(wire);
}

LocalData built(LocalData::Builder&& builder) {
    auto result = std::move(builder).build();
    if (auto* error = std::get_if<LocalDataError>(&result)) throw PolicyError(error->message());
    return std::get<LocalData>(std::move(result));
}

void mark_local(NameTable::Builder& table, const LocalData& data, NameTable::Value exact, NameTable::Value subtree) {
    data.for_each_name([&](std::span<const std::byte> name, NameKind kind) {
        table.add(name, kind == NameKind::subtree ? subtree : exact);
    });
}

// A hash of a name, which the screening fingerprints sum: the same set of names, in any order, sums the same.
std::uint64_t name_hash(std::span<const std::byte> name, NameTable::Value mark) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull ^ mark;
    for (const std::byte b : name) h = (h ^ std::to_integer<std::uint64_t>(b)) * 0x100000001b3ull;
    return h * 0x9e3779b97f4a7c15ull;
}

// Reads each list of `paths` into `table` with `mark`; each file's figures go to `files`, its names' hashes to
// `fingerprint`.
void read_lists(const std::vector<std::string>& paths, std::string_view key, NameTable::Value mark,
                NameTable::Builder& table, std::vector<FileLoad>& files, std::uint64_t& fingerprint) {
    for (const auto& path : paths) {
        const auto start = std::chrono::steady_clock::now();
        std::error_code ec;
        if (const auto bytes = std::filesystem::file_size(path, ec); !ec) {
            // A name a line of 24 to 32 bytes (plain, or hosts format): the arena takes about the file's size, the
            // slots two per name, and the estimate errs low so that the slots' power of two is not doubled for nothing.
            table.reserve(table.size() + bytes / 32, bytes);
        }
        std::string error;
        const auto report = read_name_list(
            path,
            [&](std::span<const std::byte> name) {
                table.add(name, mark);
                fingerprint += name_hash(name, mark);
            },
            error);
        if (!report) throw PolicyError(std::string(key) + ": " + path + ": " + error);
        files.push_back({.key = std::string(key),
                         .path = path,
                         .entries = report->names,
                         .bad = report->bad,
                         .seconds = seconds_since(start)});
    }
}
}  // namespace

LoadedPolicy load_policy(const PolicySources& sources) {
    LoadedPolicy out;
    Policy::Parts parts;
    parts.block_answer = sources.block_answer;
    parts.rebind_protection = sources.rebind_protection == RebindProtection::on;
    NameTable::Builder table;

    parts.zones.push_back(".");
    for (std::size_t i = 0; i < sources.forward_zones.size(); ++i) {
        const auto wire = zone_wire(sources.forward_zones[i], item("forward", i) + ".zone");
        table.add(wire, mark::zone(static_cast<std::uint16_t>(i + 1)));
        parts.rebinding += name_hash(wire, 0);  // forward zones are exempt from rebinding protection
        std::string name;
        dns::append_presentation(name, wire);
        parts.zones.push_back(std::move(name));
    }

    LocalData::Builder local;
    for (std::size_t i = 0; i < sources.records.size(); ++i) {
        if (auto error = local.add_record(sources.records[i], item("local.records", i))) {
            throw PolicyError(error->message());
        }
    }
    for (std::size_t i = 0; i < sources.local_zones.size(); ++i) {
        if (auto error = local.add_zone(sources.local_zones[i], ZoneKind::local, item("local.zones", i))) {
            throw PolicyError(error->message());
        }
    }
    for (const auto& path : sources.hosts_files) {
        const auto start = std::chrono::steady_clock::now();
        std::string error;
        const auto report = read_hosts(
            path, [&](const HostEntry& e) { local.add_host(e); }, error);
        if (!report) throw PolicyError("local.hosts_files: " + path + ": " + error);
        out.files.push_back({.key = "local.hosts_files",
                             .path = path,
                             .entries = report->entries,
                             .bad = report->bad,
                             .seconds = seconds_since(start)});
    }
    parts.local = built(std::move(local));
    mark_local(table, parts.local, mark::kLocalName, mark::kLocalZone);
    if (sources.private_reverse == PrivateReverse::answered) {
        // test. is forwarded: RFC 6761 6.2 only asks caching servers to answer it themselves (a SHOULD), and test
        // setups, ours among them, serve it from real servers.
        parts.special = special_names({.test = TestNames::forward});
        mark_local(table, parts.special, mark::kSpecialName, mark::kSpecialZone);
    }
    for (std::size_t i = 0; i < sources.rebind_allow.size(); ++i) {
        const auto wire = zone_wire(sources.rebind_allow[i], item("local.rebind_allow", i));
        table.add(wire, mark::kRebindAllow);
        parts.rebinding += name_hash(wire, mark::kRebindAllow);
    }
    parts.rebinding += static_cast<std::uint64_t>(sources.rebind_protection) + 1;
    parts.blocking += static_cast<std::uint64_t>(sources.block_answer) + 1;

    read_lists(sources.block_lists, "block.lists", mark::kBlocked, table, out.files, parts.blocking);
    parts.blocks = !sources.block_lists.empty();
    read_lists(sources.allow_lists, "block.allow", mark::kAllowed, table, out.files, parts.blocking);

    parts.table = std::move(table).build();
    out.names = parts.table.size();
    out.memory_bytes = parts.table.memory_bytes();
    out.policy = std::make_shared<const Policy>(std::move(parts));
    return out;
}

}  // namespace greenfinch::policy
