#include "design_space/codesign_config.hpp"

#include <fmt/format.h>

#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "transcode/accuracy.hpp"
#include "transcode/search.hpp"

namespace transcode::engine {

std::vector<ParamSpec> codesign_schema_fields() {
    return {
        ParamSpec::map("space", "kind codesign: the design space; a side that is absent is fixed to the experiment's model or accelerator section",
                       {
                           ParamSpec::open_map("model", "a model space (usually include: ../design_spaces/flexibert2.yaml)"),
                           ParamSpec::open_map("accelerator", "an accelerator space (usually include: ../design_spaces/acceltran.yaml)"),
                       }),
        ParamSpec::map("search", "kind codesign: the search algorithm and its budget",
                       {
                           ParamSpec::string("plugin", "search plugin, qualified or short: random, grid, nsga2, boshcode, ...").default_value("random"),
                           ParamSpec::open_map("params", "the plugin's parameters (see `transcode plugins describe NAME`)"),
                           ParamSpec::integer("evaluations", "candidates to evaluate (a search may stop sooner when it has asked everything)")
                               .unit("candidates")
                               .min(1)
                               .max(10000000)
                               .default_value(100),
                           ParamSpec::integer("batch", "candidates per ask; they are evaluated in parallel (--threads)").unit("candidates").min(1).max(4096).default_value(8),
                           ParamSpec::integer("give_up_after",
                                              "stop with an error when this many evaluations found no feasible design (0: never); the "
                                              "message lists the commonest reasons")
                               .unit("candidates")
                               .min(0)
                               .default_value(200),
                           ParamSpec::floating("evaluation_timeout_s",
                                               "wall-clock budget of one evaluation (simulation and accuracy); one that runs longer is stored "
                                               "as infeasible (timed out), so --resume does not retry it (0: no limit)")
                               .unit("s")
                               .min(0)
                               .max(31536000)
                               .default_value(0.0),
                       }),
        ParamSpec::map("accuracy", "kind codesign: how a candidate model's accuracy is estimated",
                       {
                           ParamSpec::string("plugin", "accuracy plugin: surrogate (from a CSV of measured accuracies) or trained (trains each model)")
                               .default_value("surrogate"),
                           ParamSpec::open_map("params", "the plugin's parameters"),
                       }),
        ParamSpec::map("objective", "kind codesign: the weighted performance score (maximised) and the Pareto objectives",
                       {
                           ParamSpec::map("weights", "score = w_accuracy * accuracy + w_latency * (1 - latency / norm) + w_energy * (1 - energy / norm) + w_area * (1 - area / norm)",
                                          {
                                              ParamSpec::floating("accuracy", "weight of accuracy").min(0).default_value(0.5),
                                              ParamSpec::floating("latency", "weight of latency").min(0).default_value(0.2),
                                              ParamSpec::floating("energy", "weight of energy").min(0).default_value(0.2),
                                              ParamSpec::floating("area", "weight of chip area").min(0).default_value(0.1),
                                          }),
                           ParamSpec::map("normalisers", "what latency, energy and area are divided by (0: the baseline pair's value)",
                                          {
                                              ParamSpec::floating("latency_s", "latency normaliser").unit("s").min(0).default_value(0.0),
                                              ParamSpec::floating("energy_j", "energy normaliser").unit("J").min(0).default_value(0.0),
                                              ParamSpec::floating("area_mm2", "area normaliser").unit("mm2").min(0).default_value(0.0),
                                          }),
                           ParamSpec::map("budget", "limits a candidate must meet, else it is infeasible (0: no limit)",
                                          {
                                              ParamSpec::floating("latency_s", "largest latency of one step").unit("s").min(0).default_value(0.0),
                                              ParamSpec::floating("energy_j", "largest energy of one step").unit("J").min(0).default_value(0.0),
                                              ParamSpec::floating("area_mm2", "largest chip area").unit("mm2").min(0).default_value(0.0),
                                          }),
                           ParamSpec::floating("penalty",
                                              "the score of an infeasible candidate with no violation; each is scored penalty - violation. "
                                              "Must lie below every feasible score: at most -(w_latency + w_energy + w_area) * 99999")
                               .default_value(-1.0e6),
                           ParamSpec::map("reference_point", "the hypervolume's reference point, in normalised objectives (all minimised)",
                                          {
                                              ParamSpec::floating("accuracy_loss", "1 - accuracy").greater_than(0).default_value(1.0),
                                              ParamSpec::floating("latency", "latency / normaliser").greater_than(0).default_value(2.0),
                                              ParamSpec::floating("energy", "energy / normaliser").greater_than(0).default_value(2.0),
                                              ParamSpec::floating("area", "area / normaliser").greater_than(0).default_value(2.0),
                                          }),
                       }),
        ParamSpec::map("baseline", "kind codesign: the pair the result is compared with (and normalised by), evaluated like any candidate",
                       {
                           ParamSpec::open_map("model", "the baseline model (usually include: ../models/bert-tiny.yaml)"),
                           ParamSpec::open_map("accelerator", "the baseline accelerator (usually include: ../accelerators/acceltran-edge.yaml)"),
                       }),
    };
}

DecodedPair decode_joint(const CodesignSettings& cs, const Candidate& joint) {
    const auto nm = static_cast<std::ptrdiff_t>(cs.model.space.size());
    std::vector<std::pair<std::string, config::Node>> model_params;
    DecodedPair d;
    d.accelerator = decode_accelerator(cs.accelerator, Candidate(joint.begin() + nm, joint.end()), model_params);
    d.model = decode_model(cs.model, Candidate(joint.begin(), joint.begin() + nm), model_params);
    return d;
}

std::optional<CodesignSettings> load_codesign(const config::Node& root, const ValueMap& values, std::uint64_t seed, PluginHost& host,
                                              config::Diagnostics& diags) {
    const std::size_t before = diags.size();
    CodesignSettings cs;
    const config::Node* space = root.find("space");
    const config::Node* model_space = space != nullptr ? space->find("model") : nullptr;
    const config::Node* accel_space = space != nullptr ? space->find("accelerator") : nullptr;
    if (model_space != nullptr) {
        cs.model = load_space_side(*model_space, "space.model", SpaceSide::Target::model, host, diags);
    } else if (const config::Node* m = root.find("model"); m != nullptr && m->kind == config::Node::Kind::map) {
        const config::Node* name = m->find("name");
        cs.model = fixed_side(SpaceSide::Target::model, *m, name != nullptr ? name->scalar : "model");
    } else {
        diags.add(space != nullptr ? space->where : root.where, "space.model",
                  "kind codesign needs a model side: space.model (a design space) or a model section (a fixed model)", "required");
    }
    if (accel_space != nullptr) {
        cs.accelerator = load_space_side(*accel_space, "space.accelerator", SpaceSide::Target::accelerator, host, diags);
    } else if (const config::Node* a = root.find("accelerator"); a != nullptr && a->kind == config::Node::Kind::map) {
        const config::Node* name = a->find("name");
        cs.accelerator = fixed_side(SpaceSide::Target::accelerator, *a, name != nullptr ? name->scalar : "accelerator");
    } else {
        diags.add(space != nullptr ? space->where : root.where, "space.accelerator",
                  "kind codesign needs an accelerator side: space.accelerator (a design space) or an accelerator section (a fixed accelerator)", "required");
    }
    if (model_space != nullptr && root.find("model") != nullptr)
        diags.add(root.find("model")->where, "model", "give either space.model (search the model) or a model section (fix it), not both", "conflict");
    if (accel_space != nullptr && root.find("accelerator") != nullptr)
        diags.add(root.find("accelerator")->where, "accelerator",
                  "give either space.accelerator (search the accelerator) or an accelerator section (fix it), not both", "conflict");
    if (diags.size() != before) return std::nullopt;

    // Model parameters that accelerator knobs set (AccelTran's batch size) must suit the model.
    for (std::size_t k = 0; k < cs.accelerator.space.size(); ++k) {
        if (cs.accelerator.model_params[k].empty()) continue;
        for (std::size_t v = 0; v < cs.accelerator.value_nodes[k].size(); ++v) {
            std::vector<std::pair<std::string, config::Node>> extra;
            for (const auto& p : cs.accelerator.model_params[k]) extra.emplace_back(p, cs.accelerator.value_nodes[k][v]);
            config::Diagnostics inner;
            resolve_model(decode_model(cs.model, Candidate(cs.model.space.size(), 0), extra), "model", host, inner);
            if (inner.empty()) continue;
            const config::Node& at = cs.accelerator.value_nodes[k][v];
            const std::string& name = cs.accelerator.space.knobs()[k].name;
            diags.add(at.where, "space.accelerator.knobs." + name,
                      fmt::format("value {} of knob '{}' is refused by the model family ({}: {})", to_flow_text(at), name, inner.items().front().path,
                                  inner.items().front().message),
                      "design-space");
        }
    }
    cs.joint = DesignSpace::product(cs.model.space, cs.accelerator.space);

    const ValueMap& search = values.at("search").as_map();
    cs.evaluations = search.at("evaluations").as_int();
    cs.batch = search.at("batch").as_int();
    cs.give_up_after = search.at("give_up_after").as_int();
    cs.evaluation_timeout_s = search.at("evaluation_timeout_s").as_float();
    cs.search = resolve_plugin_section(root.find("search"), "search", "random", PluginKind::search, "search plugin", root.where, host, diags,
                                       [&](const PluginInfo& info, const Params& p) {
                                           const auto s = host.create<SearchAlgorithm>(info, p);
                                           const SearchBudget budget{static_cast<std::size_t>(cs.evaluations), static_cast<std::size_t>(cs.batch)};
                                           call_plugin(info.name, "start", [&] { s->start(cs.joint, seed, budget); });
                                       });
    cs.accuracy = resolve_plugin_section(root.find("accuracy"), "accuracy", "surrogate", PluginKind::accuracy, "accuracy plugin", root.where, host, diags,
                                         [&](const PluginInfo& info, const Params& p) { host.create<AccuracyEstimator>(info, p); });

    const ValueMap& obj = values.at("objective").as_map();
    const ValueMap& w = obj.at("weights").as_map();
    cs.objective.w_accuracy = w.at("accuracy").as_float();
    cs.objective.w_latency = w.at("latency").as_float();
    cs.objective.w_energy = w.at("energy").as_float();
    cs.objective.w_area = w.at("area").as_float();
    const config::Node* obj_node = root.find("objective");
    if (cs.objective.w_accuracy + cs.objective.w_latency + cs.objective.w_energy + cs.objective.w_area <= 0) {
        const config::Node* wn = obj_node != nullptr ? obj_node->find("weights") : nullptr;
        diags.add(wn != nullptr ? wn->where : root.where, "objective.weights", "every weight is 0: the score would rank nothing; give at least one weight > 0",
                  "range");
    }
    const ValueMap& norm = obj.at("normalisers").as_map();
    cs.objective.latency_s = norm.at("latency_s").as_float();
    cs.objective.energy_j = norm.at("energy_j").as_float();
    cs.objective.area_mm2 = norm.at("area_mm2").as_float();
    cs.objective.penalty = obj.at("penalty").as_float();
    {
        // Constrained domination: the penalty must lie below every feasible score (objective.hpp).
        const double floor = cs.objective.feasible_score_floor();
        if (!(cs.objective.penalty < floor)) {
            const config::Node* pn = obj_node != nullptr ? obj_node->find("penalty") : nullptr;
            diags.add(pn != nullptr ? pn->where : (obj_node != nullptr ? obj_node->where : root.where), "objective.penalty",
                      fmt::format("the penalty {:g} is not below every feasible score: with these weights a feasible design can score "
                                  "down to {:g} (costs up to {:g} times the normalisers), so give a penalty below that, e.g. {:g}",
                                  cs.objective.penalty, floor, max_cost_ratio, std::min(-1.0e6, 10 * floor)),
                      "range");
        }
    }
    const ValueMap& budget = obj.at("budget").as_map();
    cs.objective.max_latency_s = budget.at("latency_s").as_float();
    cs.objective.max_energy_j = budget.at("energy_j").as_float();
    cs.objective.max_area_mm2 = budget.at("area_mm2").as_float();
    const ValueMap& ref = obj.at("reference_point").as_map();
    cs.objective.reference = {ref.at("accuracy_loss").as_float(), ref.at("latency").as_float(), ref.at("energy").as_float(), ref.at("area").as_float()};

    const config::Node* baseline = root.find("baseline");
    if (baseline != nullptr && baseline->kind == config::Node::Kind::map) {
        const config::Node* bm = baseline->find("model");
        const config::Node* ba = baseline->find("accelerator");
        if (bm == nullptr || ba == nullptr)
            diags.add(baseline->where, "baseline", "a baseline needs both a model and an accelerator", "required");
        if (bm != nullptr && resolve_model(*bm, "baseline.model", host, diags)) cs.baseline_model = *bm;
        if (ba != nullptr && resolve_accelerator(*ba, "baseline.accelerator", host, diags)) cs.baseline_accelerator = *ba;
    }
    if (!cs.baseline_model || !cs.baseline_accelerator) {
        const std::pair<const char*, double> needed[] = {{"latency_s", cs.objective.latency_s}, {"energy_j", cs.objective.energy_j}, {"area_mm2", cs.objective.area_mm2}};
        for (const auto& [key, v] : needed)
            if (v == 0 && baseline == nullptr)
                diags.add(obj_node != nullptr ? obj_node->where : root.where, fmt::format("objective.normalisers.{}", key),
                          fmt::format("normaliser {} is 0, which means \"the baseline's value\", but there is no baseline section; give a value or a baseline", key),
                          "required");
    }
    if (diags.size() != before) return std::nullopt;
    return cs;
}

}  // namespace transcode::engine
