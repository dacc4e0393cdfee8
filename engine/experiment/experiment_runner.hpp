// Running an experiment, as `transcode run` and `transcode simulate` do and as the Python module
// does: the simulate experiment made from a model and an accelerator, what kind of document a YAML
// file is (`transcode validate`), and the run itself (output folder, results.json). The command
// line (engine/cli) and the Python module (python/) both call these; neither repeats them.
#pragma once

#include "distributed/work_pool.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "experiment/experiment.hpp"
#include "graph/model_summary.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// `transcode simulate`: an experiment of kind simulate made from a model and an accelerator.
struct SimulateRequest {
    std::string name;         ///< the experiment's name
    std::string model;        ///< YAML (flow) text of the model: section: include_section(FILE) or an inline map
    std::string accelerator;  ///< the same for the accelerator: section
    std::string mode = "inference";
    std::string fidelity = "event";
    std::vector<std::string> overrides;  ///< PATH=VALUE, applied to the generated experiment
};

/// `{include: "FILE"}`: a section that includes FILE (relative to the current directory).
std::string include_section(const std::filesystem::path& file);

/// Loads the generated experiment (named "<simulate>" in errors). Throws ConfigError.
Experiment load_simulate_experiment(const SimulateRequest& request, PluginHost& host);

/// What a YAML document is, from its top-level keys: an experiment has `experiment:`, a model
/// `family:` or `params:`, an accelerator `processing_elements:` or `units:`, a design space
/// `target:` and `knobs:`. `parsed` is false when the document had syntax errors.
enum class FileKind { experiment, model, accelerator, design_space, unknown };
FileKind detect_file_kind(const config::Node& root, bool parsed);

/// `transcode validate` of one document: loads it as what it is (with `overrides`) and returns what
/// it found, e.g. "ok (experiment 'quickstart', kind simulate)". Throws ConfigError (PluginError).
std::string validate_document(config::Node root, config::Diagnostics diags, const std::filesystem::path& file,
                              const std::vector<std::string>& overrides, PluginHost& host);
std::string validate_file(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host);

/// The step a model runs: its forward graph, or the training step (forward, backward, update).
ModelGraph step_graph(const LoadedModel& m, bool training, const OptimizerSettings& opt);

/// The per-section table of `model describe` and `kind: model_report`, printed to stdout.
void print_model_summary(const std::string& name, const std::string& family, const ModelSummary& s);

struct RunSettings {
    std::filesystem::path out;  ///< the output folder; empty: default_output_folder()
    unsigned threads = 1;
    bool resume = false;        ///< kinds codesign and sweep only (else ConfigError)
    bool quiet = false;         ///< no console summary, only warnings in the log
    /// Under mpirun, rank 0's pool over every rank (distributed/mpi_session.hpp); null: this
    /// process's threads. Only kind codesign distributes; any other kind runs on rank 0 alone.
    distributed::WorkPool* pool = nullptr;
};

/// Whether the experiment's kind spreads its work over MPI ranks (codesign).
bool distributable(const Experiment& ex);
/// What a worker rank (not rank 0) of an MPI job runs for this experiment: codesign_worker for
/// kind codesign; for a kind that does not distribute, a function that is never called.
distributed::WorkFunction worker_function(const Experiment& ex, PluginHost& host);

/// out/<experiment name>, relative to the current directory.
std::filesystem::path default_output_folder(const Experiment& ex);

/// Runs the experiment into its output folder (created, checked writable and locked first) and
/// writes results.json last. Returns the results.json document.
nlohmann::json run_experiment(const Experiment& ex, PluginHost& host, const RunSettings& settings);

}  // namespace transcode::engine
