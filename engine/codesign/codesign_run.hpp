// kind codesign: the ask/tell loop of a co-design search.
//
//   search.start(space, seed)
//   repeat until the budget is spent or the search has nothing left to ask:
//     candidates = search.ask(batch)
//     evaluate them on a work pool (--threads workers, or the ranks of an MPI job: distributed/);
//     commit each to search.db the moment it is handed back
//     search.tell(results, in ask order)
//
// The round is a barrier: the search's next ask may depend on this tell (the SDK contract tells an
// ask's results before the next ask), so a search runs the same candidates at any thread or rank
// count. Within a round dispatch is fully asynchronous: a worker takes the next candidate as soon
// as it returns one.
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

#include "distributed/work_pool.hpp"
#include "experiment/experiment.hpp"

namespace transcode::engine {

struct CodesignRunOptions {
    unsigned threads = 1;
    bool resume = false;
    bool quiet = false;
    /// Where evaluations run: null means a LocalPool of `threads` (distributed/work_pool.hpp);
    /// under mpirun, rank 0 passes the pool over every rank (distributed/mpi_session.hpp).
    distributed::WorkPool* pool = nullptr;
};

/// What an MPI worker rank runs: an evaluator of the experiment with the baseline evaluated (so
/// its normalisers are rank 0's), taking a candidate (JSON array of knob indices) and returning its
/// EvaluationRecord (codesign/record_json.hpp). The function keeps the evaluator alive.
distributed::WorkFunction codesign_worker(const Experiment& ex, PluginHost& host);

void run_codesign(const Experiment& ex, PluginHost& host, const std::filesystem::path& out, const CodesignRunOptions& options, nlohmann::json& doc);

}  // namespace transcode::engine
