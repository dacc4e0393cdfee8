// Runners of the training kinds: train, train_and_simulate and dynaprop_sweep. Each fills its
// sections of results.json and writes its files into the output folder.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "experiment/experiment.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The data an experiment asks for, framed to sequence length `S`.
Dataset load_data(const Experiment& ex, std::int64_t sequence_length);

/// The same for a model with `classes` classes (the co-design evaluator's models differ in both).
Dataset load_dataset(const DataSettings& data, std::int64_t sequence_length, std::int64_t classes);

/// Runs kind train, train_and_simulate or dynaprop_sweep. Prints progress (on a terminal, a live
/// line with the time left) unless `quiet`. Writes sparsity_profile.yaml (and, for the sweep,
/// sweep.csv) into `out`, and adds the kind's sections to `doc`. The executor runs on `threads`
/// threads (0: the hardware concurrency); results never depend on it.
void run_training_kind(const Experiment& ex, PluginHost& host, const std::filesystem::path& out, bool quiet, unsigned threads, nlohmann::json& doc);

}  // namespace transcode::engine
