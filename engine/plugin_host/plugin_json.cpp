#include "plugin_host/plugin_json.hpp"

#include <vector>

#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "report/results.hpp"

namespace transcode::engine {

nlohmann::json param_spec_json(const ParamSpec& s) {
    nlohmann::json j{{"name", s.name()}, {"type", to_string(s.type())}, {"doc", s.doc()}, {"required", s.is_required()}};
    if (!s.unit().empty()) j["unit"] = s.unit();
    if (s.default_value()) j["default"] = engine::to_json(*s.default_value());
    if (s.min()) j[s.min_exclusive() ? "exclusive_min" : "min"] = *s.min();
    if (s.max()) j["max"] = *s.max();
    if (!s.choices().empty()) j["choices"] = s.choices();
    if (s.element() != nullptr) j["element"] = param_spec_json(*s.element());
    if (s.fields() != nullptr) {
        j["fields"] = nlohmann::json::array();
        for (const auto& f : *s.fields()) j["fields"].push_back(param_spec_json(f));
    }
    return j;
}

nlohmann::json plugin_summary_json(const PluginInfo& p) {
    return {{"name", p.name}, {"kind", to_string(p.kind)}, {"library", p.library}, {"version", p.version},
            {"file", p.file.string()}, {"doc", p.doc.substr(0, p.doc.find('\n'))}};
}

nlohmann::json plugin_description_json(const PluginInfo& p) {
    nlohmann::json j{{"name", p.name}, {"kind", to_string(p.kind)}, {"library", p.library}, {"version", p.version},
                     {"file", p.file.string()}, {"doc", p.doc}, {"params", nlohmann::json::array()}};
    for (const auto& s : p.schema) j["params"].push_back(param_spec_json(s));
    return j;
}

const PluginInfo& find_plugin_to_describe(const PluginHost& plugins, const std::string& name) {
    const PluginInfo* info = plugins.find_any(name);
    if (info == nullptr) {
        std::vector<const PluginInfo*> matches;
        for (const auto* p : plugins.list())
            if (p->name.substr(p->name.find('.') + 1) == name) matches.push_back(p);
        if (matches.size() == 1) info = matches.front();
    }
    if (info == nullptr) {
        std::vector<std::string> all;
        for (const auto* p : plugins.list()) {
            all.push_back(p->name);
            all.push_back(p->name.substr(p->name.find('.') + 1));
        }
        const std::string near = config::closest_match(name, all);
        throw ConfigError(near.empty() ? fmt::format("error: no plugin named '{}' (see `transcode plugins list`)", name)
                                       : fmt::format("error: no plugin named '{}'; did you mean '{}'?", name, near));
    }
    return *info;
}

}  // namespace transcode::engine
