// ELECTOR: simulates one inference pass or training step (forward, backward, update) of a model
// graph on an accelerator, and reports latency, energy, area, utilisation, stalls and traffic.
//
// Event fidelity (the default) schedules in dependency order, op by op, over these resources:
//  * compute pools: the instances of each compute unit group (tile_pool.hpp); an op's tiles go to
//    the group lowering chose (lowering.hpp), each to the instance free first;
//  * the main-memory channel: loads, stores and write-backs share its bandwidth, first come first
//    served, in op order;
//  * the activation, weight and mask buffers: capacities in bytes. A tensor is resident in its
//    class's buffer (its mask bits in the mask buffer when it is sparse). Making room evicts the
//    least recently used tensors that the current op does not touch; an evicted tensor that is
//    still needed (or is a weight or optimizer state) is written back and re-read later, and that
//    traffic is counted. A tensor larger than its buffer is streamed from and to main memory.
// Loads overlap compute: an op's loads are issued as soon as the data exists and the channel is
// free, and its tiles run in waves of one tile per instance, wave w waiting for (w+1)/W of the
// op's load. Sparse tensors (tensor_sparsity > 0) are stored and moved compressed, plus one mask
// bit per element, and compute units skip the zero work (their tile_cost sees the sparsity).
//
// Energy: per tile (component), per byte of buffer access and of main-memory transfer, support
// units' dynamic power while the units they serve are busy, and leakage. With power gating, a
// gateable unit leaks only while busy (support units while their served units are busy);
// everything else leaks for the whole run.
//
// Analytic fidelity uses per-op closed forms: cycles = max(compute, transfer), ops in sequence,
// weights and inputs read once, tensors larger than their buffer streamed, no eviction. It
// evaluates them once per load pattern of the prepared graph (prepared_graph.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/accelerator.hpp"
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
    double load_bytes = 0;        ///< main memory -> chip (including re-reads)
    double store_bytes = 0;       ///< chip -> main memory (streamed outputs and write-backs)
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
    std::int64_t cycles = 0;  ///< from the end of the previous phase to the end of this one
    double dynamic_j = 0;
    double leakage_j = 0;
};

struct BufferReport {
    BufferClass buffer = BufferClass::activation;
    double capacity_bytes = 0;
    double peak_bytes = 0;
    double read_bytes = 0;
    double write_bytes = 0;
};

struct TraceEvent {
    std::string name;
    std::string track;  ///< a unit group's name, or "main_memory"
    std::int64_t start = 0;
    std::int64_t cycles = 0;
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
    std::int64_t stall_memory_cycles = 0;  ///< summed over ops: waiting for loads after inputs existed
    std::int64_t stall_unit_cycles = 0;    ///< summed over ops: data on chip, waiting for a free unit
    std::vector<OpRecord> ops;      ///< one per op, in graph order, when SimulationOptions::op_records (the default)
    std::vector<UnitReport> units;  ///< one per unit group, in file order
    std::vector<PhaseReport> phases;
    std::vector<BufferReport> buffers;
    std::vector<TraceEvent> trace;  ///< filled when SimulationOptions::trace
};

/// Simulates `g` (forward only, or a training step from make_training_graph) on `acc`.
/// Throws ConfigError when an op kind has no unit, PluginError when a component misbehaves.
SimulationResult simulate(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& options);

/// The same on a graph prepared once (its sparsity included) for many accelerators. The result
/// equals simulate(p.graph(), ...) with the prepared sparsity. options.tensor_sparsity must be
/// empty or that same sparsity.
SimulationResult simulate(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& options);

}  // namespace transcode::engine
