// A plugin whose factory throws, and one whose method throws: the engine must report both with
// the plugin's name and never crash.
#include <stdexcept>

#include "transcode/sdk.hpp"

namespace {

class ThrowingPruning : public transcode::PruningStrategy {
public:
    bool prunes(transcode::TensorRole, transcode::RunMode) const override { return true; }
    transcode::PruneStats prune(transcode::TensorView, transcode::RunMode) const override {
        throw std::runtime_error("deliberate failure in prune");
    }
};

const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::pruning, "throwing.in_create", "always throws from its factory", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> {
                               throw std::runtime_error("deliberate failure in create");
                           }},
        transcode::Factory{transcode::PluginKind::pruning, "throwing.in_prune", "always throws from prune()", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> {
                               return std::make_unique<ThrowingPruning>();
                           }},
        transcode::Factory{transcode::PluginKind::search, "throwing.wrong_interface", "declares kind search but creates a pruning strategy", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> {
                               return std::make_unique<ThrowingPruning>();
                           }},
    };
    return &list;
}

}  // namespace

TRANSCODE_PLUGIN("throwing", "0.0.1", &factories)
