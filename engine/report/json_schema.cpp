#include "report/json_schema.hpp"

#include "model/model_file.hpp"
#include "report/results.hpp"

namespace transcode::engine {

namespace {

nlohmann::json object_of(const ParamSchema& fields) {
    nlohmann::json j{{"type", "object"}, {"additionalProperties", false}, {"properties", nlohmann::json::object()}};
    nlohmann::json required = nlohmann::json::array();
    for (const auto& f : fields) {
        j["properties"][f.name()] = json_schema_of(f);
        if (f.is_required()) required.push_back(f.name());
    }
    if (!required.empty()) j["required"] = required;
    return j;
}

// `include:` may stand in any map: allow it beside the declared keys.
void allow_include(nlohmann::json& object) {
    object["properties"]["include"] = {{"type", "string"}, {"description", "a YAML file (relative to this one) whose map is the base of this one"}};
    object.erase("required");  // required keys may come from the included file
}

// Plugin-dependent params: for each plugin of `kind`, if `selector` names it, `params` follows its
// schema.
nlohmann::json plugin_conditionals(const PluginHost& host, PluginKind kind, const char* selector) {
    nlohmann::json all = nlohmann::json::array();
    for (const PluginInfo* p : host.list(kind)) {
        nlohmann::json names = nlohmann::json::array({p->name, p->name.substr(p->name.find('.') + 1)});
        nlohmann::json params = object_of(p->schema);
        allow_include(params);
        all.push_back({{"if", {{"properties", {{selector, {{"enum", names}}}}}}}, {"then", {{"properties", {{"params", params}}}}}});
    }
    return all;
}

nlohmann::json model_object(const PluginHost& host) {
    nlohmann::json m = object_of(model_schema());
    allow_include(m);
    m["properties"]["family"]["enum"] = nlohmann::json::array();
    for (const PluginInfo* p : host.list(PluginKind::model)) {
        m["properties"]["family"]["enum"].push_back(p->name);
        m["properties"]["family"]["enum"].push_back(p->name.substr(p->name.find('.') + 1));
    }
    m["allOf"] = plugin_conditionals(host, PluginKind::model, "family");
    return m;
}

}  // namespace

nlohmann::json json_schema_of(const ParamSpec& s) {
    nlohmann::json j;
    switch (s.type()) {
        case ParamType::boolean: j["type"] = "boolean"; break;
        case ParamType::integer: j["type"] = "integer"; break;
        case ParamType::floating: j["type"] = "number"; break;
        case ParamType::string: j["type"] = "string"; break;
        case ParamType::enumeration: j["enum"] = s.choices(); break;
        case ParamType::list: j["type"] = "array"; j["items"] = json_schema_of(*s.element()); break;
        case ParamType::map:
            if (s.fields() != nullptr) {
                j = object_of(*s.fields());
                allow_include(j);
            } else {
                j["type"] = "object";
            }
            break;
    }
    const bool numeric = s.type() == ParamType::integer || s.type() == ParamType::floating;
    if (s.min()) j[numeric ? (s.min_exclusive() ? "exclusiveMinimum" : "minimum") : "minItems"] = *s.min();
    if (s.max()) j[numeric ? "maximum" : "maxItems"] = *s.max();
    std::string doc = s.doc();
    if (!s.unit().empty()) doc += " (" + s.unit() + ")";
    if (!doc.empty()) j["description"] = doc;
    if (s.default_value()) j["default"] = to_json(*s.default_value());
    return j;
}

nlohmann::json experiment_json_schema(const ParamSchema& experiment, const PluginHost& host) {
    nlohmann::json j = object_of(experiment);
    j["$schema"] = "http://json-schema.org/draft-07/schema#";
    j["title"] = "transcode experiment";
    j["properties"]["model"] = model_object(host);
    j["properties"]["pruning"]["allOf"] = plugin_conditionals(host, PluginKind::pruning, "plugin");
    nlohmann::json& names = j["properties"]["pruning"]["properties"]["plugin"]["enum"];
    names = nlohmann::json::array();
    for (const PluginInfo* p : host.list(PluginKind::pruning)) {
        names.push_back(p->name);
        names.push_back(p->name.substr(p->name.find('.') + 1));
    }
    return j;
}

nlohmann::json model_json_schema(const PluginHost& host) {
    nlohmann::json j = model_object(host);
    j["$schema"] = "http://json-schema.org/draft-07/schema#";
    j["title"] = "transcode model";
    j["required"] = nlohmann::json::array({"name"});
    return j;
}

}  // namespace transcode::engine
