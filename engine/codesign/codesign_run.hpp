// kind codesign: the ask/tell loop of a co-design search.
//
//   search.start(space, seed)
//   repeat until the budget is spent or the search has nothing left to ask:
//     candidates = search.ask(batch)
//     evaluate them on --threads workers; commit each to search.db the moment it finishes
//     search.tell(results, in ask order)
//
// Results do not depend on --threads: every evaluation is seeded from its candidate, and tell()
// always receives the results in ask order. --resume replays the stored rows round by round into
// the same search (which, seeded the same and told the same, asks the same candidates), evaluates
// only what was not stored, and carries on.
//
// Output (in the output folder): results.json (section "codesign": best pair, baseline and ratios,
// Pareto set, hypervolume, evaluation counts), pareto.csv, accuracy.csv (model, accuracy: the
// surrogate's input format), best_model.yaml, best_accelerator.yaml,
// and search.db (result_store.hpp).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "experiment/experiment.hpp"

namespace transcode::engine {

struct CodesignRunOptions {
    unsigned threads = 1;
    bool resume = false;
    bool quiet = false;
};

void run_codesign(const Experiment& ex, PluginHost& host, const std::filesystem::path& out, const CodesignRunOptions& options, nlohmann::json& doc);

}  // namespace transcode::engine
