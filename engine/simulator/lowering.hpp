// Lowering: each op of a model graph becomes `tiles` identical tiles of the accelerator's
// (b, x, y) tile, placed on the compute unit that runs them fastest.
//
// Geometry. The op's reference tensor is flattened to [batch, rows, cols] (cols = the last dim,
// rows = the one before, batch = the product of the rest) and cut into ceil(batch/b) x
// ceil(rows/x) x ceil(cols/y) tiles. The reference tensor is the output, except: reduce_sum and
// embedding_backward (their first input), cross_entropy (the logits), optimizer_update (the
// weight) and layer_norm_backward (dy). MAC kinds also cut their reduction:
//   matmul         output [..., m, n], reduction k (A's contracted dim; times A's batch dims when
//                  batch_reduce = 1, which then has no batch): chunks of min(k, y)
//   seq_transform  [B, S, C] with reduction S, chunks of min(S, y)
//   conv1d(_backward)  [B, S, C], depth = kernel size (one chunk)
// A partial tile costs as the full (padded) tile; `padded_fraction` reports how much of the work
// is padding.
//
// Placement. Among the unit groups that execute the op's kind, the one with the least
// ceil(tiles / instances) x cycles per tile (first in the file on ties).
//
// Ops of one class (prepared_graph.hpp) lower identically, so each class is lowered once, with one
// tile_cost() call per candidate unit group. Component plugins' tile_cost() must therefore be a
// pure function of its TileWork (the SDK states this).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/accelerator.hpp"
#include "simulator/prepared_graph.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

struct LoweredOp {
    OpId op = 0;                     ///< the first op of its class
    std::size_t unit = 0;            ///< index into Accelerator::units
    std::int64_t tiles = 0;
    std::int64_t cycles_per_tile = 0;
    double energy_per_tile_j = 0;
    double padded_fraction = 0;      ///< 1 - useful / padded elements of the output tiles
    /// Per input and output: elements of that tensor one tile reads or writes.
    std::vector<std::int64_t> input_tile_elements;
    std::int64_t output_tile_elements = 0;
    /// Per input: input_fetch_fraction (prepared_graph.hpp); an embedding's gathered rows are not
    /// kept on chip.
    std::vector<double> input_fetch_fraction;
};

/// Op kinds of `g` that no unit of `acc` executes, each with the first op that needs it.
std::vector<std::pair<OpKind, std::string>> unsupported_op_kinds(const ModelGraph& g, const Accelerator& acc);
/// The same, from a prepared graph's op classes (no pass over every op).
std::vector<std::pair<OpKind, std::string>> unsupported_op_kinds(const PreparedGraph& p, const Accelerator& acc);

/// Every op of a prepared graph, lowered: one LoweredOp per op class.
struct Lowering {
    const PreparedGraph* prepared = nullptr;
    std::vector<LoweredOp> classes;
    const LoweredOp& of(std::size_t op) const { return classes[prepared->op_class(op)]; }
    /// Why the pair cannot be simulated, or "": an op with more than max_tiles_per_op tiles
    /// (graph/model_size.hpp), or whose compute alone runs past cycle_limit. Such an op's class
    /// holds 1 tile, so that nothing downstream overflows before the caller reports it.
    std::string infeasible;
};

/// Lowers every op (its class). Throws ConfigError "accelerator 'A' has no unit that executes op
/// kind 'K' (needed by op 'O')" when no unit runs an op, and PluginError when a component returns
/// a bad cost.
Lowering lower(const PreparedGraph& p, const Accelerator& acc, bool training);

}  // namespace transcode::engine
