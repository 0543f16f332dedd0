// Requests from the main thread to every worker, with real hubs on real threads.
#include "daemon/ops/worker_requests.hpp"

#include "core/primitives/event.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace greenfinch;

namespace {
// A worker thread with nothing but a hub and its control, answering requests until told to stop.
class FakeWorker final : public daemon::RunningWorker {
public:
    explicit FakeWorker(daemon::WorkerControl& control) : control_(control), thread_([this] { run(); }) {}
    ~FakeWorker() override {
        control_.request_stop();
        thread_.join();
    }
    daemon::WorkerStats collect_stats() const override {
        daemon::WorkerStats out;
        out.resolver.queries = static_cast<std::uint64_t>(++calls);
        return out;
    }
    void reload(const daemon::ConfigSnapshot&, const policy::PolicySnapshot&) override {}
    void flush_shared(const std::optional<std::string>&) override {}
    mutable std::atomic<int> calls{0};

private:
    void run() {
        core::Hub hub;
        core::Event stop;
        auto keep = hub.keep_alive();  // a real worker's sockets keep its loop alive; this one has none
        if (!control_.attach(hub, stop, *this)) stop.wait();
        control_.detach();
    }
    daemon::WorkerControl& control_;
    std::thread thread_;
};
}  // namespace

TEST_CASE("every worker is waited for, however fast the first one answers") {
    core::Hub hub;
    std::vector<daemon::WorkerControl> controls(3);
    std::vector<std::unique_ptr<FakeWorker>> workers;
    for (auto& c : controls) workers.push_back(std::make_unique<FakeWorker>(c));
    // Asked before or after they are up, all three answer, every time: none is reported missing because another
    // finished early.
    for (int round = 0; round < 300; ++round) {
        const auto stats = daemon::collect_stats(controls, core::Seconds(5.0));
        REQUIRE(stats.size() == 3);
        for (const auto& s : stats) REQUIRE(s.has_value());
    }
    for (const auto& w : workers) CHECK(w->calls == 300);
}

TEST_CASE("a stopped worker is reported at once, not waited for") {
    core::Hub hub;
    std::vector<daemon::WorkerControl> controls(2);
    auto running = std::make_unique<FakeWorker>(controls[0]);
    controls[1].request_stop();
    const auto t0 = std::chrono::steady_clock::now();
    const auto done = daemon::on_every_worker(
        controls, [](daemon::RunningWorker&, std::size_t) {}, core::Seconds(5.0));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
    CHECK(done == std::vector<bool>{true, false});
}
