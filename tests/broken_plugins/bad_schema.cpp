// A library whose parameter schema contradicts itself: an enum default outside its choices.
#include "transcode/sdk.hpp"

namespace {
const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::search, "badschema.thing", "inconsistent schema",
                           {transcode::ParamSpec::enumeration("mode", "a mode", {"fast", "exact"}).default_value("slow")},
                           [](const transcode::Params&) -> std::unique_ptr<transcode::PluginObject> { return nullptr; }},
    };
    return &list;
}
}  // namespace

TRANSCODE_PLUGIN("badschema", "0.0.1", &factories)
