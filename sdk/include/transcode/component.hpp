// The `component` plugin kind: one accelerator building block (MAC lane, buffer, memory, ...).
#pragma once

#include "transcode/plugin.hpp"

namespace transcode {

/// First form: a component reports its physical cost. The simulator issue extends this interface
/// with the op kinds it executes and its per-tile cycles and energy, and bumps the ABI version.
class BOOST_SYMBOL_VISIBLE Component : public PluginObject {
public:
    /// Silicon area of one instance, in mm^2.
    virtual double area_mm2() const = 0;
    /// Leakage power of one instance while powered, in W.
    virtual double leakage_w() const = 0;
};

}  // namespace transcode
