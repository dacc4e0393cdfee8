// Choosing plugins in YAML: the two steps every `plugin:`/`family:`/`component:` key shares, with
// the same messages wherever a plugin is named.
#pragma once

#include <functional>
#include <string>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// A chosen plugin with its validated parameters.
struct PluginChoice {
    const PluginInfo* info = nullptr;
    Params params;
};

/// Resolves a `{plugin: NAME, params: {...}}` section at `path` of an experiment (`section` may be
/// null: then `default_name` with default params). Finds the plugin, validates its params, and lets
/// the plugin check them through `check` (which usually creates one object); a ConfigError it
/// throws is located at the parameter it names. Problems go to `diags`; info is null after any.
PluginChoice resolve_plugin_section(const config::Node* section, const std::string& path, const std::string& default_name, PluginKind kind,
                                    const std::string& what, const config::Location& fallback, PluginHost& host, config::Diagnostics& diags,
                                    const std::function<void(const PluginInfo&, const Params&)>& check);

/// The plugin of `kind` called `name` (qualified or short), named at `where` (YAML path `path`).
/// When there is none, reports "unknown WHAT 'NAME'; did you mean 'X'?" (or "...; available: A, B")
/// with rule unknown-plugin and returns null. `what` is e.g. "model family" or "component".
const PluginInfo* find_plugin(const PluginHost& host, const std::string& name, PluginKind kind, const std::string& what, const config::Location& where,
                              const std::string& path, config::Diagnostics& diags);

/// Reports a ConfigError a plugin threw while checking its parameters, located at the parameter it
/// names below `params` (the node at `params_path`), with the plugin's name as the rule.
void report_plugin_config_error(const ConfigError& e, const config::Node& params, const std::string& params_path, const std::string& plugin,
                                config::Diagnostics& diags);

}  // namespace transcode::engine
