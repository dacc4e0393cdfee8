// A pruning strategy that ends the process with exit(0) from prune(), in the middle of a run: the
// run wrote no results, so the command must not report success.
#include <cstdlib>

#include "transcode/sdk.hpp"

namespace {

class Exiting : public transcode::PruningStrategy {
public:
    bool prunes(transcode::TensorRole, transcode::RunMode) const override { return true; }
    transcode::PruneStats prune(transcode::TensorView, transcode::RunMode) const override { std::exit(0); }
};

const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::pruning, "exits.in_prune", "calls exit(0) from prune()", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> { return std::make_unique<Exiting>(); }},
    };
    return &list;
}

}  // namespace

TRANSCODE_PLUGIN("exits", "0.0.1", &factories)
