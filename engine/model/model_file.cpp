#include "model/model_file.hpp"

#include <fmt/format.h>

#include "config/schema_validation.hpp"
#include "graph/graph_check.hpp"
#include "graph/model_size.hpp"
#include "plugin_host/plugin_config.hpp"

namespace transcode::engine {

const ParamSchema& model_schema() {
    static const ParamSchema schema{
        ParamSpec::string("name", "name of the model, used in reports").required(),
        ParamSpec::string("family", "model family plugin, qualified or short (see `transcode plugins list --kind model`)").default_value("flexibert"),
        ParamSpec::string("description", "free text").default_value(""),
        ParamSpec::open_map("params", "the family's parameters (see `transcode plugins describe FAMILY`)"),
    };
    return schema;
}

namespace {
std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }
}  // namespace

std::optional<LoadedModel> resolve_model(const config::Node& node, const std::string& path, PluginHost& host, config::Diagnostics& diags) {
    const std::size_t before = diags.size();
    ValueMap values = config::validate_map(node, model_schema(), path, diags);
    if (!values.count("family") || !values.count("name")) return std::nullopt;
    LoadedModel m;
    m.name = values.at("name").as_string();
    m.description = values.at("description").as_string();
    const std::string& family = values.at("family").as_string();
    const config::Node* family_node = node.find("family");
    m.family = find_plugin(host, family, PluginKind::model, "model family", family_node != nullptr ? family_node->where : node.where, join(path, "family"),
                           diags);
    if (m.family == nullptr) return std::nullopt;
    const config::Node* params_node = node.find("params");
    config::Node empty;
    empty.where = node.where;
    const config::Node& pn = params_node != nullptr ? *params_node : empty;
    const std::string params_path = join(path, "params");
    ValueMap p = config::validate_map(pn, m.family->schema, params_path, diags);
    if (diags.size() != before) return std::nullopt;
    m.params = Params(std::move(p));
    try {
        const auto family_obj = host.create<ModelFamily>(*m.family, m.params);
        m.forward = call_plugin(m.family->name, "build_forward", [&] { return family_obj->build_forward(); });
    } catch (const ConfigError& e) {
        report_plugin_config_error(e, pn, params_path, m.family->name, diags);
        return std::nullopt;
    }
    // Before check_graph, whose shape rules multiply dimensions: an absurd size is the user's
    // parameter, reported where the parameters are (in co-design: the candidate is infeasible).
    if (const std::string problem = model_size_problem(m.forward); !problem.empty()) {
        diags.add(pn.where, params_path, fmt::format("model '{}' is too large to simulate: {}", m.name, problem), "limit");
        return std::nullopt;
    }
    check_graph(m.forward, fmt::format("model family '{}'", m.family->name));
    return m;
}

LoadedModel load_model_file(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host) {
    config::Diagnostics diags;
    config::Node root = config::load_file(file, diags);
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    return load_model(std::move(root), std::move(diags), file, host);
}

LoadedModel load_model(config::Node root, config::Diagnostics diags, const std::filesystem::path& file, PluginHost& host) {
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    if (root.kind != config::Node::Kind::map) {
        diags.add(root.where.file.empty() ? config::Location{file.string(), 1, 1} : root.where, "",
                  fmt::format("a model file must be a map, got {}", root.kind_name()), "type");
        diags.throw_if_any();
    }
    auto loaded = resolve_model(root, "", host, diags);
    diags.throw_if_any();
    if (!loaded) throw InternalError("resolve_model failed without a diagnostic");
    return std::move(*loaded);
}

}  // namespace transcode::engine
