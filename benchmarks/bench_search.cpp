// Search plugins: one ask/tell round, the overhead a search adds per batch of candidates.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"

namespace transcode::bench {
namespace {

// A knob whose choices are the integers 0 .. choices - 1.
Knob int_knob(std::string name, std::size_t choices, bool ordinal = true) {
    Knob k;
    k.name = std::move(name);
    for (std::size_t i = 0; i < choices; ++i) k.values.emplace_back(static_cast<std::int64_t>(i));
    k.ordinal = ordinal;
    return k;
}

// A 12-knob discrete space of 29,030,400 candidates (2 to 8 choices per knob), about the size of
// a joint model x accelerator space.
DesignSpace twelve_knob_space() {
    std::vector<Knob> knobs;
    const std::size_t choices[] = {2, 3, 4, 5, 6, 7, 8, 2, 3, 4, 5, 6};
    for (std::size_t i = 0; i < std::size(choices); ++i) knobs.push_back(int_knob(fmt::format("knob{}", i), choices[i]));
    return DesignSpace(std::move(knobs));
}

// A FlexiBERT-2.0-sized encoding: a layer count (1 to 12) and, per layer, an ordered hidden size
// (8 choices, active up to the layer count) and per head (12 heads) an unordered operation of 6
// kinds, active with the layer: 1 + 12 * (1 + 12 * 6) = 877 coordinates, mostly zeros.
DesignSpace flexibert_like_space() {
    std::vector<Knob> knobs{int_knob("layers", 12)};
    for (std::size_t layer = 0; layer < 12; ++layer) {
        const auto layer_knob = static_cast<std::ptrdiff_t>(knobs.size());
        Knob hidden = int_knob(fmt::format("layer{}.hidden", layer), 8);
        hidden.parent = 0;
        hidden.parent_min = layer;
        knobs.push_back(std::move(hidden));
        for (std::size_t head = 0; head < 12; ++head) {
            Knob op = int_knob(fmt::format("layer{}.head{}.op", layer, head), 6, false);
            op.parent = layer_knob;
            knobs.push_back(std::move(op));
        }
    }
    return DesignSpace(std::move(knobs));
}

// A deterministic score with structure for the surrogate to learn: more layers and larger hidden
// sizes help, and operation kind 0 helps in even heads.
Observation synthetic_result(const DesignSpace& space, Candidate c) {
    double score = 0;
    for (std::size_t k = 0; k < c.size(); ++k) {
        if (!space.active(c, k)) continue;
        const std::size_t n = space.knobs()[k].values.size();
        score += space.knobs()[k].ordinal ? static_cast<double>(c[k]) / static_cast<double>(n - 1) : (c[k] == k % 2 ? 0.1 : 0.0);
    }
    // Objectives in tension (accuracy loss falls with the score, latency rises), so that a Pareto
    // front exists for acquisition: ehvi.
    return Observation{std::move(c), score, {1.0 / (1.0 + score), 0.1 + 0.05 * score, 0.5, 0.5}, true, ""};
}

constexpr std::size_t batch = 64;
// Asks per search before it is started over: 256 x 64 = 16384 candidates, a large sweep. Without
// a restart, dedupe's bookkeeping (one entry per candidate drawn) would grow without bound.
constexpr std::int64_t asks_per_search = 256;

// search.random: ask(64) and tell() the 64 results, on the 12-knob space. range(0) = dedupe
// (1: no repeats, the default; 0: with replacement). The restart every 256 asks is not timed.
void BM_SearchRandomAskTell(benchmark::State& state) {
    const bool dedupe = state.range(0) != 0;
    auto host = load_host(state);
    if (!host) return;
    auto search = make_plugin<SearchAlgorithm>(state, *host, "random", PluginKind::search, dedupe ? "dedupe: true" : "dedupe: false");
    if (!search) return;
    const DesignSpace space = twelve_knob_space();
    const std::uint64_t seed = 42;
    search->start(space, seed, {});
    // The results told back: built once, outside the loop (random search only counts them).
    std::vector<Observation> results;
    for (Candidate& c : search->ask(batch)) results.push_back(Observation{std::move(c), 0.5, {1.0, 2.0, 3.0, 4.0}, true, ""});
    search->start(space, seed, {});
    std::int64_t asks = 0;
    std::size_t asked = 0;
    for (auto _ : state) {
        if (asks++ == asks_per_search) {
            state.PauseTiming();
            search->start(space, seed, {});
            asks = 1;
            state.ResumeTiming();
        }
        std::vector<Candidate> candidates = search->ask(batch);
        asked += candidates.size();
        benchmark::DoNotOptimize(candidates.data());
        search->tell(results);
    }
    if (asked != static_cast<std::size_t>(state.iterations()) * batch) {
        state.SkipWithError("search.random returned fewer candidates than asked");
        return;
    }
    state.counters["candidates"] = rate(static_cast<double>(asked));
}
BENCHMARK(BM_SearchRandomAskTell)->ArgName("dedupe")->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// search.nsga2 (defaults: population 24): ask(8), evaluate the synthetic score, tell(8), on the
// 12-knob space: pagmo's breeding round every third ask and the survival step. Restarted (untimed)
// every 64 asks so that the bookkeeping of asked designs stays bounded.
void BM_SearchNsga2AskTell(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    auto search = make_plugin<SearchAlgorithm>(state, *host, "nsga2", PluginKind::search);
    if (!search) return;
    const DesignSpace space = twelve_knob_space();
    search->start(space, 7, {});
    std::int64_t asks = 0;
    std::size_t asked = 0;
    for (auto _ : state) {
        if (asks++ == 64) {
            state.PauseTiming();
            search->start(space, 7, {});
            asks = 1;
            state.ResumeTiming();
        }
        std::vector<Observation> results;
        for (Candidate& c : search->ask(8)) results.push_back(synthetic_result(space, std::move(c)));
        asked += results.size();
        search->tell(results);
    }
    state.counters["candidates"] = rate(static_cast<double>(asked));
}
BENCHMARK(BM_SearchNsga2AskTell)->Unit(benchmark::kMicrosecond);

// search.boshcode: one ask(8) + tell(8) after range(0) observations, on the 877-coordinate
// FlexiBERT-like space: refitting the surrogate (5 MLPs, 20 epochs, warm-started) on all
// observations, and GOBI from 16 starts. range(1) picks the settings: 0 the defaults (AdaHessian,
// ucb), 1 `ascent: gradient` (first order), 2 `acquisition: ehvi` (4 more ensembles, Monte Carlo
// hypervolume improvements). The observations are random designs, told
// before timing; each timed round adds 8, and every 8 rounds the search is rebuilt (untimed) so
// that the observation count stays near range(0).
void BM_SearchBoshcodeAskTell(benchmark::State& state) {
    const auto observations = static_cast<std::size_t>(state.range(0));
    auto host = load_host(state);
    if (!host) return;
    const DesignSpace space = flexibert_like_space();
    const char* const variants[] = {"", "ascent: gradient", "acquisition: ehvi"};
    auto search = make_plugin<SearchAlgorithm>(state, *host, "boshcode", PluginKind::search, variants[state.range(1)]);
    if (!search) return;
    // Untold, the search asks only random designs: a batch of `observations` of them, told at once.
    const auto warm_up = [&] {
        search->start(space, 11, {});
        std::vector<Observation> results;
        for (Candidate& c : search->ask(observations)) results.push_back(synthetic_result(space, std::move(c)));
        search->tell(results);
    };
    warm_up();
    std::int64_t rounds = 0;
    std::size_t asked = 0;
    for (auto _ : state) {
        if (rounds++ == 8) {
            state.PauseTiming();
            warm_up();
            rounds = 1;
            state.ResumeTiming();
        }
        std::vector<Observation> results;
        for (Candidate& c : search->ask(8)) results.push_back(synthetic_result(space, std::move(c)));
        asked += results.size();
        search->tell(results);
    }
    if (asked != static_cast<std::size_t>(state.iterations()) * 8) {
        state.SkipWithError("search.boshcode returned fewer candidates than asked");
        return;
    }
    state.counters["candidates"] = rate(static_cast<double>(asked));
    state.counters["encoding"] = static_cast<double>(space.encoded_size());
}
BENCHMARK(BM_SearchBoshcodeAskTell)
    ->ArgNames({"observations", "variant"})
    ->ArgsProduct({{64, 300}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace transcode::bench
