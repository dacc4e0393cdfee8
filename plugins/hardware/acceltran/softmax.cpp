#include "softmax.hpp"

#include <memory>

#include "tiled_module.hpp"

namespace transcode::plugins::acceltran {

Factory softmax_factory() {
    return Factory{
        PluginKind::component,
        "acceltran.softmax",
        "AccelTran softmax module of tile size T: T elements per cycle and pass (compute)\n"
        "cycles = max(1, ceil(b·x·y / T) · passes) with 3 passes for softmax (max, exp and sum, divide), 2 for\n"
        "softmax_backward, 3 for cross_entropy and 2 for cross_entropy_backward. Energy per tile = dynamic power · cycles\n"
        "/ clock. Area and power come from the figure row of the chosen tile; see plugins/hardware/README.md.",
        tiled_module_schema("softmax module", "acceltran-softmax.yaml"),
        [](const Params& params) -> std::unique_ptr<PluginObject> {
            return std::make_unique<TiledModule>(params, "acceltran.softmax", "softmax", "a softmax module",
                                                 std::vector<PassCount>{{OpKind::softmax, 3},
                                                                        {OpKind::softmax_backward, 2},
                                                                        {OpKind::cross_entropy, 3},
                                                                        {OpKind::cross_entropy_backward, 2}});
        },
    };
}

}  // namespace transcode::plugins::acceltran
