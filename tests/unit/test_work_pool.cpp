// engine/distributed/: the local work pool's contract (every item handed back once, on the
// caller's thread; a failure stops dispatch, lets running items finish and be handed back, and is
// rethrown as its own type naming the item), and EvaluationRecord's JSON round trip (what crosses
// MPI ranks), exact to the bit.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codesign/record_json.hpp"
#include "distributed/mpi_session.hpp"
#include "distributed/work_pool.hpp"
#include "transcode/errors.hpp"

using namespace transcode;
using engine::distributed::LocalPool;
using engine::distributed::WorkItem;

namespace {

std::vector<WorkItem> numbered(int n) {
    std::vector<WorkItem> items;
    for (int i = 0; i < n; ++i) items.push_back({std::to_string(i), "item " + std::to_string(i)});
    return items;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("local pool: every item is handed back once, on the caller's thread, at 1 and 3 threads") {
    for (unsigned threads : {1u, 3u}) {
        CAPTURE(threads);
        LocalPool pool(threads);
        const auto caller = std::this_thread::get_id();
        std::vector<int> got(40, 0);
        pool.run(numbered(40), [](const std::string& p) { return "r" + p; },
                 [&](std::size_t i, std::string result) {
                     CHECK(std::this_thread::get_id() == caller);
                     CHECK(result == "r" + std::to_string(i));
                     ++got[i];
                 });
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            CHECK(got[i] == 1);
        }
        CHECK(pool.stats().items == 40);
        CHECK(pool.stats().ranks == 1);
        CHECK(pool.stats().remote_items == 0);
    }
}

TEST_CASE("local pool: a failing item stops dispatch, running items are handed back, the failure is rethrown as its type with the item's label") {
    LocalPool pool(2);
    std::atomic<int> started{0};
    std::set<std::size_t> handed;
    auto work = [&](const std::string& p) -> std::string {
        ++started;
        if (p == "3") throw PluginError("plugin 'x' failed in estimate(): boom");
        std::this_thread::sleep_for(std::chrono::milliseconds(p == "2" ? 50 : 1));
        return p;
    };
    try {
        pool.run(numbered(200), work, [&](std::size_t i, std::string) { handed.insert(i); });
        FAIL("run() did not throw");
    } catch (const PluginError& e) {
        CHECK(std::string(e.what()) == "item 3: plugin 'x' failed in estimate(): boom");
    }
    CHECK(handed.count(2) == 1);  // it was running when 3 failed, and was still handed back
    CHECK(handed.count(3) == 0);
    CHECK(started.load() < 200);  // dispatch stopped
    // A ConfigError stays a ConfigError, anything else becomes transcode::Error.
    CHECK_THROWS_AS(pool.run(numbered(1), [](const std::string&) -> std::string { throw ConfigError("bad"); }, [](std::size_t, std::string) {}),
                    ConfigError);
    CHECK_THROWS_AS(pool.run(numbered(1), [](const std::string&) -> std::string { throw std::runtime_error("x"); }, [](std::size_t, std::string) {}),
                    Error);
}

TEST_CASE("an evaluation record survives its JSON round trip bit for bit, non-finite numbers included") {
    engine::EvaluationRecord r;
    r.round = 3;
    r.slot = 5;
    r.candidate = {1, 0, 7};
    r.encoding = {0.1, 1.0 / 3.0, -0.0};
    r.design = "layers=2, hidden=128";
    r.model = R"({"layers":2})";
    r.accelerator = "acc \"quoted\"";
    r.ok = false;
    r.reason = "area 60 mm2 is over the budget";
    r.violation = 0.1 + 0.2;
    r.accuracy = 0.8123456789012345;
    r.accuracy_stddev = std::numeric_limits<double>::denorm_min();
    r.accuracy_source = "surrogate";
    r.accuracy_sparsity = {{"activation", 0.5}};
    r.metrics = {0.8123456789012345, 1.234567890123e-4, 5.5e-3, 54.145};
    r.dynamic_j = std::numeric_limits<double>::quiet_NaN();
    r.leakage_j = std::numeric_limits<double>::infinity();
    r.cycles = 123456789012;
    r.score = -1e6 - 0.3;
    r.objectives = {1e6 + 0.3, 2.0 / 7.0, -std::numeric_limits<double>::infinity(), 1.0};
    r.seconds = 0.0123;
    const std::string text = engine::record_to_json(r).dump();
    const engine::EvaluationRecord b = engine::record_from_json(nlohmann::json::parse(text));
    CHECK(b.round == r.round);
    CHECK(b.slot == r.slot);
    CHECK(b.candidate == r.candidate);
    REQUIRE(b.encoding.size() == r.encoding.size());
    for (std::size_t i = 0; i < r.encoding.size(); ++i) CHECK(same_bits(b.encoding[i], r.encoding[i]));
    CHECK(b.design == r.design);
    CHECK(b.model == r.model);
    CHECK(b.accelerator == r.accelerator);
    CHECK(b.ok == r.ok);
    CHECK(b.reason == r.reason);
    CHECK(same_bits(b.violation, r.violation));
    CHECK(same_bits(b.accuracy, r.accuracy));
    CHECK(same_bits(b.accuracy_stddev, r.accuracy_stddev));
    CHECK(b.accuracy_source == r.accuracy_source);
    CHECK(b.accuracy_sparsity == r.accuracy_sparsity);
    CHECK(same_bits(b.metrics.latency_s, r.metrics.latency_s));
    CHECK(same_bits(b.metrics.energy_j, r.metrics.energy_j));
    CHECK(same_bits(b.metrics.area_mm2, r.metrics.area_mm2));
    CHECK(std::isnan(b.dynamic_j));
    CHECK(b.leakage_j == r.leakage_j);
    CHECK(b.cycles == r.cycles);
    CHECK(same_bits(b.score, r.score));
    for (std::size_t i = 0; i < r.objectives.size(); ++i) CHECK(same_bits(b.objectives[i], r.objectives[i]));
    CHECK(same_bits(b.seconds, r.seconds));
}

TEST_CASE("an MPI launch is detected from the launcher's environment only") {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) CHECK(std::getenv(name) == nullptr);
    CHECK_FALSE(engine::distributed::launched_by_mpi());
    ::setenv("PMI_SIZE", "4", 1);
    CHECK(engine::distributed::launched_by_mpi());
    ::unsetenv("PMI_SIZE");
}
