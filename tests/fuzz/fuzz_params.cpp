// fuzz_params: bytes -> config::parse_params(schema, text), against the parameter schema of every
// built-in plugin (the first byte chooses the plugin, in `transcode plugins list` order; the rest
// is the YAML text). Accepted params must conform to the schema: exactly the declared names,
// defaults applied, types, ranges and choices respected.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/schema_validation.hpp"
#include "fuzz_support.hpp"
#include "report/results.hpp"

using namespace transcode;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::host();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return -1;  // not added to the corpus
    static const auto plugins = fuzz::host().list();
    const engine::PluginInfo& plugin = *plugins[data[0] % plugins.size()];
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        const Params p = config::parse_params(plugin.schema, text, "<" + plugin.name + ">");
        fuzz::check_conforms(p.values(), plugin.schema, plugin.name + ".");
        (void)engine::to_json(Value{p.values()}).dump();
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
    }
    return 0;
}
