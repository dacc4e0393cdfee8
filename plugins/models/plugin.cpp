// The descriptor of the "models" plugin library: its name, version and factories.
#include "flexibert.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::models {
namespace {

const FactoryList* factories() {
    static const FactoryList list{flexibert_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::models

TRANSCODE_PLUGIN("models", "0.1.0", &transcode::plugins::models::factories)
