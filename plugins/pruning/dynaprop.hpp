// pruning.dynaprop: DynaProp threshold pruning of activations (forward) and gradients (backward).
#pragma once

#include "tensor_ops.hpp"
#include "transcode/plugin.hpp"
#include "transcode/pruning.hpp"

namespace transcode::plugins::pruning {

/// Zeroes every activation x with |x| <= tau_i (tau_i_train or tau_i_infer, by run mode) and, in
/// training only, every gradient g with |g| <= tau_t for the gradient roles in `targets`.
class DynaProp final : public PruningStrategy {
public:
    explicit DynaProp(const Params& params);

    bool prunes(TensorRole role, RunMode mode) const override;
    PruneStats prune(TensorView t, RunMode mode) const override;

private:
    float threshold(TensorRole role, RunMode mode) const;

    float tau_i_train_;
    float tau_i_infer_;
    float tau_t_;
    RoleSet gradient_targets_;
};

/// The factory of pruning.dynaprop: kind, name, doc, parameter schema and create function.
Factory dynaprop_factory();

}  // namespace transcode::plugins::pruning
