// greenfinch_settings_doc: prints a document generated from the settings table, or writes all of them into a source
// tree. Built with the daemon, not installed; `cmake --build BUILD --target settings_docs` runs it with --write.
//
//   greenfinch_settings_doc toml|markdown|man    the document, on standard output
//   greenfinch_settings_doc --write SOURCE_DIR   conf/greenfinch.toml, docs/configuration.md, man/greenfinch.toml.5
#include "daemon/ops/settings_doc.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace settings = greenfinch::daemon::settings;

namespace {
int usage() {
    std::fputs(
        "usage: greenfinch_settings_doc toml|markdown|man\n"
        "       greenfinch_settings_doc --write SOURCE_DIR\n",
        stderr);
    return 64;
}

int write_all(const std::filesystem::path& root) {
    for (const auto& f : settings::generated_files()) {
        const auto path = root / f.path;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << settings::render(f.document);
        if (!out.flush()) {
            std::fprintf(stderr, "greenfinch_settings_doc: cannot write %s\n", path.c_str());
            return 1;
        }
        std::printf("wrote %s\n", path.c_str());
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::string_view(argv[1]) == "--write") return write_all(argv[2]);
    if (argc != 2) return usage();
    for (const auto& f : settings::generated_files()) {
        if (f.name == argv[1]) {
            std::fputs(settings::render(f.document).c_str(), stdout);
            return 0;
        }
    }
    return usage();
}
