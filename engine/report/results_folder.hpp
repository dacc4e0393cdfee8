// Reading a finished run's output folder back for `transcode report`: results.json, checked for
// what the report draws, and the CSV files beside it (ops.csv, convergence.csv). Every problem is a
// located ConfigError naming the file (FILE:LINE:COL: error: path: message (rule)), so the command
// exits 2 and says which file is wrong. Includes nothing from experiment/ or codesign/.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"

namespace transcode::engine {

/// What `transcode report` reads from an output folder.
struct ResultsFolder {
    std::filesystem::path folder;
    nlohmann::json results;               ///< results.json, checked by check_results_json
    std::optional<CsvFile> ops;          ///< ops.csv (simulate, train_and_simulate), when present
    std::optional<CsvFile> convergence;  ///< convergence.csv (codesign), when present
};

/// The experiment kinds a report covers.
const std::vector<std::string>& report_kinds();

/// Checks that `doc` (parsed from `text`, the contents of `file`) is a results.json the report can
/// draw: an object with `experiment` (`name`, `kind` one of report_kinds()), `engine_version`,
/// `status`, and per kind the sections its charts read (simulate: `latency`, `energy`, `phases`,
/// `memory`, `accelerator`; train and train_and_simulate: `accuracy.epochs`; dynaprop_sweep:
/// `sweep`; codesign: `codesign.pareto.set`, `codesign.best`, `codesign.baseline`), each of the
/// right type. Every problem found is reported, located in `text`; throws ConfigError if any.
void check_results_json(const nlohmann::json& doc, const std::string& text, const std::string& file);

/// Reads `folder`: a ConfigError when it is not a folder, has no results.json, or results.json is
/// not valid JSON or not a results document (check_results_json), or a CSV file beside it is
/// malformed.
ResultsFolder read_results_folder(const std::filesystem::path& folder);

/// The 1-based line and column of byte `offset` of `text`.
std::pair<int, int> line_column(const std::string& text, std::size_t offset);

/// The byte offset in `text` (valid JSON) of the value at `pointer` ("/a/b/0"), or of the
/// deepest value on that path that exists.
std::size_t locate_json(const std::string& text, const std::string& pointer);

}  // namespace transcode::engine
