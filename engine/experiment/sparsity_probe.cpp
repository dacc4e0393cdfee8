#include "experiment/sparsity_probe.hpp"

#include <fmt/format.h>

#include "common/random.hpp"

namespace transcode::engine {

SparsityProbeResult run_sparsity_probe(const Experiment& ex, const PluginPtr<PruningStrategy>& strategy) {
    SparsityProbeResult result;
    const TensorRole roles[] = {TensorRole::activation, TensorRole::activation_gradient, TensorRole::weight_gradient};
    std::vector<float> data(static_cast<std::size_t>(ex.probe.rows * ex.probe.cols));
    for (std::size_t i = 0; i < std::size(roles); ++i) {
        const TensorRole role = roles[i];
        const double std_dev = role == TensorRole::activation ? ex.probe.activation_std : ex.probe.gradient_std;
        SplitMix64 rng(derive_seed(ex.seed, i + 1));
        for (auto& x : data) x = static_cast<float>(std_dev * rng.normal());

        const std::string name = fmt::format("probe.{}", to_string(role));
        TensorView view{data.data(), ex.probe.rows, ex.probe.cols, role, name};
        RoleSparsity r{role, std_dev};
        r.pruned = call_plugin(strategy.name(), "prunes", [&] { return strategy->prunes(role, ex.mode); });
        const PruneStats stats = call_plugin(strategy.name(), "prune", [&] { return strategy->prune(view, ex.mode); });
        // Trust, but verify: the reported counts must match the tensor.
        std::int64_t zeros = 0;
        for (float x : data) zeros += x == 0.0f ? 1 : 0;
        if (stats.zeros != zeros || stats.elements != view.size())
            throw PluginError(fmt::format("plugin '{}' failed in prune(): reported {} zeros of {} elements, but the tensor holds {} zeros of {}",
                                          strategy.name(), stats.zeros, stats.elements, zeros, view.size()));
        r.zeros = stats.zeros;
        r.elements = stats.elements;
        result.roles.push_back(r);
    }
    return result;
}

}  // namespace transcode::engine
