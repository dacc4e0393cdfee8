// ELECTOR: simulating whole steps on the published accelerators, at event and analytic fidelity.
// BM_Simulate: each iteration is one full simulate() call on a ModelGraph: preparing the graph
// (tensor types, op classes, load patterns), lowering (one tile_cost() call per op class and unit
// group), scheduling and accounting.
// BM_SimulatePrepared: the graph is prepared once, as a sweep or an accelerator search over one
// model does, and each iteration simulates it on the accelerator: what one more accelerator costs.
// records:1 fills the per-op records (as `transcode run` does, for ops.csv); records:0 leaves them
// out, as the co-design evaluator does (SimulationOptions::op_records).
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
//       2 = BERT-Base training step (batch 4, sequence 128) on AccelTran-Server,
//       3 = BERT-Large training step (batch 4, sequence 128) on AccelTran-Server;
//       fidelity 0 = event, 1 = analytic.
void simulate_case(benchmark::State& state, bool prepared) {
    auto host = load_host(state);
    if (!host) return;
    const int which = static_cast<int>(state.range(0));
    const bool training = which != 0;
    const char* model_name = which == 3 ? "large" : which == 2 ? "base" : "tiny";
    const fs::path configs = fs::path(TRANSCODE_SOURCE_DIR) / "configs";
    std::optional<engine::LoadedModel> m;
    std::optional<engine::Accelerator> acc;
    try {
        m = engine::load_model_file(configs / "models" / (fmt::format("bert-{}.yaml", model_name)), {}, *host);
        acc = engine::load_accelerator_file(configs / "accelerators" / (which >= 2 ? "acceltran-server.yaml" : "acceltran-edge.yaml"), {}, *host);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    const ModelGraph g = training ? engine::make_training_graph(m->forward, {}) : m->forward;
    engine::SimulationOptions o;
    o.training = training;
    o.fidelity = state.range(1) == 0 ? engine::Fidelity::event : engine::Fidelity::analytic;
    o.tensor_sparsity = engine::sparsity_per_tensor(g, {0.5, 0.9, 0.9});
    o.op_records = !prepared || state.range(2) != 0;
    std::int64_t tiles = 0, cycles = 0;
    const engine::PreparedGraph p(g, o.tensor_sparsity);
    // The prepared graph carries the sparsity: a sweep passes none with it, as the evaluator does.
    engine::SimulationOptions po = o;
    po.tensor_sparsity.clear();
    for (auto _ : state) {
        const engine::SimulationResult r = prepared ? engine::simulate(p, *acc, po) : engine::simulate(g, *acc, o);
        tiles = r.tiles;
        cycles = r.cycles;
        benchmark::DoNotOptimize(r.cycles);
    }
    state.counters["tiles"] = rate(static_cast<double>(tiles) * static_cast<double>(state.iterations()));
    state.counters["ops"] = rate(static_cast<double>(g.ops.size()) * static_cast<double>(state.iterations()));
    state.counters["sim_cycles"] = static_cast<double>(cycles);
    state.counters["op_classes"] = static_cast<double>(p.class_representatives().size());
    state.counters["tensor_types"] = static_cast<double>(p.type_representatives().size());
    state.SetLabel(fmt::format("bert-{} {} on {}, {}{}", model_name, training ? "training" : "inference", acc->name,
                               o.fidelity == engine::Fidelity::event ? "event" : "analytic", o.op_records ? "" : ", no op records"));
}
void BM_Simulate(benchmark::State& state) { simulate_case(state, false); }
void BM_SimulatePrepared(benchmark::State& state) { simulate_case(state, true); }
BENCHMARK(BM_Simulate)->ArgNames({"case", "analytic"})->ArgsProduct({{0, 1, 2, 3}, {0, 1}})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimulatePrepared)->ArgNames({"case", "analytic", "records"})->ArgsProduct({{0, 1, 2, 3}, {0, 1}, {1, 0}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace transcode::bench
