// acceltran.layer_norm: the layer-normalisation module.
#pragma once

#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

/// The factory of acceltran.layer_norm (a TiledModule, see tiled_module.hpp).
Factory layer_norm_factory();

}  // namespace transcode::plugins::acceltran
