// Accelerators for the simulator tests: a small AccelTran-like chip from a few numbers (AccSpec),
// written as YAML whose includes resolve like files in configs/accelerators/.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "hardware/accelerator.hpp"
#include "test_support.hpp"

namespace transcode::engine::test_fixtures {

// An accelerator from YAML text whose includes resolve like files in configs/accelerators/.
inline Accelerator accelerator_from(const std::string& yaml) {
    config::Diagnostics diags;
    const config::Node node = config::load_string(yaml, "<test accelerator>", diags, std::filesystem::path(TRANSCODE_SOURCE_DIR) / "configs" / "accelerators");
    auto a = resolve_accelerator(node, "", test::builtin_plugins(), diags);
    diags.throw_if_any();
    REQUIRE(a.has_value());
    return std::move(*a);
}

struct AccSpec {
    int pes = 1;
    int lanes = 4;
    int macs = 16;
    int softmax = 1;
    int module_tile = 16;
    int tile_b = 1, tile_x = 16, tile_y = 16;
    double activation_mb = 4, weight_mb = 8, mask_mb = 1;
    std::string mode = "low_bandwidth";
    std::string extra_memory;  // more memory params, e.g. ", high_bandwidth_gbps: 1e6"
    bool gating = true;
    std::string dataflow = "output_stationary";
    bool interconnect = false;  // add memory.interconnect (configs/components/interconnect.yaml)
};

inline std::string accelerator_yaml(const AccSpec& s) {
    return fmt::format(R"(name: test-accelerator
clock_mhz: 700
data_bits: 20
tile: {{b: {}, x: {}, y: {}}}
power_gating: {}
dataflow: {}
processing_elements:
  count: {}
  units:
    - {{name: mac_lane, component: acceltran.mac_lane, count: {}, params: {{include: ../components/acceltran-mac-lane.yaml, macs: {}, activation: gelu}}}}
    - {{name: softmax, component: acceltran.softmax, count: {}, params: {{include: ../components/acceltran-softmax.yaml, tile: {}}}}}
    - {{name: layer_norm, component: acceltran.layer_norm, count: 1, params: {{include: ../components/acceltran-layer-norm.yaml, tile: {}}}}}
    - {{name: pre_sparsity, component: acceltran.support, count: {}, params: {{include: ../components/acceltran-support.yaml, unit: pre_sparsity}}}}
    - {{name: stochastic_rounding, component: acceltran.support, count: {}, params: {{include: ../components/acceltran-support.yaml, unit: stochastic_rounding}}}}
    - {{name: dataflow_controller, component: acceltran.support, count: 1, params: {{include: ../components/acceltran-support.yaml, unit: dataflow_controller}}}}
units:
  - {{name: activation_buffer, component: acceltran.buffer, params: {{include: ../components/acceltran-buffers.yaml, class: activation, size_mb: {}}}}}
  - {{name: weight_buffer, component: acceltran.buffer, params: {{include: ../components/acceltran-buffers.yaml, class: weight, size_mb: {}}}}}
  - {{name: mask_buffer, component: acceltran.buffer, params: {{include: ../components/acceltran-buffers.yaml, class: mask, size_mb: {}}}}}
  - {{name: main_memory, component: memory.main_memory, params: {{include: ../components/memory.yaml, type: lpddr3, banks: 32, ranks: 2, channels: 1, mode: {}{}}}}}
{})",
                       s.tile_b, s.tile_x, s.tile_y, s.gating ? "true" : "false", s.dataflow, s.pes, s.lanes, s.macs, s.softmax, s.module_tile, s.module_tile, s.lanes,
                       s.lanes, s.activation_mb, s.weight_mb, s.mask_mb, s.mode, s.extra_memory,
                       s.interconnect ? "  - {name: interconnect, component: memory.interconnect, params: {include: ../components/interconnect.yaml}}\n" : "");
}

}  // namespace transcode::engine::test_fixtures
