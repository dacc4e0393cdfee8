// Experiment: one YAML file = one reproducible run. Loading validates the whole file, loads the
// plugins it lists, resolves plugin names and validates their parameters, and reports every
// problem at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "design_space/codesign_config.hpp"
#include "config/node.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "simulator/simulator.hpp"
#include "training/calibration.hpp"
#include "training/dataset.hpp"
#include "training/glue.hpp"
#include "training/trainer.hpp"
#include "model/model_file.hpp"
#include "plugin_host/plugin_config.hpp"
#include "plugin_host/plugin_host.hpp"
#include "sweep/sweep_plan.hpp"
#include "transcode/sdk.hpp"

namespace transcode::engine {

/// Settings of `kind: sparsity_probe`.
struct SparsityProbeSettings {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    double activation_std = 0;
    double gradient_std = 0;
};

/// Settings of `kind: simulate`.
struct SimulationSettings {
    Fidelity fidelity = Fidelity::event;
    SparsityByRole sparsity;
    /// "experiment", or "profile FILE point N".
    std::string sparsity_source = "experiment";
    bool trace = true;
};

/// Where kinds train, train_and_simulate and dynaprop_sweep get their data.
struct DataSettings {
    enum class Source { synthetic, tsv, glue } source = Source::synthetic;
    std::filesystem::path train_file;       ///< tsv, glue: resolved relative to the experiment file
    std::filesystem::path validation_file;
    SyntheticTask synthetic;
    std::filesystem::path vocabulary_file;  ///< glue: the WordPiece vocabulary (checked when the experiment loads)
    GlueFormat glue;                        ///< glue: the text and label columns
};

/// Kinds train and train_and_simulate: checkpoints (never written by dynaprop_sweep or codesign).
struct CheckpointSettings {
    bool save = true;                        ///< checkpoint.bin in the output folder after every epoch
    std::filesystem::path resume_from;       ///< empty: start afresh
};

/// One point of a sweep: the pruning parameters it sets (validated) and the strategy's Params.
struct SweepPoint {
    ValueMap changed;
    Params params;
};

/// kind dynaprop_sweep with sweep.matched: at each target sparsity, the experiment's strategy
/// calibrated to it at `points`, and the compared strategy keeping 1 - target of each row there.
struct MatchedSweep {
    std::vector<double> targets;
    std::vector<PruningPoint> points;  ///< activation points, in the order given
    PluginChoice compare;              ///< its params without keep_fraction and points (the sweep sets them)
    PluginChoice baseline;             ///< trained once, unpruned by default (pruning.none)
};

struct Experiment {
    std::filesystem::path file;
    std::string name;
    std::string description;
    std::string kind;
    std::uint64_t seed = 0;
    RunMode mode = RunMode::training;
    PluginChoice pruning;
    /// pruning.calibration: per-point target sparsities (empty: no calibration).
    CalibrationSettings calibration;
    SparsityProbeSettings probe;
    /// The model, when the experiment has a `model:` section (required by kind model_report).
    std::optional<LoadedModel> model;
    /// The accelerator, when the experiment has an `accelerator:` section (required by simulate).
    std::optional<Accelerator> accelerator;
    SimulationSettings simulation;
    DataSettings data;
    TrainingSettings training;
    CheckpointSettings checkpoint;
    /// kind dynaprop_sweep: every combination of the swept pruning parameters, in order.
    std::vector<SweepPoint> sweep;
    /// kind dynaprop_sweep with sweep.matched (then `sweep` is empty).
    std::optional<MatchedSweep> matched;
    OptimizerSettings optimizer;
    /// kind codesign: the space, search, accuracy estimator, objective and baseline.
    std::optional<CodesignSettings> codesign;
    /// kind sweep: the axes, the base experiment and how each point is validated and run
    /// (engine/sweep). The experiment's other fields are those of point 0.
    std::shared_ptr<const SweepPlan> sweep_plan;
    /// The whole resolved config (includes, overrides and defaults applied), for results.json.
    Value resolved;
};

/// The compared strategy's parameters at `target`: compare.params with keep_fraction = 1 - target
/// and points = the matched points.
ValueMap matched_compare_params(const MatchedSweep& m, double target);

/// The calibration of the matched sweep's calibrated runs at `target`: pruning.calibration's
/// batches, rounds and every_steps, with `target` at each matched point.
CalibrationSettings matched_calibration(const Experiment& ex, double target);

/// The schema of an experiment file, for validation and documentation.
const ParamSchema& experiment_schema();

/// Loads, validates and resolves an experiment. `overrides` are `PATH=VALUE` strings (--set).
/// Loads the libraries listed under `plugins:` into `host`. Throws ConfigError listing every
/// problem found, each as FILE:LINE:COL: error: path: message (rule).
Experiment load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host);

/// The same, from an already-parsed document (`diags` may already hold parse errors, which are
/// reported together with the rest). `file` names the experiment in results.
Experiment load_experiment(config::Node root, config::Diagnostics diags, const std::filesystem::path& file, PluginHost& host);

}  // namespace transcode::engine
