// Training checkpoints: the trained tensors (weights and optimizer state), the step and epoch
// counts, the shuffle generator's state, the epoch curves so far and the calibrated thresholds in
// effect, enough to resume a run so that it equals an uninterrupted one bit for bit. See README.md in this folder for the format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "training/trainer.hpp"
#include "transcode/graph.hpp"

namespace transcode::engine {

struct CheckpointTensor {
    std::string name;
    Shape shape;
    std::vector<float> data;
};

struct Checkpoint {
    std::int64_t epoch = 0;         ///< epochs completed
    std::int64_t global_step = 0;   ///< optimizer steps taken
    std::int64_t train_examples = 0;
    std::int64_t steps_per_epoch = 0;
    std::uint64_t shuffle_state = 0;  ///< the training split's shuffle generator after `epoch` epochs
    std::vector<EpochReport> epochs;  ///< the curves of the epochs completed, with their per-point sparsity and thresholds
    std::vector<CheckpointTensor> tensors;
    /// Calibrated training: the thresholds in effect after `epoch` epochs.
    std::optional<CalibrationReport> calibration;
};

/// Format version written by write_checkpoint; read_checkpoint accepts only this one.
inline constexpr std::uint32_t checkpoint_format_version = 2;

/// Writes `c` to `file` atomically (common/atomic_file.hpp: a uniquely named temporary file,
/// fsynced, then renamed), so a crash never leaves a half-written checkpoint under the final name.
/// Throws Error when the file cannot be written.
void write_checkpoint(const std::filesystem::path& file, const Checkpoint& c);

/// Reads a checkpoint. Throws ConfigError `FILE: error: ... (checkpoint)` for a missing, truncated
/// or corrupt file (wrong magic, other format version, checksum mismatch), naming the byte offset.
Checkpoint read_checkpoint(const std::filesystem::path& file);

}  // namespace transcode::engine
