// Name lists: the block and allow lists an operator names, in the formats public lists use, read as a stream of names.
//
// A line is one of: blank or a comment (`#` to the end of the line, anywhere in it); hosts format, an IPv4 or IPv6
// address (any, a `%zone` allowed, and ignored) then one or more names; or one name alone. A name may end in a dot,
// and a leading `*.` is dropped: `*.example.com` reads as example.com, which blocks its subtree anyway. Names are
// ASCII letters, digits, `-` and `_` (real lists hold underscores), in labels of 1 to 63 bytes, 255 bytes at most in
// wire form, with two labels at least (a one-label name in a block list would block a whole top-level domain) and a
// top label that is not all digits (no top-level domain is, and a name like 1.2.3.4 is an address misread). The
// names hosts files carry for the machine itself (localhost, broadcasthost, ip6-allnodes, 0.0.0.0, ...) are left out
// silently and counted as skipped, as Pi-hole does. Any other line (an adblock rule such as `||x^$third-party`, a
// name with a bad character or label, an address with no name, a second word after a name) is a bad line: none of
// its names is used, it is counted, and the first kReportedBadLines are kept (line number, text shortened) so that
// one warning can name file:line. Lines end in LF or CRLF; spaces, tabs and CRs separate words; a leading UTF-8 BOM
// is ignored. Bad input is never an error: the parser only counts it.
//
// Streaming: each name goes to the sink as it is read, in lowercase wire form, from a buffer reused for the next
// one, so parsing allocates nothing per name (only for the first bad lines' text).
#pragma once

#include "dns/name.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace greenfinch::policy {

// A non-owning reference to a callable (a lambda, kept alive by the caller for the duration of the call it is passed
// to): one indirect call, no allocation, unlike std::function.
template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
public:
    // Implicit, so that a lambda is passed as it is; not from another FunctionRef, which it would refer to instead.
    template <class F, std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                            std::is_object_v<std::remove_reference_t<F>> &&
                                            std::is_invocable_r_v<R, F&, Args...>,
                                        int> = 0>
    FunctionRef(F&& f) noexcept
        : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
          call_([](void* object, Args... args) -> R {
              return (*static_cast<std::add_pointer_t<std::remove_reference_t<F>>>(object))(
                  std::forward<Args>(args)...);
          }) {}

    R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

private:
    void* object_;
    R (*call_)(void*, Args...);
};

inline constexpr std::size_t kReportedBadLines = 5;
inline constexpr std::size_t kBadLineTextLength = 80;  // longer lines are cut, and end in "..."

struct BadLine {
    std::size_t number = 0;  // from 1
    std::string text;        // the line as written, bytes outside printable ASCII shown as '?'
};

struct BadLines {
    std::size_t count = 0;
    std::vector<BadLine> first;  // the first kReportedBadLines of them, in file order
};

struct ListReport {
    std::size_t lines = 0;    // lines in the text (a last line without a line end counts)
    std::size_t names = 0;    // names given to the sink; a hosts-format line can give several
    std::size_t skipped = 0;  // well-known hosts names left out (localhost, broadcasthost, ...)
    BadLines bad;
};

// Gets each name in lowercase wire form (labels, then the root label); the bytes are valid only during the call.
using NameSink = FunctionRef<void(std::span<const std::byte> name)>;

ListReport parse_name_list(std::string_view text, NameSink each);

// The file at `path`, read whole, then parsed. nullopt, with `error` set to say why (without the path: "No such file
// or directory", "a directory"), if it cannot be read (missing, no permission, not a regular file, over 1 GiB) or is
// not text (it holds a NUL byte: a compressed or binary file named by mistake).
std::optional<ListReport> read_name_list(const std::string& path, NameSink each, std::string& error);

// What the list and hosts parsers (hosts_file.hpp) share: lines, words, names, addresses, files.
namespace text {

struct Line {
    std::size_t number = 0;
    std::string_view whole;    // without its line end
    std::string_view content;  // `whole` up to a comment
};

// The lines of a text, a leading UTF-8 BOM dropped.
class Lines {
public:
    explicit Lines(std::string_view text) noexcept;
    std::optional<Line> next() noexcept;

private:
    std::string_view rest_;
    std::size_t number_ = 0;
};

// The next word of `rest` (words are separated by spaces, tabs and CRs), consumed from it; empty at the end.
std::string_view next_word(std::string_view& rest) noexcept;

enum class MinLabels : std::uint8_t { one, two };
enum class Wildcard : std::uint8_t { refuse, strip };  // what a leading "*." is
struct NameRules {
    MinLabels min_labels = MinLabels::one;
    Wildcard wildcard = Wildcard::refuse;
};

using NameBuffer = std::array<std::byte, dns::kMaxNameLength>;

// `word` as a lowercase wire-form name in `out`: its length, or 0 if it is not a host name under `rules`.
std::size_t encode_name(std::string_view word, NameRules rules, NameBuffer& out) noexcept;

enum class AddressKind : std::uint8_t { none, v4, v6, v6_zoned };
struct Address {
    AddressKind kind = AddressKind::none;
    std::array<std::byte, 16> bytes{};  // network order; the first 4 for v4
    std::span<const std::byte> view() const noexcept {
        return std::span(bytes).first(kind == AddressKind::v4 ? 4 : kind == AddressKind::none ? 0 : 16);
    }
};

// `word` as an IPv4 (dotted quad, as inet_pton reads it) or IPv6 address, the latter possibly with a %zone.
Address parse_address(std::string_view word) noexcept;

void note_bad_line(BadLines& bad, const Line& line);

// The whole file at `path`; nullopt with `error` set if it cannot be read or holds a NUL byte.
std::optional<std::string> read_text_file(const std::string& path, std::string& error);

}  // namespace text

}  // namespace greenfinch::policy
