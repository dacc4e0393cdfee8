// The `model` plugin kind: a transformer family that builds the forward graph of one model.
#pragma once

#include "transcode/graph.hpp"
#include "transcode/plugin.hpp"

namespace transcode {

/// Parts of a model, as OpDesc::layer numbers them.
namespace model_section {
inline constexpr int embeddings = -1;  ///< token/position/segment embeddings and their layer-norm
/// 0 .. L-1: the encoder layers (ModelGraph::layers = L)
inline int pooler(int layers) { return layers; }          ///< the pooler (counted in published sizes)
inline int task_head(int layers) { return layers + 1; }   ///< classifier and loss (not counted)
}  // namespace model_section

/// A model family. The factory receives the model's parameters (sizes, presets, batch and
/// sequence length) and create() may throw ConfigError with a parameter path for mistakes the
/// schema cannot express.
class BOOST_SYMBOL_VISIBLE ModelFamily : public PluginObject {
public:
    /// The forward graph of one training/inference step, ending in the scalar loss (set with
    /// GraphBuilder::set_loss). The engine derives backward and update phases for training.
    virtual ModelGraph build_forward() const = 0;
};

}  // namespace transcode
