// The `accuracy` plugin kind: estimates the accuracy of a candidate model on the experiment's task.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "transcode/plugin.hpp"
#include "transcode/value.hpp"

namespace transcode {

/// An accuracy estimate and where it came from, e.g. "trained: 3 epochs, synthetic sentiment" or
/// "surrogate: configs/accuracy/flexibert-sentiment.csv (24 rows)". The source is stored with
/// every evaluation.
struct AccuracyEstimate {
    double accuracy = 0.0;  ///< fraction in [0, 1]
    std::string source;
    double stddev = 0;          ///< predictive standard deviation of `accuracy` (fraction); 0 = exact or unknown
    bool extrapolated = false;  ///< the model lies outside what the estimator has data for
    std::map<std::string, double> sparsity;  ///< per role (activation, activation_gradient, weight_gradient), fraction; empty = none
};

/// What the engine measured by training a model, and the budget it spent doing so.
struct TrainingOutcome {
    double validation_accuracy = 0;  ///< fraction in [0, 1]
    std::string task;                ///< a description of the data it trained on
    // The budget actually used (not the one asked for: a split shorter than max_steps_per_epoch
    // batches gives fewer steps).
    std::int64_t steps = 0;            ///< optimizer steps, all epochs
    std::int64_t examples = 0;         ///< real training examples seen, all epochs (padding rows excluded)
    std::int64_t sequence_length = 0;  ///< tokens per example (the model's)
    std::int64_t batch_size = 0;       ///< examples per step (the model's)
    std::int64_t epochs = 0;           ///< epochs trained
    std::int64_t validation_examples = 0;  ///< examples the accuracy was measured on
    double seconds = 0;                ///< wall time of the training and validation
    /// Fraction of zeros per tensor role over the last epoch's training steps, pooled (zeros /
    /// values) over the points the pruning strategy may prune: `activation` (dense,
    /// attention_scores, attention_probabilities), `activation_gradient`, `weight_gradient`. The
    /// logits and their gradient, which are never pruned, are left out. Zeros that were there
    /// before pruning (dropout, masked attention) count. Empty when nothing was measured.
    std::map<std::string, double> sparsity;
};

/// A service the engine offers to accuracy plugins: trains a model of the experiment's family, with
/// the experiment's data, optimizer and pruning, for `epochs` passes, seeded by `seed`. Safe to
/// call from several threads at once. Throws ConfigError for a model the family refuses.
class ModelTrainer {
public:
    virtual ~ModelTrainer() = default;
    virtual TrainingOutcome train(const Value& model_params, std::int64_t epochs, std::uint64_t seed) const = 0;
};

/// One request: the candidate model's parameters (as the family plugin validates them, e.g.
/// FlexiBERT's layers/hidden/heads/ff), its family, and a seed derived from the candidate.
struct AccuracyRequest {
    const Value& model_params;
    const std::string& family;
    std::uint64_t seed = 0;
    const ModelTrainer* trainer = nullptr;  ///< the engine's trainer (never null)
};

class BOOST_SYMBOL_VISIBLE AccuracyEstimator : public PluginObject {
public:
    /// Must be safe to call from several threads at once, and give the same answer for the same
    /// request whatever else runs. Throws ConfigError when the model cannot be estimated (the
    /// engine stores the candidate as infeasible with that reason).
    virtual AccuracyEstimate estimate(const AccuracyRequest& request) const = 0;
};

}  // namespace transcode
