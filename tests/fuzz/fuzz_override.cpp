// fuzz_override: bytes -> a YAML document and `--set PATH=VALUE` expressions -> apply_override ->
// engine::load_experiment (full validation, plugin parameters included).
//
// Input format: the document, then each override, separated by NUL bytes:
//   "experiment: x\nkind: sparsity_probe\n" \0 "seed=7" \0 "pruning.params.tau_t=0.5"
// At most 16 overrides are applied (the rest of the input is ignored).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> parts;
    while (parts.size() < 17) {
        const auto nul = rest.find('\0');
        parts.push_back(rest.substr(0, nul));
        if (nul == std::string_view::npos) break;
        rest.remove_prefix(nul + 1);
    }
    const std::string source = fuzz::input_name();
    config::Diagnostics diags;
    config::Node root = config::load_string(parts[0], source, diags, fuzz::base_dir());
    for (std::size_t i = 1; i < parts.size(); ++i) config::apply_override(root, parts[i], diags);
    try {
        const engine::Experiment ex = engine::load_experiment(std::move(root), std::move(diags), source, fuzz::host());
        fuzz::check(ex.pruning.info != nullptr, "accepted experiment without a pruning plugin");
        fuzz::check_conforms(ex.pruning.params.values(), ex.pruning.info->schema, "pruning.params.");
        (void)engine::to_json(ex.resolved).dump();
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
    } catch (const PluginError&) {
    }
    return 0;
}
