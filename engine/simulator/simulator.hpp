// ELECTOR: simulates one inference pass or training step (forward, backward, update) of a model
// graph on an accelerator, and reports latency, energy, area, utilisation, traffic per memory level,
// the resource that binds each op and phase, and where the critical path spent its time.
// engine/simulator/README.md explains the model level by level, with a worked example.
//
// Resources. The compute unit groups (tile_pool.hpp), the main-memory channel, one port per on-chip
// buffer (activation, weight, mask) and the interconnect between the buffers and the PEs. Every
// byte is charged where it moves: main memory <-> buffer (loads, stores, write-backs, re-reads of a
// tiled op), buffer <-> PE over the interconnect (every tile's operands and results), and each
// buffer's port sees both. An op lasts at least as long as its busiest resource.
//
// Mapping. A matmul's operands cross main memory <-> buffer as its mapping says (engine/mapping/:
// the accelerator's `dataflow`, the tile sizes that fit the buffers). When the mapping is
// compulsory (every operand once), operands are made resident as below; otherwise the op is tiled:
// it reserves its tiles' footprint in the buffers for its duration and streams its operands the
// number of times the mapping says (an operand already resident saves its first pass).
//
// Event fidelity (the default) schedules in dependency order, op by op, over these resources:
//  * buffers are checked in time, not in program order: a tensor's space is busy until the last op
//    that reads or writes it ends, a freed tensor's space becomes free only then, and a load or an
//    output that needs the space waits for it. Making room takes whatever frees space first:
//    released space, or the least recently used tensor the op does not touch; a dirty victim that
//    is still needed (or a weight, optimizer state or graph output) is written back after its last
//    use so far. A tensor larger than its buffer is streamed.
//  * the main-memory channel: loads, stores, write-backs and re-reads each take the earliest gap
//    of their length at or after they can start; a load's data arrives the main memory's latency
//    after it is issued.
//  * each buffer port and the interconnect: an op's traffic on it takes the earliest gap from its
//    first tile on.
//  * at the end of the step, dirty weights, optimizer state and graph outputs still on chip are
//    flushed to main memory (reported as part of the last phase, and as `flush_bytes`).
// Loads overlap compute: an op's tiles run in waves of one tile per instance, wave w waiting for
// (w+1)/W of the op's load. Sparse tensors (tensor_sparsity > 0) are stored and moved compressed,
// plus one mask bit per element, and compute units skip zero work (their tile_cost sees it).
//
// Analytic fidelity uses per-op closed forms. Main memory moves each op's bytes in op order; an op
// executes for the largest of its compute, each buffer port's bytes / bandwidth and the
// interconnect's, from when its inputs exist and its data has arrived (the latency after its
// transfer); no run is shorter than any resource's total work. Capacity is respected: an input
// produced or loaded earlier is still on chip in the fraction min(1, capacity / live bytes of its
// buffer at that op), the rest is re-read (and written back first when dirty); tiled ops move what
// their mapping says; dirty weights, optimizer state and graph outputs are flushed at the end.
//
// Energy: per tile (component), per byte at each level, support units' dynamic power while the
// units they serve are busy, and leakage. With power gating, a gateable unit leaks only while busy
// (support units while their served units are busy); everything else leaks for the whole run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/accelerator.hpp"
#include "mapping/gemm_mapping.hpp"
#include "simulator/lowering.hpp"
#include "simulator/prepared_graph.hpp"
#include "simulator/tile_pool.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

enum class Fidelity { event, analytic };
inline const char* to_string(Fidelity f) { return f == Fidelity::event ? "event" : "analytic"; }

/// Sparsity (fraction of zeros) per tensor role, as an experiment states it. Forward activations
/// (not model inputs or integer tensors), activation gradients, weight gradients, and weights
/// (pruned or N:M weights: every weight tensor, the update's new weights included). Optimizer
/// state is never sparse.
struct SparsityByRole {
    double activation = 0;
    double activation_gradient = 0;
    double weight_gradient = 0;
    double weight = 0;
};

/// One value per tensor of `g` from the role figures.
std::vector<double> sparsity_per_tensor(const ModelGraph& g, const SparsityByRole& s);

struct SimulationOptions {
    Fidelity fidelity = Fidelity::event;
    bool training = true;
    /// Fraction of zeros per tensor (size = g.tensors.size()); empty means dense. The DynaProp
    /// executor supplies measured values here; experiments give per-role numbers.
    std::vector<double> tensor_sparsity;
    bool trace = false;
    /// Fill SimulationResult::ops, one record per op (ops.csv reads them). A search, which reads
    /// only the totals, turns this off; every other figure of the result is the same either way.
    bool op_records = true;
    /// The pool implementation (tests swap in a naive one).
    TilePoolFactory pool_factory = &GroupedTilePool::make;
};

/// What an op, a phase or the critical path can wait for.
enum class Resource { compute, main_memory, activation_buffer, weight_buffer, mask_buffer, interconnect };
inline constexpr std::size_t resource_count = 6;
inline const char* to_string(Resource r) {
    switch (r) {
        case Resource::compute: return "compute";
        case Resource::main_memory: return "main_memory";
        case Resource::activation_buffer: return "activation_buffer";
        case Resource::weight_buffer: return "weight_buffer";
        case Resource::mask_buffer: return "mask_buffer";
        case Resource::interconnect: return "interconnect";
    }
    return "?";
}
inline Resource buffer_resource(BufferClass c) { return static_cast<Resource>(2 + static_cast<int>(c)); }

struct OpRecord {
    OpId op = 0;
    std::size_t unit = 0;  ///< index into Accelerator::units
    std::int64_t tiles = 0;
    std::int64_t cycles_per_tile = 0;
    std::int64_t ready = 0;       ///< its inputs exist
    std::int64_t data_ready = 0;  ///< the first wave's data is on chip
    std::int64_t start = 0;       ///< first tile starts
    std::int64_t end = 0;         ///< last tile (and streamed store) ends
    double dynamic_j = 0;         ///< tiles, buffer accesses, transfers, support units
    double gated_leakage_j = 0;   ///< leakage of power-gated units while they ran this op
    double load_bytes = 0;        ///< main memory -> chip (including re-reads and partial sums read back)
    double store_bytes = 0;       ///< chip -> main memory (streamed outputs, partial sums and write-backs)
    double buffer_bytes[3] = {0, 0, 0};  ///< through each buffer's port (tiles, fills and drains), by BufferClass
    double interconnect_bytes = 0;       ///< between the buffers and the PEs
    /// Cycles of work the op puts on each resource (compute: its waves of tiles; main memory: its
    /// transfers; buffers and interconnect: bytes / bandwidth). The largest is the binding one.
    std::int64_t work_cycles[resource_count] = {0, 0, 0, 0, 0, 0};
    Resource binding = Resource::compute;
    std::string dataflow;         ///< the mapping of a matmul ("output_stationary", ...; "" for other kinds)
    bool tiled = false;           ///< its mapping re-reads operands (they do not fit the buffers together)
    double padded_fraction = 0;
};

struct UnitReport {
    std::string name;
    std::string kind;
    ComponentRole role = ComponentRole::compute;
    std::int64_t count = 0;
    double area_mm2 = 0;            ///< all instances
    double busy_cycles = 0;         ///< summed over instances (compute and served support units)
    double utilisation = 0;         ///< busy_cycles / (count x total cycles)
    double dynamic_j = 0;
    double leakage_j = 0;
};

struct PhaseReport {
    Phase phase = Phase::forward;
    std::int64_t ops = 0;
    std::int64_t tiles = 0;
    std::int64_t start = 0;             ///< the first of its ops starts (cycle)
    std::int64_t end = 0;               ///< the last of its ops (and, for the last phase, the flush) ends
    std::int64_t cycles = 0;            ///< end - start
    std::int64_t exclusive_cycles = 0;  ///< cycles of [start, end] that no other phase's span covers
    Resource binding = Resource::compute;  ///< the resource with the most work over its ops
    double dynamic_j = 0;
    /// Gated leakage of its ops, plus always-on leakage over the cycles from the previous phase's
    /// end to its end (so that the phases' energies add up to the total).
    double leakage_j = 0;
};

/// One level of the memory hierarchy: main memory, a buffer or the interconnect.
struct LevelReport {
    Resource level = Resource::main_memory;
    std::string unit;           ///< the unit's name in the accelerator file ("" for a missing interconnect)
    double capacity_bytes = 0;  ///< buffers only
    double peak_bytes = 0;      ///< buffers only: the most bytes held (or reserved) at once; analytic: the most live bytes that fit
    double read_bytes = 0;      ///< out of the level (main memory -> chip, buffer -> PE or -> main memory)
    double write_bytes = 0;     ///< into the level
    double busy_cycles = 0;     ///< bytes / bandwidth, summed (main memory: channel occupancy, without latency)
    double busy_fraction = 0;   ///< busy_cycles / total cycles
    double dynamic_j = 0;
};

struct TraceEvent {
    std::string name;
    std::string track;  ///< a unit group's name, or "main_memory"
    std::int64_t start = 0;
    std::int64_t cycles = 0;
};

/// A step of a trace counter track: at cycle `at`, the track's value changes by `delta`. Tracks:
/// "<unit> busy" (instances of a compute unit group at work), "main_memory GB/s" and
/// "<buffer> GB/s", "interconnect GB/s" (bandwidth in use).
struct TraceCounterStep {
    std::string track;
    std::int64_t at = 0;
    double delta = 0;
};

struct SimulationResult {
    std::string status = "ok";  ///< "ok" or "infeasible"
    std::string reason;         ///< why, when infeasible
    Fidelity fidelity = Fidelity::event;
    bool training = true;
    std::int64_t cycles = 0;
    double seconds = 0;
    double dynamic_j = 0;
    double leakage_j = 0;
    double total_j() const { return dynamic_j + leakage_j; }
    double area_mm2 = 0;
    std::int64_t tiles = 0;
    double memory_read_bytes = 0;   ///< main memory -> chip
    double memory_write_bytes = 0;  ///< chip -> main memory
    double flush_bytes = 0;         ///< of memory_write_bytes: the end-of-step flush
    /// Cycles of the critical path spent on (waiting for) each Resource; they add up to `cycles`.
    std::int64_t critical_path[resource_count] = {0, 0, 0, 0, 0, 0};
    std::vector<OpRecord> ops;      ///< one per op, in graph order, when SimulationOptions::op_records (the default)
    std::vector<UnitReport> units;  ///< one per unit group, in file order
    std::vector<PhaseReport> phases;
    /// main_memory, activation_buffer, weight_buffer, mask_buffer, interconnect (Resource order).
    std::vector<LevelReport> levels;
    const LevelReport& level(Resource r) const { return levels.at(static_cast<std::size_t>(r) - 1); }
    std::vector<TraceEvent> trace;  ///< filled when SimulationOptions::trace
    std::vector<TraceCounterStep> counters;  ///< filled when SimulationOptions::trace (event fidelity)
};

/// Simulates `g` (forward only, or a training step from make_training_graph) on `acc`.
/// Throws ConfigError when an op kind has no unit, PluginError when a component misbehaves.
SimulationResult simulate(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& options);

/// The same on a graph prepared once (its sparsity included) for many accelerators. The result
/// equals simulate(p.graph(), ...) with the prepared sparsity. options.tensor_sparsity must be
/// empty or that same sparsity.
SimulationResult simulate(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& options);

}  // namespace transcode::engine
