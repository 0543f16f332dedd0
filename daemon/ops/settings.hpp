// The settings table: every configuration key is declared once, in settings.cpp, with its section and name, its type
// and default, whether a reload applies it or only a restart does, what values it accepts, one line of help, the flag
// that overrides it and the member of Config it fills. Everything else is driven by the table: the TOML reader and its
// errors (config.cpp), the flags and --help (main.cpp), the reload's diff (restart_only_changes, keep_restart_only)
// and the generated documents (settings_doc.hpp). A key exists when, and only when, it is in the table.
//
// The operations below work on any Setting by visiting its Value, a variant over a few kinds of values (whole number,
// duration, string, list, choice), so that code outside settings.cpp never names a key's type.
#pragma once

#include "daemon/ops/config.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace greenfinch::daemon::settings {

// When a new value takes effect.
enum class Apply : std::uint8_t {
    on_reload,   // SIGHUP applies it in place
    on_restart,  // a reload keeps the running value and names the key in a warning
};

// Where in Config a key's value lives: one accessor for writing (while a ConfigDraft is filled), one for reading.
template <class T>
struct Binding {
    T& (*of)(Config&);
    const T& (*in)(const Config&);
};

// The Binding of `config.*Section.*Member`, e.g. member<&Config::server, &Config::Server::listen>().
template <auto Section, auto Member>
constexpr auto member() {
    using T = std::remove_cvref_t<decltype(std::declval<Config&>().*Section.*Member)>;
    return Binding<T>{
        .of = [](Config& c) -> T& { return c.*Section.*Member; },
        .in = [](const Config& c) -> const T& { return c.*Section.*Member; },
    };
}

// The largest number a file may give any key: counts then fit an int and TTLs 32 bits.
inline constexpr std::int64_t kMaxWhole = 1'000'000'000;

// Inclusive bounds, in the key's own unit.
struct Range {
    std::int64_t min = 0;
    std::int64_t max = kMaxWhole;
};

// What a string must look like.
struct Syntax {
    std::string_view name;  // as errors and the documents show it: "ADDR:PORT (IPv6 in brackets: [::1]:5335)"
    std::string_view noun;  // what one such string is: "address"
    bool (*accepts)(const std::string&);
};

// Whether a string or a list may be empty (which then means "none", "off" or "ask the system").
enum class Blank : std::uint8_t { allowed, refused };

// The kinds of values, each with the key's default (`fallback`) and what it accepts.
struct Boolean {
    Binding<bool> bind;
    bool fallback = false;
};
struct Whole {
    Binding<int> bind;
    int fallback = 0;
    Range range{};
};
// A TOML integer counted in D's unit (`timeout_ms = 2000`, `max_ttl = 86400`).
template <class D>
struct Duration {
    Binding<D> bind;
    D fallback{};
    Range range{};
};
struct Text {
    Binding<std::string> bind;
    std::string fallback{};
    const Syntax* syntax = nullptr;  // null: any string; else a non-empty one must have it
    Blank blank = Blank::allowed;
};
struct TextList {
    Binding<std::vector<std::string>> bind;
    std::vector<std::string> fallback{};
    const Syntax* syntax = nullptr;  // every item must have it
    Blank blank = Blank::allowed;
};
template <class E>
struct Named {
    std::string_view name;
    E value;
};
// A string naming one of a few values of an enum.
template <class E>
struct Choice {
    Binding<E> bind;
    E fallback{};
    std::span<const Named<E>> names;
};

using Value = std::variant<Boolean, Whole, Duration<std::chrono::milliseconds>, Duration<std::chrono::seconds>, Text,
                           TextList, Choice<CacheBackend>, Choice<LogLevel>>;

struct Flag {
    std::string_view name;             // "--listen"; empty: the key has no flag
    std::string_view value_name = {};  // its argument in --help and the documents; empty for a choice: its names
};

struct Setting {
    std::string_view section;
    std::string_view name;
    Value value;
    Apply apply = Apply::on_reload;
    std::string_view help;          // one line: --help, and the first sentence in the documents
    std::string_view details = {};  // what else an operator should know, for the documents
    std::string_view example = {};  // a TOML value worth showing where the default shows little
    Flag flag = {};

    std::string key() const;  // "server.listen"
};

// A check across keys, reported against one of them.
struct Rule {
    std::string_view key;
    std::string_view problem;  // "must not exceed cache.max_ttl"
    bool (*holds)(const Config&);
};

std::span<const Setting> table();
std::span<const Rule> rules();
// The sections, in the table's order.
std::vector<std::string_view> sections();
// Null when there is no such key.
const Setting* find(std::string_view section, std::string_view name);
const Setting* find(std::string_view key);

// How a value is written, in a file or on the command line, before it is stored as the key's type.
enum class Shape : std::uint8_t { boolean, whole, text, text_list };
using Written = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;
Shape shape(const Setting& s);
// What a file or flag of the wrong shape is told: "expected a whole number from 0 to 1000000000".
std::string expected(Shape shape);

// Stores `written` (of the setting's shape) in `config`. Returns the problem instead when it stands for no value of
// the key's type: a number outside 0..kMaxWhole, a name that is not one of the choices.
std::optional<std::string> assign(const Setting& s, Written written, Config& config);
void reset(const Setting& s, Config& config);  // to the default
void copy(const Setting& s, const Config& from, Config& to);
bool same(const Setting& s, const Config& a, const Config& b);
// Checks the key's value against its range or syntax; nullopt when it is fine. Rules across keys are separate.
std::optional<std::string> problem(const Setting& s, const Config& config);

// The key's value in `config`, or its default, as TOML writes it: `["127.0.0.1:5335", "[::1]:5335"]`, `2000`.
std::string literal(const Setting& s, const Config& config);
std::string default_literal(const Setting& s);
// The type in a few words ("milliseconds", "array of strings") and what it accepts ("at least 1", "ADDR:PORT ...",
// "memory or redis"), empty when anything of the type will do.
std::string type_name(const Setting& s);
std::string accepted(const Setting& s);
// A list's flag may be given once per item.
bool repeatable(const Setting& s);
// The flag's argument as --help shows it: "ADDR:PORT", "memory|redis".
std::string flag_argument(const Setting& s);

// "a", "a or b", "one of a, b, c": how errors and the documents list choices.
template <class E>
std::string choice_list(std::span<const Named<E>> names) {
    std::string out = names.size() > 2 ? "one of " : "";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += names.size() > 2 ? ", " : " or ";
        out += names[i].name;
    }
    return out;
}

}  // namespace greenfinch::daemon::settings
