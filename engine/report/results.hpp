// results.json: the stable, documented output of every run (schema in README.md, "Results"): the
// version, JSON conversion and atomic writing that every writer shares. What an experiment puts in
// it is in experiment/experiment_results.hpp; report/ never includes experiment/.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The engine's version string (from CMake's project version).
const char* engine_version();

nlohmann::json to_json(const Value& v);

/// Writes `doc` (pretty-printed) to `file` atomically (common/atomic_file.hpp): a reader never
/// sees a partial file. The output folder itself is created, checked and locked by
/// common/output_folder.hpp before any work starts.
void write_json_file(const std::filesystem::path& file, const nlohmann::json& doc);

}  // namespace transcode::engine
