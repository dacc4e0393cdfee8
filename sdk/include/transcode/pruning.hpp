// The `pruning` plugin kind: run-time pruning of activations and gradients (DynaProp and kin).
#pragma once

#include <cstdint>

#include "transcode/plugin.hpp"
#include "transcode/tensor.hpp"

namespace transcode {

/// Zeros and element count of one tensor after pruning. Sparsity = zeros / elements.
struct PruneStats {
    std::int64_t zeros = 0;
    std::int64_t elements = 0;
};

/// Whether the executor runs a training step or inference only. Strategies may use separate
/// thresholds for each.
enum class RunMode { inference, training };

class BOOST_SYMBOL_VISIBLE PruningStrategy : public PluginObject {
public:
    /// True if this strategy prunes tensors of `role` in `mode`. The executor still measures the
    /// natural sparsity of tensors it does not prune.
    virtual bool prunes(TensorRole role, RunMode mode) const = 0;

    /// Prunes `t` in place if `prunes(t.role, mode)`, and returns the zeros it holds afterwards
    /// (zeros that were already there count too).
    virtual PruneStats prune(TensorView t, RunMode mode) const = 0;
};

}  // namespace transcode
