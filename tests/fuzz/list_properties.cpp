#include "tests/fuzz/list_properties.hpp"

#include "dns/name.hpp"
#include "policy/hosts_file.hpp"
#include "policy/list_file.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace greenfinch::test {

namespace {

// The text's lines and words counted without the parsers' code: a BOM dropped, LF ends lines, spaces, tabs and CRs
// (and line ends) separate words.
struct Shape {
    std::size_t lines = 0;
    std::size_t words = 0;
};

Shape shape_of(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    Shape shape;
    shape.lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    if (!text.empty() && text.back() != '\n') ++shape.lines;
    bool in_word = false;
    for (const char c : text) {
        const bool separator = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (!separator && !in_word) ++shape.words;
        in_word = !separator;
    }
    return shape;
}

std::string check_bad_lines(const policy::BadLines& bad, std::size_t lines) {
    if (bad.count > lines) return "more bad lines than lines";
    if (bad.first.size() != std::min(bad.count, policy::kReportedBadLines)) return "not the first bad lines kept";
    std::size_t previous = 0;
    for (const auto& line : bad.first) {
        if (line.number <= previous || line.number > lines) return "bad line numbers out of order or past the end";
        previous = line.number;
        if (line.text.size() > policy::kBadLineTextLength + 3) return "a bad line's text not shortened";
        if (std::any_of(line.text.begin(), line.text.end(), [](char c) { return c < 0x20 || c > 0x7e; })) {
            return "a bad line's text with a byte that is not printable ASCII";
        }
    }
    return {};
}

// Empty if `wire` is a valid, uncompressed, lowercase wire-form name other than the root; its presentation form in
// `text`.
std::string check_name(std::span<const std::byte> wire, std::string& text) {
    const auto span = dns::read_name(wire, 0);
    if (!span || span->end != wire.size() || span->compressed || span->length != wire.size()) {
        return "a name that is not one whole wire-form name";
    }
    if (wire.size() < 2) return "the root name given as a name";
    if (std::any_of(wire.begin(), wire.end(), [](std::byte b) {
            const auto c = std::to_integer<unsigned char>(b);
            return c >= 'A' && c <= 'Z';
        })) {
        return "a name not lowercased";
    }
    text.clear();
    dns::append_presentation(text, wire);
    return {};
}

struct ListRun {
    policy::ListReport report;
    std::vector<std::string> names;
    std::string broken;
};

ListRun run_list(std::string_view text) {
    ListRun run;
    std::string name;
    run.report = policy::parse_name_list(text, [&](std::span<const std::byte> wire) {
        if (!run.broken.empty()) return;
        run.broken = check_name(wire, name);
        if (run.broken.empty() && std::count(name.begin(), name.end(), '.') < 2) {
            run.broken = "a one-label name in a list";
        }
        run.names.push_back(name);
    });
    return run;
}

std::string check_list(std::string_view text) {
    const Shape shape = shape_of(text);
    const ListRun run = run_list(text);
    if (!run.broken.empty()) return run.broken;
    const auto& r = run.report;
    if (r.lines != shape.lines) return "a list's line count is not its lines";
    if (r.names != run.names.size()) return "a list's name count is not the names given";
    if (r.names + r.skipped + r.bad.count > shape.words) return "a list counts more than its words";
    if (auto broken = check_bad_lines(r.bad, r.lines); !broken.empty()) return "list: " + broken;
    for (const std::string_view well_known : {"localhost.", "broadcasthost.", "local.", "ip6-localhost."}) {
        if (std::find(run.names.begin(), run.names.end(), well_known) != run.names.end()) {
            return "a well-known hosts name given as a list's name";
        }
    }

    std::string plain;
    std::string hosts;
    for (const auto& name : run.names) {
        plain += name + "\n";
        hosts += "0.0.0.0 " + name + "\r\n";
    }
    for (const std::string& again : {plain, hosts}) {
        const ListRun back = run_list(again);
        if (back.names != run.names || back.report.bad.count != 0 || back.report.skipped != 0) {
            return "a list's names, written out one per line, read differently";
        }
    }
    return {};
}

struct Entry {
    std::vector<std::byte> address;
    std::string name;
    policy::HostNameRole role;
    bool operator==(const Entry&) const = default;
};

struct HostsRun {
    policy::HostsReport report;
    std::vector<Entry> entries;
    std::string broken;
};

HostsRun run_hosts(std::string_view text) {
    HostsRun run;
    std::string name;
    run.report = policy::parse_hosts(text, [&](const policy::HostEntry& e) {
        if (!run.broken.empty()) return;
        run.broken = check_name(e.name, name);
        if (e.address.size() != 4 && e.address.size() != 16) run.broken = "an address neither 4 nor 16 bytes long";
        const std::vector<std::byte> address(e.address.begin(), e.address.end());
        if (e.role == policy::HostNameRole::alias && (run.entries.empty() || run.entries.back().address != address)) {
            run.broken = "an alias that follows no name of its address";
        }
        run.entries.push_back({.address = address, .name = name, .role = e.role});
    });
    return run;
}

std::string check_hosts(std::string_view text) {
    const Shape shape = shape_of(text);
    const HostsRun run = run_hosts(text);
    if (!run.broken.empty()) return run.broken;
    const auto& r = run.report;
    if (r.lines != shape.lines) return "a hosts file's line count is not its lines";
    if (r.entries != run.entries.size()) return "a hosts file's entry count is not the entries given";
    if (r.entries + r.unusable + r.bad.count > shape.words) return "a hosts file counts more than its words";
    if (r.unusable + r.bad.count > r.lines) return "more unusable and bad lines than lines";
    if (auto broken = check_bad_lines(r.bad, r.lines); !broken.empty()) return "hosts: " + broken;

    std::string again;
    for (const auto& entry : run.entries) {
        if (entry.role == policy::HostNameRole::canonical) {
            std::array<char, INET6_ADDRSTRLEN> address{};
            ::inet_ntop(entry.address.size() == 4 ? AF_INET : AF_INET6, entry.address.data(), address.data(),
                        address.size());
            again += "\n" + std::string(address.data()) + "\t";
        }
        again += " " + entry.name;
    }
    const HostsRun back = run_hosts(again);
    if (back.entries != run.entries || back.report.bad.count != 0 || back.report.unusable != 0) {
        return "a hosts file's entries, written out as hosts lines, read differently";
    }
    return {};
}

}  // namespace

std::string list_property_violation(std::span<const std::byte> input) {
    const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
    if (auto broken = check_list(text); !broken.empty()) return broken;
    return check_hosts(text);
}

}  // namespace greenfinch::test
