#include "tensor_ops.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "transcode/errors.hpp"

namespace transcode::plugins::pruning {

std::int64_t element_count(const TensorView& t) {
    if (t.rows < 0 || t.cols < 0)
        throw InternalError("tensor '" + std::string(t.name) + "' has a negative shape " + std::to_string(t.rows) + "x" +
                            std::to_string(t.cols));
    const std::int64_t n = t.rows * t.cols;
    if (n > 0 && t.data == nullptr)
        throw InternalError("tensor '" + std::string(t.name) + "' has shape " + std::to_string(t.rows) + "x" +
                            std::to_string(t.cols) + " but no data");
    return n;
}

// Both loops are a branchless select plus a compare-and-add over blocks with a 32-bit counter, so
// that the compiler vectorises them with full-width lanes (a 64-bit counter halves the lanes and
// adds unpacking). On x86-64 they are also compiled for AVX2 and picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TRANSCODE_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define TRANSCODE_MULTIVERSION
#endif

namespace {
constexpr std::int64_t block = 1 << 15;  // well below 2^31: the block counter cannot overflow
}

TRANSCODE_MULTIVERSION std::int64_t count_zeros(const float* data, std::int64_t n) {
    std::int64_t zeros = 0;
    for (std::int64_t start = 0; start < n; start += block) {
        const std::int64_t end = std::min(n, start + block);
        std::int32_t z = 0;
        for (std::int64_t i = start; i < end; ++i) z += data[i] == 0.0f ? 1 : 0;
        zeros += z;
    }
    return zeros;
}

TRANSCODE_MULTIVERSION std::int64_t zero_small(float* data, std::int64_t n, float tau) {
    std::int64_t zeros = 0;
    for (std::int64_t start = 0; start < n; start += block) {
        const std::int64_t end = std::min(n, start + block);
        std::int32_t z = 0;
        for (std::int64_t i = start; i < end; ++i) {
            const float x = data[i];
            const float y = std::fabs(x) <= tau ? 0.0f : x;
            data[i] = y;
            z += y == 0.0f ? 1 : 0;
        }
        zeros += z;
    }
    return zeros;
}

float float_threshold(double tau) {
    if (!(tau >= 0.0)) return -std::numeric_limits<float>::infinity();
    if (tau == std::numeric_limits<double>::infinity()) return std::numeric_limits<float>::infinity();
    if (tau >= static_cast<double>(FLT_MAX)) return FLT_MAX;
    float f = static_cast<float>(tau);  // in range: rounds to a neighbour, possibly the upper one
    if (static_cast<double>(f) > tau) f = std::nextafter(f, 0.0f);
    return f;
}

double read_threshold(const Params& params, std::string_view name, std::string_view plugin) {
    const double tau = params.get_float(name);
    if (!(tau >= 0.0))
        throw ConfigError(std::string(plugin) + ": " + std::string(name) + " must be a number >= 0, got " + std::to_string(tau));
    return tau;
}

bool is_gradient(TensorRole role) {
    return role == TensorRole::activation_gradient || role == TensorRole::weight_gradient;
}

RoleSet read_roles(const Params& params, std::string_view name, std::initializer_list<TensorRole> allowed,
                   std::string_view plugin) {
    RoleSet roles;
    for (const Value& item : params.get_list(name)) {
        const std::string& text = item.as_string();
        bool found = false;
        for (TensorRole role : allowed) {
            if (text == to_string(role)) {
                roles.insert(role);
                found = true;
                break;
            }
        }
        if (!found) {
            std::string expected;
            for (TensorRole role : allowed) expected += (expected.empty() ? "" : ", ") + std::string(to_string(role));
            throw ConfigError(std::string(plugin) + ": " + std::string(name) + ": unknown role '" + text +
                              "'; expected one of " + expected);
        }
    }
    return roles;
}

}  // namespace transcode::plugins::pruning
