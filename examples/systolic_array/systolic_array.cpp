// systolic.array: a weight-stationary systolic-array matmul unit as a transcode `component`
// plugin, built out of tree against the installed SDK. An accelerator file places it in a
// processing element beside (or instead of) MAC lanes; the simulator sends each matmul to
// whichever unit group finishes it first.
//
// This file includes only SDK headers. It is the source of several snippets of
// docs/plugin-guide.md: the regions between `[guide:NAME]` markers are copied there verbatim, and
// scripts/test-install.sh checks that they still match.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "transcode/sdk.hpp"

namespace example_systolic {
namespace {

using namespace transcode;

constexpr const char* plugin_name = "systolic.array";

// [guide:component-schema]
// No figure is in the code: area and power per PE come from the accelerator file (which includes
// systolic-array-figures.yaml), as every shipped component takes them from configs/components/.
ParamSchema systolic_schema() {
    return {
        ParamSpec::integer("rows", "PE rows: the reduction depth one pass holds").unit("PEs").greater_than(0).max(4096).required(),
        ParamSpec::integer("cols", "PE columns: the output columns one pass holds").unit("PEs").greater_than(0).max(4096).required(),
        ParamSpec::floating("area_um2_per_pe", "silicon area of one PE (MAC, weight registers, pipeline registers)").unit("µm²").min(0).required(),
        ParamSpec::floating("dynamic_mw_per_pe", "dynamic power of one PE while it computes").unit("mW").min(0).required(),
        ParamSpec::floating("leakage_mw_per_pe", "leakage power of one PE while the array is powered").unit("mW").min(0).required(),
        ParamSpec::enumeration("fill_drain",
                               "exposed: every tile pays rows + cols - 1 cycles to fill and drain the array; overlapped: "
                               "tiles stream back to back and the fill/drain is hidden",
                               {"exposed", "overlapped"})
            .default_value("exposed"),
    };
}
// [/guide:component-schema]

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// [guide:component-class]
class SystolicArray final : public Component {
public:
    explicit SystolicArray(const Params& p)
        : rows_(p.get_int("rows")),
          cols_(p.get_int("cols")),
          pe_area_mm2_(p.get_float("area_um2_per_pe") * 1e-6),     // µm² -> mm²
          pe_dynamic_w_(p.get_float("dynamic_mw_per_pe") * 1e-3),  // mW -> W
          pe_leakage_w_(p.get_float("leakage_mw_per_pe") * 1e-3),
          fill_drain_(p.get_string("fill_drain") == "exposed" ? rows_ + cols_ - 1 : 0) {}

    ComponentRole role() const override { return ComponentRole::compute; }
    std::string unit_kind() const override { return "systolic_array"; }  // for `utilisation` in results.json
    double area_mm2() const override { return pe_area_mm2_ * pes(); }
    double leakage_w() const override { return pe_leakage_w_ * pes(); }
    bool power_gateable() const override { return true; }  // the whole array is gated while idle

    // Only the MAC kinds that are a matrix product: element-wise work, softmax and layer-norm need
    // other units in the same accelerator (the engine refuses a model whose op kind none executes).
    std::vector<OpKind> executes() const override { return {OpKind::matmul, OpKind::seq_transform}; }

    // Weight-stationary: the tile's weight block (depth x y) is cut into passes of rows x cols; in
    // each pass the b·x input rows stream through the array, one per cycle. Dense: zeros are
    // multiplied like any value, so input_sparsity is ignored.
    TileCost tile_cost(const TileWork& w) const override {
        if (w.kind != OpKind::matmul && w.kind != OpKind::seq_transform)
            throw InternalError(std::string(plugin_name) + ": asked for the cost of a " + to_string(w.kind) + " tile");
        if (w.b < 1 || w.x < 1 || w.y < 1 || w.depth < 1 || !(w.clock_hz > 0.0))
            throw InternalError(std::string(plugin_name) + ": tile_cost() got a malformed tile");
        const std::int64_t passes = ceil_div(w.depth, rows_) * ceil_div(w.y, cols_);
        // A pass streams b·x input rows, one per cycle; meanwhile the next pass's weights shift in,
        // one array row per cycle (double-buffered weight registers), so a pass takes at least rows.
        const std::int64_t cycles = passes * std::max(w.b * w.x, rows_) + fill_drain_;
        // PEs that hold a weight of the tile draw dynamic power for the whole tile; the rest are
        // clock-gated.
        const double active_pes = static_cast<double>(std::min(w.depth, rows_) * std::min(w.y, cols_));
        return TileCost{cycles, pe_dynamic_w_ * active_pes * static_cast<double>(cycles) / w.clock_hz};
    }

private:
    double pes() const { return static_cast<double>(rows_ * cols_); }

    std::int64_t rows_, cols_;
    double pe_area_mm2_, pe_dynamic_w_, pe_leakage_w_;
    std::int64_t fill_drain_;  // cycles per tile
};
// [/guide:component-class]

const FactoryList* factories() {
    static const FactoryList list{Factory{
        PluginKind::component,
        plugin_name,
        "Systolic array: a weight-stationary grid of rows x cols PEs for matmul and seq_transform, dense (compute)\n"
        "Per tile (b, x, y) of reduction depth d: passes = ceil(d / rows) · ceil(y / cols);\n"
        "cycles = passes · max(b·x, rows) + F, with F = rows + cols - 1 (fill_drain: exposed) or 0 (overlapped).\n"
        "Zeros are not skipped (input_sparsity is ignored). Energy = dynamic_mw_per_pe · min(d, rows) · min(y, cols)\n"
        "· cycles / clock. Area and leakage = rows · cols · the per-PE figures. Power-gated while idle.",
        systolic_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<SystolicArray>(params); },
    }};
    return &list;
}

}  // namespace
}  // namespace example_systolic

TRANSCODE_PLUGIN("systolic", "0.1.0", &example_systolic::factories)
