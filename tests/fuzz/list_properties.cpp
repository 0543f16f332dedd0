#include "tests/fuzz/list_properties.hpp"

#include "dns/bytes.hpp"
#include "dns/header.hpp"
#include "dns/message.hpp"
#include "dns/name.hpp"
#include "dns/presentation.hpp"
#include "dns/zone_text.hpp"
#include "policy/hosts_file.hpp"
#include "policy/list_file.hpp"
#include "policy/local_data.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <variant>
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

bool same_record(const dns::ZoneRecord& a, const dns::ZoneRecord& b) {
    return a.owner == b.owner && a.type == b.type && a.rclass == b.rclass && a.ttl == b.ttl && a.rdata == b.rdata;
}

// A message holding `record` as the one answer to its own question, the owner a pointer to the question's name, as a
// response of ours would; empty if it cannot fit in one message.
std::vector<std::byte> message_around(const dns::ZoneRecord& record, std::size_t& record_at) {
    const std::size_t question_end = dns::kHeaderSize + record.owner.size() + 4;
    record_at = question_end;
    const std::size_t size = question_end + 12 + record.rdata.size();
    if (size > 65535) return {};
    std::vector<std::byte> out(size);
    dns::write_u16(out, 0, 0x4242);
    dns::write_u16(out, 2, dns::kFlagQr | dns::kFlagAa | dns::kFlagRd | dns::kFlagRa);
    dns::write_u16(out, 4, 1);
    dns::write_u16(out, 6, 1);
    std::copy(record.owner.begin(), record.owner.end(), out.begin() + dns::kHeaderSize);
    dns::write_u16(out, question_end - 4, record.type);
    dns::write_u16(out, question_end - 2, dns::kClassIN);
    dns::write_u16(out, question_end, 0xc000 | dns::kHeaderSize);
    dns::write_u16(out, question_end + 2, record.type);
    dns::write_u16(out, question_end + 4, record.rclass);
    dns::write_u32(out, question_end + 6, record.ttl);
    dns::write_u16(out, question_end + 10, static_cast<std::uint16_t>(record.rdata.size()));
    std::copy(record.rdata.begin(), record.rdata.end(), out.begin() + static_cast<std::ptrdiff_t>(question_end + 12));
    return out;
}

// Local data holding the record alone, asked its own question: the record, exactly as `message` holds it.
std::string check_served_record(std::string_view line, const dns::ZoneRecord& record,
                                std::span<const std::byte> message) {
    policy::LocalData::Builder builder;
    const auto refused = builder.add_record(record, "fuzz");
    const bool wildcard =
        record.owner.size() > 2 && record.owner[0] == std::byte{1} && record.owner[1] == std::byte{'*'};
    if (refused.has_value() != wildcard) {
        return wildcard ? "a wildcard owner taken by local data"
                        : "a zone record refused by local data: " + refused->problem;
    }
    if (builder.add_record(line, "fuzz").has_value() != wildcard) {
        return "local data takes a zone record and not its line, or the line and not the record";
    }
    if (wildcard) return {};
    auto built = std::move(builder).build();
    if (auto* error = std::get_if<policy::LocalDataError>(&built)) {
        return "local data holding one zone record does not build: " + error->message();
    }
    const auto& data = std::get<policy::LocalData>(built);

    std::vector<std::byte> query(dns::kHeaderSize + record.owner.size() + 4);
    dns::write_u16(query, 0, 0x4242);
    dns::write_u16(query, 2, dns::kFlagRd);
    dns::write_u16(query, 4, 1);
    std::copy(record.owner.begin(), record.owner.end(), query.begin() + dns::kHeaderSize);
    dns::write_u16(query, query.size() - 4, record.type);
    dns::write_u16(query, query.size() - 2, dns::kClassIN);
    dns::Message parsed;
    if (dns::parse_message(query, parsed) != dns::ParseStatus::Ok) {
        return "a query for a zone record's owner that does not parse";
    }
    // Room for the answer and no more (but the 512 bytes answer() asks for): it must fit exactly.
    std::vector<std::byte> out(message.empty() ? 65535 : std::max<std::size_t>(512, message.size()));
    const auto answer = data.answer({.wire = query, .message = parsed, .qname = record.owner, .limit = 65535}, out);
    if (!answer || answer->size == 0) return "local data that does not answer for the one record it holds";
    const auto response = std::span(out).first(answer->size);
    dns::Message back;
    if (dns::parse_message(response, back) != dns::ParseStatus::Ok) {
        return "local data's answer for a zone record does not parse";
    }
    if (message.empty()) return back.truncated() ? std::string{} : "a record over a message's size served untruncated";
    if (!std::ranges::equal(response, message)) return "local data serves a zone record otherwise than it was read";
    return {};
}

std::string check_zone_record(std::string_view line, const dns::ZoneRecord& record) {
    const auto owner = dns::read_name(record.owner, 0);
    if (!owner || owner->compressed || owner->length != record.owner.size() || owner->end != record.owner.size()) {
        return "a zone record whose owner is not one whole wire-form name";
    }
    if (std::any_of(record.owner.begin(), record.owner.end(),
                    [](std::byte b) { return b >= std::byte{'A'} && b <= std::byte{'Z'}; })) {
        return "a zone record's owner not lowercased";
    }
    if (record.rclass != dns::kClassIN) return "a zone record of a class other than IN";
    if (record.type == 0 || record.type == dns::type::OPT || (record.type >= 128 && record.type <= 255)) {
        return "a zone record of a meta type";
    }
    if (record.ttl > dns::kMaxTtl) return "a zone record's TTL over 2^31 - 1";
    if (record.rdata.size() > 65535 || !dns::rdata_fits_type(record.type, record.rdata)) {
        return "a zone record whose RDATA does not fit its type";
    }

    std::size_t record_at = 0;
    const std::vector<std::byte> message = message_around(record, record_at);
    if (!message.empty()) {
        dns::Message parsed;
        if (dns::parse_message(message, parsed) != dns::ParseStatus::Ok || parsed.end != message.size()) {
            return "a zone record that does not parse as the answer of a message";
        }
        std::size_t next = 0;
        const std::string text = dns::format_record(message, record_at, next);
        if (next != message.size()) return "a zone record printed past its end";
        const auto again = dns::parse_zone_line(text);
        if (const auto* error = std::get_if<dns::ZoneTextError>(&again)) {
            return "a zone record printed as a line that does not read (" + error->problem + "): " + text;
        }
        if (!same_record(std::get<dns::ZoneRecord>(again), record)) {
            return "a zone record printed as a line that reads as another record: " + text;
        }
    }
    return check_served_record(line, record, message);
}

// Each line, and the whole text as one line: line ends are white space to the zone-text reader.
std::string check_zone(std::string_view text) {
    const auto check = [](std::string_view line) -> std::string {
        const auto parsed = dns::parse_zone_line(line);
        if (const auto* error = std::get_if<dns::ZoneTextError>(&parsed)) {
            return error->problem.empty() ? "a zone line refused with no problem given" : std::string{};
        }
        return check_zone_record(line, std::get<dns::ZoneRecord>(parsed));
    };
    if (auto broken = check(text); !broken.empty()) return broken;
    if (text.find('\n') == std::string_view::npos) return {};
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (auto broken = check(text.substr(at, end - at)); !broken.empty()) return broken;
        at = end + 1;
    }
    return {};
}

}  // namespace

std::string list_property_violation(std::span<const std::byte> input) {
    const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
    if (auto broken = check_list(text); !broken.empty()) return broken;
    if (auto broken = check_hosts(text); !broken.empty()) return broken;
    return check_zone(text);
}

}  // namespace greenfinch::test
