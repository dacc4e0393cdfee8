// acceltran.softmax: the softmax module (also runs the loss: cross_entropy and its backward).
#pragma once

#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

/// The factory of acceltran.softmax (a TiledModule, see tiled_module.hpp).
Factory softmax_factory();

}  // namespace transcode::plugins::acceltran
