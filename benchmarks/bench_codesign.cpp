// Co-design evaluation throughput: candidates evaluated per minute at analytic fidelity, the cost a
// search pays per candidate. Each iteration evaluates 16 candidates: the BERT preset of the case
// paired with 16 feasible accelerators drawn (seeded) from the published AccelTran design space, each a full
// Evaluator::evaluate(): decode the candidate, validate and build the model and the accelerator
// through their plugins, derive the training step, simulate it (analytic) and estimate accuracy
// (surrogate), on `threads` worker threads as `transcode run --threads` does.
// reuse 1: the evaluator keeps the model's prepared step graph across the 16 accelerators, as it
// does in a run; reuse 0: it rebuilds the model and its graph for every candidate, which is what a
// joint search pays for each model it has not seen yet.
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <random>
#include <thread>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"
#include "codesign/evaluator.hpp"
#include "experiment/experiment.hpp"

namespace transcode::bench {
namespace {

namespace fs = std::filesystem;

constexpr const char* presets[] = {"bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base"};

// args: preset 0..4 (BERT-Tiny .. BERT-Base), threads 1 or 2, reuse 0 or 1.
void BM_CodesignEvaluate(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    const char* preset = presets[state.range(0)];
    const auto threads = static_cast<unsigned>(state.range(1));
    const fs::path experiments = fs::path(TRANSCODE_SOURCE_DIR) / "configs" / "experiments";
    const std::string text = fmt::format(
        "experiment: bench-codesign\nkind: codesign\nmode: training\nmodel: {{include: ../models/{}.yaml}}\n"
        "space: {{accelerator: {{include: ../design_spaces/acceltran.yaml}}}}\n"
        "accuracy: {{plugin: surrogate, params: {{csv: \"{}\"}}}}\n"
        "objective: {{normalisers: {{latency_s: 1.0e-3, energy_j: 1.0e-2, area_mm2: 50}}}}\n"
        "simulation: {{fidelity: analytic, sparsity: {{activation: 0.5, activation_gradient: 0.9, weight_gradient: 0.9}}}}\n",
        preset, (experiments.parent_path() / "accuracy" / "flexibert2-sentiment.csv").string());
    std::optional<engine::Experiment> ex;
    try {
        config::Diagnostics diags;
        config::Node root = config::load_string(text, "<bench>", diags, experiments);
        ex = engine::load_experiment(std::move(root), std::move(diags), experiments / "bench-codesign.yaml", *host);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    const bool reuse = state.range(2) != 0;
    const engine::Evaluator evaluator(*ex, *host, reuse ? 16 : 0);
    // 16 feasible candidates: the space also holds ReLU lanes, which BERT's GELU cannot run on
    // (infeasible at once, so they would flatter the rate).
    std::mt19937_64 rng(7);
    std::vector<Candidate> candidates;
    for (int tries = 0; candidates.size() < 16 && tries < 1000; ++tries) {
        Candidate c = ex->codesign->joint.sample(rng);
        if (evaluator.evaluate(c).ok) candidates.push_back(std::move(c));
    }
    if (candidates.size() < 16) {
        state.SkipWithError("fewer than 16 feasible candidates in 1000 draws");
        return;
    }
    std::int64_t infeasible = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        std::atomic<std::size_t> next{0};
        std::atomic<std::int64_t> bad{0};
        auto worker = [&] {
            for (std::size_t i = next++; i < candidates.size(); i = next++)
                if (!evaluator.evaluate(candidates[i]).ok) ++bad;
        };
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
        worker();
        for (auto& t : pool) t.join();
        infeasible = bad;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Evaluations per minute of wall time (a plain number: Google Benchmark's rates are per second).
    state.counters["evals_per_min"] = 60.0 * static_cast<double>(candidates.size()) * static_cast<double>(state.iterations()) / seconds;
    state.counters["infeasible"] = static_cast<double>(infeasible);
    state.SetLabel(fmt::format("{} training step x 16 AccelTran accelerators, analytic, {} thread(s), model graph {}", preset, threads,
                               reuse ? "reused" : "rebuilt each time"));
}
BENCHMARK(BM_CodesignEvaluate)
    ->ArgNames({"preset", "threads", "reuse"})
    ->ArgsProduct({{0, 1, 2, 3, 4}, {1, 2}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace transcode::bench
