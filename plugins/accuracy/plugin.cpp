// The descriptor of the "accuracy" plugin library: its name, version and factories.
#include "surrogate.hpp"
#include "trained.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::accuracy {
namespace {

const FactoryList* factories() {
    static const FactoryList list{trained_factory(), surrogate_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::accuracy

TRANSCODE_PLUGIN("accuracy", "0.1.0", &transcode::plugins::accuracy::factories)
