// memory.main_memory: off-chip main memory (LP-DDR3 DRAM, HBM or RRAM) with its access energy by
// organisation (banks, ranks, channels) and its bandwidth by mode.
#pragma once

#include <string>

#include "storage_level.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::memory {

/// Off-chip: no chip area, and no published leakage figure.
class MainMemory final : public StorageLevel {
public:
    explicit MainMemory(const Params& params);
};

/// The factory of memory.main_memory.
Factory main_memory_factory();

}  // namespace transcode::plugins::memory
