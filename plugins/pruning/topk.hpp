// pruning.topk: keeps the k largest magnitudes of each row (the published baseline for DynaProp).
#pragma once

#include <cstdint>

#include "tensor_ops.hpp"
#include "transcode/plugin.hpp"
#include "transcode/pruning.hpp"

namespace transcode::plugins::pruning {

/// Keeps exactly the k entries of largest |x| in each row of a targeted tensor and zeroes the rest.
/// Ties go to the lower column index. Rows of at most k columns are kept whole. k is `k`, or
/// ceil(keep_fraction * cols) of the tensor's rows (`keep_fraction`, exclusive with `k`). Activations are
/// pruned at the points in `points` only; the logits and their gradient never.
class TopK final : public PruningStrategy {
public:
    explicit TopK(const Params& params);

    bool prunes(TensorRole role, RunMode mode) const override;
    PruneStats prune(TensorView t, RunMode mode) const override;

    /// True if an activation at `point` is pruned (a point in `points`); false for the logits.
    bool prunes_point(PruningPoint point) const;

    /// The entries kept in each row of a tensor whose rows have `cols` columns.
    std::int64_t kept(std::int64_t cols) const;

private:
    std::int64_t k_;              // used when keep_fraction_ is 0
    double keep_fraction_ = 0.0;  // in (0, 1] when given
    RoleSet targets_;
    std::uint32_t points_ = 0;  // one bit per PruningPoint of `points`
};

/// The factory of pruning.topk: kind, name, doc, parameter schema and create function.
Factory topk_factory();

}  // namespace transcode::plugins::pruning
