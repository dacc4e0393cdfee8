// Training with run-time pruning: the numeric executor runs a model's training step batch by batch
// on a Dataset, the pruning strategy zeroes activations and gradients as it goes, and the
// sparsity it leaves is measured per tensor and per role.
//
// Where pruning applies (DynaProp's published points): in the forward pass, the outputs of every
// matmul (Q, K, V, attention scores, context, dense layers), softmax (attention probabilities) and
// bias add (dense-layer outputs); in the backward pass, every activation gradient and weight
// gradient, before the optimizer step. The strategy decides per role and mode (prunes()).
//
// Model inputs are filled by name: `input_ids` [B, S] and `labels` [B] (required), and when
// present `segment_ids` (the example's segments, or zeros), `position_ids` (0..S-1) and
// `attention_mask` (1 for the example's `length` real tokens, then 0). Accuracy is the argmax of the logits (the
// first input of the cross_entropy op) against the labels.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/training_graph.hpp"
#include "training/dataset.hpp"
#include "transcode/graph.hpp"
#include "transcode/pruning.hpp"

namespace transcode::engine {

struct TrainingSettings {
    std::int64_t epochs = 3;
    std::int64_t max_steps_per_epoch = 0;  ///< 0: every whole batch of the training split
    enum class Schedule { constant, linear } schedule = Schedule::linear;
    double warmup_fraction = 0.1;  ///< linear schedule: warm up over this fraction of all steps, then decay to 0
    std::uint64_t seed = 0;        ///< weights and shuffling
    unsigned threads = 0;          ///< the executor's threads (0: the hardware concurrency); never changes results
};

struct EpochReport {
    std::int64_t epoch = 0;
    double train_loss = 0, train_accuracy = 0;
    double validation_loss = 0, validation_accuracy = 0;
    double seconds = 0;
};

struct RoleCount {
    std::int64_t zeros = 0;
    std::int64_t elements = 0;
    double sparsity() const { return elements > 0 ? static_cast<double>(zeros) / static_cast<double>(elements) : 0.0; }
};

struct TrainingReport {
    std::vector<EpochReport> epochs;
    std::vector<double> step_losses;
    /// Per role, over the training steps of the last epoch (pruned points only for activations;
    /// every gradient).
    std::map<TensorRole, RoleCount> sparsity;
    /// Per tensor of the training graph, fraction of zeros averaged over the last epoch's steps
    /// (0 for tensors that were not measured): what the simulator takes.
    std::vector<double> tensor_sparsity;
    std::int64_t steps = 0;
    std::int64_t validation_examples = 0;
};

/// Progress callback: (epoch, step in epoch, steps per epoch, running loss, running accuracy).
using TrainingProgress = std::function<void(std::int64_t, std::int64_t, std::int64_t, double, double)>;

/// Trains `step` (a training graph from make_training_graph; its batch and sequence length are the
/// model's) on `data`. Throws ConfigError when the data does not fit the model (vocabulary,
/// classes, inputs) and Error when the loss becomes NaN or infinite (naming the step).
TrainingReport train(ModelGraph step, const Dataset& data, const PruningStrategy& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress = {});

/// True for a forward op whose output is one of DynaProp's published pruning points.
bool is_pruning_point(const ModelGraph& g, const OpDesc& op);

}  // namespace transcode::engine
