// ELECTOR: simulating whole steps on the published accelerators, at event and analytic fidelity.
// BM_Simulate: each iteration is one full simulate() call on a ModelGraph: preparing the graph
// (tensor types, op classes, load patterns), lowering (one tile_cost() call per op class and unit
// group), scheduling and accounting.
// BM_SimulatePrepared: the graph is prepared once, as a sweep or an accelerator search over one
// model does, and each iteration simulates it on the accelerator: what one more accelerator costs.
// Counters: tiles and ops simulated per second.
#include <exception>
#include <filesystem>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "simulator/simulator.hpp"

namespace transcode::bench {
namespace {

namespace fs = std::filesystem;

// args: 0 = BERT-Tiny inference on AccelTran-Edge, 1 = BERT-Tiny training step on Edge,
//       2 = BERT-Base training step (batch 4, sequence 128) on AccelTran-Server;
//       fidelity 0 = event, 1 = analytic.
void simulate_case(benchmark::State& state, bool prepared) {
    auto host = load_host(state);
    if (!host) return;
    const int which = static_cast<int>(state.range(0));
    const bool training = which != 0;
    const fs::path configs = fs::path(TRANSCODE_SOURCE_DIR) / "configs";
    std::optional<engine::LoadedModel> m;
    std::optional<engine::Accelerator> acc;
    try {
        m = engine::load_model_file(configs / "models" / (which == 2 ? "bert-base.yaml" : "bert-tiny.yaml"), {}, *host);
        acc = engine::load_accelerator_file(configs / "accelerators" / (which == 2 ? "acceltran-server.yaml" : "acceltran-edge.yaml"), {}, *host);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    const ModelGraph g = training ? engine::make_training_graph(m->forward, {}) : m->forward;
    engine::SimulationOptions o;
    o.training = training;
    o.fidelity = state.range(1) == 0 ? engine::Fidelity::event : engine::Fidelity::analytic;
    o.tensor_sparsity = engine::sparsity_per_tensor(g, {0.5, 0.9, 0.9});
    std::int64_t tiles = 0, cycles = 0;
    const engine::PreparedGraph p(g, o.tensor_sparsity);
    for (auto _ : state) {
        const engine::SimulationResult r = prepared ? engine::simulate(p, *acc, o) : engine::simulate(g, *acc, o);
        tiles = r.tiles;
        cycles = r.cycles;
        benchmark::DoNotOptimize(r.cycles);
    }
    state.counters["tiles"] = rate(static_cast<double>(tiles) * static_cast<double>(state.iterations()));
    state.counters["ops"] = rate(static_cast<double>(g.ops.size()) * static_cast<double>(state.iterations()));
    state.counters["sim_cycles"] = static_cast<double>(cycles);
    state.counters["op_classes"] = static_cast<double>(p.class_representatives().size());
    state.counters["load_patterns"] = static_cast<double>(p.load_patterns().size());
    state.SetLabel(fmt::format("{} {} on {}, {}", which == 2 ? "bert-base" : "bert-tiny", training ? "training" : "inference", acc->name,
                               o.fidelity == engine::Fidelity::event ? "event" : "analytic"));
}
void BM_Simulate(benchmark::State& state) { simulate_case(state, false); }
void BM_SimulatePrepared(benchmark::State& state) { simulate_case(state, true); }
BENCHMARK(BM_Simulate)->ArgNames({"case", "analytic"})->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})->Args({2, 0})->Args({2, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimulatePrepared)->ArgNames({"case", "analytic"})->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})->Args({2, 0})->Args({2, 1})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace transcode::bench
