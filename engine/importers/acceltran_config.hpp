// Import of accelerator configs from the earlier AccelTran simulator (YAML or JSON):
//
//   tile: {tile_b: 1, tile_x: 16, tile_y: 16}
//   non_linearity: gelu                  # relu | gelu
//   pe: 64                               # processing elements
//   lanes_per_pe: 16                     # MAC lanes per PE
//   mac_per_lane: 16                     # 1 or 16
//   softmax_per_pe: 4
//   batch_size: 4                        # no place in an accelerator file: printed as a comment
//   activation_buffer_size: 4            # MB (likewise weight_ and mask_buffer_size)
//   main_memory: {type: dram, mode: lb, banks: 32, ranks: 2, channels: 1}
//
// into this project's accelerator YAML, in the shape of configs/accelerators/acceltran-edge.yaml.
// main_memory.type dram|hbm|rram becomes lpddr3|hbm|rram; mode lb|hb (AccelTran's own spelling),
// also lbw|hbw or low_bandwidth|high_bandwidth, becomes low_bandwidth|high_bandwidth. Any other
// field (AccelTran configs carry loop_unrolling, scheduler, ...) is ignored with a note.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace transcode::engine {

/// Reads the AccelTran config at `file` and returns the equivalent accelerator YAML, named `name`
/// (the file's stem when empty). Its `include:` paths are relative to configs/accelerators/.
/// Each ignored field adds `note: FILE:LINE:COL: ignoring field 'X' (not used by transcode)` to
/// `notes` (in file order, also when the import then fails). Throws ConfigError listing every
/// problem, each as FILE:LINE:COL: error: path: message (import): a missing required field, a
/// wrong type, a non-positive count or size, an unknown enum value, mac_per_lane other than 1 or 16.
std::string import_acceltran_config(const std::filesystem::path& file, const std::string& name, std::vector<std::string>& notes);

}  // namespace transcode::engine
