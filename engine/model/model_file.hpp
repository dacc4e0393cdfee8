// Model files: a model family plugin plus its parameters, in YAML.
//
//   name: bert-tiny          # required
//   family: flexibert        # a `model` plugin, qualified or short (default flexibert)
//   description: ...
//   params: {preset: bert-tiny}
//
// The same map may appear inline (or through `include:`) under an experiment's `model:` key.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

struct LoadedModel {
    std::string name;
    std::string description;
    const PluginInfo* family = nullptr;
    Params params;
    ModelGraph forward;  ///< checked
};

const ParamSchema& model_schema();

/// Validates a model map node at `path` ("" for a model file, "model" inside an experiment),
/// creates the family plugin and builds and checks its forward graph. Problems go to `diags`
/// (a plugin's ConfigError is located at the parameter it names); nullopt when any occurred.
std::optional<LoadedModel> resolve_model(const config::Node& node, const std::string& path, PluginHost& host, config::Diagnostics& diags);

/// Loads a model file with `--set` overrides. Throws ConfigError listing every problem.
LoadedModel load_model_file(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host);
/// The same, from an already-parsed document (overrides applied; `diags` may hold parse errors,
/// reported together with the rest). `file` names the document in errors (e.g. "<dict>").
LoadedModel load_model(config::Node root, config::Diagnostics diags, const std::filesystem::path& file, PluginHost& host);

}  // namespace transcode::engine
