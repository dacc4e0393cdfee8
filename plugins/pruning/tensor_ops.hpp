// Helpers shared by the pruning strategies of this library: tensor size checks, the zero-count and
// threshold loops, and the `targets` parameter. Internal to the library (not part of the SDK).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "transcode/params.hpp"
#include "transcode/tensor.hpp"

namespace transcode::plugins::pruning {

/// Elements of `t` (rows * cols); 0 when either dimension is 0. A negative dimension, or null data
/// behind a non-empty shape, is an executor bug and throws InternalError.
std::int64_t element_count(const TensorView& t);

/// How many of data[0, n) are zero (+0.0 or -0.0). NaN is not zero.
std::int64_t count_zeros(const float* data, std::int64_t n);

/// Sets every x in data[0, n) with |x| <= tau to +0.0 and returns how many zeros the range holds
/// afterwards. NaN never satisfies |x| <= tau, so it is left as it is.
std::int64_t zero_small(float* data, std::int64_t n, float tau);

/// The largest float that is <= tau, so that for every float x, |x| <= result (compared in float)
/// exactly when |x| <= tau (compared in real numbers). tau = 0 gives 0. A NaN or negative tau
/// gives -infinity, which prunes nothing.
float float_threshold(double tau);

/// Reads the float parameter `name` and checks that it is a number >= 0; throws ConfigError
/// naming `plugin` otherwise (the schema already enforces this; this guards programmatic Params).
double read_threshold(const Params& params, std::string_view name, std::string_view plugin);

/// A set of tensor roles.
class RoleSet {
public:
    void insert(TensorRole role) { bits_ |= bit(role); }
    bool contains(TensorRole role) const { return (bits_ & bit(role)) != 0; }
    bool empty() const { return bits_ == 0; }

private:
    static std::uint32_t bit(TensorRole role) { return std::uint32_t{1} << static_cast<unsigned>(role); }
    std::uint32_t bits_ = 0;
};

/// True for the roles that exist only in the backward pass of a training step.
bool is_gradient(TensorRole role);

/// Reads the list parameter `name`, whose elements name tensor roles (as `to_string(TensorRole)`
/// spells them). Every element must be one of `allowed`; repeats are harmless. Throws ConfigError
/// naming `plugin` on anything else.
RoleSet read_roles(const Params& params, std::string_view name, std::initializer_list<TensorRole> allowed,
                   std::string_view plugin);

}  // namespace transcode::plugins::pruning
