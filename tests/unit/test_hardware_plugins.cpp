// The built-in hardware component libraries ("acceltran" and "memory"), loaded through the real
// plugin host, with parameters validated by the real schema validation and read from the shipped
// figure files in configs/components/.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/component.hpp"

namespace {

using transcode::BufferClass;
using transcode::Component;
using transcode::ComponentRole;
using transcode::ConfigError;
using transcode::OpKind;
using transcode::Params;
using transcode::TileWork;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;
using transcode::engine::PluginPtr;

const PluginHost& host() { return transcode::test::builtin_plugins(); }

const std::filesystem::path source_dir = TRANSCODE_SOURCE_DIR;
const std::filesystem::path components_dir = source_dir / "configs" / "components";

const PluginInfo& component_info(std::string_view name) {
    const PluginInfo* info = host().find(name, transcode::PluginKind::component);
    REQUIRE_MESSAGE(info != nullptr, "component plugin '" << std::string(name) << "' is not loaded");
    return *info;
}

/// Validates `yaml` against the component's schema like a unit's `params:` in an accelerator
/// file: `include:` paths resolve against configs/components/.
Params component_params(const PluginInfo& info, std::string_view yaml) {
    transcode::config::Diagnostics diags;
    const auto node = transcode::config::load_string(yaml, "<params>", diags, components_dir);
    transcode::ValueMap values;
    if (diags.empty()) values = transcode::config::validate_map(node, info.schema, "", diags);
    diags.throw_if_any();
    return Params(std::move(values));
}

PluginPtr<Component> make_component(std::string_view name, std::string_view yaml) {
    const PluginInfo& info = component_info(name);
    return host().create<Component>(info, component_params(info, yaml));
}

/// The ConfigError that creating the component throws (fails the test when there is none).
ConfigError create_error(std::string_view name, std::string_view yaml) {
    try {
        make_component(name, yaml);
    } catch (const ConfigError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("expected a ConfigError, got another exception: " << e.what());
    }
    FAIL("expected a ConfigError for: " << std::string(yaml));
    return ConfigError("");
}

TileWork tile(OpKind kind, std::int64_t b, std::int64_t x, std::int64_t y, std::int64_t depth = 1) {
    TileWork w;
    w.kind = kind;
    w.b = b;
    w.x = x;
    w.y = y;
    w.depth = depth;
    w.clock_hz = 700e6;
    return w;
}

bool executes(const Component& c, OpKind k) {
    const auto kinds = c.executes();
    return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

doctest::Approx exact(double v) { return doctest::Approx(v).epsilon(1e-12); }

}  // namespace

TEST_CASE("hardware plugins: every component factory is loaded with the component kind") {
    for (const char* name : {"acceltran.mac_lane", "acceltran.softmax", "acceltran.layer_norm", "acceltran.support", "acceltran.buffer",
                             "memory.main_memory"}) {
        CAPTURE(name);
        const PluginInfo& info = component_info(name);
        CHECK(info.kind == transcode::PluginKind::component);
        CHECK(info.version == "0.1.0");
        const auto figures = std::find_if(info.schema.begin(), info.schema.end(), [](const auto& s) { return s.name() == "figures"; });
        REQUIRE(figures != info.schema.end());
        CHECK(figures->is_required());
    }
    CHECK(component_info("acceltran.mac_lane").library == "acceltran");
    CHECK(component_info("memory.main_memory").library == "memory");
}

TEST_CASE("acceltran.mac_lane: published figures and tile costs of a 16-MAC GELU lane") {
    const auto lane = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu}");
    CHECK(lane->role() == ComponentRole::compute);
    CHECK(lane->unit_kind() == "mac_lane");
    CHECK(lane->area_mm2() == exact(9418.667591e-6));
    CHECK(lane->leakage_w() == exact(0.3189685e-3));
    CHECK(lane->power_gateable());
    CHECK(executes(*lane, OpKind::gelu));
    CHECK(executes(*lane, OpKind::gelu_backward));
    CHECK_FALSE(executes(*lane, OpKind::relu));
    CHECK_FALSE(executes(*lane, OpKind::softmax));
    CHECK_FALSE(executes(*lane, OpKind::layer_norm));

    // A dense 1x16x16 matmul tile with a reduction chunk of 16: 4096 MACs on 16 MACs.
    TileWork w = tile(OpKind::matmul, 1, 16, 16, 16);
    auto cost = lane->tile_cost(w);
    CHECK(cost.cycles == 256);
    CHECK(cost.energy_j == exact(5.1955e-3 * 256 / 700e6));

    // Half the first operand is zero: exactly half the products remain.
    w.input_sparsity[0] = 0.5;
    cost = lane->tile_cost(w);
    CHECK(cost.cycles == 128);
    CHECK(cost.energy_j == exact(5.1955e-3 * 128 / 700e6));
    // By default (zero_skipping: one_operand) only the sparser operand's zeros are skipped:
    // 4096 · (1 − 0.3) / 16 = 179.2 -> 180.
    w.input_sparsity[0] = 0.3;
    w.input_sparsity[1] = 0.2;
    CHECK(lane->tile_cost(w).cycles == 180);
    // An all-zero operand still costs the minimum of one cycle.
    w.input_sparsity[0] = 1.0;
    CHECK(lane->tile_cost(w).cycles == 1);
    // 6400 · 0.55 / 16 is 220 exactly, though the double product is 220.00000000000003.
    TileWork deep = tile(OpKind::matmul, 1, 16, 16, 25);
    deep.input_sparsity[0] = 0.45;
    CHECK(lane->tile_cost(deep).cycles == 220);

    CHECK(lane->tile_cost(tile(OpKind::seq_transform, 1, 16, 16, 16)).cycles == 256);
    CHECK(lane->tile_cost(tile(OpKind::conv1d, 1, 16, 16, 9)).cycles == 144);
    CHECK(lane->tile_cost(tile(OpKind::conv1d_backward, 1, 16, 16, 9)).cycles == 288);  // dx and dw

    // Element-wise kinds: 256 elements · passes / 16 MACs.
    CHECK(lane->tile_cost(tile(OpKind::add, 1, 16, 16)).cycles == 16);
    CHECK(lane->tile_cost(tile(OpKind::gelu, 1, 16, 16)).cycles == 16);
    CHECK(lane->tile_cost(tile(OpKind::gelu_backward, 1, 16, 16)).cycles == 32);
    CHECK(lane->tile_cost(tile(OpKind::tanh, 1, 16, 16)).cycles == 64);
    CHECK(lane->tile_cost(tile(OpKind::tanh_backward, 1, 16, 16)).cycles == 32);
    CHECK(executes(*lane, OpKind::dropout));
    CHECK(lane->tile_cost(tile(OpKind::dropout, 1, 16, 16)).cycles == 16);  // one pass: x times 0 or 1/(1 − p)
    CHECK(lane->tile_cost(tile(OpKind::embedding_backward, 4, 16, 16)).cycles == 64);
    CHECK(lane->tile_cost(tile(OpKind::add, 1, 1, 3)).cycles == 1);
    TileWork update = tile(OpKind::optimizer_update, 1, 16, 16);
    update.attrs["optimizer"] = 0.0;  // AdamW
    CHECK(lane->tile_cost(update).cycles == 192);
    update.attrs["optimizer"] = 1.0;  // SGD
    CHECK(lane->tile_cost(update).cycles == 48);
    update.attrs.clear();  // absent: AdamW, the default optimizer
    CHECK(lane->tile_cost(update).cycles == 192);

    // A kind the lane does not list is an engine bug, not a user mistake.
    CHECK_THROWS_AS(lane->tile_cost(tile(OpKind::softmax, 1, 16, 16)), transcode::InternalError);
    CHECK_THROWS_AS(lane->tile_cost(tile(OpKind::relu, 1, 16, 16)), transcode::InternalError);
}

TEST_CASE("acceltran.mac_lane: zero_skipping one_operand skips the sparser operand's zeros, both_operands either operand's") {
    const auto one = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu}");
    const auto named = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu, zero_skipping: one_operand}");
    const auto both = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu, zero_skipping: both_operands}");
    TileWork w = tile(OpKind::matmul, 1, 16, 16, 16);  // 4096 MACs, 256 cycles dense on 16 MACs
    for (const auto* lane : {&one, &named, &both}) CHECK((*lane)->tile_cost(w).cycles == 256);
    // s0 = s1 = 0.5: one_operand leaves 1 − 0.5 of the products (128 cycles), both_operands
    // (1 − 0.5)(1 − 0.5) = 0.25 (64 cycles).
    w.input_sparsity[0] = 0.5;
    w.input_sparsity[1] = 0.5;
    CHECK(one->tile_cost(w).cycles == 128);
    CHECK(named->tile_cost(w).cycles == 128);
    CHECK(both->tile_cost(w).cycles == 64);
    CHECK(both->tile_cost(w).energy_j == exact(5.1955e-3 * 64 / 700e6));
    // The sparser operand decides, whichever it is: 4096 · (1 − 0.75) / 16 = 64; both operands:
    // 4096 · 0.25 · 0.9 / 16 = 57.6 -> 58.
    w.input_sparsity[0] = 0.1;
    w.input_sparsity[1] = 0.75;
    CHECK(one->tile_cost(w).cycles == 64);
    CHECK(both->tile_cost(w).cycles == 58);
    std::swap(w.input_sparsity[0], w.input_sparsity[1]);
    CHECK(one->tile_cost(w).cycles == 64);
    CHECK(both->tile_cost(w).cycles == 58);
    // 4096 · 0.7 · 0.8 / 16 = 143.36 -> 144 with both operands, against 180 with one.
    w.input_sparsity[0] = 0.3;
    w.input_sparsity[1] = 0.2;
    CHECK(both->tile_cost(w).cycles == 144);
    CHECK(one->tile_cost(w).cycles == 180);
    // conv1d_backward (dx and dw) doubles either: 2 · 4096 · 0.5 / 16 = 256, 2 · 4096 · 0.25 / 16 = 128.
    TileWork conv = tile(OpKind::conv1d_backward, 1, 16, 16, 16);
    conv.input_sparsity[0] = 0.5;
    conv.input_sparsity[1] = 0.5;
    CHECK(one->tile_cost(conv).cycles == 256);
    CHECK(both->tile_cost(conv).cycles == 128);
    // Element-wise kinds ignore it.
    CHECK(both->tile_cost(tile(OpKind::add, 1, 16, 16)).cycles == one->tile_cost(tile(OpKind::add, 1, 16, 16)).cycles);

    // A bad value is a located ConfigError naming the choices, with a hint for a near miss.
    CHECK(std::string(create_error("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu, zero_skipping: both}").what()) ==
          "<params>:1:79: error: zero_skipping: 'both' is not one of: one_operand, both_operands (choice)");
    CHECK(std::string(create_error("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: gelu, zero_skipping: one-operand}").what()) ==
          "<params>:1:79: error: zero_skipping: 'one-operand' is not one of: one_operand, both_operands; did you mean 'one_operand'? (choice)");
}

TEST_CASE("acceltran.mac_lane: a relu lane runs relu but not gelu, a 1-MAC lane") {
    const auto relu = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 16, activation: relu}");
    CHECK(relu->area_mm2() == exact(8819.484999e-6));
    CHECK(relu->leakage_w() == exact(0.3003e-3));
    CHECK(executes(*relu, OpKind::relu));
    CHECK(executes(*relu, OpKind::relu_backward));
    CHECK_FALSE(executes(*relu, OpKind::gelu));
    CHECK_FALSE(executes(*relu, OpKind::gelu_backward));
    CHECK(executes(*relu, OpKind::tanh));
    CHECK(relu->tile_cost(tile(OpKind::relu_backward, 1, 16, 16)).cycles == 16);
    CHECK_THROWS_AS(relu->tile_cost(tile(OpKind::gelu, 1, 16, 16)), transcode::InternalError);

    const auto one = make_component("acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 1, activation: relu}");
    CHECK(one->area_mm2() == exact(597.964253e-6));
    const auto cost = one->tile_cost(tile(OpKind::matmul, 1, 16, 16, 16));
    CHECK(cost.cycles == 4096);
    CHECK(cost.energy_j == exact(0.2756146e-3 * 4096 / 700e6));
}

TEST_CASE("hardware plugins: a variant without a figure row is a ConfigError naming the rows that exist") {
    struct Case {
        const char* name;
        const char* yaml;
        const char* path;
        const char* message;
    };
    const Case cases[] = {
        {"acceltran.mac_lane", "{include: acceltran-mac-lane.yaml, macs: 8, activation: gelu}", "figures",
         "no figures for a lane with 8 MACs and a gelu unit; rows exist for (MACs/activation): 16/gelu, 16/relu, 1/gelu, 1/relu"},
        {"acceltran.mac_lane",
         "{macs: 16, activation: relu, figures: [{macs: 16, activation: gelu, area_um2: 1, dynamic_mw: 1, leakage_mw: 1}]}", "figures",
         "no figures for a lane with 16 MACs and a relu unit; rows exist for (MACs/activation): 16/gelu"},
        {"acceltran.softmax", "{include: acceltran-softmax.yaml, tile: 12}", "tile",
         "no figures for a softmax module with tile 12; rows exist for tiles: 8, 16, 32"},
        {"acceltran.layer_norm", "{include: acceltran-layer-norm.yaml, tile: 64}", "tile",
         "no figures for a layer-norm module with tile 64; rows exist for tiles: 8, 16, 32"},
        {"acceltran.support", "{unit: fifo, figures: [{unit: dma, area_um2: 1, dynamic_mw: 1, leakage_mw: 1}]}", "unit",
         "no figures for the fifo unit; rows exist for: dma"},
        {"acceltran.buffer",
         "{class: mask, size_mb: 1, figures: [{class: weight, area_um2_per_mb: 1, leakage_mw_per_mb: 1, energy_nj_per_64b: 1, "
         "bandwidth_gbps: 1}]}",
         "class", "no figures for the mask buffer; rows exist for: weight"},
        // Two rows with the same selectors: located at the later one.
        {"acceltran.softmax",
         "{tile: 8, figures: [{tile: 8, area_um2: 1, dynamic_mw: 1, leakage_mw: 1}, {tile: 8, area_um2: 2, dynamic_mw: 2, "
         "leakage_mw: 2}]}",
         "figures[1]", "figures[1] repeats the row for 8 (figures[0]); keep one"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.yaml);
        const ConfigError e = create_error(c.name, c.yaml);
        CHECK(std::string(e.what()) == c.message);
        CHECK(e.path() == c.path);
    }
}

TEST_CASE("acceltran.softmax and acceltran.layer_norm: T elements per cycle and pass") {
    const auto softmax = make_component("acceltran.softmax", "{include: acceltran-softmax.yaml, tile: 16}");
    CHECK(softmax->unit_kind() == "softmax");
    CHECK(softmax->role() == ComponentRole::compute);
    CHECK(softmax->area_mm2() == exact(87573.326116e-6));
    CHECK(softmax->leakage_w() == exact(2.6696e-3));
    CHECK(softmax->executes() ==
          std::vector<OpKind>{OpKind::softmax, OpKind::softmax_backward, OpKind::cross_entropy, OpKind::cross_entropy_backward});
    auto cost = softmax->tile_cost(tile(OpKind::softmax, 1, 16, 16));  // ceil(256 / 16) · 3 passes
    CHECK(cost.cycles == 48);
    CHECK(cost.energy_j == exact(34.6343e-3 * 48 / 700e6));
    CHECK(softmax->tile_cost(tile(OpKind::softmax_backward, 1, 16, 16)).cycles == 32);
    CHECK(softmax->tile_cost(tile(OpKind::softmax, 1, 16, 17)).cycles == 51);  // ceil(272 / 16) = 17
    CHECK(softmax->tile_cost(tile(OpKind::cross_entropy, 4, 1, 2)).cycles == 3);
    CHECK(softmax->tile_cost(tile(OpKind::cross_entropy_backward, 4, 1, 2)).cycles == 2);
    CHECK_THROWS_AS(softmax->tile_cost(tile(OpKind::layer_norm, 1, 16, 16)), transcode::InternalError);

    const auto small = make_component("acceltran.softmax", "{include: acceltran-softmax.yaml, tile: 8}");
    CHECK(small->tile_cost(tile(OpKind::softmax, 1, 16, 16)).cycles == 96);

    const auto ln = make_component("acceltran.layer_norm", "{include: acceltran-layer-norm.yaml, tile: 32}");
    CHECK(ln->unit_kind() == "layer_norm");
    CHECK(ln->area_mm2() == exact(318834.6362e-6));
    CHECK(ln->leakage_w() == exact(10.03566e-3));
    CHECK(ln->executes() == std::vector<OpKind>{OpKind::layer_norm, OpKind::layer_norm_backward});
    cost = ln->tile_cost(tile(OpKind::layer_norm, 1, 16, 16));  // ceil(256 / 32) · 3
    CHECK(cost.cycles == 24);
    CHECK(cost.energy_j == exact(151.4800e-3 * 24 / 700e6));
    CHECK(ln->tile_cost(tile(OpKind::layer_norm_backward, 1, 16, 16)).cycles == 32);
    CHECK_THROWS_AS(ln->tile_cost(tile(OpKind::softmax, 1, 16, 16)), transcode::InternalError);
}

TEST_CASE("acceltran.support: what each unit serves, gating and training-only") {
    struct Case {
        const char* unit;
        const char* serves;
        bool gateable;
        bool training_only;
        double area_um2, dynamic_mw, leakage_mw;
    };
    const Case cases[] = {
        {"pre_sparsity", "mac_lane", true, false, 6216.896914, 0.2852968, 0.1507329},
        {"post_sparsity", "mac_lane", true, false, 1181.201447, 0.2613971, 0.0324301},
        {"fifo", "mac_lane", true, false, 484.379110, 0.0563909, 0.0140774},
        {"stochastic_rounding", "mac_lane", true, true, 79.043665, 0.0216570, 0.0040125},
        {"dataflow_controller", "", false, false, 75946.982008, 11.3711, 2.7312},
        {"dma", "", false, false, 144.636242, 0.0335287, 0.0063819},
    };
    for (const Case& c : cases) {
        CAPTURE(c.unit);
        const auto u = make_component("acceltran.support", std::string("{include: acceltran-support.yaml, unit: ") + c.unit + "}");
        CHECK(u->role() == ComponentRole::support);
        CHECK(u->unit_kind() == c.unit);
        CHECK(u->serves() == c.serves);
        CHECK(u->power_gateable() == c.gateable);
        CHECK(u->training_only() == c.training_only);
        CHECK(u->area_mm2() == exact(c.area_um2 * 1e-6));
        CHECK(u->dynamic_w() == exact(c.dynamic_mw * 1e-3));
        CHECK(u->leakage_w() == exact(c.leakage_mw * 1e-3));
        CHECK(u->executes().empty());
    }
}

TEST_CASE("acceltran.buffer: the 4 MB activation buffer by hand") {
    const auto b = make_component("acceltran.buffer", "{include: acceltran-buffers.yaml, class: activation, size_mb: 4}");
    CHECK(b->role() == ComponentRole::buffer);
    CHECK(b->unit_kind() == "activation_buffer");
    CHECK(b->buffer_class() == BufferClass::activation);
    CHECK_FALSE(b->power_gateable());
    CHECK(b->area_mm2() == exact(1.21322332));      // 303305.83 µm²/MB · 4 MB
    CHECK(b->leakage_w() == exact(0.991674668));    // 247.918667 mW/MB · 4 MB
    const auto s = b->storage();
    CHECK(s.capacity_bytes == 4194304.0);           // 4 · 1048576
    CHECK(s.read_bandwidth_bytes_per_s == exact(370e9));
    CHECK(s.write_bandwidth_bytes_per_s == exact(370e9));
    CHECK(s.energy_per_byte_j == exact(2.47734684375e-12));  // 0.079275099 nJ · √4 / 64

    const auto w = make_component("acceltran.buffer", "{include: acceltran-buffers.yaml, class: weight, size_mb: 8}");
    CHECK(w->unit_kind() == "weight_buffer");
    CHECK(w->buffer_class() == BufferClass::weight);
    CHECK(w->storage().energy_per_byte_j == exact(0.0856588e-9 * std::sqrt(8.0) / 64));
    const auto m = make_component("acceltran.buffer", "{include: acceltran-buffers.yaml, class: mask, size_mb: 1}");
    CHECK(m->unit_kind() == "mask_buffer");
    CHECK(m->buffer_class() == BufferClass::mask);
    CHECK(m->area_mm2() == exact(302565.0e-6));
}

TEST_CASE("memory.interconnect: bandwidth each way and energy per byte from its figure file") {
    const auto link = make_component("memory.interconnect", "{include: interconnect.yaml}");
    CHECK(link->role() == ComponentRole::interconnect);
    CHECK(link->unit_kind() == "interconnect");
    CHECK(link->area_mm2() == 0.0);
    const auto s = link->storage();
    CHECK(s.read_bandwidth_bytes_per_s == exact(1110e9));  // 3 x 370 GB/s
    CHECK(s.write_bandwidth_bytes_per_s == exact(1110e9));
    CHECK(s.energy_per_byte_j == 0.0);
    const auto custom = make_component("memory.interconnect", "{read_bandwidth_gbps: 100, write_bandwidth_gbps: 50, energy_pj_per_byte: 2}");
    CHECK(custom->storage().write_bandwidth_bytes_per_s == exact(50e9));
    CHECK(custom->storage().energy_per_byte_j == exact(2e-12));
}

TEST_CASE("memory.main_memory: energy by organisation, bandwidth by mode") {
    const auto low = make_component("memory.main_memory", "{include: memory.yaml, type: lpddr3, banks: 32, ranks: 2, channels: 1}");
    CHECK(low->role() == ComponentRole::main_memory);
    CHECK(low->unit_kind() == "main_memory");
    CHECK(low->area_mm2() == 0.0);
    CHECK(low->leakage_w() == 0.0);
    CHECK_FALSE(low->power_gateable());
    auto s = low->storage();
    CHECK(s.energy_per_byte_j == exact(13.43777522e-9 / 64));
    CHECK(s.read_bandwidth_bytes_per_s == exact(25.6e9));  // mode defaults to low_bandwidth
    CHECK(s.write_bandwidth_bytes_per_s == exact(25.6e9));
    CHECK(s.latency_s == exact(100e-9));                   // memory.yaml's latency_ns
    CHECK(s.capacity_bytes == 0.0);

    const auto high =
        make_component("memory.main_memory", "{include: memory.yaml, type: lpddr3, banks: 32, ranks: 2, channels: 1, mode: high_bandwidth}");
    s = high->storage();
    CHECK(s.energy_per_byte_j == exact(13.43777522e-9 / 64));
    CHECK(s.read_bandwidth_bytes_per_s == exact(256e9));

    const auto rram =
        make_component("memory.main_memory", "{include: memory.yaml, type: rram, banks: 32, ranks: 2, channels: 1, mode: high_bandwidth}");
    CHECK(rram->storage().energy_per_byte_j == exact(8.63281599e-9 / 64));
    const auto hbm = make_component("memory.main_memory", "{include: memory.yaml, type: hbm, banks: 32, ranks: 1, channels: 4}");
    CHECK(hbm->storage().energy_per_byte_j == exact(26.5569841e-9 / 64));
}

TEST_CASE("memory.main_memory: an unknown combination lists the rows of its type") {
    ConfigError e = create_error("memory.main_memory", "{include: memory.yaml, type: lpddr3, banks: 16, ranks: 1, channels: 1}");
    CHECK(std::string(e.what()) ==
          "no figures for lpddr3 with 16 banks, 1 rank and 1 channel (16-1-1); rows exist for lpddr3 (banks-ranks-channels): 16-2-2, "
          "8-2-4, 32-2-1, 16-4-1");
    CHECK(e.path() == "figures");
    e = create_error("memory.main_memory", "{include: memory.yaml, type: hbm, banks: 32, ranks: 2, channels: 1}");
    CHECK(std::string(e.what()) == "no figures for hbm with 32 banks, 2 ranks and 1 channel (32-2-1); rows exist for hbm (banks-ranks-channels): 32-1-4");
    e = create_error("memory.main_memory",
                     "{type: hbm, banks: 32, ranks: 1, channels: 4, low_bandwidth_gbps: 25.6, high_bandwidth_gbps: 256, "
                     "figures: [{type: rram, banks: 32, ranks: 2, channels: 1, energy_nj_per_64b: 1}]}");
    CHECK(std::string(e.what()) == "no figures for hbm with 32 banks, 1 rank and 4 channels (32-1-4); the figures have no hbm rows (rows exist for: rram)");
    e = create_error("memory.main_memory",
                     "{type: rram, banks: 32, ranks: 2, channels: 1, low_bandwidth_gbps: 25.6, high_bandwidth_gbps: 256, "
                     "figures: [{type: rram, banks: 32, ranks: 2, channels: 1, energy_nj_per_64b: 1}, "
                     "{type: rram, banks: 32, ranks: 2, channels: 1, energy_nj_per_64b: 2}]}");
    CHECK(std::string(e.what()) == "figures[1] repeats the row for rram 32-2-1 (figures[0]); keep one");
    CHECK(e.path() == "figures[1]");
    // The schema itself refuses what it can check alone: no bandwidths, a zero bank count.
    CHECK_THROWS_AS(component_params(component_info("memory.main_memory"), "{type: rram, banks: 0, ranks: 2, channels: 1, figures: []}"),
                    ConfigError);
}

TEST_CASE("hardware plugins: every unit of the shipped accelerator files is created from the figure files") {
    for (const char* file : {"acceltran-edge.yaml", "acceltran-server.yaml"}) {
        CAPTURE(file);
        transcode::config::Diagnostics diags;
        const auto root = transcode::config::load_file(source_dir / "configs" / "accelerators" / file, diags);
        REQUIRE_MESSAGE(diags.empty(), diags.format());
        std::vector<const transcode::config::Node*> units;
        for (const auto* list : {root.find("processing_elements") ? root.find("processing_elements")->find("units") : nullptr, root.find("units")}) {
            REQUIRE(list != nullptr);
            for (const auto& u : list->items) units.push_back(&u);
        }
        CHECK(units.size() == 14);
        for (const auto* u : units) {
            const std::string component = u->find("component")->scalar;
            CAPTURE(component);
            const PluginInfo& info = component_info(component);
            const auto values = transcode::config::validate_map(*u->find("params"), info.schema, "params", diags);
            REQUIRE_MESSAGE(diags.empty(), diags.format());
            const auto c = host().create<Component>(info, Params(values));
            CHECK(c->area_mm2() >= 0.0);
            CHECK_FALSE(c->unit_kind().empty());
        }
    }
}
