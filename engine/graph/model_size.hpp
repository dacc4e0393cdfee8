// Limits on a model's size, checked when a model is built and before anything simulates or trains
// it (docs/errors.md, "Model size").
//
// The simulator counts elements, bytes and tiles in int64 and in doubles: a tensor of 2^40
// elements at 64 bits is 2^43 bytes, which leaves a margin of 2^20 for sums over tensors and ops
// in int64 and stays exact in a double (2^53). Beyond these limits a model is absurd for this
// tool (a batch of 10^12, a hidden size of 2^31 - 1, a sequence of 10^9): without them, products
// of dimensions overflow int64 and the event simulation spins for minutes.
#pragma once

#include <cstdint>
#include <string>

#include "transcode/graph.hpp"

namespace transcode::engine {

/// Elements of one tensor.
inline constexpr std::int64_t max_tensor_elements = std::int64_t{1} << 40;
/// Parameters of a model: the elements of its weights, summed.
inline constexpr std::int64_t max_model_parameters = std::int64_t{1} << 40;
/// Tiles of one op on an accelerator (simulator/lowering.hpp); more makes the pair infeasible.
inline constexpr double max_tiles_per_op = 0x1p40;

/// "" when every tensor of `g` has at most max_tensor_elements elements and its weights hold at
/// most max_model_parameters in all; else what is too large, e.g. "tensor 'x' [10^12 x 128] has
/// 1.28e+14 elements, more than the limit of 2^40 (1.1e+12)". Computed without overflow, so any
/// dimensions (each >= 1, as check_graph requires) are safe to pass.
std::string model_size_problem(const ModelGraph& g);

}  // namespace transcode::engine
