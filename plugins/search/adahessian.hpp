// A second-order ascent for search.boshcode's acquisition: AdaHessian (Yao, Gholami, Shen,
// Mustafa, Keutzer and Mahoney, AAAI 2021), the optimiser the BOSHNAS/BOSHCODE authors use for
// GOBI. It is Adam with the squared gradient replaced by the squared Hutchinson estimate of the
// Hessian's diagonal, z * (H z) with z of random signs: each coordinate then moves by a fraction
// (the learning rate) of its own Newton step, whatever the scale of its curvature.
//
// The Hessian-vector product comes from a central difference of two gradients,
// H z ~ (g(x + h z) - g(x - h z)) / (2 h), rather than from a second backward pass; the mean of
// the same two gradients is the gradient at x to second order. So a step costs two gradient
// evaluations and no double differentiation of the networks.
//
// Each row of the point matrix is an independent problem (one ascent start); the rows share
// nothing but the random signs' generator. Header-only so that the tests can drive it on
// functions whose optimum is known.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "mlp.hpp"
#include "transcode/design_space.hpp"

namespace transcode::plugins::search {

/// The defaults are search.boshcode's (README.md there): AdaHessian's published beta1 of 0.9 suits
/// thousands of steps, but momentum's oscillation decays only like sqrt(beta1) per step, and GOBI
/// takes tens. On the tests' quadratic (curvatures 1 to 1000), 40 steps leave an error of 0.04
/// with beta1 0.9 and learning rate 0.2, and below 1e-6 with 0.5 and 0.3.
struct AdaHessianSettings {
    float learning_rate = 0.3f;  ///< the fraction of the diagonal Newton step taken per step
    float beta1 = 0.5f;          ///< decay of the gradient's moving average (Adam's beta1)
    float beta2 = 0.999f;        ///< decay of the squared curvature's moving average (Adam's beta2)
    float epsilon = 1e-4f;       ///< added to the curvature (AdaHessian's published default)
    float probe = 1e-3f;         ///< h of the central difference, in encoding units
    float max_move = 1.0f;       ///< the largest move of one coordinate in one step
};

class AdaHessianAscent {
public:
    explicit AdaHessianAscent(const AdaHessianSettings& settings) : s_(settings) {}

    /// One step uphill on every row of `x`. `gradient(points, out)` must set `out` to the gradient
    /// of the objective at each row of `points` (same shape). The generator draws the signs z.
    template <class Gradient>
    void step(Matrix& x, Gradient&& gradient, std::mt19937_64& rng) {
        if (m_.rows() != x.rows() || m_.cols() != x.cols()) {
            m_ = Matrix::Zero(x.rows(), x.cols());
            v_ = Matrix::Zero(x.rows(), x.cols());
            t_ = 0;
        }
        z_.resize(x.rows(), x.cols());
        for (Eigen::Index i = 0; i < z_.rows(); ++i)
            for (Eigen::Index j = 0; j < z_.cols(); ++j) z_(i, j) = draw_below(rng, 2) == 0 ? -1.0f : 1.0f;
        probe_ = x + s_.probe * z_;
        gradient(probe_, plus_);
        probe_ = x - s_.probe * z_;
        gradient(probe_, minus_);
        // g at x, and the diagonal estimate z * (H z); only its square enters the step.
        const Matrix g = 0.5f * (plus_ + minus_);
        const Matrix curvature = z_.cwiseProduct(plus_ - minus_) / (2.0f * s_.probe);
        m_ = s_.beta1 * m_ + (1.0f - s_.beta1) * g;
        v_ = s_.beta2 * v_ + (1.0f - s_.beta2) * curvature.cwiseAbs2();
        ++t_;
        const float c1 = 1.0f - std::pow(s_.beta1, static_cast<float>(t_));
        const float c2 = 1.0f - std::pow(s_.beta2, static_cast<float>(t_));
        const Matrix move = (s_.learning_rate * (m_ / c1).array() / ((v_ / c2).array().sqrt() + s_.epsilon)).matrix();
        x += move.cwiseMax(-s_.max_move).cwiseMin(s_.max_move);
    }

    /// Forget the moments (a new set of starts).
    void reset() { m_.resize(0, 0); }

private:
    AdaHessianSettings s_;
    Matrix m_, v_;  ///< the moving averages of the gradient and of the squared curvature
    long t_ = 0;
    Matrix z_, probe_, plus_, minus_;
};

}  // namespace transcode::plugins::search
