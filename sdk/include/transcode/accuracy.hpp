// The `accuracy` plugin kind: estimates the accuracy of a candidate model on the experiment's task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "transcode/errors.hpp"
#include "transcode/plugin.hpp"
#include "transcode/value.hpp"

namespace transcode {

/// An accuracy estimate and where it came from, e.g. "trained: 3 epochs, synthetic sentiment" or
/// "surrogate: configs/accuracy/flexibert-sentiment.csv (24 rows)". The source is stored with
/// every evaluation.
struct AccuracyEstimate {
    double accuracy = 0.0;  ///< fraction in [0, 1]
    std::string source;
    /// The predictive standard deviation of `accuracy` (a fraction); 0 = exact or unknown.
    double stddev = 0;
    /// The model lies outside the data the estimate was fitted on, by the estimator's own
    /// definition (stated in `source` and in the plugin's README).
    bool extrapolated = false;
    /// Measured or predicted sparsity (fraction in [0, 1]) per tensor role: keys `activation`,
    /// `activation_gradient`, `weight_gradient`; empty = none.
    std::map<std::string, double> sparsity;
};

/// Quality figures of one predictor on held-out rows: mean absolute error and root-mean-square
/// error (accuracy fractions) and Spearman's rank correlation between prediction and measurement.
struct HeldOutMetrics {
    double mae = 0;
    double rmse = 0;
    double spearman = 0;
};

/// A k-fold cross-validation of an estimator on its own data: every row predicted by a fit on the
/// other folds (hyper-parameters refitted per fold), against the constant predictor that answers
/// the training folds' mean accuracy.
struct HeldOutReport {
    std::size_t rows = 0;
    std::size_t folds = 0;
    std::uint64_t seed = 0;
    HeldOutMetrics model;
    HeldOutMetrics constant;
    /// Fractions of the held-out rows whose measurement lies within 1 and 2 predictive standard
    /// deviations of the prediction (a calibrated Gaussian gives about 0.68 and 0.95).
    double within_1_stddev = 0;
    double within_2_stddev = 0;
    std::string description;  ///< what was cross-validated, e.g. the file and the predictor
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

    /// Cross-validates the estimator on the data it was fitted on in `folds` folds, shuffled by
    /// `seed`. The default has nothing to cross-validate: it throws ConfigError with path
    /// `held_out` (the CLI names the plugin). Throws ConfigError for folds < 2 or fewer rows than
    /// folds.
    virtual HeldOutReport held_out(std::size_t folds, std::uint64_t seed) const {
        (void)folds;
        (void)seed;
        throw ConfigError("held_out", "has no held-out report: it fits nothing it could cross-validate");
    }

    /// Called at the start of a co-design with model parameters drawn from the design space (as
    /// the family validated them). Throws ConfigError when the sample asks for models the
    /// estimator cannot tell apart (e.g. it varies something the estimator's data holds constant).
    /// The default accepts everything.
    virtual void check_models(const std::vector<Value>& sample) const { (void)sample; }
};

}  // namespace transcode
