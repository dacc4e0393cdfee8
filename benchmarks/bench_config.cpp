// Startup costs paid once per run (or once per candidate, when a sweep launches one process per
// simulation): loading and validating an experiment file, and loading the plugin libraries.
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench_common.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "experiment/experiment.hpp"
#include "tokenizer/wordpiece.hpp"

#ifndef TRANSCODE_SOURCE_DIR
#error "TRANSCODE_SOURCE_DIR must be defined by the build (benchmarks/CMakeLists.txt)"
#endif

namespace transcode::bench {
namespace {

namespace fs = std::filesystem;

// An experiment file through engine::load_experiment: read the file, parse the YAML, validate it
// against the experiment schema, resolve the pruning plugin and validate its parameters. The
// PluginHost is loaded once, outside the timed loop. Case 0 is configs/experiments/quickstart.yaml
// (synthetic data); case 1 is sst2-bert-tiny.yaml, whose GLUE data source also checks BERT's
// 30,522-token vocabulary against the model (read once per process: Vocabulary::load_shared).
void BM_ConfigLoadValidate(benchmark::State& state) {
    auto host = load_host(state);
    if (!host) return;
    const char* name = state.range(0) == 0 ? "quickstart.yaml" : "sst2-bert-tiny.yaml";
    const fs::path file = fs::path(TRANSCODE_SOURCE_DIR) / "configs" / "experiments" / name;
    state.SetLabel(name);
    try {
        (void)engine::load_experiment(file, {}, *host);  // fail here, with the reason, rather than in the loop
    } catch (const std::exception& e) {
        state.SkipWithError(fmt::format("{}: {}", file.string(), e.what()).c_str());
        return;
    }
    for (auto _ : state) {
        engine::Experiment ex = engine::load_experiment(file, {}, *host);
        benchmark::DoNotOptimize(ex.pruning.info);
    }
    state.counters["experiments"] = rate(static_cast<double>(state.iterations()));
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(fs::file_size(file)));
}
BENCHMARK(BM_ConfigLoadValidate)->ArgName("case")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// BERT's uncased vocabulary (data/wordpiece/bert-base-uncased-vocab.txt, 30,522 tokens, 232 kB):
// read and checked every time (shared = 0, Vocabulary::load), or through the per-process cache
// (shared = 1, Vocabulary::load_shared: one stat() of the file while it is unchanged).
void BM_VocabularyLoad(benchmark::State& state) {
    const fs::path file = fs::path(TRANSCODE_SOURCE_DIR) / "data" / "wordpiece" / "bert-base-uncased-vocab.txt";
    const bool shared = state.range(0) != 0;
    try {
        (void)engine::Vocabulary::load(file);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
        return;
    }
    for (auto _ : state) {
        if (shared) {
            auto v = engine::Vocabulary::load_shared(file);
            benchmark::DoNotOptimize(v);
        } else {
            auto v = engine::Vocabulary::load(file);
            benchmark::DoNotOptimize(v);
        }
    }
    state.counters["vocabularies"] = rate(static_cast<double>(state.iterations()));
}
BENCHMARK(BM_VocabularyLoad)->ArgName("shared")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// A map of N keys under a key that also includes a file: parse, check duplicate keys, merge onto
// the included map. Linear in N since the duplicate check and the include merge index their keys
// (with Node::find they were quadratic: 99,000 keys took 64 s in `transcode validate`).
void BM_ConfigWideMap(benchmark::State& state) {
    const auto keys = static_cast<std::size_t>(state.range(0));
    const fs::path dir = fs::temp_directory_path() / fmt::format("transcode-bench-wide-{}", ::getpid());
    fs::create_directories(dir);
    { std::ofstream(dir / "base.yaml") << "a: 1\nb: 2\n"; }
    std::string text = "params:\n  include: base.yaml\n";
    for (std::size_t i = 0; i < keys; ++i) text += fmt::format("  k{}: {}\n", i, i);
    for (auto _ : state) {
        config::Diagnostics diags;
        const config::Node n = config::load_string(text, "wide.yaml", diags, dir);
        if (!diags.empty() || n.find("params") == nullptr || n.find("params")->fields.size() != keys + 2) {
            state.SkipWithError("the wide map did not load as expected");
            break;
        }
    }
    fs::remove_all(dir);
    state.counters["keys"] = benchmark::Counter(static_cast<double>(keys) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ConfigWideMap)->Arg(1000)->Arg(10000)->Arg(60000)->Unit(benchmark::kMillisecond);

// True when a file under `dir` is still mapped into this process.
bool mapped_from(const fs::path& dir) {
    std::ifstream maps("/proc/self/maps");
    const std::string prefix = dir.lexically_normal().string();
    for (std::string line; std::getline(maps, line);)
        if (line.find(prefix) != std::string::npos) return true;
    return false;
}

// A fresh PluginHost + load_defaults() per iteration: list the plugin folder, dlopen each library,
// check its ABI, read its descriptor and copy its factories and schemas into the host; then the
// host is destroyed and the libraries released.
void BM_PluginLoad(benchmark::State& state) {
    std::size_t factories = 0;
    try {
        engine::PluginHost probe;
        probe.load_defaults();
        factories = probe.list().size();
    } catch (const std::exception& e) {
        state.SkipWithError(fmt::format("loading the built-in plugins failed: {}", e.what()).c_str());
        return;
    }
    for (auto _ : state) {
        engine::PluginHost host;
        host.load_defaults();
        benchmark::DoNotOptimize(host.list().size());
    }
    state.counters["hosts"] = rate(static_cast<double>(state.iterations()));
    state.counters["factories"] = static_cast<double>(factories);
    // glibc never unloads a library that defines STB_GNU_UNIQUE symbols (it becomes NODELETE), so
    // after the first load every dlopen finds the library already mapped. Say which case we timed.
    state.SetLabel(mapped_from(engine::builtin_plugin_dir()) ? "warm: libraries stay mapped after the host is gone"
                                                             : "cold: libraries are unmapped with the host");
}
BENCHMARK(BM_PluginLoad)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace transcode::bench
