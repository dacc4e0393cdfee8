// Import of accelerator configs from the earlier AccelTran simulator (YAML or JSON):
//
//   tile: {tile_b: 1, tile_x: 16, tile_y: 16}
//   non_linearity: gelu                  # relu | gelu
//   pe: 64                               # processing elements
//   lanes_per_pe: 16                     # MAC lanes per PE
//   mac_per_lane: 16                     # 1 or 16
//   softmax_per_pe: 4
//   batch_size: 4                        # no place in an accelerator file: a comment, and the
//                                        # companion experiment's simulation.batch_size
//   activation_buffer_size: 4            # MB (likewise weight_ and mask_buffer_size)
//   main_memory: {type: dram, mode: lb, banks: 32, ranks: 2, channels: 1}
//
// into this project's accelerator YAML, in the shape of configs/accelerators/acceltran-edge.yaml.
// main_memory.type dram|hbm|rram becomes lpddr3|hbm|rram; mode lb|hb (AccelTran's own spelling),
// also lbw|hbw or low_bandwidth|high_bandwidth, becomes low_bandwidth|high_bandwidth. Any other
// field (AccelTran configs carry loop_unrolling, scheduler, ...) is ignored with a note.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace transcode::engine {

/// Where the `include:` paths of an imported accelerator lead: the folder of the component figure
/// files (configs/components/) as written before each file's name, and the header comment's
/// lines that say what that folder is relative to. The default suits a file saved under
/// configs/accelerators/.
struct ComponentIncludes {
    std::string folder = "../components";
    std::vector<std::string> comment{"Save this under configs/accelerators/ so that the includes resolve: they are relative to that",
                                     "folder (../components/*.yaml)."};
};

/// The includes of a file written into `output_dir` (`to_stdout`: printed, and output_dir is the
/// current directory) that lead to the figure files in `components_dir`: the path from the
/// canonical output_dir to the canonical components_dir, or components_dir's absolute path when
/// no relative path leads there (different roots).
ComponentIncludes component_includes(const std::filesystem::path& components_dir, const std::filesystem::path& output_dir, bool to_stdout);

/// An imported accelerator: the file's text, and AccelTran's batch size (which an accelerator
/// file has no place for).
struct ImportedAccelerator {
    std::string yaml;
    std::int64_t batch_size = 0;
};

/// Reads the AccelTran config at `file` and returns the equivalent accelerator YAML, named `name`
/// (the file's stem when empty), with `includes` (by default relative to configs/accelerators/).
/// Each ignored field adds `note: FILE:LINE:COL: ignoring field 'X' (not used by transcode)` to
/// `notes` (in file order, also when the import then fails). Throws ConfigError listing every
/// problem, each as FILE:LINE:COL: error: path: message (import): a missing required field, a
/// wrong type, a non-positive count or size, an unknown enum value, mac_per_lane other than 1 or 16.
ImportedAccelerator import_acceltran_accelerator(const std::filesystem::path& file, const std::string& name, std::vector<std::string>& notes,
                                                 const ComponentIncludes& includes = {});

/// The text of import_acceltran_accelerator().
std::string import_acceltran_config(const std::filesystem::path& file, const std::string& name, std::vector<std::string>& notes,
                                    const ComponentIncludes& includes = {});

/// A companion experiment, to be written to `experiment_file`: kind simulate, mode inference, the
/// model file `model_file` on the accelerator file `accelerator_file` (both included by their path
/// relative to experiment_file's folder, or absolute when none exists), with
/// simulation.batch_size = `batch_size` (AccelTran's). `source` is the AccelTran config, named in
/// the header comment.
std::string acceltran_companion_experiment(const std::filesystem::path& source, std::int64_t batch_size, const std::filesystem::path& model_file,
                                           const std::filesystem::path& accelerator_file, const std::filesystem::path& experiment_file);

}  // namespace transcode::engine
