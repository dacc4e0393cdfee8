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
// Model inputs are filled by name: `input_ids` [B, S] and `labels` [B] (required), and when
// present `segment_ids` (the example's segments, or zeros), `position_ids` (0..S-1) and
// `attention_mask` (1 for the example's `length` real tokens, then 0). Accuracy is the argmax of the logits (the
// first input of the cross_entropy op) against the labels.
//
// Every example is used: the last, partial batch of each split is filled up to the graph's batch
// size with copies of its first example labelled -1, which cross_entropy ignores (loss, gradient,
// accuracy and counts cover the real examples only). After the backward pass the weight gradients
// are clipped to a global L2 norm (`clip_grad_norm`), then the update ops run. A checkpoint can be
// written after every epoch and a run resumed from one (training/checkpoint.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "graph/training_graph.hpp"
#include "training/calibration.hpp"
#include "training/dataset.hpp"
#include "transcode/graph.hpp"
#include "transcode/pruning.hpp"

namespace transcode::engine {

struct TrainingSettings {
    std::int64_t epochs = 3;  ///< the total, counting the epochs of a checkpoint resumed from
    std::int64_t max_steps_per_epoch = 0;  ///< 0: every batch of the training split (the last one partial)
    enum class Schedule { constant, linear } schedule = Schedule::linear;
    double warmup_fraction = 0.1;  ///< linear schedule: warm up over this fraction of all steps, then decay to 0
    std::uint64_t seed = 0;        ///< weights and shuffling
    unsigned threads = 0;          ///< the executor's threads (0: the hardware concurrency); never changes results
    /// Global L2 norm limit on the weight gradients, applied after the backward pass and before the
    /// update: if the norm n > limit, every weight gradient is scaled by limit / n. 0: no clipping.
    double clip_grad_norm = 1.0;
    std::filesystem::path checkpoint_file;  ///< written after every epoch; empty: none
    std::filesystem::path resume_from;      ///< a checkpoint to continue from; empty: start afresh
};

/// Confusion counts of a binary task (positive class 1) and the scores taken from them; each
/// score is 0 when its denominator is 0.
struct BinaryCounts {
    std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;
    double precision() const { return tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0; }
    double recall() const { return tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0; }
    double f1() const { return tp > 0 ? 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn) : 0.0; }
};

struct RoleCount {
    std::int64_t zeros = 0;
    std::int64_t elements = 0;
    double sparsity() const { return elements > 0 ? static_cast<double>(zeros) / static_cast<double>(elements) : 0.0; }
};

struct EpochReport {
    std::int64_t epoch = 0;
    std::int64_t steps = 0;           ///< optimizer steps in this epoch
    std::int64_t train_examples = 0;  ///< real examples trained on (padding rows excluded)
    double train_loss = 0, train_accuracy = 0;  ///< means over the real examples
    double learning_rate = 0;  ///< of the epoch's last step (the first weight's, after the schedule)
    double grad_norm = 0;      ///< mean over the epoch's steps of the global gradient norm before clipping
    std::int64_t clipped_steps = 0;  ///< steps whose gradient norm exceeded clip_grad_norm
    std::int64_t validation_examples = 0;
    double validation_loss = 0, validation_accuracy = 0;
    double validation_precision = 0, validation_recall = 0, validation_f1 = 0;  ///< binary tasks only (else 0)
    double seconds = 0;
    /// Per pruning point (the logits and their gradient included), the zeros over this epoch's
    /// training steps and over its validation batches (inference thresholds): the drift of the
    /// sparsity from epoch to epoch.
    std::map<PruningPoint, RoleCount> point_sparsity;
    std::map<PruningPoint, RoleCount> validation_point_sparsity;
    /// Calibrated training: each calibrated point's threshold in effect at the end of the epoch.
    std::map<PruningPoint, double> thresholds;
};

/// Calibrated pruning for train(): the strategy is made from calibrated per-point thresholds
/// (training/calibration.hpp), calibrated before the first step and every `settings.every_steps`
/// steps.
struct CalibratedPruning {
    CalibrationSettings settings;
    CalibratedStrategy make;
};

/// One calibration a training run made.
struct CalibrationRecord {
    std::int64_t step = 0;   ///< optimizer steps taken before it (0: before training)
    std::int64_t epoch = 0;  ///< the epoch whose next step it preceded
    CalibrationReport report;
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
    std::vector<double> step_grad_norms;  ///< the global gradient norm of each step, before clipping
    std::int64_t steps = 0;
    std::int64_t validation_examples = 0;
    bool binary = false;  ///< two classes: precision, recall and F1 of class 1 are reported
    /// The final validation: the last epoch's, or for an evaluate-only run (a checkpoint that has
    /// already done `epochs`) a fresh pass over the checkpoint's weights.
    EpochReport validation;
    bool evaluated_only = false;
    std::int64_t resumed_from_epoch = 0;  ///< 0: not resumed
    /// Calibrated training: the calibrations this run made, in order (a resumed run lists only its
    /// own), and the thresholds in effect at the end (possibly restored from the checkpoint).
    std::vector<CalibrationRecord> calibrations;
    std::optional<CalibrationReport> calibration;
};

/// Progress callback: (epoch, step in epoch, steps per epoch, running loss, running accuracy).
using TrainingProgress = std::function<void(std::int64_t, std::int64_t, std::int64_t, double, double)>;

/// Trains `step` (a training graph from make_training_graph; its batch and sequence length are the
/// model's) on `data`. Throws ConfigError when the data does not fit the model (vocabulary,
/// classes, inputs) or a checkpoint does not fit the model or data, and Error when the loss or the
/// gradient norm becomes NaN or infinite (naming the step, and the last good checkpoint if any).
TrainingReport train(ModelGraph step, const Dataset& data, const PruningStrategy& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress = {});

/// The same with calibrated pruning. Before the first step, and before every step that follows a
/// positive multiple of `pruning.settings.every_steps` optimizer steps, the run calibrates: the
/// next `batches` batches of the epoch's shuffled order (from the next step's batch on, wrapping
/// round within the order; each with the dropout masks of the step that will train on it: step
/// number global + 1, + 2, ...) run forward and backward with the current weights and no update,
/// `rounds` times, and each targeted point's threshold becomes the exact quantile of the values
/// collected there (calibrate()). The first calibration's first round is unpruned (so it equals
/// calibrate() bit for bit); a recalibration's first round is pruned with the thresholds in effect.
/// Calibrating changes no weight, optimizer state, batch order or dropout mask of training, and
/// counts toward no measured sparsity. The thresholds in effect go into the checkpoint, so a
/// resumed run equals the uninterrupted one bit for bit; a checkpoint without thresholds for these
/// targets (an uncalibrated run, other targets) is calibrated afresh before the first resumed step.
TrainingReport train(ModelGraph step, const Dataset& data, const CalibratedPruning& pruning, const TrainingSettings& settings,
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
