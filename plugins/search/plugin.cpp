// The descriptor of the "search" plugin library: its name, version and factories.
#include "boshcode.hpp"
#include "grid.hpp"
#include "nsga2.hpp"
#include "random.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::search {
namespace {

const FactoryList* factories() {
    static const FactoryList list{random_factory(), grid_factory(), nsga2_factory(), boshcode_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::search

TRANSCODE_PLUGIN("search", "0.1.0", &transcode::plugins::search::factories)
