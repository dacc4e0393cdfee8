// Tensor vocabulary shared by model, pruning and simulation plugins.
#pragma once

#include <cstdint>
#include <string_view>

namespace transcode {

/// What a tensor is for. Sparsity is measured and reported per role.
enum class TensorRole { weight, activation, activation_gradient, weight_gradient, optimizer_state };

inline const char* to_string(TensorRole r) {
    switch (r) {
        case TensorRole::weight: return "weight";
        case TensorRole::activation: return "activation";
        case TensorRole::activation_gradient: return "activation_gradient";
        case TensorRole::weight_gradient: return "weight_gradient";
        case TensorRole::optimizer_state: return "optimizer_state";
    }
    return "?";
}

/// The three phases of a training step (inference runs only `forward`).
enum class Phase { forward, backward, update };

inline const char* to_string(Phase p) {
    switch (p) {
        case Phase::forward: return "forward";
        case Phase::backward: return "backward";
        case Phase::update: return "update";
    }
    return "?";
}

/// What a pruned tensor is in the model, classified by the engine from the graph's structure
/// (never from names), so that a strategy can treat each kind of tensor by its own scale:
///   attention_scores         a matmul or bias-add output that feeds a softmax
///   attention_probabilities  a softmax output (a row sums to 1: a uniform row of 16 is 0.0625)
///   dense                    every other matmul or bias-add output in the forward pass
///   logits                   the input of the cross_entropy loss (and the matmul feeding it
///                            through a bias add): the engine never prunes it
///   activation_gradient, weight_gradient   gradients in the backward pass
///   logits_gradient          the gradient of the logits: the engine never prunes it
/// `unspecified` is a view nobody classified (a caller outside the training loop): a strategy
/// then goes by its role, as resolved_point() does.
enum class PruningPoint {
    unspecified,
    dense,
    attention_scores,
    attention_probabilities,
    logits,
    activation_gradient,
    weight_gradient,
    logits_gradient,
};

inline const char* to_string(PruningPoint p) {
    switch (p) {
        case PruningPoint::unspecified: return "unspecified";
        case PruningPoint::dense: return "dense";
        case PruningPoint::attention_scores: return "attention_scores";
        case PruningPoint::attention_probabilities: return "attention_probabilities";
        case PruningPoint::logits: return "logits";
        case PruningPoint::activation_gradient: return "activation_gradient";
        case PruningPoint::weight_gradient: return "weight_gradient";
        case PruningPoint::logits_gradient: return "logits_gradient";
    }
    return "?";
}

/// True for the points the engine never prunes (the logits and their gradient): the strategy is
/// not called for them, and a strategy that is handed one anyway must leave it alone.
inline bool never_pruned(PruningPoint p) { return p == PruningPoint::logits || p == PruningPoint::logits_gradient; }

/// A mutable, row-major 2-D view of float32 data owned by someone else.
struct TensorView {
    float* data = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    TensorRole role = TensorRole::activation;
    std::string_view name;  ///< for diagnostics, e.g. "layer0.attention.scores"
    PruningPoint point = PruningPoint::unspecified;  ///< set by the engine for every tensor it prunes

    std::int64_t size() const { return rows * cols; }
    float* row(std::int64_t r) const { return data + r * cols; }

    /// The point, or for an unspecified one the point its role implies: an activation is `dense`,
    /// a gradient its own role; weights and optimizer state stay `unspecified`.
    PruningPoint resolved_point() const {
        if (point != PruningPoint::unspecified) return point;
        switch (role) {
            case TensorRole::activation: return PruningPoint::dense;
            case TensorRole::activation_gradient: return PruningPoint::activation_gradient;
            case TensorRole::weight_gradient: return PruningPoint::weight_gradient;
            default: return PruningPoint::unspecified;
        }
    }
};

}  // namespace transcode
