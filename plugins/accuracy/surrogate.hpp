// accuracy.surrogate: accuracy predicted from architecture features, fitted to measured accuracies
// in a CSV file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "features.hpp"
#include "transcode/accuracy.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::accuracy {

/// Kernel ridge regression with an RBF kernel and an unpenalised bias (the least-squares SVM
/// form), on standardised features and standardised targets. Immutable once fitted, so
/// predict() is safe from any number of threads.
class KernelRidge {
public:
    /// Fits rows `x` to targets `y` (same length, at least 2). `ridge` > 0 is the regulariser, in
    /// units of the kernel's amplitude (roughly noise variance / signal variance, since the targets
    /// are standardised). `length_scale` > 0 fixes the RBF length in standardised feature units;
    /// 0 takes the median distance between distinct training rows.
    KernelRidge(const std::vector<Features>& x, const std::vector<double>& y, double ridge, double length_scale);

    /// The prediction for `f`, clamped to [0, 1]; with `within_table`, to the lowest and highest
    /// target of the training rows.
    double predict(const Features& f, bool within_table = false) const;

    /// Mean absolute error of the leave-one-out predictions (clamped like predict()), computed
    /// exactly from one factorisation. The standardisation and the length scale are not refitted
    /// per fold: they look only at the features, never at the accuracies.
    double loo_mae() const { return loo_mae_; }
    double length_scale() const { return length_scale_; }
    std::size_t rows() const { return static_cast<std::size_t>(train_.rows()); }

private:
    // Row-major standardised features z = (x - mean) * scale; a feature constant over the training
    // rows gets scale 0, so it plays no part in any distance.
    Eigen::RowVectorXd standardise(const Features& f) const;

    Eigen::RowVectorXd mean_;
    Eigen::RowVectorXd scale_;
    Eigen::MatrixXd train_;  ///< N x F standardised training rows
    Eigen::VectorXd alpha_;  ///< kernel weights
    double bias_ = 0;        ///< in standardised target units
    double y_mean_ = 0;
    double y_scale_ = 1;
    double y_min_ = 0, y_max_ = 1;
    double length_scale_ = 1;
    double loo_mae_ = 0;
};

/// Fits a KernelRidge to the CSV at params `csv` when created; every problem with the file is a
/// ConfigError (path `csv`) then, never during a search.
class Surrogate final : public AccuracyEstimator {
public:
    explicit Surrogate(const Params& params);

    AccuracyEstimate estimate(const AccuracyRequest& request) const override;

private:
    KernelRidge model_;
    bool within_table_ = true;
    std::string source_;
};

/// The factory of accuracy.surrogate: kind, name, doc, parameter schema and create function.
Factory surrogate_factory();

}  // namespace transcode::plugins::accuracy
