// The descriptor of the "memory" plugin library: off-chip main memory and the on-chip interconnect.
#include "interconnect.hpp"
#include "main_memory.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::memory {
namespace {

const FactoryList* factories() {
    static const FactoryList list{main_memory_factory(), interconnect_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::memory

TRANSCODE_PLUGIN("memory", "0.1.0", &transcode::plugins::memory::factories)
