// Reports of a simulation: the results.json sections, ops.csv, trace.json and the console summary.
// The units of every figure are in README.md ("Results").
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "hardware/accelerator.hpp"
#include "simulator/simulator.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

/// Adds accelerator, phases, latency, energy, utilisation, memory, stalls, sparsity, simulation
/// and status to `doc`.
void add_simulation_results(nlohmann::json& doc, const ModelGraph& g, const Accelerator& acc, const SimulationResult& r, const SparsityByRole& sparsity,
                            const std::string& sparsity_source = "experiment");

/// ops.csv: one row per op: index, name, phase, kind, layer, unit, tiles, cycles_per_tile, start,
/// end, cycles, dynamic_j, load_bytes, store_bytes, padded_fraction.
void write_ops_csv(const std::filesystem::path& file, const ModelGraph& g, const Accelerator& acc, const SimulationResult& r);

/// trace.json in the Chrome trace-event format (microseconds; one track per unit group and one
/// for the main-memory channel). Opens in https://ui.perfetto.dev and chrome://tracing.
void write_trace_json(const std::filesystem::path& file, const Accelerator& acc, const SimulationResult& r);

/// The console summary.
void print_simulation_summary(const std::string& model, const Accelerator& acc, const SimulationResult& r);

}  // namespace transcode::engine
