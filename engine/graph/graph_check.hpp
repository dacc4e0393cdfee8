// Checks a ModelGraph from a plugin (or derived by the engine): ids, single producers, shapes per
// op kind (graph.hpp documents the rules), names, and acyclicity; and gives a topological order.
#pragma once

#include <string>
#include <vector>

#include "transcode/graph.hpp"

namespace transcode::engine {

/// The output shapes `op` must have, given its input shapes. Throws PluginError naming the op
/// and the mismatch ("op 'l0.q' (matmul): inner dimensions differ: ...").
std::vector<Shape> infer_output_shapes(const ModelGraph& g, const OpDesc& op);

/// Validates the whole graph; `who` names its source in messages (e.g. "model 'models.flexibert'").
/// Throws PluginError on the first problem.
void check_graph(const ModelGraph& g, const std::string& who);

/// Op indices in dependency order (Boost.Graph topological sort). Throws PluginError naming an
/// op on a cycle if there is one.
std::vector<OpId> topological_order(const ModelGraph& g, const std::string& who);

std::string shape_text(const Shape& s);

}  // namespace transcode::engine
