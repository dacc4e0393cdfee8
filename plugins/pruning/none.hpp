// pruning.none: prunes nothing, but still measures the natural sparsity of every tensor.
#pragma once

#include "transcode/plugin.hpp"
#include "transcode/pruning.hpp"

namespace transcode::plugins::pruning {

/// Leaves every tensor as it is; prune() only counts the zeros already there.
class NoPruning final : public PruningStrategy {
public:
    bool prunes(TensorRole role, RunMode mode) const override;
    PruneStats prune(TensorView t, RunMode mode) const override;
};

/// The factory of pruning.none: kind, name, doc, (empty) parameter schema and create function.
Factory none_factory();

}  // namespace transcode::plugins::pruning
