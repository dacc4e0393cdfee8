// A plugin whose factory list itself throws while the loader reads it.
#include <stdexcept>

#include "transcode/sdk.hpp"

namespace {
const transcode::FactoryList* factories() { throw std::runtime_error("deliberate failure while listing factories"); }
}  // namespace

TRANSCODE_PLUGIN("throwinglist", "0.0.1", &factories)
