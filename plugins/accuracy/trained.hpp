// accuracy.trained: the accuracy the engine measures by training the candidate for a few epochs.
#pragma once

#include <cstdint>

#include "transcode/accuracy.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::accuracy {

/// Hands the candidate to the engine's ModelTrainer for `epochs` passes with the request's seed and
/// returns the validation accuracy it measured. Holds no state besides the epoch count, so
/// concurrent estimates are as safe as the trainer (which the SDK requires to be thread-safe).
class Trained final : public AccuracyEstimator {
public:
    explicit Trained(const Params& params);

    AccuracyEstimate estimate(const AccuracyRequest& request) const override;

private:
    std::int64_t epochs_;
};

/// The factory of accuracy.trained: kind, name, doc, parameter schema and create function.
Factory trained_factory();

}  // namespace transcode::plugins::accuracy
