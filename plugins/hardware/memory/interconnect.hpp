// memory.interconnect: the on-chip network between the buffers and the processing elements. Every
// byte a tile reads from a buffer crosses it towards the PEs, and every byte a tile writes crosses
// it back; main-memory fills and drains do not (they enter the buffers through the DMA).
#pragma once

#include <string>

#include "storage_level.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::memory {

/// No published figure: its wires are counted in the buffers' area and access energy.
class Interconnect final : public StorageLevel {
public:
    explicit Interconnect(const Params& params);
};

/// The factory of memory.interconnect.
Factory interconnect_factory();

}  // namespace transcode::plugins::memory
