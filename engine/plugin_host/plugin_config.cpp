#include "plugin_host/plugin_config.hpp"

#include <fmt/format.h>

#include "config/schema_validation.hpp"

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

PluginChoice resolve_plugin_section(const config::Node* section, const std::string& path, const std::string& default_name, PluginKind kind,
                                    const std::string& what, const config::Location& fallback, PluginHost& host, config::Diagnostics& diags,
                                    const std::function<void(const PluginInfo&, const Params&)>& check) {
    PluginChoice choice;
    const config::Node* name_node = section != nullptr ? section->find("plugin") : nullptr;
    const std::string name = name_node != nullptr && name_node->kind == config::Node::Kind::scalar ? name_node->scalar : default_name;
    const config::Location where = name_node != nullptr ? name_node->where : (section != nullptr ? section->where : fallback);
    const PluginInfo* info = find_plugin(host, name, kind, what, where, path + ".plugin", diags);
    if (info == nullptr) return choice;
    const config::Node* params = section != nullptr ? section->find("params") : nullptr;
    config::Node empty;
    empty.kind = config::Node::Kind::map;
    empty.where = where;
    const config::Node& pn = params != nullptr ? *params : empty;
    const std::size_t before = diags.size();
    ValueMap values = config::validate_map(pn, info->schema, path + ".params", diags);
    if (diags.size() != before) return choice;
    Params p(std::move(values));
    try {
        check(*info, p);
    } catch (const ConfigError& e) {
        report_plugin_config_error(e, pn, path + ".params", info->name, diags);
        return choice;
    }
    choice.info = info;
    choice.params = std::move(p);
    return choice;
}

}  // namespace transcode::engine
