// The numeric executor: runs a ModelGraph (forward, backward and update phases) on real data, in
// float32, with Eigen. See README.md in this folder for the semantics of every op kind.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transcode/graph.hpp"

namespace transcode::engine {

/// Runs a ModelGraph numerically in float32 (integer tensors — ids, labels — as int32).
///
/// Every op overwrites its outputs completely (the derived backward pass accumulates gradients with
/// explicit `add` ops), so a graph can be run again and again without clearing anything.
/// Deterministic: the results depend on the graph, the data and the seed only, never on the thread
/// count (large products are cut into pieces that depend only on the shapes; see README.md).
class Executor {
public:
    /// Allocates every tensor, zero-filled, except the gradient seeds (inputs of role
    /// activation_gradient, e.g. `loss.grad`), which are filled with 1. Checks the graph
    /// (check_graph); `g` must outlive the executor.
    explicit Executor(const ModelGraph& g);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    /// BERT-style seeded initialisation of every weight-role tensor that no op writes: matrices and
    /// embedding tables (rank >= 2) ~ N(0, 0.02); layer-norm gammas (weights used as input 1 of a
    /// layer_norm op) = 1; other 1-D weights (betas, biases) = 0. Optimizer state = 0. Each tensor
    /// draws from its own stream, derived from the seed and the tensor's name, so a weight gets the
    /// same values in a forward graph and in the training graph derived from it.
    void init_weights(std::uint64_t seed);

    /// The data of a float tensor (throws InternalError for an integer one).
    std::vector<float>& values(TensorId t);
    const std::vector<float>& values(TensorId t) const;
    /// The data of an integer tensor (throws InternalError for a float one).
    std::vector<std::int32_t>& ids(TensorId t);
    const std::vector<std::int32_t>& ids(TensorId t) const;

    /// Called after each op executes, with the op's index; the training code prunes outputs here.
    using Hook = std::function<void(std::size_t op_index)>;
    /// Executes ops [first, last) in graph order (graph order is a valid dependency order).
    /// Throws ConfigError for data an op cannot take (an id outside its embedding table, a label
    /// outside the classes), naming the op and the position.
    void run(std::size_t first, std::size_t last, const Hook& after_op = {});
    /// Runs everything.
    void run_all(const Hook& after_op = {});

    /// After an update phase: copies each optimizer_update's outputs (weight', m', v') back into its
    /// inputs (weight, m, v), so the same graph runs the next step; increments the AdamW step count.
    void commit_update();
    /// AdamW bias correction uses this step count (starts at 1), and dropout masks change with it.
    void set_step(std::int64_t t);
    std::int64_t step() const { return step_; }

    /// Training (the default) or evaluation: `dropout` ops draw their mask, from (seed attribute,
    /// step(), element index), only when training; when evaluating (validation, inference) they
    /// are the identity. Nothing else depends on it.
    void set_training(bool training) { training_ = training; }
    bool training() const { return training_; }

    /// The run's seed r, mixed into every dropout mask (graph.hpp: the op's seed becomes
    /// seed ^ r·0x9FB21C651E98DF25), so that runs with different seeds draw different masks.
    /// Default 0: the op's seed alone.
    void set_dropout_seed(std::uint64_t r) { dropout_seed_ = r; }

    /// Overrides the `lr` attribute of every optimizer_update op (for learning-rate schedules);
    /// a negative value restores the attributes.
    void set_learning_rate(double lr) { lr_override_ = lr; }

    /// Threads for large products and row-wise kernels (default: the hardware concurrency).
    /// Never changes results.
    /// The threads live in one pool, made here and reused by every op until the next call.
    void set_threads(unsigned n);
    unsigned threads() const;
    /// The thread pool, opaque here (executor.cpp): a TBB arena of threads() slots.
    struct Pool;

    const ModelGraph& graph() const { return g_; }
    /// The id of the tensor named `name`, or -1.
    TensorId find(const std::string& name) const;

private:
    const ModelGraph& g_;
    std::vector<std::vector<float>> floats_;        // by tensor id; empty for integer tensors
    std::vector<std::vector<std::int32_t>> ints_;   // by tensor id; empty for float tensors
    std::map<std::pair<int, std::int64_t>, std::vector<float>> transforms_;  // (variant, length) -> T, row-major [length, length]
    std::int64_t step_ = 1;
    double lr_override_ = -1.0;
    bool training_ = true;
    std::uint64_t dropout_seed_ = 0;
    std::unique_ptr<Pool> pool_;

    void run_op(const OpDesc& op);
    float* out(const OpDesc& op, std::size_t i);
    const float* in(const OpDesc& op, std::size_t i) const;
    const std::int32_t* in_ids(const OpDesc& op, std::size_t i) const;
    const Shape& shape(TensorId t) const { return g_.tensors[static_cast<std::size_t>(t)].shape; }

    void matmul(const OpDesc& op);
    void seq_transform(const OpDesc& op);
    /// Per sequence, the real tokens of `op`'s padding mask (integer [batch, S]: 1s, then 0s;
    /// anything else is a ConfigError naming the op and row); empty when the op has no mask.
    std::vector<std::int64_t> sequence_lengths(const OpDesc& op) const;
    /// The seq_transform matrix of `variant` and `length`, made on first use (not thread-safe).
    const std::vector<float>& transform(int variant, std::int64_t length);
    void optimizer_update(const OpDesc& op);
};

}  // namespace transcode::engine
