// The driver of a sweep (kind sweep): opens the store (sweep.db), skips the points it holds
// (--resume), runs the others on a work pool (distributed/: --threads local threads, or the ranks
// of an MPI job) with run_sweep_point, stores each record the moment it comes back, and at the end
// writes sweep.csv in point order and the `sweep` section of results.json.
#pragma once

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"
#include "distributed/work_pool.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sweep/sweep_plan.hpp"
#include "sweep/sweep_point.hpp"

namespace transcode::engine {

struct SweepRunOptions {
    unsigned threads = 1;
    bool resume = false;
    bool quiet = false;
    /// Under mpirun, rank 0's pool over every rank (distributed/mpi_session.hpp); null: a
    /// LocalPool of `threads` threads.
    distributed::WorkPool* pool = nullptr;
};

/// What a pool worker does with one point: {"point": I, "folder": "OUT/points/NNNN" (absolute)}
/// -> run_sweep_point into that folder -> the record as JSON. On an MPI job each rank builds this
/// from its own load of the experiment, and writes its points' folders itself (the output folder
/// is on a filesystem every rank sees; README, "Across machines").
distributed::WorkFunction sweep_point_work(const SweepPlan& plan, PluginHost& host);

/// sweep.csv of `records` (in point order): point, status, one column per axis (named by its
/// path), the figures of kind plan.of, seconds_s, reason.
CsvTable sweep_table(const SweepPlan& plan, const std::vector<SweepPointRecord>& records);

/// Runs the sweep into `out` (locked by the caller), writes sweep.csv and adds `sweep` to `doc`.
void run_sweep(const SweepPlan& plan, PluginHost& host, const std::filesystem::path& out, const SweepRunOptions& options, nlohmann::json& doc);

}  // namespace transcode::engine
