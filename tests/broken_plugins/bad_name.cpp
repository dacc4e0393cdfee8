// A library whose factory name does not start with the library's own name.
#include "transcode/sdk.hpp"

namespace {
const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::search, "other.thing", "misnamed", {},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> { return nullptr; }},
    };
    return &list;
}
}  // namespace

TRANSCODE_PLUGIN("badname", "0.0.1", &factories)
