// What must hold for any bytes an operator's list, hosts file or local records hold, checked on one input.
//
// The input is parsed as a name list (policy/list_file.hpp), as a hosts file (policy/hosts_file.hpp), and each of its
// lines, and the whole of it as one line, as a zone-file record (dns/zone_text.hpp: the config's local records).
// Memory errors are the sanitizers' to find; the properties are the ones the daemon relies on: every name a sink gets
// is a valid, uncompressed, lowercase wire name other than the root; every address is 4 or 16 bytes; the counts add up
// (the lines are the text's lines, every name, skipped name and bad line costs a word of the text, the first bad
// lines are the first ones, in order); and what was read reads the same once written out again (names one per line
// and in hosts format, entries as hosts lines), with nothing bad in it. A zone record that is accepted has a valid
// lowercase owner, class IN, a data type, a TTL within RFC 2181's bound and RDATA that rdata_fits_type() takes; local
// data takes it (unless its owner is a wildcard) and serves it as it was read, as the one answer to its own question;
// and dns::format_record() prints it as a line that reads back as the same record (but for the printer's known gaps,
// which known_unreadable() in list_properties.cpp names).
//
// Shared by the fuzz target (libFuzzer, clang) and by the test that replays the corpus and mutates it (any build).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace greenfinch::test {

// Empty when every property holds; otherwise what broke.
std::string list_property_violation(std::span<const std::byte> input);

}  // namespace greenfinch::test
