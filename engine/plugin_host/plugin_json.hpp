// Plugins as JSON, for `transcode plugins list/describe --json` and the Python module's plugins()
// and describe(): one definition of what each entry holds.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// One parameter's schema: name, type, doc, required, and unit, default, min/exclusive_min, max,
/// choices, element and fields where they apply.
nlohmann::json param_spec_json(const ParamSpec& s);

/// `plugins list --json` entry: name, kind, library, version, file, doc (its first line).
nlohmann::json plugin_summary_json(const PluginInfo& p);

/// `plugins describe --json`: as plugin_summary_json with the whole doc, plus params (the schema).
nlohmann::json plugin_description_json(const PluginInfo& p);

/// The plugin `name` names: qualified, or the short (component) name when only one plugin has it.
/// ConfigError "error: no plugin named 'X'" (with "did you mean" where one fits) otherwise.
const PluginInfo& find_plugin_to_describe(const PluginHost& host, const std::string& name);

}  // namespace transcode::engine
