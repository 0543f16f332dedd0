#include "daemon/ops/settings_doc.hpp"

#include "daemon/ops/settings.hpp"

#include <array>
#include <vector>

namespace greenfinch::daemon::settings {

namespace {

constexpr std::array<GeneratedFile, 3> kFiles{{
    {.document = Document::toml, .name = "toml", .path = "conf/greenfinch.toml"},
    {.document = Document::markdown, .name = "markdown", .path = "docs/configuration.md"},
    {.document = Document::man, .name = "man", .path = "man/greenfinch.toml.5"},
}};

constexpr std::string_view kRegenerate = "cmake --build BUILD --target settings_docs";

struct SectionProse {
    std::string_view section;
    std::string_view text;
};
constexpr std::array<SectionProse, 8> kSections{{
    {.section = "server", .text = "Where and how DNS is served."},
    {.section = "upstream", .text = "The resolvers that answer what the cache cannot."},
    {.section = "local",
     .text = "What greenfinch answers from its own data, and what it keeps out of upstream answers."},
    {.section = "block", .text = "Names greenfinch does not resolve: a query for one gets block.answer."},
    {.section = "cache", .text = "What is cached, for how long, and where."},
    {.section = "redis", .text = "The shared cache behind the memory one, used with cache.backend = \"redis\"."},
    {.section = "metrics", .text = "The HTTP endpoint for metrics and cache flushes."},
    {.section = "log", .text = "What is logged."},
}};

std::string_view section_prose(std::string_view section) {
    for (const auto& p : kSections) {
        if (p.section == section) return p.text;
    }
    return {};
}

std::vector<const Setting*> in_section(std::string_view section) {
    std::vector<const Setting*> out;
    for (const auto& s : table()) {
        if (s.section == section) out.push_back(&s);
    }
    return out;
}

// Words of `text` in lines of at most `width` characters (a longer word gets a line of its own).
std::vector<std::string> wrap(std::string_view text, std::size_t width) {
    std::vector<std::string> lines;
    std::string line;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t end = std::min(text.find(' ', at), text.size());
        const std::string_view word = text.substr(at, end - at);
        if (!word.empty()) {
            if (!line.empty() && line.size() + 1 + word.size() > width) {
                lines.push_back(line);
                line.clear();
            }
            line += (line.empty() ? "" : " ") + std::string(word);
        }
        at = end + 1;
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
}

template <class Owner>
std::string prose(const SettingOf<Owner>& s) {
    return s.details.empty() ? std::string(s.help) : std::string(s.help) + " " + std::string(s.details);
}

std::string capitalized(std::string text) {
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
    return text;
}

// "Integer, milliseconds: at least 1."
std::string type_sentence(const Setting& s) {
    const std::string accepts = accepted(s);
    return capitalized(type_name(s)) + (accepts.empty() ? "" : ": " + accepts) + ".";
}

std::string_view applies(const Setting& s) {
    return s.apply == Apply::on_restart ? "Applies on restart." : "Applies on reload.";
}

std::string flag_usage(const Setting& s) { return std::string(s.flag.name) + " " + flag_argument(s); }

// "Applies on restart. Flag: --listen ADDR:PORT, once per item."
std::string applies_and_flag(const Setting& s) {
    std::string text(applies(s));
    if (!s.flag.name.empty()) {
        text += " Flag: " + flag_usage(s);
        text += repeatable(s) ? ", once per item." : ".";
    }
    return text;
}

// The repeated sections the documents show after `section`.
std::vector<const Repeated*> repeated_after(std::string_view section) {
    std::vector<const Repeated*> out;
    for (const auto& r : repeated()) {
        if (std::visit([](const auto& rs) { return rs.after; }, r) == section) out.push_back(&r);
    }
    return out;
}

template <class Entry>
std::string section_prose(const RepeatedSection<Entry>& r) {
    return r.details.empty() ? std::string(r.help) : std::string(r.help) + " " + std::string(r.details);
}

template <class Entry>
std::string_view applies(const RepeatedSection<Entry>& r) {
    return r.apply == Apply::on_restart ? "Applies on restart." : "Applies on reload.";
}

// "Write one [[forward]] table per zone, with the keys below. Applies on reload."
template <class Entry>
std::string entries_sentence(const RepeatedSection<Entry>& r) {
    return "Write one [[" + std::string(r.name) + "]] table per " + std::string(r.unique.key) +
           ", with the keys below. " + std::string(applies(r));
}

// "String: a domain name; one [[forward]] per zone. Required."
template <class Entry>
std::string type_sentence(const RepeatedSection<Entry>& r, const SettingOf<Entry>& s) {
    const std::string accepts = accepted(r, s);
    return capitalized(type_name(s)) + (accepts.empty() ? "" : ": " + accepts) + ".";
}

template <class Entry>
std::string presence_sentence(const SettingOf<Entry>& s) {
    return s.presence == Presence::required ? "Required." : "Default: " + default_literal(s) + ".";
}

// A whole entry as TOML writes it: the keys with an example, the others at their defaults.
template <class Entry>
std::vector<std::string> example_lines(const RepeatedSection<Entry>& r) {
    std::vector<std::string> lines{"[[" + std::string(r.name) + "]]"};
    for (const auto& s : r.keys) {
        lines.push_back(std::string(s.name) + " = " +
                        (s.example.empty() ? default_literal(s) : std::string(s.example)));
    }
    return lines;
}

// conf/greenfinch.toml

std::string render_toml() {
    std::string out =
        "# greenfinch configuration. Every key is shown with its default; flags given on the command line win over\n"
        "# this file. Check a file without starting the daemon: greenfinch --config FILE --check-config\n"
        "# A reload (SIGHUP; systemctl reload greenfinch) applies the keys that say \"Applies on reload\"; the others "
        "keep\n"
        "# their running values until a restart, and the reload's warning names each one that changed.\n"
        "# The reference: greenfinch.toml(5), or docs/configuration.md.\n"
        "#\n"
        "# Generated from greenfinch's settings table (daemon/ops/settings.cpp): in the source tree, change the table\n"
        "# and run `" +
        std::string(kRegenerate) + "` instead of editing this file.\n";
    const auto comment = [&out](std::string_view text) {
        for (const auto& line : wrap(text, 114)) out += "# " + line + "\n";
    };
    for (const auto section : sections()) {
        out += "\n[" + std::string(section) + "]\n";
        bool first = true;
        for (const Setting* s : in_section(section)) {
            if (!first) out += "\n";
            first = false;
            comment(prose(*s));
            comment(type_sentence(*s));
            comment(applies_and_flag(*s));
            if (!s->example.empty()) comment("For example: " + std::string(s->name) + " = " + std::string(s->example));
            out += "# " + std::string(s->name) + " = " + default_literal(*s) + "\n";
        }
        for (const Repeated* r : repeated_after(section)) {
            std::visit(
                [&](const auto& rs) {
                    out += "\n# [[" + std::string(rs.name) + "]]\n";
                    comment(section_prose(rs));
                    comment(entries_sentence(rs));
                    for (const auto& s : rs.keys) {
                        out += "#\n";
                        comment(std::string(s.name) + ": " + prose(s));
                        comment(type_sentence(rs, s) + " " + presence_sentence(s));
                    }
                    out += "#\n# For example:\n";
                    for (const auto& line : example_lines(rs)) out += "# " + line + "\n";
                },
                *r);
        }
    }
    return out;
}

// docs/configuration.md

std::string code(std::string_view text) {
    // A value with a backtick would need a longer fence; none of the table's has one.
    return "`" + std::string(text) + "`";
}

std::string render_markdown() {
    std::string out =
        "# Configuration reference\n"
        "\n"
        "<!-- Generated from greenfinch's settings table (daemon/ops/settings.cpp) by greenfinch_settings_doc: change\n"
        "     the table and run `" +
        std::string(kRegenerate) +
        "` instead of editing this file. -->\n"
        "\n"
        "greenfinch takes its settings from its built-in defaults, then from a TOML file (`--config FILE`; the\n"
        "systemd unit passes `/etc/greenfinch/greenfinch.toml`), then from flags, which win over the file. The "
        "shipped\n"
        "`conf/greenfinch.toml` lists every key below, commented out at its default.\n"
        "\n"
        "- **Mistakes are refused, not guessed at.** An unknown section or key, a value of the wrong type or out of\n"
        "  range stops the daemon (exit status 2) with a message that names the file, the line and the key, e.g.\n"
        "  `greenfinch.toml:12: cache.min_ttl: must not exceed cache.max_ttl`; an error in a flag names the flag.\n"
        "- **Checking a file.** `greenfinch --config FILE --check-config` loads it with the other flags given and\n"
        "  exits 0 if the daemon would start with it, 2 (with the message) if not.\n"
        "- **Reloading.** SIGHUP (`systemctl reload greenfinch`) reads the file again, with the same flags. A key "
        "that\n"
        "  applies on *reload* takes its new value in place, without dropping the cache or a query in flight. A key\n"
        "  that needs a *restart* keeps its running value; the reload logs a warning naming each such key that\n"
        "  changed. A file that does not load is refused with a log line and the running configuration stays.\n"
        "- **Units.** A key whose name ends in `_ms` counts milliseconds; TTLs and `cache.serve_stale` count seconds.\n"
        "\n"
        "## Summary\n"
        "\n"
        "| Key | Type | Default | Applies | Flag |\n"
        "|-----|------|---------|---------|------|\n";
    const auto row = [&out](const auto& s, std::string_view default_text, Apply apply) {
        out += "| [" + code(s.key()) + "](#" + std::string(s.section) + std::string(s.name) + ") | " + type_name(s) +
               " | " + std::string(default_text) + " | " + (apply == Apply::on_restart ? "restart" : "reload") + " | " +
               (s.flag.name.empty() ? "" : code(s.flag.name)) + " |\n";
    };
    for (const auto section : sections()) {
        for (const Setting* s : in_section(section)) row(*s, code(default_literal(*s)), s->apply);
        for (const Repeated* r : repeated_after(section)) {
            std::visit(
                [&](const auto& rs) {
                    for (const auto& s : rs.keys) {
                        row(s, s.presence == Presence::required ? "required" : code(default_literal(s)), rs.apply);
                    }
                },
                *r);
        }
    }
    for (const auto section : sections()) {
        out += "\n## [" + std::string(section) + "]\n\n";
        if (const auto text = section_prose(section); !text.empty()) out += std::string(text) + "\n";
        for (const Setting* s : in_section(section)) {
            out += "\n### " + s->key() + "\n\n";
            for (const auto& line : wrap(prose(*s), 116)) out += line + "\n";
            out += "\n";
            out += "- Type: " + type_name(*s);
            if (const auto accepts = accepted(*s); !accepts.empty()) out += "; " + accepts;
            out += "\n- Default: " + code(std::string(s->name) + " = " + default_literal(*s)) + "\n";
            out += s->apply == Apply::on_restart ? "- Applies: on restart; a reload keeps the running value\n"
                                                 : "- Applies: on reload\n";
            if (!s->flag.name.empty()) {
                out += "- Flag: " + code(flag_usage(*s)) + (repeatable(*s) ? ", once per item" : "") + "\n";
            }
            if (!s->example.empty()) {
                out += "- Example: " + code(std::string(s->name) + " = " + std::string(s->example)) + "\n";
            }
        }
        for (const Repeated* r : repeated_after(section)) {
            std::visit(
                [&](const auto& rs) {
                    out += "\n## [[" + std::string(rs.name) + "]]\n\n";
                    for (const auto& line : wrap(section_prose(rs) + " " + entries_sentence(rs), 116)) {
                        out += line + "\n";
                    }
                    out += "\n```toml\n";
                    for (const auto& line : example_lines(rs)) out += line + "\n";
                    out += "```\n";
                    for (const auto& s : rs.keys) {
                        out += "\n### " + s.key() + "\n\n";
                        for (const auto& line : wrap(prose(s), 116)) out += line + "\n";
                        out += "\n- Type: " + type_name(s);
                        if (const auto accepts = accepted(rs, s); !accepts.empty()) out += "; " + accepts;
                        out += s.presence == Presence::required
                                   ? "\n- Required in every [[" + std::string(rs.name) + "]]\n"
                                   : "\n- Default: " + code(std::string(s.name) + " = " + default_literal(s)) + "\n";
                        if (!s.example.empty()) {
                            out += "- Example: " + code(std::string(s.name) + " = " + std::string(s.example)) + "\n";
                        }
                    }
                },
                *r);
        }
    }
    return out;
}

// man/greenfinch.toml.5

// Text for a roff text line: backslashes and hyphens escaped (an unescaped hyphen may render as a hyphen that does
// not paste as "-"), and a leading dot or quote kept from being read as a request.
std::string roff(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') {
            out += "\\e";
        } else if (c == '-') {
            out += "\\-";
        } else {
            out += c;
        }
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
    return out;
}

// One sentence per line, as roff wants them: it then knows where sentences end.
std::string roff_sentences(std::string_view text) {
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find(". ", at);
        end = end == std::string_view::npos ? text.size() : end + 1;
        out += roff(text.substr(at, end - at)) + "\n";
        at = end;
        while (at < text.size() && text[at] == ' ') ++at;
    }
    return out;
}

std::string render_man() {
    std::string out =
        ".\\\" Generated from greenfinch's settings table (daemon/ops/settings.cpp) by greenfinch_settings_doc:\n"
        ".\\\" change the table and run `" +
        std::string(kRegenerate) +
        "` instead of editing this file.\n"
        ".TH GREENFINCH.TOML 5 \"\" \"greenfinch\" \"File Formats Manual\"\n"
        ".SH NAME\n"
        "greenfinch.toml \\- configuration file of greenfinch, a caching DNS forwarder\n"
        ".SH SYNOPSIS\n"
        ".I /etc/greenfinch/greenfinch.toml\n"
        ".SH DESCRIPTION\n"
        "greenfinch takes its settings from its built\\-in defaults, then from a TOML file named by\n"
        ".BR \\-\\-config ,\n"
        "then from flags, which win over the file.\n"
        "The file has the sections and keys listed under\n"
        ".BR SETTINGS ;\n"
        "every key may be left out, and then has its default.\n"
        ".PP\n"
        "An unknown section or key, a value of the wrong type or out of range stops the daemon with exit status 2 and\n"
        "a message that names the file, the line and the key.\n"
        ".B greenfinch \\-\\-config\n"
        ".I FILE\n"
        ".B \\-\\-check\\-config\n"
        "checks a file without starting the daemon: it exits 0 if the daemon would start with it.\n"
        ".PP\n"
        "SIGHUP\n"
        ".RB ( \"systemctl reload greenfinch\" )\n"
        "reads the file again, with the same flags.\n"
        "A key that a reload applies takes its new value in place, without dropping the cache or a query in flight.\n"
        "A key that needs a restart keeps its running value, and the reload logs a warning naming each such key that\n"
        "changed.\n"
        "A file that does not load is refused and the running configuration stays.\n"
        ".PP\n"
        "A key whose name ends in\n"
        ".B _ms\n"
        "counts milliseconds; TTLs and\n"
        ".B serve_stale\n"
        "count seconds.\n"
        ".SH SETTINGS\n";
    for (const auto section : sections()) {
        out += ".SS [" + std::string(section) + "]\n";
        if (const auto text = section_prose(section); !text.empty()) out += roff_sentences(text);
        for (const Setting* s : in_section(section)) {
            out += ".TP\n\\fB" + roff(s->name) + "\\fR = " + roff(default_literal(*s)) + "\n";
            out += roff_sentences(prose(*s));
            out += ".IP\n" + roff_sentences(type_sentence(*s)) + roff(applies(*s)) + "\n";
            if (!s->flag.name.empty()) {
                out += "Flag: \\fB" + roff(s->flag.name) + "\\fR \\fI" + roff(flag_argument(*s)) + "\\fR" +
                       (repeatable(*s) ? ", once per item.\n" : ".\n");
            }
            if (!s->example.empty()) {
                out += "For example: " + roff(std::string(s->name) + " = " + std::string(s->example)) + "\n";
            }
        }
        for (const Repeated* r : repeated_after(section)) {
            std::visit(
                [&](const auto& rs) {
                    out += ".SS [[" + std::string(rs.name) + "]]\n";
                    out += roff_sentences(section_prose(rs)) + roff_sentences(entries_sentence(rs));
                    for (const auto& s : rs.keys) {
                        out += ".TP\n\\fB" + roff(s.name) + "\\fR" +
                               (s.presence == Presence::required ? " (required)" : " = " + roff(default_literal(s))) +
                               "\n";
                        out += roff_sentences(prose(s));
                        out += ".IP\n" + roff_sentences(type_sentence(rs, s));
                        if (!s.example.empty()) {
                            out += "For example: " + roff(std::string(s.name) + " = " + std::string(s.example)) + "\n";
                        }
                    }
                    out += ".PP\nFor example:\n.PP\n.RS\n.nf\n";
                    for (const auto& line : example_lines(rs)) out += roff(line) + "\n";
                    out += ".fi\n.RE\n";
                },
                *r);
        }
    }
    out +=
        ".SH FILES\n"
        ".TP\n"
        ".I /etc/greenfinch/greenfinch.toml\n"
        "The file the systemd unit passes to\n"
        ".BR \\-\\-config .\n"
        ".SH SEE ALSO\n"
        ".BR greenfinch (8),\n"
        ".BR systemctl (1)\n";
    return out;
}

}  // namespace

std::span<const GeneratedFile> generated_files() { return kFiles; }

std::string render(Document document) {
    switch (document) {
        case Document::toml: return render_toml();
        case Document::markdown: return render_markdown();
        case Document::man: return render_man();
    }
    return {};
}

}  // namespace greenfinch::daemon::settings
