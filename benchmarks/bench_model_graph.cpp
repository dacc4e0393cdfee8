// The model graph: building BERT-Base's forward graph in the flexibert plugin, deriving its full
// training step (backward with input and weight gradients, AdamW update), and checking it.
#include <exception>
#include <filesystem>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"
#include "graph/graph_check.hpp"
#include "graph/training_graph.hpp"
#include "model/model_file.hpp"

namespace transcode::bench {
namespace {

namespace fs = std::filesystem;

std::optional<engine::LoadedModel> load_bert_base(benchmark::State& state, engine::PluginHost& host) {
    const fs::path file = fs::path(TRANSCODE_SOURCE_DIR) / "configs" / "models" / "bert-base.yaml";
    try {
        return engine::load_model_file(file, {}, host);
    } catch (const std::exception& e) {
        state.SkipWithError(fmt::format("{}: {}", file.string(), e.what()).c_str());
        return std::nullopt;
    }
}

// Model file -> validated params -> plugin -> forward graph -> graph check (1,453 ops).
void BM_BertBaseForwardGraph(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    const auto probe = load_bert_base(state, *host);
    if (!probe) return;
    for (auto _ : state) {
        auto m = load_bert_base(state, *host);
        benchmark::DoNotOptimize(m->forward.ops.data());
    }
    state.counters["ops"] = rate(static_cast<double>(probe->forward.ops.size()) * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_BertBaseForwardGraph)->Unit(benchmark::kMillisecond);

// The forward graph -> the whole training step (backward + AdamW update, ~5,200 ops), checked.
void BM_BertBaseTrainingGraph(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    const auto m = load_bert_base(state, *host);
    if (!m) return;
    std::size_t ops = 0;
    for (auto _ : state) {
        ModelGraph g = engine::make_training_graph(m->forward, {});
        ops = g.ops.size();
        benchmark::DoNotOptimize(g.ops.data());
    }
    state.counters["ops"] = rate(static_cast<double>(ops) * static_cast<double>(state.iterations()));
}
BENCHMARK(BM_BertBaseTrainingGraph)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace transcode::bench
