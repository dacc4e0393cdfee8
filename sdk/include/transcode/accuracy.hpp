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

/// What the engine measured by training a model.
struct TrainingOutcome {
    double validation_accuracy = 0;  ///< fraction in [0, 1]
    std::string task;                ///< a description of the data it trained on
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
