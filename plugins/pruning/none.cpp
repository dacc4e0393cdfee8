#include "none.hpp"

#include <memory>

#include "tensor_ops.hpp"

namespace transcode::plugins::pruning {

bool NoPruning::prunes(TensorRole /*role*/, RunMode /*mode*/) const { return false; }

PruneStats NoPruning::prune(TensorView t, RunMode /*mode*/) const {
    const std::int64_t n = element_count(t);
    if (n == 0) return {};
    return {count_zeros(t.data, n), n};
}

Factory none_factory() {
    return Factory{
        PluginKind::pruning,
        "pruning.none",
        "No pruning: leave every tensor unchanged and measure its natural sparsity\n"
        "prune() only counts the zeros (+0.0 and -0.0) a tensor already holds, for every role and run mode.",
        ParamSchema{},
        [](const Params& /*params*/) -> std::unique_ptr<PluginObject> { return std::make_unique<NoPruning>(); },
    };
}

}  // namespace transcode::plugins::pruning
