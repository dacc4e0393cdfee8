#include "experiment/experiment_results.hpp"

#include "report/results.hpp"

namespace transcode::engine {

nlohmann::json common_results(const Experiment& ex, const PluginHost& host) {
    nlohmann::json doc;
    doc["experiment"] = {{"name", ex.name}, {"kind", ex.kind}, {"file", ex.file.string()}, {"seed", ex.seed}, {"description", ex.description},
                         {"mode", ex.mode == RunMode::training ? "training" : "inference"}};
    doc["engine_version"] = engine_version();
    doc["sdk_abi_version"] = TRANSCODE_SDK_ABI_VERSION;
    doc["plugins"] = nlohmann::json::object();
    for (const auto& [name, version] : host.library_versions()) doc["plugins"][name] = version;
    doc["config"] = to_json(ex.resolved);
    doc["status"] = "ok";
    return doc;
}

void add_sparsity_probe_results(nlohmann::json& doc, const Experiment& ex, const SparsityProbeResult& r) {
    doc["pruning"] = {{"plugin", ex.pruning.info->name}, {"params", to_json(Value{ex.pruning.params.values()})}};
    nlohmann::json sparsity = nlohmann::json::object();
    for (const auto& role : r.roles)
        sparsity[to_string(role.role)] = {{"zeros", role.zeros}, {"elements", role.elements}, {"sparsity", role.sparsity()},
                                          {"pruned", role.pruned}, {"source_std", role.std_dev}};
    doc["sparsity"] = sparsity;
}

}  // namespace transcode::engine
