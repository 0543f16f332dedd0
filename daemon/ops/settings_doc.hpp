// The documents generated from the settings table: the shipped conf/greenfinch.toml (every key commented out at its
// default, with its help), docs/configuration.md (the reference) and man/greenfinch.toml.5 (the same, as a manual
// page). The copies in the source tree are render()'s output, written by the greenfinch_settings_doc program
// (`cmake --build BUILD --target settings_docs`); a test fails while any of them differs, so that the documentation
// cannot drift from the keys the daemon reads. The prose around the keys lives here too.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace greenfinch::daemon::settings {

enum class Document : std::uint8_t { toml, markdown, man };

struct GeneratedFile {
    Document document;
    std::string_view name;  // as the generator's command line names it: "toml"
    std::string_view path;  // in the source tree
};

std::span<const GeneratedFile> generated_files();
std::string render(Document document);

}  // namespace greenfinch::daemon::settings
