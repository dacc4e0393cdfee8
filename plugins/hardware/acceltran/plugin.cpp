// The descriptor of the "acceltran" plugin library: the AccelTran component library (MAC lanes,
// softmax and layer-norm modules, support units, buffers).
#include "buffer.hpp"
#include "layer_norm.hpp"
#include "mac_lane.hpp"
#include "softmax.hpp"
#include "support.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {
namespace {

const FactoryList* factories() {
    static const FactoryList list{mac_lane_factory(), softmax_factory(), layer_norm_factory(), support_factory(), buffer_factory()};
    return &list;
}

}  // namespace
}  // namespace transcode::plugins::acceltran

TRANSCODE_PLUGIN("acceltran", "0.1.0", &transcode::plugins::acceltran::factories)
