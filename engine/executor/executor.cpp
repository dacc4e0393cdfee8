#include "executor/executor.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <mutex>
#include <thread>

#include <Eigen/Core>
#include <cblas.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <fmt/format.h>

#include "common/random.hpp"
#include "graph/graph_check.hpp"

namespace transcode::engine {

namespace {

/// Below this much work (multiply-adds, or element operations) per thread, one thread is faster.
constexpr double min_parallel_work = 1 << 18;
/// Products are cut into blocks of this many output rows. The cut depends only on the shapes, so a
/// result never depends on which thread computed which block, or on how many threads there are.
constexpr std::int64_t gemm_block_rows = 64;
/// Row-wise kernels that also reduce over rows (layer-norm's dgamma, dbeta) sum partial results
/// of fixed chunks of this many rows, in chunk order.
constexpr std::int64_t reduce_chunk_rows = 256;

std::int64_t product(const Shape& s, std::size_t first, std::size_t last) {
    std::int64_t n = 1;
    for (std::size_t i = first; i < last; ++i) n *= s[i];
    return n;
}

}  // namespace

/// The executor's threads: one TBB arena, made when the thread count is set and reused by every
/// kernel of every op (TBB keeps its worker threads alive between calls).
struct Executor::Pool {
    explicit Pool(unsigned n) : threads(n), arena(static_cast<int>(n)) {}
    unsigned threads;
    tbb::task_arena arena;
};

namespace {

/// Calls body(first, last) on t contiguous ranges covering [0, n), side by side on the pool, with t
/// at most the pool's threads and small enough that each range has min_parallel_work. Used only
/// where the result for each index does not depend on the range it falls in. An exception thrown by
/// the body reaches the caller.
template <class Body>
void parallel_for(Executor::Pool& pool, std::int64_t n, double work, const Body& body) {
    const double by_work = std::floor(work / min_parallel_work);
    const auto t = static_cast<std::int64_t>(std::min({static_cast<double>(pool.threads), static_cast<double>(n), by_work}));
    if (t <= 1) {
        if (n > 0) body(std::int64_t{0}, n);
        return;
    }
    pool.arena.execute([&] {
        tbb::parallel_for(std::int64_t{0}, t, [&](std::int64_t i) { body(n * i / t, n * (i + 1) / t); }, tbb::static_partitioner());
    });
}

/// C[r0 .. r0+len, :] = (or +=) op(A)[r0 .. r0+len, :] · op(B); A [ar, ac] and B [br, bc] row-major,
/// C row-major with op(B)'s column count. One single-threaded BLAS call (OpenBLAS); the executor's
/// own threads run blocks side by side.
void gemm(bool ta, bool tb, const float* a, std::int64_t ar, std::int64_t ac, const float* b, std::int64_t br, std::int64_t bc, float* c,
          std::int64_t r0, std::int64_t len, bool accumulate) {
    if (len <= 0) return;
    const auto blas = [](std::int64_t v) {
        if (v > std::numeric_limits<blasint>::max())
            throw InternalError(fmt::format("executor: a product dimension of {} exceeds what BLAS can index ({})", v, std::numeric_limits<blasint>::max()));
        return static_cast<blasint>(v);
    };
    const std::int64_t k = ta ? ar : ac, n = tb ? br : bc;
    const float* a0 = ta ? a + r0 : a + r0 * ac;  // op(A)'s row r0: A's column r0 when transposed
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, blas(len), blas(n), blas(k), 1.0f, a0, blas(ac), b,
                blas(bc), accumulate ? 1.0f : 0.0f, c + r0 * n, blas(n));
}

/// The seq_transform matrix T [S, S] of `variant` (0: real DFT, 1: orthonormal DCT-II), row-major.
std::vector<float> transform_matrix(int variant, std::int64_t S) {
    std::vector<float> t(static_cast<std::size_t>(S * S));
    const double pi = std::numbers::pi;
    for (std::int64_t j = 0; j < S; ++j)
        for (std::int64_t k = 0; k < S; ++k) {
            double v = 0.0;
            if (variant == 0) {
                v = std::cos(2.0 * pi * static_cast<double>((j * k) % S) / static_cast<double>(S));
            } else {
                // T[j, k] = alpha_j cos(pi (2k + 1) j / (2S)); the angle reduced mod 2 pi first.
                const double alpha = std::sqrt((j == 0 ? 1.0 : 2.0) / static_cast<double>(S));
                v = alpha * std::cos(pi * static_cast<double>(((2 * k + 1) * j) % (4 * S)) / (2.0 * static_cast<double>(S)));
            }
            t[static_cast<std::size_t>(j * S + k)] = static_cast<float>(v);
        }
    return t;
}

/// graph.hpp: a run seed r turns a dropout op's seed s into s ^ r·this.
constexpr std::uint64_t dropout_run_seed_multiplier = 0x9FB21C651E98DF25ull;

constexpr float gelu_k0 = 0.7978845608028654f;  // sqrt(2 / pi)
constexpr float gelu_k1 = 0.044715f;

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using CArrayMap = Eigen::Map<const Eigen::ArrayXf>;
/// Element-wise kernels cut [0, n) into chunks of this many values at fixed positions: the
/// temporaries of a chunk live on the stack and in L1, and which values take Eigen's packet path or
/// its scalar tail never depends on how the chunks are shared among threads.
constexpr std::int64_t vector_chunk = 1024;
using ChunkArray = Eigen::Array<float, Eigen::Dynamic, 1, 0, vector_chunk, 1>;

std::int64_t vector_chunks(std::int64_t n) { return (n + vector_chunk - 1) / vector_chunk; }

/// Calls fn(i, len) for chunks [first_chunk, last_chunk) of [0, n): values i .. i+len.
template <class Fn>
void for_vector_chunks(std::int64_t n, std::int64_t first_chunk, std::int64_t last_chunk, const Fn& fn) {
    for (std::int64_t c = first_chunk; c < last_chunk; ++c) fn(c * vector_chunk, std::min(vector_chunk, n - c * vector_chunk));
}

/// tanh(k0 (x + k1 x³)), the inner term of GELU's tanh approximation, with Eigen's vectorised float
/// tanh (GELU is most of the non-matmul time of a training step).
template <class X>
auto gelu_tanh(const X& x) {
    return (gelu_k0 * (x + gelu_k1 * x.cube())).tanh();
}

/// The input that holds `op`'s padding mask (graph.hpp), or -1 when it has none.
int padding_mask_input(const OpDesc& op) {
    std::size_t at = 0;
    switch (op.kind) {
        case OpKind::softmax:
        case OpKind::seq_transform: at = 1; break;
        case OpKind::conv1d: at = 2; break;
        case OpKind::conv1d_backward: at = 3; break;
        default: return -1;
    }
    return op.inputs.size() > at ? static_cast<int>(at) : -1;
}

/// FNV-1a of a tensor name: the stream its initial values come from.
std::uint64_t name_stream(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char ch : s) {
        h ^= ch;
        h *= 0x100000001b3ull;
    }
    return h;
}

/// Mean and 1/sqrt(var + eps) of one row, in double.
std::pair<double, double> row_stats(const float* x, std::int64_t n, double eps) {
    double mean = 0.0;
    for (std::int64_t i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<double>(n);
    double var = 0.0;
    for (std::int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= static_cast<double>(n);
    return {mean, 1.0 / std::sqrt(var + eps)};
}

}  // namespace

Executor::~Executor() = default;

void Executor::set_threads(unsigned n) { pool_ = std::make_unique<Pool>(std::max(1u, n)); }

unsigned Executor::threads() const { return pool_->threads; }

Executor::Executor(const ModelGraph& g) : g_(g) {
    check_graph(g_, "executor");
    // Every product is one single-threaded BLAS call; the pool runs blocks side by side.
    static std::once_flag blas_threads;
    std::call_once(blas_threads, [] { openblas_set_num_threads(1); });
    set_threads(std::thread::hardware_concurrency());
    floats_.resize(g_.tensors.size());
    ints_.resize(g_.tensors.size());
    for (std::size_t t = 0; t < g_.tensors.size(); ++t) {
        const TensorDesc& d = g_.tensors[t];
        const auto n = static_cast<std::size_t>(d.elements());
        if (d.is_integer)
            ints_[t].assign(n, 0);
        else
            floats_[t].assign(n, d.is_input && d.role == TensorRole::activation_gradient ? 1.0f : 0.0f);
    }
    for (const OpDesc& op : g_.ops)
        if (op.kind == OpKind::seq_transform) transform(static_cast<int>(op.attr("variant")), shape(op.inputs[0])[1]);
    // Padding masks that are graph inputs start all 1 (no padding) until the caller fills them.
    for (const OpDesc& op : g_.ops) {
        const int mask = padding_mask_input(op);
        if (mask < 0) continue;
        const auto t = static_cast<std::size_t>(op.inputs[static_cast<std::size_t>(mask)]);
        if (g_.tensors[t].is_input) std::fill(ints_[t].begin(), ints_[t].end(), 1);
    }
}

void Executor::init_weights(std::uint64_t seed) {
    std::vector<bool> produced(g_.tensors.size(), false), gamma(g_.tensors.size(), false);
    for (const OpDesc& op : g_.ops) {
        for (TensorId t : op.outputs) produced[static_cast<std::size_t>(t)] = true;
        if (op.kind == OpKind::layer_norm) gamma[static_cast<std::size_t>(op.inputs[1])] = true;
    }
    for (std::size_t t = 0; t < g_.tensors.size(); ++t) {
        const TensorDesc& d = g_.tensors[t];
        if (d.is_integer) continue;
        auto& v = floats_[t];
        if (d.role == TensorRole::optimizer_state) {
            std::fill(v.begin(), v.end(), 0.0f);
        } else if (d.role == TensorRole::weight && !produced[t]) {
            if (d.shape.size() >= 2) {
                SplitMix64 rng(derive_seed(seed, name_stream(d.name)));
                for (float& x : v) x = static_cast<float>(0.02 * rng.normal());
            } else {
                std::fill(v.begin(), v.end(), gamma[t] ? 1.0f : 0.0f);
            }
        }
    }
}

std::vector<float>& Executor::values(TensorId t) {
    return const_cast<std::vector<float>&>(std::as_const(*this).values(t));
}

const std::vector<float>& Executor::values(TensorId t) const {
    if (t < 0 || static_cast<std::size_t>(t) >= g_.tensors.size()) throw InternalError(fmt::format("executor: no tensor id {}", t));
    const TensorDesc& d = g_.tensors[static_cast<std::size_t>(t)];
    if (d.is_integer) throw InternalError(fmt::format("executor: tensor '{}' holds integers; use ids()", d.name));
    return floats_[static_cast<std::size_t>(t)];
}

std::vector<std::int32_t>& Executor::ids(TensorId t) {
    return const_cast<std::vector<std::int32_t>&>(std::as_const(*this).ids(t));
}

const std::vector<std::int32_t>& Executor::ids(TensorId t) const {
    if (t < 0 || static_cast<std::size_t>(t) >= g_.tensors.size()) throw InternalError(fmt::format("executor: no tensor id {}", t));
    const TensorDesc& d = g_.tensors[static_cast<std::size_t>(t)];
    if (!d.is_integer) throw InternalError(fmt::format("executor: tensor '{}' holds floats; use values()", d.name));
    return ints_[static_cast<std::size_t>(t)];
}

TensorId Executor::find(const std::string& name) const {
    for (std::size_t t = 0; t < g_.tensors.size(); ++t)
        if (g_.tensors[t].name == name) return static_cast<TensorId>(t);
    return -1;
}

void Executor::run(std::size_t first, std::size_t last, const Hook& after_op) {
    if (first > last || last > g_.ops.size())
        throw InternalError(fmt::format("executor: op range [{}, {}) is outside the graph's {} ops", first, last, g_.ops.size()));
    for (std::size_t i = first; i < last; ++i) {
        run_op(g_.ops[i]);
        if (after_op) after_op(i);
    }
}

void Executor::run_all(const Hook& after_op) { run(0, g_.ops.size(), after_op); }

void Executor::commit_update() {
    for (const OpDesc& op : g_.ops) {
        if (op.kind != OpKind::optimizer_update) continue;
        // outputs (w', m', v') go back to inputs (w, m, v): input 1 is the gradient.
        for (std::size_t i = 0; i < op.outputs.size(); ++i) {
            const auto& src = values(op.outputs[i]);
            auto& dst = values(op.inputs[i == 0 ? 0 : i + 1]);
            std::copy(src.begin(), src.end(), dst.begin());
        }
    }
    ++step_;
}

void Executor::set_step(std::int64_t t) {
    if (t < 1) throw InternalError(fmt::format("executor: the optimizer step count starts at 1, got {}", t));
    step_ = t;
}

float* Executor::out(const OpDesc& op, std::size_t i) { return values(op.outputs[i]).data(); }
const float* Executor::in(const OpDesc& op, std::size_t i) const { return values(op.inputs[i]).data(); }
const std::int32_t* Executor::in_ids(const OpDesc& op, std::size_t i) const { return ids(op.inputs[i]).data(); }

std::vector<std::int64_t> Executor::sequence_lengths(const OpDesc& op) const {
    const int input = padding_mask_input(op);
    if (input < 0) return {};
    const auto mask_input = static_cast<std::size_t>(input);
    const Shape& ms = shape(op.inputs[mask_input]);
    const std::int64_t batch = ms[0], S = ms[1];
    const std::int32_t* mask = in_ids(op, mask_input);
    std::vector<std::int64_t> lengths(static_cast<std::size_t>(batch));
    for (std::int64_t b = 0; b < batch; ++b) {
        const std::int32_t* row = mask + b * S;
        std::int64_t n = 0;
        while (n < S && row[n] == 1) ++n;
        for (std::int64_t j = n; j < S; ++j)
            if (row[j] != 0)
                throw ConfigError(fmt::format("op '{}' ({}): padding mask row {} has {} at position {} after padding began at {}: a mask is 1 for "
                                              "the real tokens, then 0 for the padding",
                                              op.name, to_string(op.kind), b, row[j], j, n));
        lengths[static_cast<std::size_t>(b)] = n;
    }
    return lengths;
}

const std::vector<float>& Executor::transform(int variant, std::int64_t length) {
    auto it = transforms_.find({variant, length});
    if (it == transforms_.end()) it = transforms_.emplace(std::make_pair(variant, length), transform_matrix(variant, length)).first;
    return it->second;
}

// C = op(A)·op(B). Without batch_reduce, the work is cut into (batch, block of 64 output rows)
// pieces; a shared B with an untransposed A folds A's batch dims into its rows first. With
// batch_reduce, the pieces are blocks of 64 output rows, each summing over the batch in order.
void Executor::matmul(const OpDesc& op) {
    const Shape& sa = shape(op.inputs[0]);
    const Shape& sb = shape(op.inputs[1]);
    const bool ta = op.attr("transpose_a") != 0.0, tb = op.attr("transpose_b") != 0.0, reduce = op.attr("batch_reduce") != 0.0;
    const std::size_t ra = sa.size(), rb = sb.size();
    std::int64_t ar = sa[ra - 2];
    const std::int64_t ac = sa[ra - 1], br = sb[rb - 2], bc = sb[rb - 1];
    const std::int64_t m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
    const std::int64_t batch = product(sa, 0, ra - 2);
    const bool b_batched = rb > 2;
    const float* a = in(op, 0);
    const float* b = in(op, 1);
    float* c = out(op, 0);
    const double work = static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n);
    const auto b_of = [&](std::int64_t i) { return b_batched ? b + i * br * bc : b; };
    if (!reduce) {
        std::int64_t batches = batch, rows = m;
        if (!b_batched && !ta) {
            rows = batch * m;
            ar = rows;
            batches = 1;
        }
        const std::int64_t blocks = (rows + gemm_block_rows - 1) / gemm_block_rows;
        parallel_for(*pool_, batches * blocks, work, [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t u = first; u < last; ++u) {
                const std::int64_t i = u / blocks, r0 = (u % blocks) * gemm_block_rows;
                gemm(ta, tb, a + i * ar * ac, ar, ac, b_of(i), br, bc, c + i * rows * n, r0, std::min(gemm_block_rows, rows - r0), false);
            }
        });
        return;
    }
    // Σ_i A_iᵀ·B_i over the batch is one product A_flatᵀ·B_flat whose reduction runs over batch·k.
    const bool fold = ta && !tb && b_batched;
    const std::int64_t blocks = (m + gemm_block_rows - 1) / gemm_block_rows;
    parallel_for(*pool_, blocks, work, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t u = first; u < last; ++u) {
            const std::int64_t r0 = u * gemm_block_rows, len = std::min(gemm_block_rows, m - r0);
            if (fold) {
                gemm(true, false, a, batch * ar, ac, b, batch * br, bc, c, r0, len, false);
            } else {
                for (std::int64_t i = 0; i < batch; ++i) gemm(ta, tb, a + i * ar * ac, ar, ac, b_of(i), br, bc, c, r0, len, i > 0);
            }
        }
    });
}

// y_b = T·x_b (or Tᵀ·x_b) for each batch element b, x_b [S, C]. With a padding mask, the transform
// of a sequence of length L covers its first L positions only (T of size L), and the padding rows
// of y are 0, so the padding never mixes into the real tokens.
void Executor::seq_transform(const OpDesc& op) {
    const Shape& s = shape(op.inputs[0]);
    const std::int64_t B = s[0], S = s[1], C = s[2];
    const int variant = static_cast<int>(op.attr("variant"));
    const bool transpose = op.attr("transpose") != 0.0;
    std::vector<std::int64_t> lengths = sequence_lengths(op);
    if (lengths.empty()) lengths.assign(static_cast<std::size_t>(B), S);
    // The transforms of every length this batch needs, made before the threads read them.
    std::vector<const float*> matrices(static_cast<std::size_t>(B));
    for (std::int64_t i = 0; i < B; ++i) {
        const std::int64_t len = lengths[static_cast<std::size_t>(i)];
        matrices[static_cast<std::size_t>(i)] = len > 0 ? transform(variant, len).data() : nullptr;
    }
    const float* x = in(op, 0);
    float* y = out(op, 0);
    parallel_for(*pool_, B, static_cast<double>(B * S * S * C), [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t i = first; i < last; ++i) {
            const std::int64_t len = lengths[static_cast<std::size_t>(i)];
            if (len > 0) gemm(transpose, false, matrices[static_cast<std::size_t>(i)], len, len, x + i * S * C, len, C, y + i * S * C, 0, len, false);
            std::fill(y + (i * S + len) * C, y + (i + 1) * S * C, 0.0f);
        }
    });
}

void Executor::optimizer_update(const OpDesc& op) {
    const bool adamw = op.attr("optimizer", 0.0) == 0.0;
    const auto n = static_cast<std::int64_t>(values(op.inputs[0]).size());
    const float lr = static_cast<float>(lr_override_ >= 0.0 ? lr_override_ : op.attr("lr"));
    const float wd = static_cast<float>(op.attr("weight_decay"));
    const float* w = in(op, 0);
    const float* g = in(op, 1);
    float* w_next = out(op, 0);
    if (!adamw) {
        parallel_for(*pool_, n, static_cast<double>(n), [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t i = first; i < last; ++i) w_next[i] = w[i] - lr * (g[i] + wd * w[i]);
        });
        return;
    }
    const double beta1 = op.attr("beta1", 0.9), beta2 = op.attr("beta2", 0.999);
    const float b1 = static_cast<float>(beta1), b2 = static_cast<float>(beta2);
    const float c1 = static_cast<float>(1.0 - beta1), c2 = static_cast<float>(1.0 - beta2);
    const float eps = static_cast<float>(op.attr("eps", 1e-8));
    const auto t = static_cast<double>(step_);
    const float bc1 = static_cast<float>(1.0 - std::pow(beta1, t)), bc2 = static_cast<float>(1.0 - std::pow(beta2, t));
    const float* m = in(op, 2);
    const float* v = in(op, 3);
    float* m_next = out(op, 1);
    float* v_next = out(op, 2);
    parallel_for(*pool_, n, 4.0 * static_cast<double>(n), [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t i = first; i < last; ++i) {
            const float mi = b1 * m[i] + c1 * g[i];
            const float vi = b2 * v[i] + c2 * g[i] * g[i];
            const float mhat = mi / bc1, vhat = vi / bc2;
            m_next[i] = mi;
            v_next[i] = vi;
            w_next[i] = w[i] - lr * (mhat / (std::sqrt(vhat) + eps) + wd * w[i]);
        }
    });
}

void Executor::run_op(const OpDesc& op) {
    const auto fail = [&](const std::string& what) { return ConfigError(fmt::format("op '{}' ({}): {}", op.name, to_string(op.kind), what)); };
    // Row-wise ops: L = the last dim, rows = everything else.
    const Shape& s0 = shape(op.inputs[0]);
    const std::int64_t n0 = product(s0, 0, s0.size());
    const std::int64_t L = s0.empty() ? 1 : s0.back();
    const std::int64_t rows = L > 0 ? n0 / L : 0;
    switch (op.kind) {
        case OpKind::matmul: matmul(op); return;
        case OpKind::seq_transform: seq_transform(op); return;
        case OpKind::optimizer_update: optimizer_update(op); return;
        case OpKind::add: {
            const float* a = in(op, 0);
            const float* b = in(op, 1);
            float* c = out(op, 0);
            const bool bias = shape(op.inputs[1]) != s0;
            parallel_for(*pool_, rows, static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for (std::int64_t r = first; r < last; ++r)
                    for (std::int64_t j = 0; j < L; ++j) c[r * L + j] = a[r * L + j] + (bias ? b[j] : b[r * L + j]);
            });
            return;
        }
        case OpKind::layer_norm: {
            const float* x = in(op, 0);
            const float* gamma = in(op, 1);
            const float* beta = in(op, 2);
            float* y = out(op, 0);
            const double eps = op.attr("eps", 1e-12);
            parallel_for(*pool_, rows, 8.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for (std::int64_t r = first; r < last; ++r) {
                    const float* xr = x + r * L;
                    const auto [mean, rstd] = row_stats(xr, L, eps);
                    for (std::int64_t j = 0; j < L; ++j) y[r * L + j] = static_cast<float>((xr[j] - mean) * rstd) * gamma[j] + beta[j];
                }
            });
            return;
        }
        case OpKind::layer_norm_backward: {
            // (dy, x, gamma) -> (dx, dgamma, dbeta). dgamma and dbeta sum fixed chunks of rows in order.
            const float* dy = in(op, 0);
            const float* x = in(op, 1);
            const float* gamma = in(op, 2);
            float* dx = out(op, 0);
            float* dgamma = out(op, 1);
            float* dbeta = out(op, 2);
            const double eps = op.attr("eps", 1e-12);
            const std::int64_t chunks = (rows + reduce_chunk_rows - 1) / reduce_chunk_rows;
            std::vector<double> partial(static_cast<std::size_t>(chunks * 2 * L), 0.0);
            parallel_for(*pool_, chunks, 12.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                std::vector<double> xhat(static_cast<std::size_t>(L)), g(static_cast<std::size_t>(L));
                for (std::int64_t ch = first; ch < last; ++ch) {
                    double* pg = partial.data() + ch * 2 * L;
                    double* pb = pg + L;
                    for (std::int64_t r = ch * reduce_chunk_rows; r < std::min(rows, (ch + 1) * reduce_chunk_rows); ++r) {
                        const float* xr = x + r * L;
                        const float* dyr = dy + r * L;
                        const auto [mean, rstd] = row_stats(xr, L, eps);
                        double sum_g = 0.0, sum_gx = 0.0;
                        for (std::int64_t j = 0; j < L; ++j) {
                            const auto jj = static_cast<std::size_t>(j);
                            xhat[jj] = (xr[j] - mean) * rstd;
                            g[jj] = static_cast<double>(dyr[j]) * gamma[j];
                            sum_g += g[jj];
                            sum_gx += g[jj] * xhat[jj];
                            pg[j] += static_cast<double>(dyr[j]) * xhat[jj];
                            pb[j] += dyr[j];
                        }
                        const double mean_g = sum_g / static_cast<double>(L), mean_gx = sum_gx / static_cast<double>(L);
                        for (std::int64_t j = 0; j < L; ++j) {
                            const auto jj = static_cast<std::size_t>(j);
                            dx[r * L + j] = static_cast<float>(rstd * (g[jj] - mean_g - xhat[jj] * mean_gx));
                        }
                    }
                }
            });
            for (std::int64_t j = 0; j < L; ++j) {
                double sg = 0.0, sb = 0.0;
                for (std::int64_t ch = 0; ch < chunks; ++ch) {
                    sg += partial[static_cast<std::size_t>(ch * 2 * L + j)];
                    sb += partial[static_cast<std::size_t>(ch * 2 * L + L + j)];
                }
                dgamma[j] = static_cast<float>(sg);
                dbeta[j] = static_cast<float>(sb);
            }
            return;
        }
        case OpKind::softmax: {
            const float* x = in(op, 0);
            float* y = out(op, 0);
            const auto scale = static_cast<float>(op.attr("scale", 1.0));
            const bool causal = op.attr("causal") != 0.0;
            // Causal: row r is query position r mod (second-to-last dim); keys after it are masked.
            // A padding mask (input 1): row r belongs to sequence r / q, whose padding keys are masked.
            const std::int64_t q = s0.size() >= 2 ? s0[s0.size() - 2] : 1;
            const std::vector<std::int64_t> lengths = sequence_lengths(op);
            parallel_for(*pool_, rows, 20.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for (std::int64_t r = first; r < last; ++r) {
                    const float* xr = x + r * L;
                    float* yr = y + r * L;
                    std::int64_t valid = causal ? std::min(L, r % q + 1) : L;
                    if (!lengths.empty()) valid = std::min(valid, lengths[static_cast<std::size_t>(r / q)]);
                    if (valid == 0) {
                        std::fill(yr, yr + L, 0.0f);
                        continue;
                    }
                    const CArrayMap xv(xr, valid);
                    ArrayMap yv(yr, valid);
                    const float mx = scale * (scale >= 0.0f ? xv.maxCoeff() : xv.minCoeff());
                    yv = (scale * xv - mx).exp();
                    yv *= 1.0f / yv.sum();
                    std::fill(yr + valid, yr + L, 0.0f);
                }
            });
            return;
        }
        case OpKind::softmax_backward: {
            // dx = scale · y ⊙ (dy − Σ dy ⊙ y); masked (y = 0) entries get 0.
            const float* dy = in(op, 0);
            const float* y = in(op, 1);
            float* dx = out(op, 0);
            const auto scale = static_cast<float>(op.attr("scale", 1.0));
            parallel_for(*pool_, rows, 4.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for (std::int64_t r = first; r < last; ++r) {
                    double dot = 0.0;
                    for (std::int64_t j = 0; j < L; ++j) dot += static_cast<double>(dy[r * L + j]) * y[r * L + j];
                    const auto d = static_cast<float>(dot);
                    for (std::int64_t j = 0; j < L; ++j) dx[r * L + j] = scale * y[r * L + j] * (dy[r * L + j] - d);
                }
            });
            return;
        }
        case OpKind::gelu:
        case OpKind::relu:
        case OpKind::tanh: {
            const float* x = in(op, 0);
            float* y = out(op, 0);
            const OpKind kind = op.kind;
            parallel_for(*pool_, vector_chunks(n0), 20.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for_vector_chunks(n0, first, last, [&](std::int64_t i, std::int64_t len) {
                    const CArrayMap v(x + i, len);
                    ArrayMap out(y + i, len);
                    if (kind == OpKind::gelu) {
                        out = gelu_tanh(v);
                        out = 0.5f * v * (1.0f + out);
                    } else if (kind == OpKind::relu) {
                        out = v.max(0.0f);
                    } else {
                        out = v.tanh();
                    }
                });
            });
            return;
        }
        case OpKind::gelu_backward:
        case OpKind::relu_backward:
        case OpKind::tanh_backward: {
            // (dy, x) for gelu and relu; (dy, y) for tanh.
            const float* dy = in(op, 0);
            const float* x = in(op, 1);
            float* dx = out(op, 0);
            const OpKind kind = op.kind;
            parallel_for(*pool_, vector_chunks(n0), 20.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for_vector_chunks(n0, first, last, [&](std::int64_t i, std::int64_t len) {
                    const CArrayMap v(x + i, len);
                    const CArrayMap g(dy + i, len);
                    ArrayMap out(dx + i, len);
                    if (kind == OpKind::gelu_backward) {
                        ChunkArray t = gelu_tanh(v);
                        out = g * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t.square()) * gelu_k0 * (1.0f + 3.0f * gelu_k1 * v.square()));
                    } else if (kind == OpKind::relu_backward) {
                        out = (v > 0.0f).select(g, 0.0f);
                    } else {
                        out = g * (1.0f - v.square());
                    }
                });
            });
            return;
        }
        case OpKind::embedding: {
            const std::int32_t* ids = in_ids(op, 0);
            const float* table = in(op, 1);
            float* y = out(op, 0);
            const Shape& st = shape(op.inputs[1]);
            const std::int64_t vocab = st[0], d = st[1];
            for (std::int64_t i = 0; i < n0; ++i) {
                if (ids[i] < 0 || ids[i] >= vocab)
                    throw fail(fmt::format("id {} at position {} of '{}' is outside the table's {} rows", ids[i], i,
                                           g_.tensors[static_cast<std::size_t>(op.inputs[0])].name, vocab));
                std::memcpy(y + i * d, table + ids[i] * d, static_cast<std::size_t>(d) * sizeof(float));
            }
            return;
        }
        case OpKind::embedding_backward: {
            // (dout, ids) -> dtable: scatter-add in position order.
            const float* dout = in(op, 0);
            const std::int32_t* ids = in_ids(op, 1);
            auto& dtable = values(op.outputs[0]);
            const std::int64_t d = shape(op.outputs[0])[1], vocab = shape(op.outputs[0])[0];
            const std::int64_t n_ids = n0 / d;
            std::fill(dtable.begin(), dtable.end(), 0.0f);
            for (std::int64_t i = 0; i < n_ids; ++i) {
                if (ids[i] < 0 || ids[i] >= vocab) throw fail(fmt::format("id {} at position {} is outside the table's {} rows", ids[i], i, vocab));
                float* row = dtable.data() + ids[i] * d;
                for (std::int64_t j = 0; j < d; ++j) row[j] += dout[i * d + j];
            }
            return;
        }
        case OpKind::conv1d:
        case OpKind::conv1d_backward: {
            // y[b, s, c] = Σ_j w[b, s, j] · x[b, s + j − (k−1)/2, c], zero padded.
            const bool fwd = op.kind == OpKind::conv1d;
            const Shape& sx = shape(op.inputs[fwd ? 0 : 1]);
            const std::int64_t B = sx[0], S = sx[1], C = sx[2];
            const std::int64_t K = shape(op.inputs[fwd ? 1 : 2])[2], pad = (K - 1) / 2;
            // With a padding mask, a sequence of length len reads positions [0, len) only, and its
            // padding positions give 0 (forward) and take no gradient (backward).
            std::vector<std::int64_t> lengths = sequence_lengths(op);
            if (lengths.empty()) lengths.assign(static_cast<std::size_t>(B), S);
            if (fwd) {
                const float* x = in(op, 0);
                const float* w = in(op, 1);
                float* y = out(op, 0);
                parallel_for(*pool_, B * S, 2.0 * static_cast<double>(B * S * K * C), [&](std::int64_t first, std::int64_t last) {
                    for (std::int64_t bs = first; bs < last; ++bs) {
                        const std::int64_t s = bs % S, len = lengths[static_cast<std::size_t>(bs / S)];
                        float* yr = y + bs * C;
                        std::fill(yr, yr + C, 0.0f);
                        if (s >= len) continue;
                        for (std::int64_t j = 0; j < K; ++j) {
                            const std::int64_t src = s + j - pad;
                            if (src < 0 || src >= len) continue;
                            const float wv = w[bs * K + j];
                            const float* xr = x + (bs - s + src) * C;
                            for (std::int64_t c = 0; c < C; ++c) yr[c] += wv * xr[c];
                        }
                    }
                });
            } else {
                // (dy, x, w) -> (dx, dw). dw is row-local; dx gathers from the positions that read it.
                const float* dy = in(op, 0);
                const float* x = in(op, 1);
                const float* w = in(op, 2);
                float* dx = out(op, 0);
                float* dw = out(op, 1);
                parallel_for(*pool_, B * S, 4.0 * static_cast<double>(B * S * K * C), [&](std::int64_t first, std::int64_t last) {
                    for (std::int64_t bs = first; bs < last; ++bs) {
                        const std::int64_t s = bs % S, base = bs - s, len = lengths[static_cast<std::size_t>(bs / S)];
                        // dw[b, s, j] = Σ_c dy[b, s, c] · x[b, s + j − pad, c]
                        for (std::int64_t j = 0; j < K; ++j) {
                            const std::int64_t src = s + j - pad;
                            float acc = 0.0f;
                            if (s < len && src >= 0 && src < len)
                                for (std::int64_t c = 0; c < C; ++c) acc += dy[bs * C + c] * x[(base + src) * C + c];
                            dw[bs * K + j] = acc;
                        }
                        // dx[b, s, c] = Σ_j w[b, t, j] · dy[b, t, c] over the t with t + j − pad = s.
                        float* dxr = dx + bs * C;
                        std::fill(dxr, dxr + C, 0.0f);
                        if (s >= len) continue;
                        for (std::int64_t j = 0; j < K; ++j) {
                            const std::int64_t t = s - j + pad;
                            if (t < 0 || t >= len) continue;
                            const float wv = w[(base + t) * K + j];
                            for (std::int64_t c = 0; c < C; ++c) dxr[c] += wv * dy[(base + t) * C + c];
                        }
                    }
                });
            }
            return;
        }
        case OpKind::concat: {
            float* y = out(op, 0);
            const std::int64_t width = shape(op.outputs[0]).back();
            std::int64_t offset = 0;
            for (std::size_t i = 0; i < op.inputs.size(); ++i) {
                const float* x = in(op, i);
                const std::int64_t w = shape(op.inputs[i]).back();
                for (std::int64_t r = 0; r < rows; ++r) std::memcpy(y + r * width + offset, x + r * w, static_cast<std::size_t>(w) * sizeof(float));
                offset += w;
            }
            return;
        }
        case OpKind::slice:
        case OpKind::slice_backward: {
            // The full tensor is the slice's input (slice) or output (slice_backward); the slice
            // holds `length` entries of axis `axis` (dropped when squeezed), with the same layout.
            const bool fwd = op.kind == OpKind::slice;
            const Shape& full = shape(fwd ? op.inputs[0] : op.outputs[0]);
            auto axis = static_cast<std::int64_t>(op.attr("axis", -1.0));
            if (axis < 0) axis += static_cast<std::int64_t>(full.size());
            const auto ax = static_cast<std::size_t>(axis);
            const std::int64_t outer = product(full, 0, ax), dim = full[ax], inner = product(full, ax + 1, full.size());
            const auto start = static_cast<std::int64_t>(op.attr("start")), length = static_cast<std::int64_t>(op.attr("length"));
            const float* x = in(op, 0);
            float* y = out(op, 0);
            const auto bytes = static_cast<std::size_t>(length * inner) * sizeof(float);
            if (fwd) {
                for (std::int64_t o = 0; o < outer; ++o) std::memcpy(y + o * length * inner, x + (o * dim + start) * inner, bytes);
            } else {
                auto& dx = values(op.outputs[0]);
                std::fill(dx.begin(), dx.end(), 0.0f);
                for (std::int64_t o = 0; o < outer; ++o) std::memcpy(y + (o * dim + start) * inner, x + o * length * inner, bytes);
            }
            return;
        }
        case OpKind::dropout: {
            // y = x · m / (1 − p). m[i] is a function of (seed, step, i) alone (graph.hpp), so any
            // thread computes any element, and the backward op (same attrs) draws the same mask.
            const float* x = in(op, 0);
            float* y = out(op, 0);
            const double p = op.attr("p");
            if (!training_ || p == 0.0) {
                std::copy(x, x + n0, y);
                return;
            }
            const std::uint64_t seed = static_cast<std::uint64_t>(op.attr("seed")) ^ (dropout_seed_ * dropout_run_seed_multiplier);
            const std::uint64_t key = derive_seed(seed, static_cast<std::uint64_t>(step_));
            const auto scale = static_cast<float>(1.0 / (1.0 - p));
            parallel_for(*pool_, n0, 8.0 * static_cast<double>(n0), [&](std::int64_t first, std::int64_t last) {
                for (std::int64_t i = first; i < last; ++i) {
                    const double u = static_cast<double>(splitmix64_at(key, static_cast<std::uint64_t>(i)) >> 11) * 0x1.0p-53;
                    y[i] = u >= p ? x[i] * scale : 0.0f;
                }
            });
            return;
        }
        case OpKind::reduce_sum: {
            const float* x = in(op, 0);
            float* y = out(op, 0);
            std::fill(y, y + L, 0.0f);
            for (std::int64_t r = 0; r < rows; ++r)
                for (std::int64_t j = 0; j < L; ++j) y[j] += x[r * L + j];
            return;
        }
        case OpKind::cross_entropy:
        case OpKind::cross_entropy_backward: {
            // Rows with a label < 0 are ignored (padding rows of a partial batch): over the n rows
            // kept, loss = mean(logsumexp(logits[b]) − logits[b, label]) (0 when n = 0);
            // dlogits = dloss (p − onehot) / n on kept rows, 0 on ignored ones.
            const bool fwd = op.kind == OpKind::cross_entropy;
            const float* logits = in(op, fwd ? 0 : 1);
            const std::int32_t* labels = in_ids(op, fwd ? 1 : 2);
            const Shape& sl = shape(op.inputs[fwd ? 0 : 1]);
            const std::int64_t B = sl[0], K = sl[1];
            const double dloss = fwd ? 0.0 : in(op, 0)[0];
            float* y = out(op, 0);
            std::int64_t kept = 0;
            for (std::int64_t b = 0; b < B; ++b) {
                if (labels[b] >= K) throw fail(fmt::format("label {} of example {} is outside the {} classes", labels[b], b, K));
                kept += labels[b] >= 0 ? 1 : 0;
            }
            double loss = 0.0;
            for (std::int64_t b = 0; b < B; ++b) {
                if (labels[b] < 0) {
                    if (!fwd) std::fill(y + b * K, y + (b + 1) * K, 0.0f);
                    continue;
                }
                const float* lr = logits + b * K;
                double mx = lr[0];
                for (std::int64_t j = 1; j < K; ++j) mx = std::max(mx, static_cast<double>(lr[j]));
                double sum = 0.0;
                for (std::int64_t j = 0; j < K; ++j) sum += std::exp(lr[j] - mx);
                const double lse = mx + std::log(sum);
                if (fwd) {
                    loss += lse - lr[labels[b]];
                } else {
                    for (std::int64_t j = 0; j < K; ++j)
                        y[b * K + j] = static_cast<float>(dloss * (std::exp(lr[j] - lse) - (j == labels[b] ? 1.0 : 0.0)) / static_cast<double>(kept));
                }
            }
            if (fwd) y[0] = kept > 0 ? static_cast<float>(loss / static_cast<double>(kept)) : 0.0f;
            return;
        }
    }
    throw InternalError(fmt::format("executor: op '{}' has an unhandled kind", op.name));
}

}  // namespace transcode::engine
