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
//  * Load patterns (analytic fidelity). The analytic model loads an input unless it is already on
//    chip (produced, or loaded whole, by an earlier op or operand) and fits its buffer. Whether it
//    was seen before is a property of the graph; ops of one class that agree in it load the same
//    bytes on any accelerator, so the analytic closed forms run once per pattern.
//
// A PreparedGraph refers to its ModelGraph: keep the graph alive and unchanged while it is used.
#pragma once

#include <cstdint>
#include <vector>

#include "transcode/graph.hpp"

namespace transcode::engine {

/// The fraction of input `k` of `op` read from main memory when it is not on chip: 1, except an
/// embedding's table, of which only the gathered rows (ids / rows) are read.
double input_fetch_fraction(const ModelGraph& g, const OpDesc& op, std::size_t k);

class PreparedGraph {
public:
    struct LoadPattern {
        std::uint32_t op_class = 0;
        OpId first_op = 0;                  ///< an op of the pattern
        std::int64_t ops = 0;               ///< how many ops share it
        std::int64_t phase_ops[3] = {0, 0, 0};  ///< of them, in each Phase
        std::vector<std::uint8_t> seen;     ///< per input: already on chip when it fits
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

    std::uint32_t load_pattern(std::size_t op) const { return op_pattern_[op]; }
    Phase phase(std::size_t op) const { return phase_[op]; }
    const std::vector<LoadPattern>& load_patterns() const { return patterns_; }

private:
    const ModelGraph* g_;
    std::vector<double> sparsity_;
    std::vector<std::uint32_t> tensor_type_, op_class_, op_pattern_;
    std::vector<Phase> phase_;  ///< per op, kept together for the accounting's pass over ops
    std::vector<TensorId> type_rep_;
    std::vector<OpId> class_rep_;
    std::vector<std::int64_t> class_ops_;
    std::vector<LoadPattern> patterns_;
};

}  // namespace transcode::engine
