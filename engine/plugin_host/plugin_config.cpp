#include "plugin_host/plugin_config.hpp"

#include <fmt/format.h>

namespace transcode::engine {

const PluginInfo* find_plugin(const PluginHost& host, const std::string& name, PluginKind kind, const std::string& what, const config::Location& where,
                              const std::string& path, config::Diagnostics& diags) {
    if (const PluginInfo* info = host.find(name, kind)) return info;
    const std::string near = config::closest_match(name, host.names(kind));
    std::string available;
    for (const auto* p : host.list(kind)) available += (available.empty() ? "" : ", ") + p->name;
    diags.add(where, path,
              near.empty() ? fmt::format("unknown {} '{}'; available: {}", what, name, available.empty() ? "none" : available)
                           : fmt::format("unknown {} '{}'; did you mean '{}'?", what, name, near),
              "unknown-plugin");
    return nullptr;
}

void report_plugin_config_error(const ConfigError& e, const config::Node& params, const std::string& params_path, const std::string& plugin,
                                config::Diagnostics& diags) {
    const config::Node* at = e.path().empty() ? nullptr : config::find_path(params, e.path());
    diags.add(at != nullptr ? at->where : params.where, e.path().empty() ? params_path : params_path + "." + e.path(), e.what(), plugin);
}

}  // namespace transcode::engine
