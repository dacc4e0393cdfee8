// Design-space files (configs/design_spaces/*.yaml): the knobs of one side of a co-design search,
// and how a choice of knobs becomes a model or an accelerator config.
//
// A model space (target: model) starts from a base model file of the flexibert family and sets its
// layers/hidden/heads/ff from the knobs (`structure: flexibert`):
//
//   name: flexibert2
//   target: model
//   base: ../models/bert-tiny.yaml     # the other params (sequence_length, vocab_size, ...) stay
//   heterogeneous: true                # per-layer choices; false: one choice for every layer
//   knobs:
//     layers: [2, 4, 6, 8, 10, 12]     # ascending
//     hidden: [128, 256, 512, 768]
//     heads: [2, 4, 8, 12]             # ascending
//     head_ops: [sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13]   # per head
//     ff_stacks: [1, 2, 3]             # ascending
//     ff_hidden: [256, 512, 1024, 2048, 3072, 4096]               # per stack
//
// An accelerator space (target: accelerator) starts from a base accelerator file; each knob sets
// one or more paths of it. A path selects list items by index (units[3]) or by their `name`
// (units[main_memory]); a map value is merged into the map at the path. `model_params` sets
// parameters of the model instead (AccelTran's batch size is a hardware knob):
//
//   name: acceltran
//   target: accelerator
//   base: ../accelerators/acceltran-edge.yaml
//   knobs:
//     - {name: pes, values: [64, 128, 256, 512, 1024], set: [processing_elements.count]}
//     - {name: batch_size, values: [4, 16, 32], model_params: [batch_size]}
//
// Every knob value is checked when the file loads: the base config with that one value changed
// must be accepted by the model family or the accelerator's components. A value they refuse is a
// config error at the value, quoting their reason.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "config/yaml_text.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/design_space.hpp"

namespace transcode::engine {

/// One side (model or accelerator) of a co-design space.
struct SpaceSide {
    enum class Target { model, accelerator };
    Target target = Target::model;
    std::string name;                 ///< the space's name ("flexibert2"), or the fixed config's
    std::filesystem::path file;       ///< the design-space file (empty for a fixed side)
    config::Node base;                ///< the base model or accelerator (includes resolved)
    DesignSpace space;                ///< no knobs for a fixed side
    /// The YAML node of every knob value, as written (what decoding writes into the config).
    std::vector<std::vector<config::Node>> value_nodes;

    // target model (structure flexibert): the knob lists, and where each knob is in `space`.
    struct Flexibert {
        bool heterogeneous = true;
        std::size_t max_layers = 0, max_heads = 0, max_stacks = 0;
        std::size_t layers = 0;                                        ///< knob index
        std::vector<std::size_t> hidden, heads, stacks;                ///< per layer (one entry if homogeneous)
        std::vector<std::vector<std::size_t>> head_ops, ff_hidden;     ///< per layer, per head / stack
        std::optional<std::size_t> ff_activation;                      ///< knob index, when the space has one
    } flexibert;

    // target accelerator: per knob, the paths it sets in the accelerator and the model params.
    std::vector<std::vector<std::string>> set_paths;
    std::vector<std::vector<std::string>> model_params;
};

/// A side fixed to one config node (a model or accelerator section): no knobs.
SpaceSide fixed_side(SpaceSide::Target target, const config::Node& config, const std::string& name);

/// Loads and checks a design-space file (or an inline map at `path` of an experiment) of the given
/// target. Problems go to `diags`.
SpaceSide load_space_side(const config::Node& node, const std::string& path, SpaceSide::Target target, PluginHost& host, config::Diagnostics& diags);

/// The model config (name, family, params) of a model side's candidate; `model_params` (from the
/// accelerator side, e.g. batch_size) are set on top.
config::Node decode_model(const SpaceSide& side, const Candidate& c, const std::vector<std::pair<std::string, config::Node>>& model_params);

/// The accelerator config of an accelerator side's candidate, and the model params it sets.
config::Node decode_accelerator(const SpaceSide& side, const Candidate& c, std::vector<std::pair<std::string, config::Node>>& model_params);

/// The keys of a design-space file other than `knobs` (whose shape depends on `target`: a map of
/// value lists for a flexibert model space, a list of {name, values, set, model_params, ordinal}
/// for an accelerator space).
const ParamSchema& design_space_file_schema();

}  // namespace transcode::engine
