// Hosts files (hosts(5), /etc/hosts syntax): the operator's own names and addresses, read as a stream of entries.
//
// A line is blank or a comment (`#` to the end of the line), or an address (IPv4 as inet_pton reads it, or IPv6)
// followed by one or more names: the first is the canonical name (the one PTR answers point at), the rest aliases.
// Words, comments, line ends and the BOM are read as in list_file.hpp. Names follow its rules but for two: one label
// is enough (`router`, `localhost`: here these are the data), and `*.` is no wildcard but a bad name. Nothing is
// left out by name. A line whose address carries an IPv6 zone (`fe80::1%lo0 localhost`, common in macOS hosts files)
// names a link-local address no DNS answer can carry: it is skipped and counted as unusable, not as bad. Any other
// line (no address first, an address with no name, a bad name) is a bad line, none of its names used, reported as
// list_file.hpp reports them.
#pragma once

#include "policy/list_file.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace greenfinch::policy {

enum class HostNameRole : std::uint8_t {
    canonical,  // the first name of its line
    alias,
};

struct HostEntry {
    std::span<const std::byte> address;  // 4 bytes (IPv4) or 16 (IPv6), network order
    std::span<const std::byte> name;     // lowercase wire form
    HostNameRole role = HostNameRole::canonical;
};

struct HostsReport {
    std::size_t lines = 0;     // lines in the text (a last line without a line end counts)
    std::size_t entries = 0;   // entries given to the sink: one per name
    std::size_t unusable = 0;  // lines with a zoned IPv6 address
    BadLines bad;
};

// Gets each (address, name) pair, in file order; the bytes are valid only during the call.
using HostSink = FunctionRef<void(const HostEntry& entry)>;

HostsReport parse_hosts(std::string_view text, HostSink each);

// As read_name_list() (list_file.hpp): nullopt with `error` set if the file cannot be read or is not text.
std::optional<HostsReport> read_hosts(const std::string& path, HostSink each, std::string& error);

}  // namespace greenfinch::policy
