#include "gaussian_process.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <Eigen/Cholesky>

#include "transcode/errors.hpp"

namespace transcode::plugins::accuracy {

namespace {

constexpr double pi = 3.14159265358979323846;
// The prior mean's intercept (and slope, with a trend column) has prior variance 1 in
// standardised target units: about the spread of the table's accuracies.
constexpr double mean_prior_variance = 1.0;

// Bounds on the log hyper-parameters, so no start runs off to a degenerate fit.
constexpr double log_length_lo = -3.0, log_length_hi = 7.0;        // 0.05 .. 1100
constexpr double log_signal_lo = -9.2, log_signal_hi = 4.6;        // 1e-4 .. 100
constexpr double log_noise_lo = -13.8, log_noise_hi = 2.3;         // 1e-6 .. 10
// Weak log-normal priors (mean, standard deviation of the log): length scales about sqrt(active
// features) (where one feature moving by one standard deviation changes the kernel a little),
// signal variance about the targets' variance, noise variance about a tenth of it.
constexpr double prior_sd = 1.5;
constexpr double log_signal_prior = 0.0;
constexpr double log_noise_prior = -2.302585092994046;  // ln 0.1

constexpr int adam_steps = 300;
constexpr double adam_rate = 0.05;

double population_std(const Eigen::VectorXd& v) {
    const double mean = v.mean();
    return std::sqrt((v.array() - mean).square().mean());
}

}  // namespace

void GaussianProcess::standardise_features(const Eigen::MatrixXd& x) {
    const auto f = x.cols();
    x_mean_ = x.colwise().mean();
    x_scale_ = Eigen::RowVectorXd::Zero(f);
    for (Eigen::Index j = 0; j < f; ++j) {
        const double sd = population_std(x.col(j));
        x_scale_(j) = sd > 1e-12 ? 1.0 / sd : 0.0;
    }
}

void GaussianProcess::standardise_targets(const Eigen::VectorXd& y) {
    y_mean_ = y.mean();
    const double sd = population_std(y);
    y_scale_ = sd > 1e-12 ? sd : 1.0;
    t_ = (y.array() - y_mean_) / y_scale_;
}

Eigen::RowVectorXd GaussianProcess::standardise(const Eigen::RowVectorXd& x) const { return (x - x_mean_).array() * x_scale_.array(); }

namespace {

// Everything the objective needs that does not depend on the hyper-parameters.
struct Problem {
    const Eigen::MatrixXd& z;
    const Eigen::VectorXd& t;
    std::vector<Eigen::Index> active;      ///< non-constant feature columns
    std::vector<Eigen::MatrixXd> sq_diff;  ///< per active column, (z_id - z_jd)^2
    Eigen::MatrixXd mean_kernel;           ///< the prior mean's covariance: v (1 + z_t z_t')
    bool ard = true;
};

// theta = [log length scale(s), log signal variance, log noise variance].
struct Evaluation {
    double value = -std::numeric_limits<double>::infinity();  ///< log marginal likelihood + log prior
    double lml = 0;
    Eigen::VectorXd gradient;
};

Evaluation evaluate(const Problem& p, const Eigen::VectorXd& theta) {
    const auto n = p.z.rows();
    const auto lengths = static_cast<Eigen::Index>(p.ard ? p.active.size() : 1);
    const double signal = std::exp(theta(lengths)), noise = std::exp(theta(lengths + 1));
    Eigen::MatrixXd exponent = Eigen::MatrixXd::Zero(n, n);
    for (std::size_t d = 0; d < p.active.size(); ++d) {
        const double l = std::exp(theta(p.ard ? static_cast<Eigen::Index>(d) : 0));
        exponent += p.sq_diff[d] / (l * l);
    }
    const Eigen::MatrixXd rbf = (-0.5 * exponent.array()).exp().matrix();
    Eigen::MatrixXd k = signal * rbf + p.mean_kernel;
    k.diagonal().array() += noise;
    const Eigen::LLT<Eigen::MatrixXd> llt(k);
    Evaluation e;
    if (llt.info() != Eigen::Success) return e;
    const Eigen::VectorXd alpha = llt.solve(p.t);
    const Eigen::MatrixXd l = llt.matrixL();
    e.lml = -0.5 * p.t.dot(alpha) - l.diagonal().array().log().sum() - 0.5 * static_cast<double>(n) * std::log(2 * pi);
    const Eigen::MatrixXd w = alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));

    e.gradient = Eigen::VectorXd::Zero(theta.size());
    const Eigen::MatrixXd wr = w.cwiseProduct(rbf);
    for (std::size_t d = 0; d < p.active.size(); ++d) {
        const Eigen::Index i = p.ard ? static_cast<Eigen::Index>(d) : 0;
        const double l = std::exp(theta(i));
        e.gradient(i) += 0.5 * signal * wr.cwiseProduct(p.sq_diff[d]).sum() / (l * l);
    }
    e.gradient(lengths) = 0.5 * signal * wr.sum();
    e.gradient(lengths + 1) = 0.5 * noise * w.trace();

    // Weak log-normal priors.
    const double log_length_prior = 0.5 * std::log(std::max<double>(1.0, static_cast<double>(p.active.size())));
    double log_prior = 0;
    auto prior = [&](Eigen::Index i, double centre) {
        const double u = (theta(i) - centre) / prior_sd;
        log_prior -= 0.5 * u * u;
        e.gradient(i) -= u / prior_sd;
    };
    for (Eigen::Index i = 0; i < lengths; ++i) prior(i, log_length_prior);
    prior(lengths, log_signal_prior);
    prior(lengths + 1, log_noise_prior);
    e.value = e.lml + log_prior;
    return e;
}

void clamp_theta(Eigen::VectorXd& theta, Eigen::Index lengths) {
    for (Eigen::Index i = 0; i < lengths; ++i) theta(i) = std::clamp(theta(i), log_length_lo, log_length_hi);
    theta(lengths) = std::clamp(theta(lengths), log_signal_lo, log_signal_hi);
    theta(lengths + 1) = std::clamp(theta(lengths + 1), log_noise_lo, log_noise_hi);
}

// Adam ascent from one start; returns the best point it visited.
Eigen::VectorXd ascend(const Problem& p, Eigen::VectorXd theta, double& best_value) {
    const auto lengths = theta.size() - 2;
    Eigen::VectorXd m = Eigen::VectorXd::Zero(theta.size()), v = Eigen::VectorXd::Zero(theta.size());
    Eigen::VectorXd best = theta;
    best_value = -std::numeric_limits<double>::infinity();
    for (int step = 1; step <= adam_steps; ++step) {
        const Evaluation e = evaluate(p, theta);
        if (!std::isfinite(e.value)) break;
        if (e.value > best_value) {
            best_value = e.value;
            best = theta;
        }
        m = 0.9 * m + 0.1 * e.gradient;
        v = 0.999 * v + 0.001 * e.gradient.cwiseProduct(e.gradient);
        const Eigen::VectorXd m_hat = m / (1 - std::pow(0.9, step));
        const Eigen::VectorXd v_hat = v / (1 - std::pow(0.999, step));
        theta += adam_rate * (m_hat.array() / (v_hat.array().sqrt() + 1e-8)).matrix();
        clamp_theta(theta, lengths);
    }
    return best;
}

}  // namespace

GaussianProcess::GaussianProcess(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const GpOptions& options) : options_(options) {
    if (x.rows() < 2 || x.rows() != y.size()) throw InternalError("GaussianProcess: needs at least 2 rows and one target per row");
    standardise_features(x);
    z_ = (x.rowwise() - x_mean_).array().rowwise() * x_scale_.array();
    standardise_targets(y);

    const auto n = z_.rows();
    Problem p{z_, t_, {}, {}, {}, options.ard};
    for (Eigen::Index j = 0; j < z_.cols(); ++j)
        if (x_scale_(j) > 0) {
            p.active.push_back(j);
            p.sq_diff.emplace_back((z_.col(j).replicate(1, n) - z_.col(j).transpose().replicate(n, 1)).array().square().matrix());
        }
    p.mean_kernel = Eigen::MatrixXd::Constant(n, n, mean_prior_variance);
    if (options.trend_column < static_cast<std::size_t>(z_.cols())) {
        const Eigen::VectorXd zt = z_.col(static_cast<Eigen::Index>(options.trend_column));
        p.mean_kernel += mean_prior_variance * zt * zt.transpose();
    }

    // Three deterministic starts around the priors' centres; the best end point wins.
    const auto lengths = static_cast<Eigen::Index>(options.ard ? p.active.size() : 1);
    const double centre = 0.5 * std::log(std::max<double>(1.0, static_cast<double>(p.active.size())));
    const std::array<std::array<double, 3>, 3> starts{{{centre, 0.0, std::log(0.1)}, {centre + 0.7, 0.0, std::log(0.5)}, {centre - 0.7, 0.0, std::log(0.02)}}};
    double best_value = -std::numeric_limits<double>::infinity();
    Eigen::VectorXd best;
    for (const auto& s : starts) {
        Eigen::VectorXd theta(lengths + 2);
        theta.head(lengths).setConstant(s[0]);
        theta(lengths) = s[1];
        theta(lengths + 1) = s[2];
        double value = 0;
        const Eigen::VectorXd end = p.active.empty() ? theta : ascend(p, theta, value);
        if (p.active.empty()) value = evaluate(p, theta).value;
        if (best.size() == 0 || value > best_value) {
            best_value = value;
            best = end;
        }
    }
    hyper_.length_scales.assign(static_cast<std::size_t>(z_.cols()), 0.0);
    for (std::size_t d = 0; d < p.active.size(); ++d)
        hyper_.length_scales[static_cast<std::size_t>(p.active[d])] = std::exp(best(options.ard ? static_cast<Eigen::Index>(d) : 0));
    hyper_.signal_variance = std::exp(best(lengths));
    hyper_.noise_variance = std::exp(best(lengths + 1));
    factorise();
}

GaussianProcess::GaussianProcess(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, const GaussianProcess& like)
    : options_(like.options_), x_mean_(like.x_mean_), x_scale_(like.x_scale_), hyper_(like.hyper_) {
    if (x.rows() < 1 || x.rows() != y.size()) throw InternalError("GaussianProcess: needs at least 1 row and one target per row");
    z_ = (x.rowwise() - x_mean_).array().rowwise() * x_scale_.array();
    standardise_targets(y);
    factorise();
}

void GaussianProcess::factorise() {
    const auto n = z_.rows();
    Eigen::MatrixXd k(n, n);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j <= i; ++j) {
            double exponent = 0;
            for (Eigen::Index d = 0; d < z_.cols(); ++d) {
                const double l = hyper_.length_scales[static_cast<std::size_t>(d)];
                if (l <= 0) continue;
                const double diff = (z_(i, d) - z_(j, d)) / l;
                exponent += diff * diff;
            }
            double v = hyper_.signal_variance * std::exp(-0.5 * exponent) + mean_prior_variance;
            if (options_.trend_column < static_cast<std::size_t>(z_.cols())) {
                const auto c = static_cast<Eigen::Index>(options_.trend_column);
                v += mean_prior_variance * z_(i, c) * z_(j, c);
            }
            k(i, j) = k(j, i) = v;
        }
    k.diagonal().array() += hyper_.noise_variance;
    const Eigen::LLT<Eigen::MatrixXd> llt(k);
    if (llt.info() != Eigen::Success) throw InternalError("GaussianProcess: the kernel matrix is not positive definite");
    chol_ = llt.matrixL();
    alpha_ = llt.solve(t_);
    lml_ = -0.5 * t_.dot(alpha_) - chol_.diagonal().array().log().sum() - 0.5 * static_cast<double>(n) * std::log(2 * pi);
}

GpPrediction GaussianProcess::predict(const Eigen::RowVectorXd& x) const {
    const Eigen::RowVectorXd z = standardise(x);
    const auto n = z_.rows();
    const bool trend = options_.trend_column < static_cast<std::size_t>(z_.cols());
    const auto c = static_cast<Eigen::Index>(trend ? options_.trend_column : 0);
    Eigen::VectorXd k(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        double exponent = 0;
        for (Eigen::Index d = 0; d < z_.cols(); ++d) {
            const double l = hyper_.length_scales[static_cast<std::size_t>(d)];
            if (l <= 0) continue;
            const double diff = (z(d) - z_(i, d)) / l;
            exponent += diff * diff;
        }
        k(i) = hyper_.signal_variance * std::exp(-0.5 * exponent) + mean_prior_variance * (1 + (trend ? z(c) * z_(i, c) : 0.0));
    }
    const double prior = hyper_.signal_variance + mean_prior_variance * (1 + (trend ? z(c) * z(c) : 0.0));
    const Eigen::VectorXd v = chol_.triangularView<Eigen::Lower>().solve(k);
    const double latent = std::max(0.0, prior - v.squaredNorm());
    return GpPrediction{y_mean_ + y_scale_ * k.dot(alpha_), y_scale_ * std::sqrt(latent + hyper_.noise_variance)};
}

}  // namespace transcode::plugins::accuracy
