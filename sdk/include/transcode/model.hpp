// The `model` plugin kind: a transformer family that turns its parameters into a model.
#pragma once

#include <cstdint>

#include "transcode/plugin.hpp"

namespace transcode {

/// First form: a model reports its size. The model-graph issue extends this interface with the
/// graph builder (ops and tensors for forward, backward and update) and bumps the ABI version.
class BOOST_SYMBOL_VISIBLE ModelFamily : public PluginObject {
public:
    /// Trainable parameters, counting embeddings.
    virtual std::int64_t parameter_count() const = 0;
};

}  // namespace transcode
