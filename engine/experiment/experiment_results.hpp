// What an experiment puts in results.json besides its kind's own figures: the keys every results
// document has, and a sparsity probe's findings. Built on report/results.hpp (experiment/ may include
// report/, never the other way round).
#pragma once

#include <nlohmann/json.hpp>

#include "experiment/experiment.hpp"
#include "experiment/sparsity_probe.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The keys every results document has: experiment, engine_version, sdk_abi_version, plugins,
/// config, status ("ok"), and `model` when the experiment has one.
nlohmann::json common_results(const Experiment& ex, const PluginHost& host);

/// Adds a sparsity-probe run's `pruning` and `sparsity` to `doc`.
void add_sparsity_probe_results(nlohmann::json& doc, const Experiment& ex, const SparsityProbeResult& r);

}  // namespace transcode::engine
