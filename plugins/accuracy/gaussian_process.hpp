// Gaussian-process regression with an RBF kernel (one length scale per feature, or one for all)
// on standardised features, a constant or linear Bayesian prior mean, and Gaussian noise; its
// hyper-parameters maximise the log marginal likelihood plus weak log-normal priors (README.md,
// "The predictor").
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

#include <Eigen/Core>

namespace transcode::plugins::accuracy {

struct GpOptions {
    bool ard = true;  ///< one length scale per feature (else one for all)
    /// The column whose standardised value enters the prior mean linearly (a Bayesian slope of
    /// prior variance 1 in standardised units); none = a constant prior mean only.
    std::size_t trend_column = std::numeric_limits<std::size_t>::max();
};

/// Hyper-parameters in standardised units: features and targets have mean 0 and standard
/// deviation 1 over the training rows.
struct GpHyper {
    std::vector<double> length_scales;  ///< per feature (0 for a feature constant over the rows)
    double signal_variance = 1;
    double noise_variance = 0.1;
};

struct GpPrediction {
    double mean = 0;    ///< in target units
    double stddev = 0;  ///< of a new measurement (latent function and noise), in target units
};

/// Immutable once fitted, so predict() is safe from any number of threads.
class GaussianProcess {
public:
    /// Fits rows `x` (N x F) to targets `y` (N >= 2): standardises both, then chooses the
    /// hyper-parameters (deterministically).
    GaussianProcess(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const GpOptions& options);

    /// Fits with the standardisation of `x`'s columns and the hyper-parameters of `like` (the same
    /// kernel); only the targets' standardisation is refitted. For a second target of the same
    /// rows (or a subset of them).
    GaussianProcess(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const GaussianProcess& like);

    GpPrediction predict(const Eigen::RowVectorXd& x) const;

    const GpHyper& hyper() const { return hyper_; }
    /// The log marginal likelihood of the training targets (standardised) at the chosen hyper-parameters.
    double log_marginal_likelihood() const { return lml_; }
    /// The prior standard deviation of a measurement far from every row, in target units.
    double target_scale() const { return y_scale_; }
    std::size_t rows() const { return static_cast<std::size_t>(z_.rows()); }

private:
    void standardise_features(const Eigen::MatrixXd& x);
    void standardise_targets(const Eigen::VectorXd& y);
    void factorise();  // K, its Cholesky factor, alpha and lml_ at hyper_
    Eigen::RowVectorXd standardise(const Eigen::RowVectorXd& x) const;

    GpOptions options_;
    Eigen::RowVectorXd x_mean_, x_scale_;  ///< z = (x - mean) * scale; scale 0 drops a constant column
    Eigen::MatrixXd z_;                    ///< N x F standardised rows
    Eigen::VectorXd t_;                    ///< standardised targets
    double y_mean_ = 0, y_scale_ = 1;
    GpHyper hyper_;
    Eigen::MatrixXd chol_;                 ///< lower Cholesky factor of K + noise I
    Eigen::VectorXd alpha_;                ///< (K + noise I)^-1 t
    double lml_ = 0;
};

}  // namespace transcode::plugins::accuracy
