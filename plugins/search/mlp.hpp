// A small multilayer perceptron on Eigen, for search.boshcode's surrogate: dense layers with tanh
// or ReLU, one linear output, trained with Adam (decoupled weight decay), and differentiable with
// respect to its input (for gradient ascent on the acquisition function).
//
// Rows are samples: an input batch is N x inputs, the output N values. Inputs may be dense or
// sparse (row-major): encodings of large spaces are mostly zeros (one-hot blocks, inactive knobs),
// and the first layer's products then cost in proportion to the non-zeros. Single precision: the
// surrogate only ranks candidates, and float halves the cost of the products that dominate a fit.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include <Eigen/Dense>
#include <Eigen/SparseCore>

namespace transcode::plugins::search {

/// Row-major throughout: a sample is a contiguous row, and the sparse first-layer products walk
/// rows of the weights (one per non-zero input) rather than strided columns.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using SparseRows = Eigen::SparseMatrix<float, Eigen::RowMajor>;

enum class Activation { relu, tanh };

/// Adam's settings. beta1, beta2 and epsilon are the published defaults of Kingma and Ba (2015).
struct AdamSettings {
    float learning_rate = 1e-3f;
    float weight_decay = 0.0f;  ///< decoupled (AdamW): w -= lr * weight_decay * w each step
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
};

class Mlp {
public:
    /// The post-activation outputs of every hidden layer for one batch, kept by forward() for
    /// backward() and input_gradient().
    struct Trace {
        std::vector<Matrix> hidden;  ///< one N x width matrix per hidden layer
    };

    /// `layers` hidden layers of `width` units. Weights are Glorot-uniform (drawn with the SDK's
    /// draw_unit, so a seed gives the same network on every platform), biases 0.
    Mlp(std::size_t inputs, std::size_t width, std::size_t layers, Activation activation, std::mt19937_64& rng);

    std::size_t inputs() const { return static_cast<std::size_t>(weights_.front().rows()); }

    /// The outputs for each row of `x` (Matrix or SparseRows); `trace` receives what
    /// train_step() and input_gradient() need.
    template <class Input>
    Eigen::VectorXf forward(const Input& x, Trace& trace) const;
    template <class Input>
    Eigen::VectorXf predict(const Input& x) const {
        Trace trace;
        return forward(x, trace);
    }

    /// One Adam step on the parameters, given the batch `x` with its forward trace and dL/dout per
    /// row (the loss already averaged over the batch by the caller).
    template <class Input>
    void train_step(const Input& x, const Trace& trace, const Eigen::VectorXf& grad_out, const AdamSettings& adam);

    /// d(sum_i grad_out[i] * out_i)/dx: row i is grad_out[i] times the gradient of output i with
    /// respect to input row i.
    Matrix input_gradient(const Trace& trace, const Eigen::VectorXf& grad_out) const;

private:
    // The gradient flowing into hidden layer `l`'s pre-activation, from that of layer l + 1.
    void activation_backward(Matrix& delta, const Matrix& post) const;

    Activation activation_;
    // weights_[l] is fan_in x fan_out; the last layer maps the top hidden layer to one output.
    std::vector<Matrix> weights_;
    std::vector<Eigen::RowVectorXf> biases_;
    // Adam's first and second moments, shaped like the parameters.
    std::vector<Matrix> m_weights_, v_weights_;
    std::vector<Eigen::RowVectorXf> m_biases_, v_biases_;
    long steps_ = 0;
    // Gradient buffers, kept between steps so that a step allocates nothing.
    std::vector<Matrix> grad_weights_;
    std::vector<Eigen::RowVectorXf> grad_biases_;
};

}  // namespace transcode::plugins::search
