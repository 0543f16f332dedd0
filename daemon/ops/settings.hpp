// The settings table: every configuration key is declared once, in settings.cpp, with its section and name, its type
// and default, whether a reload applies it or only a restart does, what values it accepts, one line of help, the flag
// that overrides it and the member of Config it fills. Everything else is driven by the table: the TOML reader and its
// errors (config.cpp), the flags and --help (main.cpp), the reload's diff (restart_only_changes, keep_restart_only)
// and the generated documents (settings_doc.hpp). A key exists when, and only when, it is in the table.
//
// A repeated section ([[forward]], a TOML array of tables) is declared beside the table: each of its tables fills one
// entry of a vector in Config, and its keys are declared like the table's, bound to a member of the entry instead of
// Config. Errors name an entry's key with the entry's place, counted from 1: `forward[2].servers`.
//
// The operations below work on any Setting by visiting its Value, a variant over a few kinds of values (whole number,
// duration, string, list, choice), so that code outside settings.cpp never names a key's type.
#pragma once

#include "daemon/ops/config.hpp"
#include "policy/block_answer.hpp"

#include <chrono>
#include <cstddef>
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

// Where in its Owner (Config, or one entry of a repeated section) a key's value lives: one accessor for writing
// (while a ConfigDraft is filled), one for reading.
template <class Owner, class T>
struct Binding {
    T& (*of)(Owner&);
    const T& (*in)(const Owner&);
};

// The Binding of `config.*Section.*Member`, e.g. member<&Config::server, &Config::Server::listen>().
template <auto Section, auto Member>
constexpr auto member() {
    using T = std::remove_cvref_t<decltype(std::declval<Config&>().*Section.*Member)>;
    return Binding<Config, T>{
        .of = [](Config& c) -> T& { return c.*Section.*Member; },
        .in = [](const Config& c) -> const T& { return c.*Section.*Member; },
    };
}

template <class M>
struct MemberPointer;
template <class C, class T>
struct MemberPointer<T C::*> {
    using Owner = C;
    using Type = T;
};

// The Binding of `entry.*Member` for a key of a repeated section, e.g. field<&Config::ForwardZone::zone>(); also
// the vector a repeated section fills, e.g. field<&Config::forward>().
template <auto Member>
constexpr auto field() {
    using Owner = typename MemberPointer<decltype(Member)>::Owner;
    using T = typename MemberPointer<decltype(Member)>::Type;
    return Binding<Owner, T>{
        .of = [](Owner& o) -> T& { return o.*Member; },
        .in = [](const Owner& o) -> const T& { return o.*Member; },
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
template <class Owner>
struct BooleanOf {
    Binding<Owner, bool> bind;
    bool fallback = false;
};
template <class Owner>
struct WholeOf {
    Binding<Owner, int> bind;
    int fallback = 0;
    Range range{};
};
// A TOML integer counted in D's unit (`timeout_ms = 2000`, `max_ttl = 86400`).
template <class Owner, class D>
struct DurationOf {
    Binding<Owner, D> bind;
    D fallback{};
    Range range{};
};
template <class Owner>
struct TextOf {
    Binding<Owner, std::string> bind;
    std::string fallback{};
    const Syntax* syntax = nullptr;  // null: any string; else a non-empty one must have it
    Blank blank = Blank::allowed;
};
template <class Owner>
struct TextListOf {
    Binding<Owner, std::vector<std::string>> bind;
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
template <class Owner, class E>
struct ChoiceOf {
    Binding<Owner, E> bind;
    E fallback{};
    std::span<const Named<E>> names;
};

template <class Owner>
using ValueOf =
    std::variant<BooleanOf<Owner>, WholeOf<Owner>, DurationOf<Owner, std::chrono::milliseconds>,
                 DurationOf<Owner, std::chrono::seconds>, TextOf<Owner>, TextListOf<Owner>,
                 ChoiceOf<Owner, CacheBackend>, ChoiceOf<Owner, LogLevel>, ChoiceOf<Owner, policy::BlockAnswer>>;

// The kinds of the table's keys, which live in Config.
using Boolean = BooleanOf<Config>;
using Whole = WholeOf<Config>;
template <class D>
using Duration = DurationOf<Config, D>;
using Text = TextOf<Config>;
using TextList = TextListOf<Config>;
template <class E>
using Choice = ChoiceOf<Config, E>;
using Value = ValueOf<Config>;

struct Flag {
    std::string_view name;             // "--listen"; empty: the key has no flag
    std::string_view value_name = {};  // its argument in --help and the documents; empty for a choice: its names
};

// Whether a key must be written. The table's keys all have defaults; a repeated section's entry may need some.
enum class Presence : std::uint8_t { optional, required };

template <class Owner>
struct SettingOf {
    std::string_view section;
    std::string_view name;
    ValueOf<Owner> value;
    Apply apply = Apply::on_reload;  // a repeated section's keys: its own Apply counts
    Presence presence = Presence::optional;
    std::string_view help;          // one line: --help, and the first sentence in the documents
    std::string_view details = {};  // what else an operator should know, for the documents
    std::string_view example = {};  // a TOML value worth showing where the default shows little
    Flag flag = {};

    std::string key() const { return std::string(section) + "." + std::string(name); }  // "server.listen"
};
using Setting = SettingOf<Config>;

// A check across keys, reported against one of them: `key` is the table's full name ("cache.min_ttl"), or, in a
// repeated section, the entry's key ("zone").
template <class Owner>
struct RuleOf {
    std::string_view key;
    std::string_view problem;  // "must not exceed cache.max_ttl"
    bool (*holds)(const Owner&);
};
using Rule = RuleOf<Config>;

// Entries of a repeated section that must differ from each other.
template <class Entry>
struct Unique {
    std::string_view key;                   // the key a repeat is reported against: "zone"
    std::string (*identity)(const Entry&);  // equal for two entries that would repeat each other
    std::string_view rule;                  // for errors and the documents: "one entry per zone"
};

// A section written as an array of tables ([[forward]]), each table one entry of `bind`'s vector.
template <class Entry>
struct RepeatedSection {
    std::string_view name;  // "forward"
    Binding<Config, std::vector<Entry>> bind;
    std::span<const SettingOf<Entry>> keys;
    std::span<const RuleOf<Entry>> rules;  // checks within one entry
    Unique<Entry> unique;
    std::size_t max_entries = 0;  // 0: any number
    Apply apply = Apply::on_reload;
    std::string_view after;  // the section the documents show it after
    std::string_view help;   // the first sentence in the documents
    std::string_view details = {};
};
using Repeated = std::variant<RepeatedSection<Config::ForwardZone>>;

std::span<const Setting> table();
std::span<const Rule> rules();
// The sections, in the table's order (the repeated ones are not among them).
std::vector<std::string_view> sections();
// Null when there is no such key.
const Setting* find(std::string_view section, std::string_view name);
const Setting* find(std::string_view key);

std::span<const Repeated> repeated();
std::string_view name_of(const Repeated& r);
// Null when there is no such repeated section.
const Repeated* find_repeated(std::string_view name);
// The key of the entry at `index` (counted from 1) as errors name it: "forward[2].servers".
std::string entry_key(std::string_view section, std::size_t index, std::string_view name);

// How a value is written, in a file or on the command line, before it is stored as the key's type.
enum class Shape : std::uint8_t { boolean, whole, text, text_list };
using Written = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;
template <class Owner>
Shape shape(const SettingOf<Owner>& s);
// What a file or flag of the wrong shape is told: "expected a whole number from 0 to 1000000000".
std::string expected(Shape shape);

// The operations below exist for Config's keys and for the entries of the repeated sections (Config::ForwardZone).

// Stores `written` (of the setting's shape) in `owner`. Returns the problem instead when it stands for no value of
// the key's type: a number outside 0..kMaxWhole, a name that is not one of the choices.
template <class Owner>
std::optional<std::string> assign(const SettingOf<Owner>& s, Written written, Owner& owner);
template <class Owner>
void reset(const SettingOf<Owner>& s, Owner& owner);  // to the default
template <class Owner>
void copy(const SettingOf<Owner>& s, const Owner& from, Owner& to);
template <class Owner>
bool same(const SettingOf<Owner>& s, const Owner& a, const Owner& b);
// Checks the key's value against its range or syntax; nullopt when it is fine. Rules across keys are separate.
template <class Owner>
std::optional<std::string> problem(const SettingOf<Owner>& s, const Owner& owner);

// The key's value in `owner`, or its default, as TOML writes it: `["127.0.0.1:5335", "[::1]:5335"]`, `2000`.
template <class Owner>
std::string literal(const SettingOf<Owner>& s, const Owner& owner);
template <class Owner>
std::string default_literal(const SettingOf<Owner>& s);
// The type in a few words ("milliseconds", "array of strings").
template <class Owner>
std::string type_name(const SettingOf<Owner>& s);
// What the key accepts ("at least 1", "ADDR:PORT ...", "memory or redis", with the rules reported against it), empty
// when anything of the type will do.
std::string accepted(const Setting& s);
template <class Entry>
std::string accepted(const RepeatedSection<Entry>& section, const SettingOf<Entry>& s);
// A list's flag may be given once per item.
bool repeatable(const Setting& s);
// The flag's argument as --help shows it: "ADDR:PORT", "memory|redis".
std::string flag_argument(const Setting& s);

// A repeated section's whole vector, for the reload's diff.
template <class Entry>
bool same(const RepeatedSection<Entry>& r, const Config& a, const Config& b) {
    return r.bind.in(a) == r.bind.in(b);
}
template <class Entry>
void copy(const RepeatedSection<Entry>& r, const Config& from, Config& to) {
    r.bind.of(to) = r.bind.in(from);
}

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
