// YAML text of a config node: one line in flow style (keys of caches and stores, messages), or a
// readable block document (files a user opens, such as a co-design's best_model.yaml). Both parse
// back to the same tree; locations are not written.
#pragma once

#include <string>

#include "config/node.hpp"

namespace transcode::config {

/// `{a: 1, b: [x, y]}`: the node on one line; scalars that YAML would misread are double-quoted.
std::string to_flow_text(const Node& n);

/// The node as a block-style YAML document (two-space indent, one key per line, lists of scalars
/// in flow style), ending with a newline. Quoted scalars stay quoted.
std::string to_block_text(const Node& n);

}  // namespace transcode::config
