// One point of a sweep: run_sweep_point is a pure function of (plan, point index) that runs the
// point into its own folder, exactly as a standalone `transcode run` of that point would, and
// returns a SweepPointRecord that serialises to JSON and back. Whoever dispatches the points (the
// local thread loop of sweep_run.cpp, or ranks of a distributed run) needs only these.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugin_host/plugin_host.hpp"
#include "sweep/sweep_plan.hpp"

namespace transcode::engine {

enum class SweepPointStatus { ok, infeasible, failed };
const char* to_string(SweepPointStatus s);
/// "ok", "infeasible" or "failed"; anything else throws ConfigError naming `text`.
SweepPointStatus sweep_point_status(const std::string& text);

struct SweepPointRecord {
    std::size_t index = 0;
    std::vector<std::string> values;  ///< the axis values, as text, one per axis
    SweepPointStatus status = SweepPointStatus::ok;
    std::string reason;               ///< why a point is infeasible or failed; empty when ok
    /// The point's headline figures, keyed by sweep.csv column (units in the names); a figure
    /// its results.json lacks is absent (an empty cell).
    nlohmann::json figures = nlohmann::json::object();
    double seconds = 0;               ///< wall-clock time of the point
    std::string folder;               ///< the point's results folder, relative to the sweep's (points/NNNN)
};

nlohmann::json to_json(const SweepPointRecord& r);
/// The record back; a malformed document throws ConfigError saying what is missing.
SweepPointRecord sweep_point_record_from_json(const nlohmann::json& j);

/// The headline figure columns of a point of kind `of`, in sweep.csv order (without point, status,
/// the axes and seconds_s).
std::vector<std::string> sweep_figure_columns(const std::string& of);
/// Those figures, read from a point's results.json.
nlohmann::json sweep_figures(const std::string& of, const nlohmann::json& results);

/// The folder of point `index` below the sweep's output folder: points/0000, points/0001, ...
std::filesystem::path sweep_point_folder(std::size_t index);

/// Runs point `index` of `plan` into `point_out` (created; what a standalone run of kind plan.of
/// writes: results.json, ops.csv, ...) with plan.point_timeout_s as its wall-clock budget. A point
/// whose run throws a user-facing error (or passes its budget) is a record with status failed and
/// the reason; an engine bug (InternalError) propagates.
SweepPointRecord run_sweep_point(const SweepPlan& plan, std::size_t index, const std::filesystem::path& point_out, PluginHost& host);

}  // namespace transcode::engine
