#include "policy/list_file.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace greenfinch::policy {

namespace text {

namespace {

// Per byte: its lowercase form if it may appear in a host name's label, else 0.
constexpr std::array<char, 256> kLabelByte = [] {
    std::array<char, 256> table{};
    for (int c = 'a'; c <= 'z'; ++c) table[static_cast<std::size_t>(c)] = static_cast<char>(c);
    for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<std::size_t>(c)] = static_cast<char>(c + ('a' - 'A'));
    for (int c = '0'; c <= '9'; ++c) table[static_cast<std::size_t>(c)] = static_cast<char>(c);
    table['-'] = '-';
    table['_'] = '_';
    return table;
}();

constexpr std::array<bool, 256> kSeparator = [] {
    std::array<bool, 256> table{};
    table[' '] = table['\t'] = table['\r'] = true;
    return table;
}();

bool is_separator(char c) noexcept { return kSeparator[static_cast<unsigned char>(c)]; }

// Closes a file descriptor it owns.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// A list of a few million names is well under this; a file larger than it was named by mistake.
constexpr std::size_t kMaxFileSize = std::size_t{1} << 30;

std::string shortened(std::string_view whole) {
    std::string out(whole.substr(0, kBadLineTextLength));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7e) c = '?';
    }
    if (whole.size() > kBadLineTextLength) out += "...";
    return out;
}

}  // namespace

Lines::Lines(std::string_view text) noexcept : rest_(text) {
    if (rest_.starts_with("\xEF\xBB\xBF")) rest_.remove_prefix(3);
}

std::optional<Line> Lines::next() noexcept {
    if (rest_.empty()) return std::nullopt;
    const auto end = rest_.find('\n');
    Line line{.number = ++number_, .whole = rest_.substr(0, end), .content = {}};
    rest_ = end == std::string_view::npos ? std::string_view{} : rest_.substr(end + 1);
    if (line.whole.ends_with('\r')) line.whole.remove_suffix(1);
    line.content = line.whole.substr(0, line.whole.find('#'));
    return line;
}

std::string_view next_word(std::string_view& rest) noexcept {
    std::size_t start = 0;
    while (start < rest.size() && is_separator(rest[start])) ++start;
    std::size_t end = start;
    while (end < rest.size() && !is_separator(rest[end])) ++end;
    const std::string_view word = rest.substr(start, end - start);
    rest.remove_prefix(end);
    return word;
}

std::size_t encode_name(std::string_view word, NameRules rules, NameBuffer& out) noexcept {
    if (word.ends_with('.')) word.remove_suffix(1);
    if (rules.wildcard == Wildcard::strip && word.starts_with("*.")) word.remove_prefix(2);
    // In wire form a name is one byte longer than its text for the first label's length, and one for the root.
    if (word.empty() || word.size() + 2 > out.size()) return 0;
    std::size_t length_at = 0;  // where the current label's length byte goes
    std::size_t at = 1;
    std::size_t labels = 0;
    for (const char c : word) {
        if (c == '.') {
            const std::size_t length = at - length_at - 1;
            if (length == 0 || length > dns::kMaxLabelLength) return 0;
            out[length_at] = static_cast<std::byte>(length);
            length_at = at++;
            ++labels;
            continue;
        }
        const char folded = kLabelByte[static_cast<unsigned char>(c)];
        if (folded == 0) return 0;
        out[at++] = static_cast<std::byte>(folded);
    }
    const std::size_t length = at - length_at - 1;
    if (length == 0 || length > dns::kMaxLabelLength) return 0;
    if (rules.min_labels == MinLabels::two && labels == 0) return 0;
    const auto top = std::span(out).subspan(length_at + 1, length);
    if (std::all_of(top.begin(), top.end(), [](std::byte b) { return b >= std::byte{'0'} && b <= std::byte{'9'}; })) {
        return 0;
    }
    out[length_at] = static_cast<std::byte>(length);
    out[at++] = std::byte{0};
    return at;
}

Address parse_address(std::string_view word) noexcept {
    Address address;
    char text[INET6_ADDRSTRLEN + 1];
    if (word.find(':') != std::string_view::npos) {
        const auto percent = word.find('%');
        const bool zoned = percent != std::string_view::npos;
        if (zoned && percent + 1 == word.size()) return address;
        const std::string_view bare = word.substr(0, percent);
        if (bare.size() >= sizeof text) return address;
        std::memcpy(text, bare.data(), bare.size());
        text[bare.size()] = '\0';
        in6_addr v6;
        if (::inet_pton(AF_INET6, text, &v6) != 1) return address;
        std::memcpy(address.bytes.data(), &v6, 16);
        address.kind = zoned ? AddressKind::v6_zoned : AddressKind::v6;
        return address;
    }
    if (word.empty() || word.size() >= sizeof text) return address;
    if (!std::all_of(word.begin(), word.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); })) {
        return address;
    }
    std::memcpy(text, word.data(), word.size());
    text[word.size()] = '\0';
    in_addr v4;
    if (::inet_pton(AF_INET, text, &v4) != 1) return address;
    std::memcpy(address.bytes.data(), &v4, 4);
    address.kind = AddressKind::v4;
    return address;
}

void note_bad_line(BadLines& bad, const Line& line) {
    ++bad.count;
    if (bad.first.size() < kReportedBadLines)
        bad.first.push_back({.number = line.number, .text = shortened(line.whole)});
}

std::optional<std::string> read_text_file(const std::string& path, std::string& error) {
    const auto fail = [&](std::string_view why) {
        error = why;
        return std::nullopt;
    };
    const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return fail(std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail(std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return fail("a directory");
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    if (static_cast<std::size_t>(st.st_size) > kMaxFileSize) return fail("larger than 1 GiB");
    // One byte more than its size, so that the read that finds the end needs no larger buffer.
    std::string data(static_cast<std::size_t>(st.st_size) + 1, '\0');
    std::size_t used = 0;
    for (;;) {
        if (used == data.size()) {  // it grew while being read
            if (data.size() > kMaxFileSize) return fail("larger than 1 GiB");
            data.resize(data.size() * 2);
        }
        const ssize_t n = ::read(fd.get(), data.data() + used, data.size() - used);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(std::strerror(errno));
        }
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    data.resize(used);
    if (const auto nul = data.find('\0'); nul != std::string::npos) {
        const auto line = 1 + std::count(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
        return fail("not a text file (a NUL byte on line " + std::to_string(line) + ")");
    }
    return data;
}

}  // namespace text

namespace {

// What hosts files say about the machine itself: in a block list they are noise, not names to block.
constexpr std::array<std::string_view, 12> kWellKnownHostsNames = {
    "localhost",    "localhost.localdomain", "local",        "broadcasthost",  "ip6-localhost", "ip6-loopback",
    "ip6-localnet", "ip6-mcastprefix",       "ip6-allnodes", "ip6-allrouters", "ip6-allhosts",  "0.0.0.0",
};

bool is_well_known(std::string_view word) noexcept {
    if (word.ends_with('.')) word.remove_suffix(1);
    for (const std::string_view known : kWellKnownHostsNames) {
        if (known.size() == word.size() && std::equal(known.begin(), known.end(), word.begin(), [](char k, char w) {
                return k == (w >= 'A' && w <= 'Z' ? static_cast<char>(w + ('a' - 'A')) : w);
            })) {
            return true;
        }
    }
    return false;
}

constexpr text::NameRules kListNames{.min_labels = text::MinLabels::two, .wildcard = text::Wildcard::strip};

}  // namespace

ListReport parse_name_list(std::string_view input, NameSink each) {
    ListReport report;
    text::Lines lines(input);
    text::NameBuffer first;
    text::NameBuffer other;
    while (const auto line = lines.next()) {
        report.lines = line->number;
        std::string_view rest = line->content;
        const std::string_view word = text::next_word(rest);
        if (word.empty()) continue;
        if (text::parse_address(word).kind == text::AddressKind::none) {  // one name alone
            if (!text::next_word(rest).empty()) {
                text::note_bad_line(report.bad, *line);
            } else if (is_well_known(word)) {
                ++report.skipped;
            } else if (const std::size_t n = text::encode_name(word, kListNames, first); n != 0) {
                ++report.names;
                each(std::span<const std::byte>(first).first(n));
            } else {
                text::note_bad_line(report.bad, *line);
            }
            continue;
        }
        // Hosts format. The line is checked whole before any of its names is used; the first name is kept, and
        // with more than one (rare in lists) they are encoded again on the way out.
        const std::string_view names = rest;
        std::size_t valid = 0;
        std::size_t skipped = 0;
        std::size_t first_length = 0;
        bool bad = false;
        for (auto name = text::next_word(rest); !name.empty(); name = text::next_word(rest)) {
            if (is_well_known(name)) {
                ++skipped;
                continue;
            }
            const std::size_t n = text::encode_name(name, kListNames, valid == 0 ? first : other);
            if (n == 0) {
                bad = true;
                break;
            }
            if (valid++ == 0) first_length = n;
        }
        if (bad || valid + skipped == 0) {
            text::note_bad_line(report.bad, *line);
            continue;
        }
        report.skipped += skipped;
        report.names += valid;
        if (valid == 1) {
            each(std::span<const std::byte>(first).first(first_length));
            continue;
        }
        rest = names;
        for (auto name = text::next_word(rest); !name.empty(); name = text::next_word(rest)) {
            if (is_well_known(name)) continue;
            each(std::span<const std::byte>(other).first(text::encode_name(name, kListNames, other)));
        }
    }
    return report;
}

std::optional<ListReport> read_name_list(const std::string& path, NameSink each, std::string& error) {
    const auto data = text::read_text_file(path, error);
    if (!data) return std::nullopt;
    return parse_name_list(*data, each);
}

}  // namespace greenfinch::policy
