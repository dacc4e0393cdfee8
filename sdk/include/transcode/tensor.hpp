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

/// A mutable, row-major 2-D view of float32 data owned by someone else.
struct TensorView {
    float* data = nullptr;
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    TensorRole role = TensorRole::activation;
    std::string_view name;  ///< for diagnostics, e.g. "layer0.attention.scores"

    std::int64_t size() const { return rows * cols; }
    float* row(std::int64_t r) const { return data + r * cols; }
};

}  // namespace transcode
