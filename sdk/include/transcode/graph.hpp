// The model graph: the intermediate representation that model plugins build and that the
// numeric executor and the simulator both consume.
//
// A model plugin builds the FORWARD graph with GraphBuilder. The engine checks it (shapes per op
// kind, acyclicity), and for training derives the backward pass (input and weight gradients of
// every op, gradient accumulation where a tensor has several consumers) and the update phase (one
// optimizer op per weight, with its optimizer state), so every model family gets a complete,
// uniform training step.
//
// Shapes are row-major; the last dimension is the innermost. "Batch dims" are all but the last
// two dimensions of a matmul operand.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "transcode/errors.hpp"
#include "transcode/tensor.hpp"

namespace transcode {

/// A padding mask is an integer tensor [batch, S] holding, per sequence, 1 for each of its L real
/// tokens and then 0 for the padding (anything else is an error when the graph runs). The ops that
/// mix sequence positions take one, so that padding never reaches a real token.
///
/// Every op kind. Forward kinds come first; the `*_backward` kinds appear only in derived
/// backward passes (matmul, add, concat, slice, reduce_sum, seq_transform and dropout serve as
/// their own backward forms). Kinds added later are appended at the end, so that the numbers of the
/// existing kinds, which plugins are compiled with, never change. Exact semantics, inputs (in
/// order) and outputs:
enum class OpKind {
    // --- forward --------------------------------------------------------------------------------
    matmul,          ///< C = op(A)·op(B); attrs transpose_a, transpose_b (0/1), batch_reduce (1: sum
                     ///< the product over A's batch dims, for weight gradients). A [..., m, k],
                     ///< B [k, n] (shared) or [..., k, n] (batched) -> C [..., m, n]
    add,             ///< C = A + B; B has A's shape, or is a vector of A's last dim (bias)
    layer_norm,      ///< y = (x - mean) / sqrt(var + eps) * gamma + beta over the last dim; x, gamma,
                     ///< beta; attr eps (default 1e-12)
    softmax,         ///< y = softmax(scale · x) over the last dim; attrs scale, causal (0/1). Optional
                     ///< input 1: a padding mask (see below) [N, keys], N = x's rows ÷ its
                     ///< second-to-last dim; the padding keys of sequence n get probability 0
    gelu,            ///< y = gelu(x), tanh approximation
    relu,            ///< y = max(x, 0)
    tanh,            ///< y = tanh(x)
    embedding,       ///< out[b, s, :] = table[ids[b, s], :]; ids [b, s] (integer ids), table [rows, d]
    seq_transform,   ///< y[b, :, c] = T · x[b, :, c] over the sequence; attr variant 0 = DFT (real
                     ///< part, T[j,k] = cos(2πjk/S)), 1 = DCT-II (orthonormal); transpose (0/1) applies Tᵀ.
                     ///< Optional input 1: a padding mask [b, S]; sequence b of length L_b is then
                     ///< transformed with the T of size L_b over its first L_b positions, and the rest of y is 0
    conv1d,          ///< dynamic 1-D convolution over the sequence, shared across channels:
                     ///< y[b, s, c] = Σ_j w[b, s, j] · x[b, s + j - (k-1)/2, c] (zero padded);
                     ///< x [b, S, C], w [b, S, k] (per-position kernels) -> y [b, S, C]. Optional
                     ///< input 2: a padding mask [b, S]; positions >= L_b are then read as zeros and give 0
    concat,          ///< concatenation along the last dim of all inputs
    slice,           ///< y = x[start .. start+length) along attr axis (1 = sequence, -1 = last);
                     ///< attr squeeze = 1 drops the axis (length must be 1): [B, S, H] -> [B, H]
    cross_entropy,   ///< loss = mean_b(-log softmax(logits[b])[labels[b]]); logits [B, classes],
                     ///< labels [B] (integer ids) -> loss [1]. A label < 0 (e.g. -1) marks a row
                     ///< to ignore (padding of a partial batch): the mean is over the other rows
                     ///< (0 if none) and the ignored rows get a zero gradient
    // --- backward -------------------------------------------------------------------------------
    layer_norm_backward,     ///< (dy, x, gamma) -> (dx, dgamma, dbeta); attr eps as in the forward op
    softmax_backward,        ///< (dy, y) -> dx; attr scale as in the forward op
    gelu_backward,           ///< (dy, x) -> dx
    relu_backward,           ///< (dy, x) -> dx
    tanh_backward,           ///< (dy, y) -> dx
    embedding_backward,      ///< (dout, ids) -> dtable (scatter-add; shape of the table)
    conv1d_backward,         ///< (dy, x, w[, mask]) -> (dx, dw); the forward op's padding mask, if any
    cross_entropy_backward,  ///< (dloss, logits, labels) -> dlogits (0 on rows whose label is < 0)
    slice_backward,          ///< dy -> dx: dy placed into zeros of x's shape (attrs as the slice)
    reduce_sum,              ///< y = x summed over all but the last dim (bias gradients)
    // --- update ---------------------------------------------------------------------------------
    optimizer_update,        ///< (weight, gradient, state...) -> (weight', state'...); attr optimizer
                             ///< 0 = AdamW (state m, v), 1 = SGD (no state); lr, beta1, beta2, eps,
                             ///< weight_decay as attrs
    // --- appended kinds (forward), after the others so that existing values keep their numbers ---
    dropout,         ///< y = x · m / (1 − p), m[i] ~ Bernoulli(1 − p), in training only (the identity
                     ///< when evaluating); attrs p in [0, 1) and seed (an integer in [0, 2^53), a
                     ///< per-op constant). The mask is a pure function of (seed, training step t,
                     ///< flat element index i), so nothing is stored: with SplitMix64's finaliser
                     ///< mix(z) (z ^= z>>30, z *= 0xBF58476D1CE4E5B9, z ^= z>>27,
                     ///< z *= 0x94D049BB133111EB, z ^= z>>31) and γ = 0x9E3779B97F4A7C15,
                     ///< k = mix((seed ^ t·0xD1B54A32D192ED03) + γ), z_i = mix(k + (i + 1)·γ),
                     ///< m[i] = 1 iff (z_i >> 11)·2^-53 ≥ p. Its own backward form: dx = dropout(dy)
                     ///< with the same attrs, hence the same mask in the same step. An executor
                     ///< may be given a run seed r (the experiment's seed): seed is then replaced
                     ///< by seed ^ r·0x9FB21C651E98DF25 (r = 0 leaves it as it is)
};

inline const char* to_string(OpKind k) {
    switch (k) {
        case OpKind::matmul: return "matmul";
        case OpKind::add: return "add";
        case OpKind::layer_norm: return "layer_norm";
        case OpKind::softmax: return "softmax";
        case OpKind::gelu: return "gelu";
        case OpKind::relu: return "relu";
        case OpKind::tanh: return "tanh";
        case OpKind::embedding: return "embedding";
        case OpKind::seq_transform: return "seq_transform";
        case OpKind::conv1d: return "conv1d";
        case OpKind::concat: return "concat";
        case OpKind::slice: return "slice";
        case OpKind::cross_entropy: return "cross_entropy";
        case OpKind::layer_norm_backward: return "layer_norm_backward";
        case OpKind::softmax_backward: return "softmax_backward";
        case OpKind::gelu_backward: return "gelu_backward";
        case OpKind::relu_backward: return "relu_backward";
        case OpKind::tanh_backward: return "tanh_backward";
        case OpKind::embedding_backward: return "embedding_backward";
        case OpKind::conv1d_backward: return "conv1d_backward";
        case OpKind::cross_entropy_backward: return "cross_entropy_backward";
        case OpKind::slice_backward: return "slice_backward";
        case OpKind::reduce_sum: return "reduce_sum";
        case OpKind::optimizer_update: return "optimizer_update";
        case OpKind::dropout: return "dropout";
    }
    return "?";
}

using TensorId = std::int32_t;
using OpId = std::int32_t;
using Shape = std::vector<std::int64_t>;

struct TensorDesc {
    std::string name;  ///< unique, dotted: "layer3.head0.q"
    Shape shape;
    TensorRole role = TensorRole::activation;
    int bits = 32;             ///< element width in storage
    bool is_integer = false;   ///< ids and labels
    bool is_input = false;     ///< fed from outside (token ids, labels)
    std::int64_t elements() const {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

struct OpDesc {
    OpKind kind = OpKind::matmul;
    std::string name;
    std::vector<TensorId> inputs;
    std::vector<TensorId> outputs;
    std::map<std::string, double> attrs;
    Phase phase = Phase::forward;
    /// Which part of the model the op belongs to, for per-layer reports (see model_section in
    /// model.hpp): -1 embeddings, 0..L-1 encoder layers, L the pooler, L+1 the task head.
    /// Derived (backward and update) ops inherit it.
    int layer = -1;
    double attr(const std::string& key, double fallback = 0.0) const {
        auto it = attrs.find(key);
        return it == attrs.end() ? fallback : it->second;
    }
};

/// A whole model: tensors and ops, in the order they were added.
struct ModelGraph {
    std::vector<TensorDesc> tensors;
    std::vector<OpDesc> ops;
    TensorId loss = -1;  ///< the scalar loss, when the graph ends in one
    int layers = 0;      ///< encoder layers, for per-layer reports
};

/// The small API model plugins build forward graphs with.
class GraphBuilder {
public:
    TensorId input(std::string name, Shape shape, bool is_integer) {
        TensorId t = add_tensor(std::move(name), std::move(shape), TensorRole::activation);
        graph_.tensors[static_cast<std::size_t>(t)].is_integer = is_integer;
        graph_.tensors[static_cast<std::size_t>(t)].is_input = true;
        return t;
    }
    TensorId weight(std::string name, Shape shape) { return add_tensor(std::move(name), std::move(shape), TensorRole::weight); }
    /// Adds an op whose outputs are new activations of the given shapes; returns their ids.
    std::vector<TensorId> op(OpKind kind, const std::string& name, std::vector<TensorId> inputs, std::vector<Shape> output_shapes,
                             std::map<std::string, double> attrs = {}) {
        OpDesc o{kind, name, std::move(inputs), {}, std::move(attrs), Phase::forward, layer_};
        for (std::size_t i = 0; i < output_shapes.size(); ++i)
            o.outputs.push_back(add_tensor(output_shapes.size() == 1 ? name : name + "." + std::to_string(i), std::move(output_shapes[i]),
                                           TensorRole::activation));
        graph_.ops.push_back(std::move(o));
        return graph_.ops.back().outputs;
    }
    /// The single-output form of op().
    TensorId op1(OpKind kind, const std::string& name, std::vector<TensorId> inputs, Shape output_shape, std::map<std::string, double> attrs = {}) {
        return op(kind, name, std::move(inputs), {std::move(output_shape)}, std::move(attrs)).front();
    }
    const Shape& shape(TensorId t) const { return graph_.tensors.at(static_cast<std::size_t>(t)).shape; }
    /// Ops added from now on belong to `layer` (see OpDesc::layer).
    void set_layer(int layer) { layer_ = layer; }
    void set_loss(TensorId t) { graph_.loss = t; }
    void set_layer_count(int n) { graph_.layers = n; }
    /// Element width for tensors added from now on (default 32).
    void set_bits(int bits) { bits_ = bits; }
    ModelGraph take() { return std::move(graph_); }

private:
    TensorId add_tensor(std::string name, Shape shape, TensorRole role) {
        TensorDesc t;
        t.name = std::move(name);
        t.shape = std::move(shape);
        t.role = role;
        t.bits = bits_;
        graph_.tensors.push_back(std::move(t));
        return static_cast<TensorId>(graph_.tensors.size() - 1);
    }
    ModelGraph graph_;
    int layer_ = -1;
    int bits_ = 32;
};

}  // namespace transcode
