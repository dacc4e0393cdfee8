// A plugin stamped with a foreign SDK ABI version: the loader must refuse it before touching any
// C++ type (its factory list would even be unsafe to call).
#define TRANSCODE_PLUGIN_ABI_VERSION 999u
#include "transcode/sdk.hpp"

namespace {
const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{};
    return &list;
}
}  // namespace

TRANSCODE_PLUGIN("wrongabi", "0.0.1", &factories)
