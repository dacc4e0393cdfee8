// Training with run-time pruning: the numeric executor runs a model's training step batch by batch
// on a Dataset, the pruning strategy zeroes activations and gradients as it goes, and the
// sparsity it leaves is measured per tensor and per role.
//
// Where pruning applies (DynaProp's published points), classified from the graph's structure by
// pruning_points(): in the forward pass, the outputs of every matmul (Q, K, V, attention scores,
// context, dense layers), softmax (attention probabilities) and bias add (dense-layer outputs),
// except the logits; in the backward pass, every activation gradient and weight gradient except
// the logits' gradient, before the optimizer step. Each pruned tensor reaches the strategy with its
// PruningPoint; the strategy decides per role, point and mode.
//
// Model inputs are filled by name: `input_ids` [B, S] and `labels` [B] (required), `segment_ids`
// (zeros) and `position_ids` (0..S-1) when present. Accuracy is the argmax of the logits (the
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
    /// Per role, over the training steps of the last epoch, counted at the pruning points (the
    /// logits and their gradient included, which are never pruned).
    std::map<TensorRole, RoleCount> sparsity;
    /// The same per pruning point.
    std::map<PruningPoint, RoleCount> point_sparsity;
    /// Per role and per point over the last epoch's validation batches, forward only, pruned with
    /// the inference thresholds (RunMode::inference).
    std::map<TensorRole, RoleCount> inference_sparsity;
    std::map<PruningPoint, RoleCount> inference_point_sparsity;
    /// Per tensor of the training graph (forward tensors only are set), fraction of zeros averaged
    /// over those validation batches: what the simulator takes for an inference pass.
    std::vector<double> inference_tensor_sparsity;
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

/// Per tensor of `g` (a forward or a training graph), the pruning point the engine classifies it
/// as, from the graph's structure only (op kinds and who consumes what, never names):
/// - attention_probabilities: a softmax output;
/// - logits: the input of a cross_entropy; also a matmul output whose bias add gives the logits;
/// - attention_scores: a matmul or bias-add output that feeds a softmax, or a matmul output whose
///   bias add does;
/// - dense: every other matmul or bias-add output (a bias add adds a 1-D weight);
/// - activation_gradient / weight_gradient: outputs of backward ops, by role; the output of
///   cross_entropy_backward is logits_gradient;
/// - unspecified: every other tensor (inputs, the loss, weights, optimizer state, integer tensors,
///   layer-norm, GELU and other outputs), which the trainer measures but never prunes.
std::vector<PruningPoint> pruning_points(const ModelGraph& g);

/// True for a forward op whose output the engine prunes: a pruning point other than the logits.
bool is_pruning_point(const ModelGraph& g, const OpDesc& op);

}  // namespace transcode::engine
