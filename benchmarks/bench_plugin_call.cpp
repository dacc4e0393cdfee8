// The cost of a call into a plugin against a direct call: PruningStrategy::prunes() of
// pruning.dynaprop through the plugin object (a virtual call into the .so, which the compiler can
// neither inline nor devirtualise), against an identical function in this file, inlined and not.
//
// All three cases get the same treatment: the object pointer, the arguments and the object's
// state are hidden from the optimiser before every call (DoNotOptimize with a memory clobber), and
// the result is consumed, so each iteration makes and completes exactly one call.
#include <cstdint>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"

namespace transcode::bench {
namespace {

// The same decision as DynaProp::prunes (plugins/pruning/dynaprop.cpp), on the same state: the
// set of gradient roles it prunes in training, as a bit set.
struct DirectDynaProp {
    std::uint32_t gradient_targets = (1u << static_cast<unsigned>(TensorRole::weight_gradient)) |
                                     (1u << static_cast<unsigned>(TensorRole::activation_gradient));

    bool prunes(TensorRole role, RunMode mode) const {
        if (role == TensorRole::activation) return true;
        return mode == RunMode::training && (gradient_targets & (1u << static_cast<unsigned>(role))) != 0;
    }
};

[[gnu::noinline]] bool prunes_noinline(const DirectDynaProp& d, TensorRole role, RunMode mode) { return d.prunes(role, mode); }

// An activation gradient in training: the path through the role-set lookup, in every case.
constexpr TensorRole call_role = TensorRole::activation_gradient;
constexpr RunMode call_mode = RunMode::training;

void BM_PluginCall(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    auto dynaprop = make_plugin<PruningStrategy>(state, *host, "dynaprop", PluginKind::pruning);
    if (!dynaprop) return;
    const PruningStrategy* strategy = dynaprop.get();
    TensorRole role = call_role;
    RunMode mode = call_mode;
    if (!strategy->prunes(role, mode)) {
        state.SkipWithError("pruning.dynaprop does not prune activation gradients in training with its defaults");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(strategy);
        benchmark::DoNotOptimize(role);
        benchmark::DoNotOptimize(mode);
        bool result = strategy->prunes(role, mode);
        benchmark::DoNotOptimize(result);
    }
    state.counters["calls"] = rate(static_cast<double>(state.iterations()));
}
BENCHMARK(BM_PluginCall);

void BM_DirectCallInline(benchmark::State& state) {
    const DirectDynaProp direct;
    const DirectDynaProp* object = &direct;
    TensorRole role = call_role;
    RunMode mode = call_mode;
    for (auto _ : state) {
        benchmark::DoNotOptimize(object);
        benchmark::DoNotOptimize(role);
        benchmark::DoNotOptimize(mode);
        bool result = object->prunes(role, mode);
        benchmark::DoNotOptimize(result);
    }
    state.counters["calls"] = rate(static_cast<double>(state.iterations()));
}
BENCHMARK(BM_DirectCallInline);

void BM_DirectCallNoinline(benchmark::State& state) {
    const DirectDynaProp direct;
    const DirectDynaProp* object = &direct;
    TensorRole role = call_role;
    RunMode mode = call_mode;
    for (auto _ : state) {
        benchmark::DoNotOptimize(object);
        benchmark::DoNotOptimize(role);
        benchmark::DoNotOptimize(mode);
        bool result = prunes_noinline(*object, role, mode);
        benchmark::DoNotOptimize(result);
    }
    state.counters["calls"] = rate(static_cast<double>(state.iterations()));
}
BENCHMARK(BM_DirectCallNoinline);

}  // namespace
}  // namespace transcode::bench
