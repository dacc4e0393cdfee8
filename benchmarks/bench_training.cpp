// The numeric executor: one whole BERT-Tiny training step (batch 32, sequence 128: forward,
// backward with input and weight gradients, AdamW update) in float32 on the CPU, without pruning
// and with DynaProp pruning its published points and every gradient.
#include <algorithm>
#include <exception>
#include <filesystem>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"
#include "config/schema_validation.hpp"
#include "executor/executor.hpp"
#include "graph/op_costs.hpp"
#include "graph/training_graph.hpp"
#include "model/model_file.hpp"
#include "training/trainer.hpp"

namespace transcode::bench {
namespace {

namespace fs = std::filesystem;

// arg 0: no pruning; 1: DynaProp (tau_I 0.01, tau_T 1e-6) applied after every op, as in training.
// arg 1: executor threads.
void BM_TrainingStepBertTiny(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    std::optional<engine::LoadedModel> m;
    try {
        m = engine::load_model_file(fs::path(TRANSCODE_SOURCE_DIR) / "configs" / "models" / "bert-tiny.yaml", {"params.batch_size=32"}, *host);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    const ModelGraph g = engine::make_training_graph(m->forward, {});
    double flops = 0;
    for (const auto& op : g.ops) flops += engine::op_cost(g, op).flops;
    engine::Executor ex(g);
    ex.set_threads(static_cast<unsigned>(state.range(1)));
    ex.init_weights(1);
    for (std::size_t t = 0; t < g.tensors.size(); ++t)
        if (g.tensors[t].is_input && g.tensors[t].is_integer) {
            auto& ids = ex.ids(static_cast<TensorId>(t));
            for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>((i * 7919) % 2);  // valid ids and labels
        }
    // Every token real, as on full-length sequences.
    if (const TensorId mask = ex.find("attention_mask"); mask >= 0) std::fill(ex.ids(mask).begin(), ex.ids(mask).end(), 1);
    const engine::PluginInfo* info = host->find("dynaprop", PluginKind::pruning);
    const auto dynaprop = host->create<PruningStrategy>(*info, config::parse_params(info->schema, "tau_i_train: 0.01\ntau_t: 1.0e-6"));
    engine::Executor::Hook hook;
    const std::vector<PruningPoint> points = engine::pruning_points(g);
    if (state.range(0) == 1)
        hook = [&](std::size_t i) {
            const OpDesc& op = g.ops[i];
            for (TensorId t : op.outputs) {
                const TensorDesc& d = g.tensors[static_cast<std::size_t>(t)];
                const PruningPoint point = points[static_cast<std::size_t>(t)];
                if (d.is_integer || point == PruningPoint::unspecified || never_pruned(point)) continue;
                auto& v = ex.values(t);
                const std::int64_t cols = d.shape.back();
                dynaprop->prune(TensorView{v.data(), static_cast<std::int64_t>(v.size()) / cols, cols, d.role, d.name, point}, RunMode::training);
            }
        };
    for (auto _ : state) {
        ex.run_all(hook);
        ex.commit_update();
    }
    state.counters["steps"] = rate(static_cast<double>(state.iterations()));
    state.counters["FLOP"] = rate(flops * static_cast<double>(state.iterations()));
    state.counters["threads"] = ex.threads();
    state.SetLabel(state.range(0) == 1 ? "dynaprop" : "no pruning");
}
BENCHMARK(BM_TrainingStepBertTiny)->ArgNames({"dynaprop", "threads"})->ArgsProduct({{0, 1}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace transcode::bench
