// A model graph prepared for simulation: everything ELECTOR needs of the graph that does not depend
// on the accelerator, computed once, so that one graph can be simulated on many accelerators (a
// sweep, an accelerator search) without repeating it. Timeloop keeps its workload apart from the
// architecture the same way.
//
//  * Tensor types. Tensors that agree in shape, role, element width, integer-ness and sparsity
//    occupy, move and cost the same on every accelerator.
//  * Op classes. Ops that agree in kind, attributes and, operand by operand, tensor type lower
//    identically (lowering reads nothing else): lowering.hpp lowers each class once. A BERT-Base
//    training step has 5,207 ops in 79 classes. A dropout's `seed` is left out (it picks the mask,
//    not the cost), so the dropouts of a model share classes.
//  * Touch intervals (analytic fidelity): the first and last op that reads or writes each tensor,
//    and how many ops read it. The analytic model sums, per buffer, the bytes of the tensors live
//    at each op from them.
//
// A PreparedGraph refers to its ModelGraph: keep the graph alive and unchanged while it is used.
#pragma once

#include <cstdint>
#include <vector>

#include "transcode/component.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

/// The on-chip buffer a tensor of `role` lives in: weights, their gradients and optimizer state in
/// the weight buffer, everything else in the activation buffer (its mask bits in the mask buffer).
inline BufferClass buffer_class_of(TensorRole role) {
    return role == TensorRole::weight || role == TensorRole::weight_gradient || role == TensorRole::optimizer_state ? BufferClass::weight
                                                                                                                   : BufferClass::activation;
}

/// How an accelerator sizes a tensor's elements: data_bits, gradient_bits, optimizer_state_bits, or
/// the tensor's own width (integers).
enum class WidthGroup { data, gradient, optimizer_state, integer };
inline WidthGroup width_group(const TensorDesc& t) {
    if (t.is_integer) return WidthGroup::integer;
    if (t.role == TensorRole::activation_gradient || t.role == TensorRole::weight_gradient) return WidthGroup::gradient;
    if (t.role == TensorRole::optimizer_state) return WidthGroup::optimizer_state;
    return WidthGroup::data;
}

/// The fraction of input `k` of `op` read from main memory when it is not on chip: 1, except an
/// embedding's table, of which only the gathered rows (ids / rows) are read, and every input of a
/// sparse embedding update (its `rows_fraction`, training_graph.hpp).
double input_fetch_fraction(const ModelGraph& g, const OpDesc& op, std::size_t k);
/// The fraction of each output of `op` that it writes: 1, except a sparse embedding update and its
/// table's gradient (`rows_fraction`). Such outputs are written to main memory, never kept.
double output_write_fraction(const OpDesc& op);

class PreparedGraph {
public:
    /// An op's operand in the flat table that the analytic loop walks (inputs first, then outputs).
    struct Operand {
        TensorId tensor = 0;
        std::uint32_t type = 0;     ///< its tensor type
        std::uint8_t input = 0;     ///< inputs: its index among the op's inputs
        bool repeat = false;        ///< inputs: the same tensor is an earlier input of the op
        double fetch_fraction = 1;  ///< inputs: input_fetch_fraction(); outputs: output_write_fraction()
    };

    /// `tensor_sparsity[t]`: the fraction of zeros of tensor t; empty means dense. Throws
    /// InternalError when its size is not the graph's tensor count.
    PreparedGraph(const ModelGraph& g, std::vector<double> tensor_sparsity);

    const ModelGraph& graph() const { return *g_; }
    const std::vector<double>& sparsity() const { return sparsity_; }

    std::uint32_t tensor_type(TensorId t) const { return tensor_type_[static_cast<std::size_t>(t)]; }
    /// One tensor of each type.
    const std::vector<TensorId>& type_representatives() const { return type_rep_; }

    std::uint32_t op_class(std::size_t op) const { return op_class_[op]; }
    /// The first op of each class, and how many ops each class has.
    const std::vector<OpId>& class_representatives() const { return class_rep_; }
    const std::vector<std::int64_t>& class_ops() const { return class_ops_; }

    Phase phase(std::size_t op) const { return phase_[op]; }
    /// Op i's inputs are operands()[operand_begin(i), operand_begin(i) + inputs(i)), its outputs follow
    /// up to operand_begin(i + 1).
    const std::vector<Operand>& operands() const { return operands_; }
    std::uint32_t operand_begin(std::size_t op) const { return operand_begin_[op]; }
    std::uint32_t inputs(std::size_t op) const { return inputs_[op]; }
    /// The first and last op that reads or writes tensor t (-1 when none does), and how many read it.
    std::int32_t first_touch(std::size_t t) const { return first_touch_[t]; }
    std::int32_t last_touch(std::size_t t) const { return last_touch_[t]; }
    std::int32_t consumers(std::size_t t) const { return consumers_[t]; }
    /// Live at op i (touched at or before it, and again at or after it) in buffer b (activation 0,
    /// weight 1), width group w: elements x (1 - sparsity) of the float groups, bytes of integers.
    double live(std::size_t b, WidthGroup w, std::size_t i) const { return live_[b * 4 + static_cast<std::size_t>(w)][i]; }
    /// Live mask bytes at op i (one bit per element of every sparse tensor).
    double live_mask(std::size_t i) const { return live_[8][i]; }

private:
    const ModelGraph* g_;
    std::vector<double> sparsity_;
    std::vector<std::uint32_t> tensor_type_, op_class_;
    std::vector<std::int32_t> first_touch_, last_touch_, consumers_;
    std::vector<double> live_[9];
    std::vector<Operand> operands_;
    std::vector<std::uint32_t> operand_begin_, inputs_;
    std::vector<Phase> phase_;  ///< per op, kept together for the accounting's pass over ops
    std::vector<TensorId> type_rep_;
    std::vector<OpId> class_rep_;
    std::vector<std::int64_t> class_ops_;
};

}  // namespace transcode::engine
