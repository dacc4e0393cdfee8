#include "experiment/experiment.hpp"

#include <fmt/format.h>

#include "config/schema_validation.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

const ParamSchema& experiment_schema() {
    static const ParamSchema schema{
        ParamSpec::string("experiment", "name of the experiment; names the default output folder").required(),
        ParamSpec::string("description", "free text, copied into results.json").default_value(""),
        ParamSpec::enumeration("kind", "what the run does: sparsity_probe (prune Gaussian tensors), model_report (build and describe a model)",
                               {"sparsity_probe", "model_report"})
            .required(),
        ParamSpec::integer("seed", "seed of every random choice in the run").min(0).default_value(0),
        ParamSpec::enumeration("mode", "run a training step (forward, backward, update) or inference only", {"training", "inference"})
            .default_value("training"),
        ParamSpec::list("plugins", "extra plugin libraries to load, relative to this file",
                        ParamSpec::string("", "path of a plugin library (.so)"))
            .default_value(ValueList{}),
        ParamSpec::map("pruning", "run-time pruning strategy",
                       {
                           ParamSpec::string("plugin", "pruning plugin name, qualified or short").default_value("dynaprop"),
                           ParamSpec::open_map("params", "the plugin's parameters (see `transcode plugins describe NAME`)"),
                       }),
        ParamSpec::open_map("model", "the model: name, family, params (usually `include: ../models/NAME.yaml`)"),
        ParamSpec::map("optimizer", "the optimizer of the training step's update phase",
                       {
                           ParamSpec::enumeration("type", "optimizer", {"adamw", "sgd"}).default_value("adamw"),
                           ParamSpec::floating("learning_rate", "step size").greater_than(0).default_value(1e-4),
                           ParamSpec::floating("beta1", "AdamW first-moment decay").min(0).max(0.999999).default_value(0.9),
                           ParamSpec::floating("beta2", "AdamW second-moment decay").min(0).max(0.999999999).default_value(0.999),
                           ParamSpec::floating("eps", "AdamW denominator guard").greater_than(0).default_value(1e-8),
                           ParamSpec::floating("weight_decay", "decoupled weight decay (AdamW) or L2 (SGD)").min(0).default_value(0.01),
                       }),
        ParamSpec::map("probe", "kind sparsity_probe: seeded Gaussian tensors pruned by the strategy",
                       {
                           ParamSpec::integer("rows", "rows of each probe tensor").greater_than(0).max(1 << 20).default_value(256),
                           ParamSpec::integer("cols", "columns of each probe tensor").greater_than(0).max(1 << 20).default_value(256),
                           ParamSpec::floating("activation_std", "standard deviation of the activation tensor").greater_than(0).default_value(1.0),
                           ParamSpec::floating("gradient_std", "standard deviation of the gradient tensors").greater_than(0).default_value(1e-3),
                       }),
    };
    return schema;
}

Experiment load_experiment(const fs::path& file, const std::vector<std::string>& overrides, PluginHost& host) {
    config::Diagnostics diags;
    config::Node root = config::load_file(file, diags);
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    return load_experiment(std::move(root), std::move(diags), file, host);
}

Experiment load_experiment(config::Node root, config::Diagnostics diags, const fs::path& file, PluginHost& host) {
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    if (root.kind != config::Node::Kind::map) {
        diags.add(root.where.file.empty() ? config::Location{file.string(), 1, 1} : root.where, "",
                  fmt::format("an experiment must be a map, got {}", root.kind_name()), "type");
        diags.throw_if_any();
    }

    ValueMap values = config::validate_map(root, experiment_schema(), "", diags);
    Experiment ex;
    ex.file = file;

    // Extra plugin libraries, relative to the experiment file.
    if (const config::Node* list = root.find("plugins"); list != nullptr && list->kind == config::Node::Kind::sequence) {
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const auto& item = list->items[i];
            if (item.kind != config::Node::Kind::scalar) continue;  // reported by validation
            const fs::path lib = fs::path(item.where.file == "--set" ? "" : fs::path(item.where.file).parent_path()) / item.scalar;
            try {
                host.load_library(lib);
            } catch (const PluginError& e) {
                diags.add(item.where, fmt::format("plugins[{}]", i), e.what(), "plugin");
            }
        }
    }

    // The pruning plugin and its parameters.
    const config::Node* pruning = root.find("pruning");
    const ValueMap* pruning_values = values.count("pruning") ? &values.at("pruning").as_map() : nullptr;
    if (pruning_values != nullptr && pruning_values->count("plugin")) {
        const std::string& name = pruning_values->at("plugin").as_string();
        const config::Node* name_node = pruning != nullptr ? pruning->find("plugin") : nullptr;
        const config::Location where = name_node != nullptr ? name_node->where : (pruning != nullptr ? pruning->where : root.where);
        ex.pruning.info = host.find(name, PluginKind::pruning);
        if (ex.pruning.info == nullptr) {
            const std::string near = config::closest_match(name, host.names(PluginKind::pruning));
            std::string available;
            for (const auto* p : host.list(PluginKind::pruning)) available += (available.empty() ? "" : ", ") + p->name;
            diags.add(where, "pruning.plugin",
                      near.empty() ? fmt::format("unknown pruning plugin '{}'; available: {}", name, available.empty() ? "none" : available)
                                   : fmt::format("unknown pruning plugin '{}'; did you mean '{}'?", name, near),
                      "unknown-plugin");
        } else {
            const config::Node* params = pruning != nullptr ? pruning->find("params") : nullptr;
            config::Node empty;
            empty.where = pruning != nullptr ? pruning->where : root.where;
            ValueMap p = config::validate_map(params != nullptr ? *params : empty, ex.pruning.info->schema, "pruning.params", diags);
            ValueMap resolved_pruning{{"plugin", Value{ex.pruning.info->name}}, {"params", Value{p}}};
            values["pruning"] = Value{std::move(resolved_pruning)};
            ex.pruning.params = Params(std::move(p));
            // Let the plugin check what its schema cannot (cross-field rules) now, so that its
            // ConfigError is located at the parameter it names, like any other config error.
            if (diags.empty()) {
                const config::Node& pn = params != nullptr ? *params : empty;
                try {
                    host.create<PruningStrategy>(*ex.pruning.info, ex.pruning.params);
                } catch (const ConfigError& e) {
                    const config::Node* at = e.path().empty() ? nullptr : config::find_path(pn, e.path());
                    diags.add(at != nullptr ? at->where : pn.where, e.path().empty() ? "pruning.params" : "pruning.params." + e.path(), e.what(),
                              ex.pruning.info->name);
                }
            }
        }
    }
    // The model, if any: validated, built and checked with its family plugin.
    if (const config::Node* model = root.find("model"); model != nullptr && model->kind == config::Node::Kind::map) {
        ex.model = resolve_model(*model, "model", host, diags);
        if (ex.model)
            values["model"] = Value{ValueMap{{"name", Value{ex.model->name}},
                                             {"family", Value{ex.model->family->name}},
                                             {"description", Value{ex.model->description}},
                                             {"params", Value{ex.model->params.values()}}}};
    } else if (values.count("kind") && values.at("kind").as_string() == "model_report" && model == nullptr) {
        diags.add(root.where, "model", "kind model_report needs a model section (e.g. model: {include: ../models/bert-tiny.yaml})", "required");
    }
    diags.throw_if_any();

    ex.name = values.at("experiment").as_string();
    ex.description = values.at("description").as_string();
    ex.kind = values.at("kind").as_string();
    ex.seed = static_cast<std::uint64_t>(values.at("seed").as_int());
    ex.mode = values.at("mode").as_string() == "training" ? RunMode::training : RunMode::inference;
    const ValueMap& probe = values.at("probe").as_map();
    ex.probe.rows = probe.at("rows").as_int();
    ex.probe.cols = probe.at("cols").as_int();
    ex.probe.activation_std = probe.at("activation_std").as_float();
    ex.probe.gradient_std = probe.at("gradient_std").as_float();
    const ValueMap& opt = values.at("optimizer").as_map();
    ex.optimizer.kind = opt.at("type").as_string() == "adamw" ? OptimizerSettings::Kind::adamw : OptimizerSettings::Kind::sgd;
    ex.optimizer.learning_rate = opt.at("learning_rate").as_float();
    ex.optimizer.beta1 = opt.at("beta1").as_float();
    ex.optimizer.beta2 = opt.at("beta2").as_float();
    ex.optimizer.eps = opt.at("eps").as_float();
    ex.optimizer.weight_decay = opt.at("weight_decay").as_float();
    ex.resolved = Value{std::move(values)};
    return ex;
}

}  // namespace transcode::engine
