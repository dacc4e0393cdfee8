// FLOPs and bytes of each op. One multiply-add counts as 2 FLOPs. Element-wise ops count the
// arithmetic of their usual formulation, per output element:
//
//   add 1 · relu 1 · tanh 4 · gelu 8 (tanh approximation) · softmax 5 (max, subtract, exp, sum,
//   divide) · layer_norm 8 (mean, centre, square, variance, rsqrt, normalise, scale, shift)
//   dropout 1 (x times 0 or 1/(1 − p); the mask's integer hash is not counted)
//   relu_backward 1 · tanh_backward 2 · gelu_backward 12 · softmax_backward 4 · layer_norm_backward 14
//   reduce_sum 1 per input element · embedding 0 (a gather) · embedding_backward 1 per gradient
//   element (scatter-add) · concat, slice, slice_backward 0 (data movement only)
//   cross_entropy 5 per logit · cross_entropy_backward 3 per logit
//   optimizer_update: AdamW 12 per weight element, SGD 3
//   matmul 2·batch·m·n·k · seq_transform 2·B·S·S·C · conv1d 2·B·S·C·k · conv1d_backward 4·B·S·C·k
//
// Bytes are those of every input read once and every output written once, at each tensor's bits.
#pragma once

#include "transcode/graph.hpp"

namespace transcode::engine {

struct OpCost {
    double flops = 0;
    double bytes_read = 0;
    double bytes_written = 0;
};

OpCost op_cost(const ModelGraph& g, const OpDesc& op);

}  // namespace transcode::engine
