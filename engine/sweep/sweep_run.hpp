// The driver of a sweep (kind sweep): opens the store (sweep.db), skips the points it holds
// (--resume), runs the others on --threads local threads over a work queue with run_sweep_point,
// stores each record the moment it finishes, and at the end writes sweep.csv in point order and the
// `sweep` section of results.json.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sweep/sweep_plan.hpp"
#include "sweep/sweep_point.hpp"

namespace transcode::engine {

struct SweepRunOptions {
    unsigned threads = 1;
    bool resume = false;
    bool quiet = false;
};

/// Called with each finished point's record, from the thread that ran it (one call at a time).
using SweepRecordSink = std::function<void(SweepPointRecord)>;

/// Step (b) of the driver: runs the points `todo` of `plan` on `threads` local threads over a
/// work queue, each into out/points/NNNN with run_sweep_point, and hands each record to `sink` the
/// moment it finishes. The first exception (of a point or of the sink) stops the queue and is
/// rethrown once the running points have finished. A distributed driver replaces this function.
void run_sweep_points_locally(const SweepPlan& plan, const std::vector<std::size_t>& todo, const std::filesystem::path& out, PluginHost& host,
                              unsigned threads, const SweepRecordSink& sink);

/// sweep.csv of `records` (in point order): point, status, one column per axis (named by its
/// path), the figures of kind plan.of, seconds_s, reason.
CsvTable sweep_table(const SweepPlan& plan, const std::vector<SweepPointRecord>& records);

/// Runs the sweep into `out` (locked by the caller), writes sweep.csv and adds `sweep` to `doc`.
void run_sweep(const SweepPlan& plan, PluginHost& host, const std::filesystem::path& out, const SweepRunOptions& options, nlohmann::json& doc);

}  // namespace transcode::engine
