// Accelerators: component instances composed in YAML (configs/accelerators/*.yaml).
//
//   name: acceltran-edge
//   clock_mhz: 700
//   data_bits: 20                  # storage width of every non-integer tensor
//   gradient_bits: 20              # activation and weight gradients (default: data_bits)
//   optimizer_state_bits: 20       # optimizer state, e.g. AdamW's m and v (default: data_bits)
//   dataflow: output_stationary    # or weight_stationary, input_stationary, auto (mapping/)
//   tile: {b: 1, x: 16, y: 16}     # the (b, x, y) tile ops are cut into
//   power_gating: true             # idle compute units leak nothing
//   processing_elements:           # a PE template, repeated `count` times
//     count: 64
//     units: [{name, component, count, params}, ...]   # counts per PE
//   units: [{name, component, count, params}, ...]     # chip-level: buffers, main memory, interconnect
//
// Every unit is a `component` plugin; its `params` are validated against the plugin's schema and
// usually `include:` a figure file from configs/components/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/component.hpp"

namespace transcode::engine {

/// One unit line of an accelerator file: `count` identical instances of one component.
struct UnitGroup {
    std::string name;        ///< the unit's name in the file, e.g. "mac_lane"
    std::string path;        ///< its YAML path, e.g. "processing_elements.units[0]"
    const PluginInfo* info = nullptr;
    Params params;
    std::shared_ptr<PluginPtr<Component>> component;  ///< one object stands for every instance
    std::int64_t count = 0;       ///< instances on the chip (per-PE count x PEs for PE units)
    bool per_pe = false;
    // Cached from the component, so that the simulator never calls into plugins in its loop.
    ComponentRole role = ComponentRole::compute;
    std::string unit_kind;
    double area_mm2 = 0;      ///< one instance
    double leakage_w = 0;     ///< one instance
    bool power_gateable = false;
    std::vector<OpKind> executes;
    BufferClass buffer_class = BufferClass::activation;
    StorageSpec storage;
    std::string serves;
    double dynamic_w = 0;
    bool training_only = false;
};

struct Accelerator {
    std::string name;
    std::string description;
    double clock_hz = 700e6;
    int data_bits = 20;
    int gradient_bits = 20;         ///< activation and weight gradients
    int optimizer_state_bits = 20;  ///< optimizer state
    std::string dataflow = "output_stationary";  ///< a mapping::Dataflow name (engine/mapping)
    std::int64_t tile_b = 1, tile_x = 16, tile_y = 16;
    bool power_gating = true;
    std::int64_t pes = 1;
    std::vector<UnitGroup> units;

    double area_mm2() const;
    /// The unit group of a buffer class or the main memory (exactly one of each exists).
    const UnitGroup& buffer(BufferClass c) const;
    const UnitGroup& main_memory() const;
    /// The interconnect between the buffers and the PEs, or nullptr when the file has none.
    const UnitGroup* interconnect() const;
    /// Storage width of a non-integer tensor of `role`, bits.
    int bits_of(TensorRole role) const;
};

const ParamSchema& accelerator_schema();
/// The keys of one unit (an item of `units` or `processing_elements.units`); `params` follows the
/// schema of the unit's component plugin.
const ParamSchema& accelerator_unit_schema();

/// Validates an accelerator map node at `path` ("" for a file, "accelerator" inside an
/// experiment), creating each component through its plugin. Problems go to `diags`; nullopt when
/// any occurred. Rules beyond the schema: exactly one buffer of each class and one main memory;
/// at most one interconnect; every level's bandwidths finite and > 0 and its latency finite and >= 0;
/// component plugins' own ConfigErrors are located at the parameter they name.
std::optional<Accelerator> resolve_accelerator(const config::Node& node, const std::string& path, PluginHost& host, config::Diagnostics& diags);

/// Loads an accelerator file with `--set` overrides. Throws ConfigError listing every problem.
Accelerator load_accelerator_file(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host);
/// The same, from an already-parsed document (overrides applied; `diags` may hold parse errors,
/// reported together with the rest). `file` names the document in errors (e.g. "<dict>").
Accelerator load_accelerator(config::Node root, config::Diagnostics diags, const std::filesystem::path& file, PluginHost& host);

}  // namespace transcode::engine
