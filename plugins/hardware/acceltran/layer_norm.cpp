#include "layer_norm.hpp"

#include <memory>

#include "tiled_module.hpp"

namespace transcode::plugins::acceltran {

Factory layer_norm_factory() {
    return Factory{
        PluginKind::component,
        "acceltran.layer_norm",
        "AccelTran layer-norm module of tile size T: T elements per cycle and pass (compute)\n"
        "cycles = max(1, ceil(b·x·y / T) · passes) with 3 passes for layer_norm (mean, variance, normalise) and 4 for\n"
        "layer_norm_backward. Energy per tile = dynamic power · cycles / clock. Area and power come from the figure row\n"
        "of the chosen tile; see plugins/hardware/README.md.",
        tiled_module_schema("layer-norm module", "acceltran-layer-norm.yaml"),
        [](const Params& params) -> std::unique_ptr<PluginObject> {
            return std::make_unique<TiledModule>(params, "acceltran.layer_norm", "layer_norm", "a layer-norm module",
                                                 std::vector<PassCount>{{OpKind::layer_norm, 3}, {OpKind::layer_norm_backward, 4}});
        },
    };
}

}  // namespace transcode::plugins::acceltran
