// sparsity_profile.yaml: the measured sparsity per tensor role at each pruning setting, written by the
// training runs (experiment/training_run.cpp) and read back by `simulation.sparsity_profile`.
#pragma once

#include <cstdint>
#include <filesystem>

#include "config/diagnostics.hpp"
#include "simulator/simulator.hpp"

namespace transcode::engine {

/// Reads point `point` of a sparsity_profile.yaml, validated like any config: its problems go to
/// `diags`, located in the file; a missing file or point is reported at `where` (the experiment key
/// that names it). The weights' sparsity is 0: a profile measures what pruning zeroes at run time.
SparsityByRole load_sparsity_profile(const std::filesystem::path& file, std::int64_t point, const config::Location& where, config::Diagnostics& diags);

}  // namespace transcode::engine
