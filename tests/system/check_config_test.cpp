// greenfinch --check-config, as an operator runs it before a reload: exit 0 for a file that would load, 2 otherwise;
// and the flags and --help, which come from the settings table.
#include "daemon/ops/settings.hpp"
#include "tests/support/temp_file.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace settings = greenfinch::daemon::settings;

namespace {
int run_binary(const std::string& args) {
    const int status = std::system((std::string(GREENFINCH_BINARY) + " " + args + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Run {
    int status = -1;
    std::string output;  // standard output and error
};

Run run_capturing(const std::string& args) {
    Run run;
    const std::string command = std::string(GREENFINCH_BINARY) + " " + args + " 2>&1";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
    REQUIRE(pipe);
    std::array<char, 4096> buffer{};
    while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe.get()))
        run.output.append(buffer.data(), n);
    const int status = ::pclose(pipe.release());
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}
}  // namespace

TEST_CASE("greenfinch with check-config exits 0 on a good file and 2 on a bad one") {
    // --upstream: the result must not depend on this machine's /etc/resolv.conf.
    CHECK(run_binary("--config " GREENFINCH_SOURCE_DIR "/conf/greenfinch.toml --upstream 127.0.0.1:9 --check-config") ==
          0);
    greenfinch::test::TempFile bad("[server]\nmax_inflight = -1\n");
    CHECK(run_binary("--config " + bad.path() + " --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--listen nonsense --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--config /nonexistent/greenfinch.toml --check-config") == 2);
    // Forwarding to itself is refused.
    CHECK(run_binary("--listen 127.0.0.1:5399 --upstream 127.0.0.1:5399 --check-config") == 2);
    CHECK(run_binary("--listen 0.0.0.0:5399 --upstream 127.0.0.1:5399 --check-config") == 2);
    CHECK(run_binary("--listen 127.0.0.1:5399 --upstream 127.0.0.1:5398 --check-config") == 0);
}

TEST_CASE("check-config names the file, the line and the key of an unknown key") {
    greenfinch::test::TempFile typo("[server]\nworkers = 2\nmax_inflite = 5\n");
    const Run run = run_capturing("--config " + typo.path() + " --upstream 127.0.0.1:9 --check-config");
    CHECK(run.status == 2);
    CHECK(run.output == "greenfinch: invalid configuration: " + typo.path() + ":3: server.max_inflite: unknown key\n");
}

TEST_CASE("check-config reads forward zones, local data and block lists, and names the key of a mistake") {
    greenfinch::test::TempFile good(
        "[[forward]]\nzone = \"corp.example\"\nservers = [\"10.1.0.53\"]\n[local]\nzones = [\"lan.\"]\n"
        "[block]\nanswer = \"null\"\n");
    greenfinch::test::TempFile list("ads.example.com\n");
    CHECK(run_binary("--config " + good.path() + " --local 'printer.lan. 3600 IN A 192.168.1.20' --block-list " +
                     list.path() + " --upstream 127.0.0.1:9 --check-config") == 0);
    greenfinch::test::TempFile single("[forward]\nzone = \"corp.example\"\nservers = [\"10.1.0.53\"]\n");
    const Run run = run_capturing("--config " + single.path() + " --upstream 127.0.0.1:9 --check-config");
    CHECK(run.status == 2);
    CHECK(run.output == "greenfinch: invalid configuration: " + single.path() +
                            ":1: forward: expected [[forward]] (an array of tables)\n");
}

TEST_CASE("a flag overrides the file's value of its key") {
    // The file alone would forward to itself; --upstream replaces its servers.
    greenfinch::test::TempFile loop(
        "[server]\nlisten = [\"127.0.0.1:5399\"]\n[upstream]\nservers = [\"127.0.0.1:5399\"]\n");
    CHECK(run_binary("--config " + loop.path() + " --check-config") == 2);
    CHECK(run_binary("--config " + loop.path() + " --upstream 127.0.0.1:5398 --check-config") == 0);
    // And --listen replaces its listen addresses.
    CHECK(run_binary("--config " + loop.path() + " --listen 127.0.0.1:5397 --check-config") == 0);
    // A file's bad value is refused even when a flag would replace it: the file must be valid on its own.
    greenfinch::test::TempFile bad("[server]\nworkers = 0\n");
    CHECK(run_binary("--config " + bad.path() + " --workers 2 --upstream 127.0.0.1:9 --check-config") == 2);
}

TEST_CASE("a bad flag value is refused with exit 2, naming the flag and its key") {
    const Run workers = run_capturing("--workers 0 --upstream 127.0.0.1:9 --check-config");
    CHECK(workers.status == 2);
    CHECK(workers.output ==
          "greenfinch: invalid configuration: command line (--workers): server.workers: must be 1 to 256\n");
    const Run level = run_capturing("--log-level loud --upstream 127.0.0.1:9 --check-config");
    CHECK(level.status == 2);
    CHECK(level.output.find("command line (--log-level): log.level: \"loud\" is not one of trace, debug") !=
          std::string::npos);
    CHECK(run_binary("--cache memcached --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--max-inflight many --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--cache redis --redis unix:/run/redis.sock --metrics 127.0.0.1:9153 --log-level warn "
                     "--max-inflight 5 --workers 2 --upstream 127.0.0.1:9 --upstream [::1]:53 --check-config") == 0);
}

TEST_CASE("--help lists every flag of the settings table with its key") {
    const Run help = run_capturing("--help");
    CHECK(help.status == 0);
    for (const auto& s : settings::table()) {
        if (s.flag.name.empty()) continue;
        INFO(s.key());
        CHECK(help.output.find(std::string(s.flag.name) + " " + settings::flag_argument(s)) != std::string::npos);
        CHECK(help.output.find("In the file: " + s.key() + ".") != std::string::npos);
    }
    for (const char* fixed : {"--config", "--check-config", "--version"})
        CHECK(help.output.find(fixed) != std::string::npos);
}
