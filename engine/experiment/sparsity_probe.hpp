// kind: sparsity_probe — applies the pruning strategy to seeded Gaussian tensors, one per tensor
// role (activation, activation gradient, weight gradient), and measures the resulting sparsity.
// It checks a strategy's thresholds against known distributions before a real training run.
#pragma once

#include <cstdint>
#include <vector>

#include "experiment/experiment.hpp"

namespace transcode::engine {

struct RoleSparsity {
    TensorRole role;
    double std_dev = 0;   ///< of the Gaussian the tensor was drawn from
    bool pruned = false;  ///< whether the strategy prunes this role in this mode
    std::int64_t zeros = 0;
    std::int64_t elements = 0;
    double sparsity() const { return elements == 0 ? 0.0 : static_cast<double>(zeros) / static_cast<double>(elements); }
};

struct SparsityProbeResult {
    std::vector<RoleSparsity> roles;
};

/// Runs the probe. Exceptions from the plugin become PluginError naming it.
SparsityProbeResult run_sparsity_probe(const Experiment& ex, const PluginPtr<PruningStrategy>& strategy);

}  // namespace transcode::engine
