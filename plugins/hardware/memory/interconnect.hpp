// memory.interconnect: the on-chip network between the buffers and the processing elements. Every
// byte a tile reads from a buffer crosses it towards the PEs, and every byte a tile writes crosses
// it back; main-memory fills and drains do not (they enter the buffers through the DMA).
#pragma once

#include <string>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::memory {

class Interconnect final : public Component {
public:
    explicit Interconnect(const Params& params);

    ComponentRole role() const override { return ComponentRole::interconnect; }
    std::string unit_kind() const override { return "interconnect"; }
    /// No published figure: its wires are counted in the buffers' area and access energy.
    double area_mm2() const override { return 0.0; }
    double leakage_w() const override { return 0.0; }
    bool power_gateable() const override { return false; }
    StorageSpec storage() const override { return storage_; }

private:
    StorageSpec storage_;
};

/// The factory of memory.interconnect.
Factory interconnect_factory();

}  // namespace transcode::plugins::memory
