#include "mlp.hpp"

#include <cmath>
#include <type_traits>

#include "transcode/design_space.hpp"

namespace transcode::plugins::search {

namespace {

// x * w for the first layer. Sparse inputs walk their non-zeros: each adds a multiple of one
// (contiguous) row of w, so the cost follows the non-zeros, not the encoding's length.
template <class Input>
void first_layer(const Input& x, const Matrix& w, Matrix& out) {
    if constexpr (std::is_same_v<Input, SparseRows>) {
        out.setZero(x.rows(), w.cols());
        for (Eigen::Index i = 0; i < x.outerSize(); ++i)
            for (SparseRows::InnerIterator it(x, i); it; ++it) out.row(i) += it.value() * w.row(it.col());
    } else {
        out.noalias() = x * w;
    }
}

// x^T * delta, the gradient of the first layer's weights, into `grad` (inputs x width).
template <class Input>
void first_layer_gradient(const Input& x, const Matrix& delta, Matrix& grad) {
    if constexpr (std::is_same_v<Input, SparseRows>) {
        grad.setZero(x.cols(), delta.cols());
        for (Eigen::Index i = 0; i < x.outerSize(); ++i)
            for (SparseRows::InnerIterator it(x, i); it; ++it) grad.row(it.col()) += it.value() * delta.row(i);
    } else {
        grad.noalias() = x.transpose() * delta;
    }
}

}  // namespace

Mlp::Mlp(std::size_t inputs, std::size_t width, std::size_t layers, Activation activation, std::mt19937_64& rng)
    : activation_(activation) {
    std::size_t fan_in = inputs;
    for (std::size_t l = 0; l <= layers; ++l) {
        const std::size_t fan_out = l == layers ? 1 : width;
        // Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) keeps activations and
        // gradients of a tanh network at the same scale from layer to layer.
        const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
        Matrix w(static_cast<Eigen::Index>(fan_in), static_cast<Eigen::Index>(fan_out));
        for (Eigen::Index j = 0; j < w.cols(); ++j)
            for (Eigen::Index i = 0; i < w.rows(); ++i) w(i, j) = static_cast<float>((2.0 * draw_unit(rng) - 1.0) * a);
        weights_.push_back(std::move(w));
        biases_.push_back(Eigen::RowVectorXf::Zero(static_cast<Eigen::Index>(fan_out)));
        m_weights_.push_back(Matrix::Zero(weights_.back().rows(), weights_.back().cols()));
        v_weights_.push_back(m_weights_.back());
        m_biases_.push_back(biases_.back());
        v_biases_.push_back(biases_.back());
        fan_in = fan_out;
    }
}

template <class Input>
Eigen::VectorXf Mlp::forward(const Input& x, Trace& trace) const {
    const std::size_t hidden = weights_.size() - 1;
    trace.hidden.resize(hidden);
    if (hidden == 0) {
        Matrix out;
        first_layer(x, weights_.back(), out);
        out.array() += biases_.back()(0);
        return out.col(0);
    }
    for (std::size_t l = 0; l < hidden; ++l) {
        Matrix& h = trace.hidden[l];
        if (l == 0)
            first_layer(x, weights_[0], h);
        else
            h.noalias() = trace.hidden[l - 1] * weights_[l];
        h.rowwise() += biases_[l];
        if (activation_ == Activation::tanh)
            h = h.array().tanh();
        else
            h = h.array().max(0.0f);
    }
    Eigen::VectorXf out = trace.hidden.back() * weights_.back();
    out.array() += biases_.back()(0);
    return out;
}

void Mlp::activation_backward(Matrix& delta, const Matrix& post) const {
    if (activation_ == Activation::tanh)
        delta.array() *= 1.0f - post.array().square();
    else
        delta.array() *= (post.array() > 0.0f).cast<float>();
}

template <class Input>
void Mlp::train_step(const Input& x, const Trace& trace, const Eigen::VectorXf& grad_out, const AdamSettings& adam) {
    std::vector<Matrix>& grad_w = grad_weights_;
    std::vector<Eigen::RowVectorXf>& grad_b = grad_biases_;
    grad_w.resize(weights_.size());
    grad_b.resize(weights_.size());
    Matrix delta = grad_out;  // N x 1: dL/d(pre-activation) of the current layer
    for (std::size_t l = weights_.size(); l-- > 0;) {
        if (l == 0)
            first_layer_gradient(x, delta, grad_w[0]);
        else
            grad_w[l].noalias() = trace.hidden[l - 1].transpose() * delta;
        grad_b[l] = delta.colwise().sum();
        if (l == 0) break;
        Matrix below = delta * weights_[l].transpose();
        activation_backward(below, trace.hidden[l - 1]);
        delta = std::move(below);
    }

    ++steps_;
    const float correction1 = 1.0f - std::pow(adam.beta1, static_cast<float>(steps_));
    const float correction2 = 1.0f - std::pow(adam.beta2, static_cast<float>(steps_));
    const float step = adam.learning_rate * std::sqrt(correction2) / correction1;
    const auto update = [&](auto& param, auto& m, auto& v, const auto& g) {
        m = adam.beta1 * m + (1.0f - adam.beta1) * g;
        v = adam.beta2 * v + (1.0f - adam.beta2) * g.cwiseProduct(g);
        if (adam.weight_decay > 0) param *= 1.0f - adam.learning_rate * adam.weight_decay;
        param.array() -= step * m.array() / (v.array().sqrt() + adam.epsilon);
    };
    for (std::size_t l = 0; l < weights_.size(); ++l) {
        update(weights_[l], m_weights_[l], v_weights_[l], grad_w[l]);
        update(biases_[l], m_biases_[l], v_biases_[l], grad_b[l]);
    }
}

Matrix Mlp::input_gradient(const Trace& trace, const Eigen::VectorXf& grad_out) const {
    Matrix delta = grad_out;
    for (std::size_t l = weights_.size(); l-- > 0;) {
        Matrix below = delta * weights_[l].transpose();
        if (l == 0) return below;
        activation_backward(below, trace.hidden[l - 1]);
        delta = std::move(below);
    }
    return delta;  // unreachable: weights_ is never empty
}

template Eigen::VectorXf Mlp::forward(const Matrix&, Trace&) const;
template Eigen::VectorXf Mlp::forward(const SparseRows&, Trace&) const;
template void Mlp::train_step(const Matrix&, const Trace&, const Eigen::VectorXf&, const AdamSettings&);
template void Mlp::train_step(const SparseRows&, const Trace&, const Eigen::VectorXf&, const AdamSettings&);

}  // namespace transcode::plugins::search
