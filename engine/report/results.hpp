// results.json: the stable, documented output of every run (schema in README.md, "Results").
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "experiment/experiment.hpp"
#include "experiment/sparsity_probe.hpp"
#include "graph/model_summary.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The engine's version string (from CMake's project version).
const char* engine_version();

nlohmann::json to_json(const Value& v);

/// The keys every results document has: experiment, engine_version, sdk_abi_version, plugins,
/// config, status ("ok"), and `model` when the experiment has one.
nlohmann::json common_results(const Experiment& ex, const PluginHost& host);

/// Adds a sparsity-probe run's `pruning` and `sparsity` to `doc`.
void add_sparsity_probe_results(nlohmann::json& doc, const Experiment& ex, const SparsityProbeResult& r);

/// Creates the output folder up front, so that a bad --out fails before any work is done.
/// Throws ConfigError: "output folder 'DIR': cannot create it: REASON".
void prepare_output_dir(const std::filesystem::path& dir);

/// Writes `doc` (pretty-printed) to `file` atomically: a reader never sees a partial file.
void write_json_file(const std::filesystem::path& file, const nlohmann::json& doc);

}  // namespace transcode::engine
