// The pruning kernels, called through the plugin exactly as the executor calls them, against the
// physical limit measured in the same run: a memcpy of the same bytes.
#include <cstdint>
#include <cstring>
#include <random>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"

namespace transcode::bench {
namespace {

// Seeded Gaussian data, like the activations of the quickstart experiment (unit variance).
AlignedFloats gaussian(std::int64_t n, double stddev, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> dist(0.0f, static_cast<float>(stddev));
    AlignedFloats v(static_cast<std::size_t>(n));
    for (float& x : v) x = dist(rng);
    return v;
}

// Element counts of the DynaProp and memcpy cases: 4 Ki to 16 Mi floats, i.e. 16 KiB (L1) to
// 64 MiB (past the 32 MiB L3, so in DRAM) of float32, by factors of 4.
void element_counts(benchmark::internal::Benchmark* b) {
    for (int shift = 12; shift <= 24; shift += 2) b->Arg(std::int64_t{1} << shift);
}

// The physical limit: memcpy of N floats (4N bytes read, 4N bytes written, like an in-place prune
// of N floats). Counted as 4N bytes per iteration, like the prune cases, so the two bytes/s figures
// divide directly. Both buffers are cache-line aligned (see AlignedFloats), so this is glibc's best
// case, not its misaligned slow path. Out of cache the copy also reads each destination line before
// writing it (write-allocate), so there it moves 1.5x the DRAM traffic of the in-place prune.
void BM_MemcpyLimit(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const AlignedFloats src = gaussian(n, 1.0, 42);
    const AlignedFloats dst = gaussian(n, 1.0, 43);
    const std::size_t bytes = src.bytes();
    for (auto _ : state) {
        std::memcpy(dst.data(), src.data(), bytes);
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
    state.counters["elements"] = rate(static_cast<double>(state.iterations() * n));
}
BENCHMARK(BM_MemcpyLimit)->Apply(element_counts);

// pruning.dynaprop prune() on one activation tensor of N floats (rows of 1024), training mode, with
// the quickstart thresholds. The buffer is pruned in place and not refreshed between iterations:
// DynaProp is idempotent (a zeroed element stays zero, every other element is untouched) and its
// loop is branchless, so every iteration reads and writes the same N floats and does the same
// work as the first. This steady state needs no copy and no PauseTiming in the timed loop.
void BM_DynaPropPrune(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    auto host = load_host(state);
    if (!host) return;
    auto dynaprop = make_plugin<PruningStrategy>(state, *host, "dynaprop", PluginKind::pruning, "tau_i_train: 0.05\ntau_t: 0.0001\n");
    if (!dynaprop) return;
    const AlignedFloats buffer = gaussian(n, 1.0, 42);
    const std::int64_t cols = 1024;
    const TensorView t{buffer.data(), n / cols, cols, TensorRole::activation, "bench.activation"};
    const PruningStrategy* strategy = dynaprop.get();
    PruneStats stats = strategy->prune(t, RunMode::training);  // reach the steady state
    for (auto _ : state) {
        stats = strategy->prune(t, RunMode::training);
        benchmark::DoNotOptimize(stats);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
    state.counters["elements"] = rate(static_cast<double>(state.iterations() * n));
    state.counters["sparsity"] = static_cast<double>(stats.zeros) / static_cast<double>(stats.elements);
}
BENCHMARK(BM_DynaPropPrune)->Apply(element_counts);

// pruning.topk (k = 32, its default) row-wise on a rows x cols activation tensor. Top-k is not a
// steady state on its own output (a pruned row is mostly zeros, which nth_element handles far
// faster than Gaussian data), so each iteration first copies the pristine tensor into the work
// buffer. The copy is timed too; BM_MemcpyLimit/16384 and /262144 (the same bytes) give its cost.
void BM_TopKPrune(benchmark::State& state) {
    const std::int64_t rows = state.range(0);
    const std::int64_t cols = state.range(1);
    const std::int64_t n = rows * cols;
    auto host = load_host(state);
    if (!host) return;
    auto topk = make_plugin<PruningStrategy>(state, *host, "topk", PluginKind::pruning);
    if (!topk) return;
    const AlignedFloats pristine = gaussian(n, 1.0, 42);
    const AlignedFloats buffer(pristine.size());
    const TensorView t{buffer.data(), rows, cols, TensorRole::activation, "bench.activation"};
    const PruningStrategy* strategy = topk.get();
    PruneStats stats;
    for (auto _ : state) {
        std::memcpy(buffer.data(), pristine.data(), pristine.bytes());
        stats = strategy->prune(t, RunMode::training);
        benchmark::DoNotOptimize(stats);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() * n * static_cast<std::int64_t>(sizeof(float)));
    state.counters["elements"] = rate(static_cast<double>(state.iterations() * n));
    state.counters["sparsity"] = static_cast<double>(stats.zeros) / static_cast<double>(stats.elements);
}
BENCHMARK(BM_TopKPrune)->Args({128, 128})->Args({512, 512})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace transcode::bench
