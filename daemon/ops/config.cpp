#include "daemon/ops/config.hpp"

#include "core/io/socket_address.hpp"
#include "daemon/ops/settings.hpp"

#include <toml++/toml.h>

#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <variant>
#include <vector>

namespace greenfinch::daemon {

namespace {

std::string at_line(const std::string& path, const toml::node& node) {
    return path + ":" + std::to_string(node.source().begin.line);
}

// The value of `node` in the shape the setting is written in; a ConfigError naming `key` when it has another.
settings::Written written(const std::string& path, const toml::node& node, settings::Shape shape,
                          const std::string& key) {
    const auto wrong = [&](const toml::node& at) {
        return ConfigError(at_line(path, at) + ": " + key + ": " + settings::expected(shape));
    };
    switch (shape) {
        case settings::Shape::boolean:
            if (!node.is_boolean()) throw wrong(node);
            return *node.value<bool>();
        case settings::Shape::whole:
            if (!node.is_integer()) throw wrong(node);
            return *node.value<std::int64_t>();
        case settings::Shape::text:
            if (!node.is_string()) throw wrong(node);
            return *node.value<std::string>();
        case settings::Shape::text_list: {
            const auto* array = node.as_array();
            if (!array) throw wrong(node);
            std::vector<std::string> items;
            for (const auto& item : *array) {
                if (!item.is_string()) throw wrong(item);
                items.push_back(*item.value<std::string>());
            }
            return items;
        }
    }
    throw wrong(node);
}

// A flag's text in the setting's shape; nullopt when it cannot be read as one.
std::optional<settings::Written> from_text(std::span<const std::string> texts, settings::Shape shape) {
    if (shape == settings::Shape::text_list) return std::vector<std::string>(texts.begin(), texts.end());
    if (texts.empty()) return std::nullopt;
    const std::string& text = texts.back();  // a flag given twice: the last one counts
    switch (shape) {
        case settings::Shape::boolean:
            if (text == "true") return true;
            if (text == "false") return false;
            return std::nullopt;
        case settings::Shape::whole: {
            std::int64_t n = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
            if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
            return n;
        }
        case settings::Shape::text:
        case settings::Shape::text_list: return text;
    }
    return std::nullopt;
}

using Origins = std::map<std::string, std::string, std::less<>>;

// The tables of a repeated section ([[forward]]), in place of the entries `config` had. Each entry must hold its
// required keys; the values' syntax and the checks across entries are check()'s.
template <class Entry>
void read_entries(const std::string& path, const settings::RepeatedSection<Entry>& section, const toml::node& node,
                  Config& config, Origins& origins) {
    const std::string name(section.name);
    const auto not_an_array = [&](const toml::node& at) {
        return ConfigError(at_line(path, at) + ": " + name + ": expected [[" + name + "]] (an array of tables)");
    };
    const auto* array = node.as_array();
    if (!array) throw not_an_array(node);
    std::vector<Entry> entries;
    for (const auto& item : *array) {
        const auto* table = item.as_table();
        if (!table) throw not_an_array(item);
        const std::size_t index = entries.size() + 1;
        if (section.max_entries > 0 && index > section.max_entries) {
            throw ConfigError(at_line(path, item) + ": " + name + ": at most " + std::to_string(section.max_entries) +
                              " [[" + name + "]] tables");
        }
        Entry entry{};
        for (const auto& k : section.keys) {
            settings::reset(k, entry);
            origins[settings::entry_key(name, index, k.name)] = at_line(path, item);
        }
        for (const auto& [key_name, key_node] : *table) {
            const std::string key = settings::entry_key(name, index, key_name.str());
            const auto found = std::find_if(section.keys.begin(), section.keys.end(),
                                            [&](const auto& k) { return k.name == key_name.str(); });
            if (found == section.keys.end()) throw ConfigError(at_line(path, key_node) + ": " + key + ": unknown key");
            if (auto problem = settings::assign(*found, written(path, key_node, settings::shape(*found), key), entry)) {
                throw ConfigError(at_line(path, key_node) + ": " + key + ": " + *problem);
            }
            origins[key] = at_line(path, key_node);
        }
        for (const auto& k : section.keys) {
            if (k.presence == settings::Presence::required && !table->contains(k.name)) {
                throw ConfigError(at_line(path, item) + ": " + settings::entry_key(name, index, k.name) +
                                  ": missing; every [[" + name + "]] needs one");
            }
        }
        entries.push_back(std::move(entry));
    }
    section.bind.of(config) = std::move(entries);
}

// Each entry's keys and rules, then that no entry repeats an earlier one.
template <class Entry, class OriginOf>
void check_entries(const settings::RepeatedSection<Entry>& section, const Config& config, const OriginOf& origin_of) {
    const auto fail = [&](std::size_t index, std::string_view key_name, std::string_view problem) {
        const std::string key = settings::entry_key(section.name, index, key_name);
        return ConfigError(origin_of(key) + ": " + key + ": " + std::string(problem));
    };
    const auto& entries = section.bind.in(config);
    std::map<std::string, std::size_t, std::less<>> seen;  // identity -> index
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::size_t index = i + 1;
        for (const auto& k : section.keys) {
            if (auto problem = settings::problem(k, entries[i])) throw fail(index, k.name, *problem);
        }
        for (const auto& r : section.rules) {
            if (!r.holds(entries[i])) throw fail(index, r.key, r.problem);
        }
        const auto [at, fresh] = seen.emplace(section.unique.identity(entries[i]), index);
        if (!fresh) {
            const auto key = std::find_if(section.keys.begin(), section.keys.end(),
                                          [&](const auto& k) { return k.name == section.unique.key; });
            const std::string value = key == section.keys.end() ? at->first : settings::literal(*key, entries[i]);
            throw fail(index, section.unique.key,
                       value + " repeats " + settings::entry_key(section.name, at->second, section.unique.key) + ": " +
                           std::string(section.unique.rule));
        }
    }
}

}  // namespace

Config::Config() {
    for (const auto& s : settings::table()) settings::reset(s, *this);
    for (const auto& r : settings::repeated()) {
        std::visit([this](const auto& section) { section.bind.of(*this).clear(); }, r);
    }
}

std::string Config::ForwardZone::name() const { return canonical_name(zone); }

std::string canonical_name(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (out.empty() || out.back() != '.') out += '.';
    return out;
}

void ConfigDraft::read_file(const std::string& path) {
    toml::table root;
    try {
        root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    const auto sections = settings::sections();
    for (const auto& [section_key, section_node] : root) {
        const std::string_view section = section_key.str();
        if (const settings::Repeated* r = settings::find_repeated(section)) {
            std::visit([&](const auto& s) { read_entries(path, s, section_node, config_, origins_); }, *r);
            continue;
        }
        if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
            throw ConfigError(at_line(path, section_node) + ": " + std::string(section) + ": unknown key");
        }
        const auto* table = section_node.as_table();
        if (!table) {
            throw ConfigError(at_line(path, section_node) + ": " + std::string(section) + ": expected a section [" +
                              std::string(section) + "]");
        }
        for (const auto& [name, node] : *table) {
            const std::string key = std::string(section) + "." + std::string(name.str());
            const settings::Setting* s = settings::find(section, name.str());
            if (!s) throw ConfigError(at_line(path, node) + ": " + key + ": unknown key");
            if (auto problem = settings::assign(*s, written(path, node, settings::shape(*s), key), config_)) {
                throw ConfigError(at_line(path, node) + ": " + key + ": " + *problem);
            }
            origins_[key] = at_line(path, node);
        }
    }
    base_origin_ = path;
    check();
}

void ConfigDraft::set(const Override& given) {
    const settings::Setting* s = settings::find(given.key);
    if (!s) throw ConfigError(std::string(given.origin) + ": " + std::string(given.key) + ": unknown key");
    const auto shape = settings::shape(*s);
    auto value = from_text(given.texts, shape);
    if (!value) {
        throw ConfigError(std::string(given.origin) + ": " + std::string(given.key) + ": " + settings::expected(shape));
    }
    if (auto problem = settings::assign(*s, std::move(*value), config_)) {
        throw ConfigError(std::string(given.origin) + ": " + std::string(given.key) + ": " + *problem);
    }
    origins_[s->key()] = given.origin;
}

std::string ConfigDraft::origin_of(std::string_view key) const {
    const auto it = origins_.find(key);
    return it == origins_.end() ? base_origin_ : it->second;
}

void ConfigDraft::check() const {
    for (const auto& s : settings::table()) {
        if (auto problem = settings::problem(s, config_)) {
            const std::string key = s.key();
            throw ConfigError(origin_of(key) + ": " + key + ": " + *problem);
        }
    }
    for (const auto& r : settings::rules()) {
        if (!r.holds(config_))
            throw ConfigError(origin_of(r.key) + ": " + std::string(r.key) + ": " + std::string(r.problem));
    }
    const auto origin = [this](std::string_view key) { return origin_of(key); };
    for (const auto& r : settings::repeated()) {
        std::visit([&](const auto& section) { check_entries(section, config_, origin); }, r);
    }
}

ConfigSnapshot ConfigDraft::freeze() && {
    check();
    return std::make_shared<const Config>(std::move(config_));
}

Config load_config(const std::string& path) {
    ConfigDraft draft;
    draft.read_file(path);
    return *std::move(draft).freeze();
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& next) {
    std::vector<std::string> out;
    for (const auto& s : settings::table()) {
        if (s.apply == settings::Apply::on_restart && !settings::same(s, running, next)) out.push_back(s.key());
    }
    for (const auto& r : settings::repeated()) {
        std::visit(
            [&](const auto& section) {
                if (section.apply == settings::Apply::on_restart && !settings::same(section, running, next)) {
                    out.emplace_back(section.name);
                }
            },
            r);
    }
    return out;
}

Config keep_restart_only(const Config& running, const Config& next) {
    Config out = next;
    for (const auto& s : settings::table()) {
        if (s.apply == settings::Apply::on_restart) settings::copy(s, running, out);
    }
    for (const auto& r : settings::repeated()) {
        std::visit(
            [&](const auto& section) {
                if (section.apply == settings::Apply::on_restart) settings::copy(section, running, out);
            },
            r);
    }
    return out;
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
    switch (level) {
        case LogLevel::trace: return spdlog::level::trace;
        case LogLevel::debug: return spdlog::level::debug;
        case LogLevel::info: return spdlog::level::info;
        case LogLevel::warn: return spdlog::level::warn;
        case LogLevel::error: return spdlog::level::err;
        case LogLevel::critical: return spdlog::level::critical;
        case LogLevel::off: return spdlog::level::off;
    }
    return spdlog::level::info;
}

std::vector<std::string> resolv_conf_nameservers(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword, address;
        if (words >> keyword >> address && keyword == "nameserver") {
            if (auto a = core::SocketAddress::parse(address, 53)) out.push_back(a->to_string());
        }
    }
    return out;
}

void check_not_forwarding_to_self(const std::vector<std::string>& listen, const std::vector<std::string>& upstreams,
                                  const std::vector<core::SocketAddress>& own_addresses) {
    for (const auto& u : upstreams) {
        const auto up = core::SocketAddress::parse(u, 53);
        if (!up) continue;
        core::SocketAddress up_host = *up;
        up_host.set_port(0);
        const bool ours =
            up->is_loopback() || std::find(own_addresses.begin(), own_addresses.end(), up_host) != own_addresses.end();
        for (const auto& l : listen) {
            const auto own = core::SocketAddress::parse(l);
            if (!own) continue;
            const bool wildcard = own->to_string().rfind("0.0.0.0:", 0) == 0 || own->to_string().rfind("[::]:", 0) == 0;
            if (*up == *own || (wildcard && ours && up->port() == own->port())) {
                throw ConfigError("upstream " + up->to_string() + " is greenfinch's own listen address " + l +
                                  ": it would forward to itself");
            }
        }
    }
}

std::vector<core::SocketAddress> host_addresses() {
    std::vector<core::SocketAddress> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (const ifaddrs* i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        const int family = i->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6) continue;
        core::SocketAddress a(i->ifa_addr, family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        a.set_port(0);
        out.push_back(a);
    }
    ::freeifaddrs(list);
    return out;
}

}  // namespace greenfinch::daemon
