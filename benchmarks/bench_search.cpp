// Search plugins: one ask/tell round, the overhead a search adds per batch of candidates.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"

namespace transcode::bench {
namespace {

// A 12-knob discrete space of 29,030,400 candidates (2 to 8 choices per knob), about the size of
// a joint model x accelerator space.
SearchSpace twelve_knob_space() {
    SearchSpace space;
    const std::size_t choices[] = {2, 3, 4, 5, 6, 7, 8, 2, 3, 4, 5, 6};
    for (std::size_t i = 0; i < std::size(choices); ++i) space.knobs.push_back(Knob{fmt::format("knob{}", i), choices[i]});
    return space;
}

constexpr std::size_t batch = 64;
// Asks per search before it is started over: 256 x 64 = 16384 candidates, a large sweep. Without
// a restart, dedupe's bookkeeping (one entry per candidate drawn) would grow without bound.
constexpr std::int64_t asks_per_search = 256;

// search.random: ask(64) and tell() the 64 results, on the 12-knob space. range(0) = dedupe
// (1: without replacement, the default; 0: with replacement). The restart every 256 asks is
// not timed.
void BM_SearchRandomAskTell(benchmark::State& state) {
    const bool dedupe = state.range(0) != 0;
    auto host = load_host(state);
    if (!host) return;
    auto search = make_plugin<SearchAlgorithm>(state, *host, "random", PluginKind::search, dedupe ? "dedupe: true" : "dedupe: false");
    if (!search) return;
    const SearchSpace space = twelve_knob_space();
    const std::uint64_t seed = 42;
    search->start(space, seed);
    // The results told back: built once, outside the loop (random search only counts them).
    std::vector<Observation> results;
    for (Candidate& c : search->ask(batch)) results.push_back(Observation{std::move(c), {1.0, 2.0, 3.0, 4.0}, true, ""});
    search->start(space, seed);
    std::int64_t asks = 0;
    std::size_t asked = 0;
    for (auto _ : state) {
        if (asks++ == asks_per_search) {
            state.PauseTiming();
            search->start(space, seed);
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

}  // namespace
}  // namespace transcode::bench
