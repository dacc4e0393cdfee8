// Derives the full training step from a forward graph: the backward pass (input gradients AND
// weight gradients of every op, with gradient accumulation where a tensor feeds several ops) and
// the update phase (one optimizer op per trained weight, with its optimizer state).
#pragma once

#include "transcode/graph.hpp"

namespace transcode::engine {

struct OptimizerSettings {
    enum class Kind { adamw, sgd } kind = Kind::adamw;
    double learning_rate = 1e-4;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.01;  ///< on weights of rank >= 2 only: 1-D weights (biases, LayerNorm gamma and beta) get 0, as in BERT
    /// Embedding tables: update every row (false), or only the rows the step gathered (true). Sparse
    /// marks the table's embedding_backward and optimizer_update ops with `rows_fraction`, the share of
    /// the table's rows they touch; the simulator moves and computes only that share. The executor
    /// ignores it (its updates are dense), so the training kinds refuse it.
    bool sparse_embedding_update = false;
};

/// The forward graph plus backward and update phases. The gradient is seeded at `forward.loss`
/// (an input tensor `loss.grad` [1]); a graph without a loss seeds every terminal tensor that
/// depends on a weight with an input `<name>.grad`. Model inputs and integer tensors get no
/// gradient. Throws PluginError for an op whose backward form is undefined (transpose_a with a
/// shared B).
ModelGraph make_training_graph(const ModelGraph& forward, const OptimizerSettings& optimizer);

}  // namespace transcode::engine
