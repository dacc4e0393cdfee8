// The `component` plugin kind: one accelerator building block (MAC lane, softmax module, buffer,
// main memory, ...). An accelerator YAML composes component instances with counts; the engine's
// simulator (ELECTOR) lowers every op of a model graph into tiles and asks the components what a
// tile costs.
//
// A component is one of five roles:
//  * compute      executes tiles of the op kinds it lists in executes(); tile_cost() gives the
//                 cycles and dynamic energy of one tile, given its shape and operand sparsity.
//  * buffer       on-chip SRAM holding one class of data (activations, weights or sparsity masks);
//                 storage() gives its capacity, read and write bandwidth and per-byte access energy.
//  * main_memory  off-chip memory; storage() gives its read and write bandwidth, access latency and
//                 per-byte access energy.
//  * interconnect the network between the on-chip buffers and the PEs (at most one per accelerator);
//                 storage() gives its read (buffer -> PE) and write (PE -> buffer) bandwidth and
//                 per-byte energy. Without one, that traffic costs no time.
//  * support      units that accompany compute units (sparsity units, FIFOs, stochastic rounding,
//                 controllers, DMA): they add area, leakage, and dynamic power while the units
//                 they serve() are busy.
//
// Figures (area, power, energy) come from parameters, so that they live in YAML files
// (configs/components/), never in plugin code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "transcode/graph.hpp"
#include "transcode/plugin.hpp"

namespace transcode {

enum class ComponentRole { compute, buffer, main_memory, support, interconnect };

inline const char* to_string(ComponentRole r) {
    switch (r) {
        case ComponentRole::compute: return "compute";
        case ComponentRole::buffer: return "buffer";
        case ComponentRole::main_memory: return "main_memory";
        case ComponentRole::support: return "support";
        case ComponentRole::interconnect: return "interconnect";
    }
    return "?";
}

/// Which data a buffer holds. Activations and activation gradients live in the activation
/// buffer; weights, weight gradients and optimizer state in the weight buffer; one mask bit per
/// element of every sparse tensor in the mask buffer.
enum class BufferClass { activation, weight, mask };

inline const char* to_string(BufferClass b) {
    switch (b) {
        case BufferClass::activation: return "activation";
        case BufferClass::weight: return "weight";
        case BufferClass::mask: return "mask";
    }
    return "?";
}

/// One tile of one op, as the engine's lowering cuts it. Every tile of an op is alike (partial
/// tiles at the edges are padded to the full tile and cost as such).
struct TileWork {
    OpKind kind = OpKind::matmul;
    /// Tile shape: b along the batch, x along rows, y along columns of the op's output.
    std::int64_t b = 1, x = 1, y = 1;
    /// Multiply-accumulates per output element of the tile: the reduction chunk of a matmul or
    /// seq_transform (at most the tile's y), the kernel size of a conv1d, 1 for other kinds.
    std::int64_t depth = 1;
    /// Fraction of zeros in the op's first and second input (0 when dense). Compute units with
    /// sparsity support skip the work those zeros remove.
    double input_sparsity[2] = {0.0, 0.0};
    /// A training step (stochastic rounding and other training-only hardware are active).
    bool training = false;
    /// The accelerator clock, Hz, to turn power into energy per cycle.
    double clock_hz = 700e6;
    /// The op's attributes (OpDesc::attrs). A dropout's `seed` may be that of another dropout of
    /// the same shape and rate (the engine costs them once): a cost never depends on it.
    std::map<std::string, double> attrs;

    std::int64_t elements() const { return b * x * y; }
};

/// What one tile costs on one instance of a compute component.
struct TileCost {
    std::int64_t cycles = 0;  ///< >= 1 for any tile the unit executes
    double energy_j = 0.0;    ///< dynamic energy of the tile
};

/// One level of the memory hierarchy: a buffer, main memory or the interconnect. The engine
/// refuses a bandwidth that is not finite and > 0, and a latency that is not finite and >= 0.
struct StorageSpec {
    double capacity_bytes = 0.0;               ///< buffers; main memory and the interconnect hold nothing (0)
    double read_bandwidth_bytes_per_s = 0.0;   ///< out of the level (main memory -> chip, buffer -> PE)
    double write_bandwidth_bytes_per_s = 0.0;  ///< into the level; main memory's reads and writes share one channel
    double latency_s = 0.0;                    ///< main memory: from a read's issue to its first byte
    double energy_per_byte_j = 0.0;            ///< per byte read or written
};

class BOOST_SYMBOL_VISIBLE Component : public PluginObject {
public:
    virtual ComponentRole role() const = 0;
    /// What the unit is, for reports and for support units to name what they serve, e.g.
    /// "mac_lane", "softmax", "pre_sparsity", "activation_buffer", "main_memory".
    virtual std::string unit_kind() const = 0;
    /// Silicon area of one instance, mm^2 (0 for off-chip memory).
    virtual double area_mm2() const = 0;
    /// Leakage power of one instance while powered, W.
    virtual double leakage_w() const = 0;
    /// Whether power gating may switch the instance off while it (or what it serves) is idle.
    /// Buffers, controllers and memory stay powered for the whole run.
    virtual bool power_gateable() const { return role() == ComponentRole::compute || role() == ComponentRole::support; }

    // --- compute ----------------------------------------------------------------------------------
    /// The op kinds this unit executes (compute role only).
    virtual std::vector<OpKind> executes() const { return {}; }
    /// Cycles and dynamic energy of one tile of an op kind from executes(). Must be a pure
    /// function of the TileWork: the simulator asks once per class of identical ops and reuses
    /// the answer for every op of the class.
    virtual TileCost tile_cost(const TileWork&) const { throw InternalError(unit_kind() + ": tile_cost() called on a unit that executes nothing"); }

    // --- buffer, main memory and interconnect -------------------------------------------------------------------
    virtual BufferClass buffer_class() const { return BufferClass::activation; }
    virtual StorageSpec storage() const { return {}; }

    // --- support ----------------------------------------------------------------------------------
    /// The unit_kind() this support unit accompanies (e.g. "mac_lane"); empty when it serves the
    /// whole processing element and is always on (controller, DMA).
    virtual std::string serves() const { return {}; }
    /// Dynamic power while the served units are busy, W.
    virtual double dynamic_w() const { return 0.0; }
    /// Active only in training steps (e.g. stochastic rounding). In inference its dynamic energy
    /// is not charged; its area and leakage are, since the hardware is there.
    virtual bool training_only() const { return false; }
};

}  // namespace transcode
