// pruning.dynaprop: DynaProp threshold pruning of activations (forward) and gradients (backward).
#pragma once

#include "tensor_ops.hpp"
#include "transcode/plugin.hpp"
#include "transcode/pruning.hpp"

namespace transcode::plugins::pruning {

/// Zeroes every activation x with |x| <= its point's threshold (for training or inference, by run
/// mode) and, in training only, every gradient g with |g| <= its point's threshold for the gradient
/// roles in `targets`. A point without its own threshold uses tau_i_train / tau_i_infer
/// (activations) or tau_t (gradients). The logits and their gradient are never pruned.
class DynaProp final : public PruningStrategy {
public:
    explicit DynaProp(const Params& params);

    bool prunes(TensorRole role, RunMode mode) const override;
    PruneStats prune(TensorView t, RunMode mode) const override;

    /// The threshold (as a float, see float_threshold) a tensor at `point` is pruned with in
    /// `mode`; -infinity for a point that is never pruned.
    float threshold(PruningPoint point, RunMode mode) const;

private:
    struct PerMode {
        float train;
        float infer;
    };
    PerMode dense_;
    PerMode scores_;
    PerMode probabilities_;
    float activation_gradient_;
    float weight_gradient_;
    RoleSet gradient_targets_;
};

/// The factory of pruning.dynaprop: kind, name, doc, parameter schema and create function.
Factory dynaprop_factory();

}  // namespace transcode::plugins::pruning
