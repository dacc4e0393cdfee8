// JSON Schema (draft-07) of experiment, model, accelerator, component and design-space files, generated from the same ParamSchemas the
// engine validates with, including the parameters of every loaded plugin. Editors with YAML
// language support use it to complete and check files as they are written.
#pragma once

#include <nlohmann/json.hpp>

#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The JSON Schema of one parameter.
nlohmann::json json_schema_of(const ParamSpec& spec);

/// The JSON Schema of experiment files (`experiment`: experiment_schema() of engine/experiment);
/// `pruning.params` and `model.params` are checked against the schema of the plugin their
/// `plugin:`/`family:` names.
nlohmann::json experiment_json_schema(const ParamSchema& experiment, const PluginHost& host);

/// The JSON Schema of model files.
nlohmann::json model_json_schema(const PluginHost& host);

/// The JSON Schema of accelerator files: each unit's `params` follows its component's schema.
nlohmann::json accelerator_json_schema(const PluginHost& host);

/// The JSON Schema of component parameter files (configs/components/), which units include into
/// their `params`: any one component plugin's parameters.
nlohmann::json component_json_schema(const PluginHost& host);

/// The JSON Schema of design-space files (configs/design_spaces/).
nlohmann::json design_space_json_schema();

}  // namespace transcode::engine
