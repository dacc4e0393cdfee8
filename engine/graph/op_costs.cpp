#include "graph/op_costs.hpp"

namespace transcode::engine {

namespace {
double elements(const ModelGraph& g, TensorId t) { return static_cast<double>(g.tensors[static_cast<std::size_t>(t)].elements()); }
double bytes(const ModelGraph& g, TensorId t) {
    const auto& d = g.tensors[static_cast<std::size_t>(t)];
    return static_cast<double>(d.elements()) * d.bits / 8.0;
}
}  // namespace

OpCost op_cost(const ModelGraph& g, const OpDesc& op) {
    OpCost c;
    for (TensorId t : op.inputs) c.bytes_read += bytes(g, t);
    for (TensorId t : op.outputs) c.bytes_written += bytes(g, t);
    const double out = op.outputs.empty() ? 0.0 : elements(g, op.outputs[0]);
    const auto& in0 = g.tensors[static_cast<std::size_t>(op.inputs.at(0))].shape;
    switch (op.kind) {
        case OpKind::matmul: {
            // C has m·n per batch (or m·n total when batch-reduced); k is A's contracted dimension.
            const bool ta = op.attr("transpose_a") != 0.0;
            const double k = static_cast<double>(ta ? in0[in0.size() - 2] : in0.back());
            double batch = 1;
            for (std::size_t i = 0; i + 2 < in0.size(); ++i) batch *= static_cast<double>(in0[i]);
            const auto& cs = g.tensors[static_cast<std::size_t>(op.outputs[0])].shape;
            const double mn = static_cast<double>(cs[cs.size() - 2] * cs[cs.size() - 1]);
            c.flops = 2.0 * batch * mn * k;
            break;
        }
        case OpKind::add: c.flops = out; break;
        case OpKind::relu: c.flops = out; break;
        case OpKind::dropout: c.flops = out; break;
        case OpKind::tanh: c.flops = 4 * out; break;
        case OpKind::gelu: c.flops = 8 * out; break;
        case OpKind::softmax: c.flops = 5 * out; break;
        case OpKind::layer_norm: c.flops = 8 * out; break;
        case OpKind::relu_backward: c.flops = out; break;
        case OpKind::tanh_backward: c.flops = 2 * out; break;
        case OpKind::gelu_backward: c.flops = 12 * out; break;
        case OpKind::softmax_backward: c.flops = 4 * out; break;
        case OpKind::layer_norm_backward: c.flops = 14 * out; break;
        case OpKind::reduce_sum: c.flops = elements(g, op.inputs[0]); break;
        case OpKind::embedding: c.flops = 0; break;
        case OpKind::embedding_backward: c.flops = elements(g, op.inputs[0]); break;
        case OpKind::concat:
        case OpKind::slice:
        case OpKind::slice_backward: c.flops = 0; break;
        case OpKind::cross_entropy: c.flops = 5 * elements(g, op.inputs[0]); break;
        case OpKind::cross_entropy_backward: c.flops = 3 * elements(g, op.inputs[1]); break;
        case OpKind::optimizer_update: c.flops = (op.attr("optimizer") == 0.0 ? 12.0 : 3.0) * elements(g, op.inputs[0]); break;
        case OpKind::seq_transform: c.flops = 2.0 * static_cast<double>(in0[0]) * static_cast<double>(in0[1]) * static_cast<double>(in0[1]) * static_cast<double>(in0[2]); break;
        case OpKind::conv1d:
        case OpKind::conv1d_backward: {
            const auto& w = g.tensors[static_cast<std::size_t>(op.inputs[op.kind == OpKind::conv1d ? 1 : 2])].shape;
            const auto& x = g.tensors[static_cast<std::size_t>(op.inputs[op.kind == OpKind::conv1d ? 0 : 1])].shape;
            const double base = 2.0 * static_cast<double>(x[0]) * static_cast<double>(x[1]) * static_cast<double>(x[2]) * static_cast<double>(w[2]);
            c.flops = op.kind == OpKind::conv1d ? base : 2 * base;
            break;
        }
    }
    return c;
}

}  // namespace transcode::engine
