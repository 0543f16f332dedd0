#include "policy/hosts_file.hpp"

namespace greenfinch::policy {

namespace {
constexpr text::NameRules kHostNames{.min_labels = text::MinLabels::one, .wildcard = text::Wildcard::refuse};
}  // namespace

HostsReport parse_hosts(std::string_view input, HostSink each) {
    HostsReport report;
    text::Lines lines(input);
    text::NameBuffer name;
    while (const auto line = lines.next()) {
        report.lines = line->number;
        std::string_view rest = line->content;
        const std::string_view first = text::next_word(rest);
        if (first.empty()) continue;
        const text::Address address = text::parse_address(first);
        if (address.kind == text::AddressKind::v6_zoned) {
            ++report.unusable;
            continue;
        }
        // The whole line is checked before any of it is used: half a line would give a name without its aliases.
        const std::string_view names = rest;
        std::size_t count = 0;
        bool bad = address.kind == text::AddressKind::none;
        for (auto word = text::next_word(rest); !bad && !word.empty(); word = text::next_word(rest)) {
            bad = text::encode_name(word, kHostNames, name) == 0;
            ++count;
        }
        if (bad || count == 0) {
            text::note_bad_line(report.bad, *line);
            continue;
        }
        rest = names;
        HostNameRole role = HostNameRole::canonical;
        for (auto word = text::next_word(rest); !word.empty(); word = text::next_word(rest)) {
            const std::size_t n = text::encode_name(word, kHostNames, name);
            each(HostEntry{.address = address.view(), .name = std::span<const std::byte>(name).first(n), .role = role});
            role = HostNameRole::alias;
        }
        report.entries += count;
    }
    return report;
}

std::optional<HostsReport> read_hosts(const std::string& path, HostSink each, std::string& error) {
    const auto data = text::read_text_file(path, error);
    if (!data) return std::nullopt;
    return parse_hosts(*data, each);
}

}  // namespace greenfinch::policy
