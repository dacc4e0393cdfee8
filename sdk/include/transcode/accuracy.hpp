// The `accuracy` plugin kind: estimates the accuracy of a model configuration.
#pragma once

#include <string>

#include "transcode/plugin.hpp"
#include "transcode/value.hpp"

namespace transcode {

/// An accuracy estimate and where it came from ("trained", "surrogate:file.csv", ...).
struct AccuracyEstimate {
    double accuracy = 0.0;  ///< fraction in [0, 1]
    std::string source;
};

/// First form: maps a model configuration (as validated config values) to an accuracy estimate.
class BOOST_SYMBOL_VISIBLE AccuracyEstimator : public PluginObject {
public:
    virtual AccuracyEstimate estimate(const Value& model_config) = 0;
};

}  // namespace transcode
