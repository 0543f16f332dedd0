// greenfinch --check-config, as an operator runs it before a reload: exit 0 for a file that would load, 2 otherwise.
#include "tests/support/temp_file.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace {
int run_binary(const std::string& args) {
    const int status = std::system((std::string(GREENFINCH_BINARY) + " " + args + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

TEST_CASE("greenfinch with check-config exits 0 on a good file and 2 on a bad one") {
    // --upstream: the result must not depend on this machine's /etc/resolv.conf.
    CHECK(run_binary("--config " GREENFINCH_SOURCE_DIR "/conf/greenfinch.toml --upstream 127.0.0.1:9 --check-config") == 0);
    greenfinch::test::TempFile bad("[server]\nmax_inflight = -1\n");
    CHECK(run_binary("--config " + bad.path() + " --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--listen nonsense --upstream 127.0.0.1:9 --check-config") == 2);
    CHECK(run_binary("--config /nonexistent/greenfinch.toml --check-config") == 2);
    // Forwarding to itself is refused.
    CHECK(run_binary("--listen 127.0.0.1:5399 --upstream 127.0.0.1:5399 --check-config") == 2);
    CHECK(run_binary("--listen 0.0.0.0:5399 --upstream 127.0.0.1:5399 --check-config") == 2);
    CHECK(run_binary("--listen 127.0.0.1:5399 --upstream 127.0.0.1:5398 --check-config") == 0);
}

