// accuracy.surrogate: accuracy (and optionally per-role sparsity) predicted from architecture
// features by Gaussian-process regression on measurements in a CSV file.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "features.hpp"
#include "gaussian_process.hpp"
#include "transcode/accuracy.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::accuracy {

/// The rows of the CSV: features, accuracy, the line each row starts on, and the optional
/// sparsity columns (role -> one entry per row, empty where the field is empty).
struct Table {
    std::string path;
    std::vector<Features> x;
    std::vector<double> y;
    std::vector<std::size_t> lines;
    std::map<std::string, std::vector<std::optional<double>>> sparsity;
};

/// Where the table's models lie, feature by feature: a candidate is compared with these.
struct FeatureRange {
    double lo = 0, hi = 0;
    double stddev = 0;  ///< over the rows; 0 = the table holds the feature constant
};

/// Fits a Gaussian process to the CSV at params `csv` when created; every problem with the file is
/// a ConfigError (path `csv`) then, never during a search.
class Surrogate final : public AccuracyEstimator {
public:
    explicit Surrogate(const Params& params);

    AccuracyEstimate estimate(const AccuracyRequest& request) const override;
    HeldOutReport held_out(std::size_t folds, std::uint64_t seed) const override;
    void check_models(const std::vector<Value>& sample) const override;

private:
    /// How far `f` lies outside the table: the feature farthest out and its distance in table
    /// standard deviations (infinite for a feature the table holds constant); none when inside.
    struct Outside {
        std::size_t feature = 0;
        double distance = 0;  ///< 0 = inside every range
        double value = 0;
    };
    Outside outside(const Features& f) const;
    std::string describe_outside(const Outside& o) const;

    Table table_;
    GpOptions options_;
    std::optional<GaussianProcess> accuracy_;
    std::map<std::string, GaussianProcess> sparsity_;
    std::array<FeatureRange, feature_count> ranges_{};
    bool refuse_ = false;
    double threshold_ = 0.5;
    std::string file_name_;
    std::string source_;
};

/// The factory of accuracy.surrogate: kind, name, doc, parameter schema and create function.
Factory surrogate_factory();

}  // namespace transcode::plugins::accuracy
