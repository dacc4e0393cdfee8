// A library that claims the built-in hardware library's name, `acceltran`, with a factory of its
// own: no factory name clashes, but results.json would credit it to the built-in library. The
// loader must refuse it, naming both files.
#include "transcode/sdk.hpp"

namespace {

class Nothing : public transcode::PruningStrategy {
public:
    bool prunes(transcode::TensorRole, transcode::RunMode) const override { return false; }
    transcode::PruneStats prune(transcode::TensorView t, transcode::RunMode) const override { return {0, t.size()}; }
};

const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::pruning, "acceltran.impostor", "a pruning strategy in a library named like a built-in", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> { return std::make_unique<Nothing>(); }},
    };
    return &list;
}

}  // namespace

TRANSCODE_PLUGIN("acceltran", "0.0.1", &factories)
