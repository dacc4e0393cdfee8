// The descriptor of the "pruning" plugin library: its name, version and factories.
#include "dynaprop.hpp"
#include "none.hpp"
#include "topk.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::pruning {
namespace {

const FactoryList* factories() {
    static const FactoryList list{dynaprop_factory(), topk_factory(), none_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::pruning

TRANSCODE_PLUGIN("pruning", "0.1.0", &transcode::plugins::pruning::factories)
