// memory.main_memory: off-chip main memory (LP-DDR3 DRAM, HBM or RRAM) with its access energy by
// organisation (banks, ranks, channels) and its bandwidth by mode.
#pragma once

#include <string>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::memory {

class MainMemory final : public Component {
public:
    explicit MainMemory(const Params& params);

    ComponentRole role() const override { return ComponentRole::main_memory; }
    std::string unit_kind() const override { return "main_memory"; }
    /// Off-chip: no chip area, and no published leakage figure.
    double area_mm2() const override { return 0.0; }
    double leakage_w() const override { return 0.0; }
    bool power_gateable() const override { return false; }
    StorageSpec storage() const override { return storage_; }

private:
    StorageSpec storage_;
};

/// The factory of memory.main_memory.
Factory main_memory_factory();

}  // namespace transcode::plugins::memory
