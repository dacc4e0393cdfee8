#include "graph/model_summary.hpp"

#include <map>

#include "graph/op_costs.hpp"
#include "transcode/model.hpp"

namespace transcode::engine {

ModelSummary summarize(const ModelGraph& g) {
    ModelSummary s;
    s.tensors = static_cast<int>(g.tensors.size());
    std::map<int, SectionSummary> by_layer;
    auto section = [&](int layer) -> SectionSummary& {
        auto [it, fresh] = by_layer.try_emplace(layer);
        if (fresh) {
            it->second.layer = layer;
            if (layer == model_section::embeddings)
                it->second.name = "embeddings";
            else if (layer == model_section::pooler(g.layers))
                it->second.name = "pooler";
            else if (layer == model_section::task_head(g.layers))
                it->second.name = "task head";
            else
                it->second.name = "layer " + std::to_string(layer);
        }
        return it->second;
    };
    std::vector<bool> counted(g.tensors.size(), false);
    for (const auto& op : g.ops) {
        SectionSummary& sec = section(op.layer);
        ++sec.ops;
        const OpCost c = op_cost(g, op);
        if (op.phase == Phase::forward) {
            sec.forward_flops += c.flops;
            for (TensorId t : op.outputs) sec.activation_bytes += static_cast<double>(g.tensors[static_cast<std::size_t>(t)].elements()) * g.tensors[static_cast<std::size_t>(t)].bits / 8.0;
        } else if (op.phase == Phase::backward) {
            sec.backward_flops += c.flops;
            s.training = true;
        } else {
            sec.update_flops += c.flops;
            s.training = true;
        }
        for (TensorId t : op.inputs) {
            const auto& d = g.tensors[static_cast<std::size_t>(t)];
            if (d.role != TensorRole::weight || counted[static_cast<std::size_t>(t)] || op.kind == OpKind::optimizer_update) continue;
            counted[static_cast<std::size_t>(t)] = true;
            sec.parameters += d.elements();
        }
    }
    s.total.name = "total";
    for (auto& [layer, sec] : by_layer) {
        s.total.parameters += sec.parameters;
        s.total.forward_flops += sec.forward_flops;
        s.total.backward_flops += sec.backward_flops;
        s.total.update_flops += sec.update_flops;
        s.total.activation_bytes += sec.activation_bytes;
        s.total.ops += sec.ops;
        if (layer != model_section::task_head(g.layers)) s.parameters_without_head += sec.parameters;
        s.sections.push_back(sec);
    }
    return s;
}

nlohmann::json to_json(const ModelSummary& s) {
    auto row = [](const SectionSummary& r) {
        return nlohmann::json{{"name", r.name},
                              {"parameters", r.parameters},
                              {"forward_flops", r.forward_flops},
                              {"backward_flops", r.backward_flops},
                              {"update_flops", r.update_flops},
                              {"activation_bytes", r.activation_bytes},
                              {"ops", r.ops}};
    };
    nlohmann::json j;
    j["parameters"] = s.total.parameters;
    j["parameters_without_head"] = s.parameters_without_head;
    j["flops"] = {{"forward", s.total.forward_flops}, {"backward", s.total.backward_flops}, {"update", s.total.update_flops}};
    j["activation_bytes"] = s.total.activation_bytes;
    j["ops"] = s.total.ops;
    j["tensors"] = s.tensors;
    j["training"] = s.training;
    j["sections"] = nlohmann::json::array();
    for (const auto& r : s.sections) j["sections"].push_back(row(r));
    return j;
}

}  // namespace transcode::engine
