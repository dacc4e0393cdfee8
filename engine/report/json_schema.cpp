#include "report/json_schema.hpp"

#include "design_space/design_space_file.hpp"
#include "hardware/accelerator.hpp"
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

// The names a `plugin:`/`family:`/`component:` key may give for plugins of `kind`: qualified and short.
nlohmann::json plugin_names(const PluginHost& host, PluginKind kind) {
    nlohmann::json names = nlohmann::json::array();
    for (const PluginInfo* p : host.list(kind)) {
        names.push_back(p->name);
        names.push_back(p->name.substr(p->name.find('.') + 1));
    }
    return names;
}

// A `{plugin, params}` section: `plugin` is one of the plugins of `kind`, and `params` follows that
// plugin's schema.
void plugin_section(nlohmann::json& section, const PluginHost& host, PluginKind kind) {
    section["properties"]["plugin"]["enum"] = plugin_names(host, kind);
    section["allOf"] = plugin_conditionals(host, kind, "plugin");
}

nlohmann::json unit_object(const PluginHost& host) {
    nlohmann::json u = object_of(accelerator_unit_schema());
    u["properties"]["component"]["enum"] = plugin_names(host, PluginKind::component);
    u["allOf"] = plugin_conditionals(host, PluginKind::component, "component");
    return u;
}

nlohmann::json accelerator_object(const PluginHost& host) {
    nlohmann::json a = object_of(accelerator_schema());
    allow_include(a);
    a["properties"]["units"]["items"] = unit_object(host);
    a["properties"]["processing_elements"]["properties"]["units"]["items"] = unit_object(host);
    return a;
}

nlohmann::json design_space_object() {
    nlohmann::json d = object_of(design_space_file_schema());
    allow_include(d);
    const auto list_of = [](nlohmann::json item) { return nlohmann::json{{"type", "array"}, {"minItems", 1}, {"items", std::move(item)}}; };
    nlohmann::json flexibert{{"type", "object"}, {"additionalProperties", false}, {"properties", nlohmann::json::object()},
                             {"description", "a flexibert model space: the values of each knob"}};
    for (const char* k : {"layers", "hidden", "heads", "ff_stacks", "ff_hidden"}) flexibert["properties"][k] = list_of({{"type", "integer"}, {"minimum", 1}});
    flexibert["properties"]["head_ops"] = list_of({{"type", "string"}});
    flexibert["properties"]["ff_activation"] = list_of({{"enum", {"gelu", "relu"}}});
    nlohmann::json knob{{"type", "object"},
                        {"additionalProperties", false},
                        {"required", {"name", "values"}},
                        {"properties",
                         {{"name", {{"type", "string"}, {"description", "the knob's name"}}},
                          {"values", {{"type", "array"}, {"minItems", 1}, {"description", "the knob's choices"}}},
                          {"set", list_of({{"type", "string"}, {"description", "a path of the base accelerator, e.g. units[main_memory].params"}})},
                          {"model_params", list_of({{"type", "string"}, {"description", "a parameter of the model this knob also sets"}})},
                          {"ordinal", {{"type", "boolean"}, {"description", "whether the values are ordered (default: they are numbers)"}}}}}};
    d["properties"]["knobs"] = {{"description", "a map of value lists (target model) or a list of knobs (target accelerator)"},
                                {"oneOf", {flexibert, list_of(knob)}}};
    return d;
}

nlohmann::json with_header(nlohmann::json j, const char* title) {
    j["$schema"] = "http://json-schema.org/draft-07/schema#";
    j["title"] = title;
    return j;
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
    nlohmann::json j = with_header(object_of(experiment), "transcode experiment");
    nlohmann::json& p = j["properties"];
    p["model"] = model_object(host);
    p["accelerator"] = accelerator_object(host);
    plugin_section(p["pruning"], host, PluginKind::pruning);
    if (p.contains("search")) plugin_section(p["search"], host, PluginKind::search);
    if (p.contains("accuracy")) plugin_section(p["accuracy"], host, PluginKind::accuracy);
    if (p.contains("baseline")) {
        p["baseline"]["properties"]["model"] = model_object(host);
        p["baseline"]["properties"]["accelerator"] = accelerator_object(host);
    }
    if (p.contains("space")) {
        p["space"]["properties"]["model"] = design_space_object();
        p["space"]["properties"]["accelerator"] = design_space_object();
    }
    return j;
}

nlohmann::json model_json_schema(const PluginHost& host) {
    nlohmann::json j = with_header(model_object(host), "transcode model");
    j["required"] = nlohmann::json::array({"name"});
    return j;
}

nlohmann::json accelerator_json_schema(const PluginHost& host) {
    nlohmann::json j = with_header(accelerator_object(host), "transcode accelerator");
    j["required"] = nlohmann::json::array({"name"});
    return j;
}

nlohmann::json component_json_schema(const PluginHost& host) {
    // A component file is included into a unit's `params`, so it holds some of one component
    // plugin's parameters; which plugin is not written in the file.
    nlohmann::json any = nlohmann::json::array();
    for (const PluginInfo* info : host.list(PluginKind::component)) {
        nlohmann::json params = object_of(info->schema);
        allow_include(params);
        params["title"] = info->name;
        any.push_back(std::move(params));
    }
    return with_header({{"anyOf", any}}, "transcode component parameters");
}

nlohmann::json design_space_json_schema() {
    nlohmann::json j = with_header(design_space_object(), "transcode design space");
    j["required"] = nlohmann::json::array({"name", "target", "base", "knobs"});
    return j;
}

}  // namespace transcode::engine
