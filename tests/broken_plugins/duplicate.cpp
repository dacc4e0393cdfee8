// A second library that registers `pruning.none`, a name the built-in pruning library owns.
#include "transcode/sdk.hpp"

namespace {

class Nothing : public transcode::PruningStrategy {
public:
    bool prunes(transcode::TensorRole, transcode::RunMode) const override { return false; }
    transcode::PruneStats prune(transcode::TensorView t, transcode::RunMode) const override { return {0, t.size()}; }
};

const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::pruning, "pruning.none", "a clash with the built-in pruning.none", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> { return std::make_unique<Nothing>(); }},
    };
    return &list;
}

}  // namespace

TRANSCODE_PLUGIN("pruning", "9.9.9", &factories)
