// fuzz_experiment: bytes -> YAML text -> config::load_string -> engine::load_experiment.
//
// Covers the YAML reader (includes resolve in configs/experiments/), the experiment schema, the
// pruning plugin lookup and its parameter validation, and the model section. An accepted experiment
// must also serialise: its resolved config and validated plugin parameters go into results.json.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/node.hpp"
#include "experiment/experiment.hpp"
#include "fuzz_support.hpp"
#include "report/results.hpp"

using namespace transcode;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::host();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string source = fuzz::input_name();
    config::Diagnostics diags;
    config::Node root = config::load_string(text, source, diags, fuzz::base_dir());
    try {
        const engine::Experiment ex = engine::load_experiment(std::move(root), std::move(diags), source, fuzz::host());
        fuzz::check(ex.pruning.info != nullptr, "accepted experiment without a pruning plugin");
        fuzz::check_conforms(ex.pruning.params.values(), ex.pruning.info->schema, "pruning.params.");
        (void)engine::to_json(ex.resolved).dump();
        (void)engine::to_json(Value{ex.pruning.params.values()}).dump();
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
    } catch (const PluginError&) {
    }
    return 0;
}
