// dnsq against a scripted DNS server on loopback.
#include "tests/support/process.hpp"
#include "tests/support/test_upstream.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace greenfinch;
using namespace std::chrono_literals;
using greenfinch::test::TestUpstream;

namespace {
std::vector<std::string> dnsq(const core::SocketAddress& server, std::vector<std::string> args) {
    std::vector<std::string> argv{DNSQ_BINARY, "@127.0.0.1", "-p", std::to_string(server.port())};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}
}  // namespace

TEST_CASE("dnsq prints the answer like dig and exits 0") {
    core::Hub hub;
    TestUpstream server({TestUpstream::Action::Answer, 0, 123, {198, 51, 100, 7}});
    auto r = test::run_process(dnsq(server.address(), {"Host.Example", "A"}), 10s);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("status: NOERROR") != std::string::npos);
    CHECK(r.output.find("flags: qr rd ra;") != std::string::npos);
    CHECK(r.output.find("Host.Example.\t123\tIN\tA\t198.51.100.7") != std::string::npos);
    CHECK(r.output.find(";; Query time:") != std::string::npos);
    CHECK(server.count("host.example") == 1);
}

TEST_CASE("dnsq shows NXDOMAIN with the authority's SOA, and retries a truncated answer over TCP") {
    core::Hub hub;
    TestUpstream server;
    server.script("missing.example", {TestUpstream::Action::NxDomain, 0, 60});
    server.script("big.example", {TestUpstream::Action::Truncate});
    auto nx = test::run_process(dnsq(server.address(), {"missing.example"}), 10s);
    CHECK(nx.exit_code == 0);
    CHECK(nx.output.find("status: NXDOMAIN") != std::string::npos);
    CHECK(nx.output.find("AUTHORITY SECTION") != std::string::npos);
    auto tc = test::run_process(dnsq(server.address(), {"big.example"}), 10s);
    CHECK(tc.exit_code == 0);
    CHECK(tc.output.find("Truncated, retrying in TCP mode") != std::string::npos);
    CHECK(tc.output.find("(TCP)") != std::string::npos);
}

TEST_CASE("dnsq exits non-zero when no answer comes") {
    core::Hub hub;
    TestUpstream server({TestUpstream::Action::Drop});
    auto r = test::run_process(dnsq(server.address(), {"--timeout", "0.2", "silent.example"}), 10s);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("no answer") != std::string::npos);
}

TEST_CASE("dnsq --file sends every line with the given concurrency and summarises") {
    core::Hub hub;
    TestUpstream server;
    server.script("gone.example", {TestUpstream::Action::NxDomain});
    const auto path = std::filesystem::temp_directory_path() / ("dnsq-names-" + std::to_string(::getpid()));
    {
        std::ofstream f(path);
        f << "# a comment\n";
        for (int i = 0; i < 30; ++i) f << "n" << i << ".example A\n";
        f << "gone.example AAAA\n";
    }
    auto r = test::run_process(dnsq(server.address(), {"--file", path.string(), "--concurrency", "8"}), 20s);
    std::filesystem::remove(path);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("queries: 31, answered: 31, timed out: 0") != std::string::npos);
    CHECK(r.output.find("NOERROR=30") != std::string::npos);
    CHECK(r.output.find("NXDOMAIN=1") != std::string::npos);
    CHECK(r.output.find("latency ms: p50") != std::string::npos);
    CHECK(server.total() == 31);
}
