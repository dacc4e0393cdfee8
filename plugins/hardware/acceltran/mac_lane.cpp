#include "mac_lane.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "common.hpp"

namespace transcode::plugins::acceltran {

namespace {

constexpr const char* plugin_name = "acceltran.mac_lane";

ParamSchema mac_lane_schema() {
    ParamSchema row{
        ParamSpec::integer("macs", "MACs in the lane variant").unit("MACs").greater_than(0).required(),
        ParamSpec::enumeration("activation", "the variant's non-linearity unit", {"gelu", "relu"}).required(),
    };
    for (auto& f : power_fields("lane")) row.push_back(std::move(f));
    return {
        ParamSpec::integer("macs", "MACs in the lane").unit("MACs").greater_than(0).required(),
        ParamSpec::enumeration("activation", "the lane's non-linearity unit (a relu lane cannot run gelu)", {"gelu", "relu"}).required(),
        ParamSpec::enumeration("zero_skipping",
                               "which zeros of a MAC kind's two operands are skipped. one_operand: AccelTran's pre-sparsity unit packs "
                               "one operand, taken to be the sparser one, so a fraction 1 - max(s0, s1) of the products remains; "
                               "both_operands: a product is skipped when either operand is zero, (1 - s0)(1 - s1) remains (independent "
                               "zeros; an idealised bound)",
                               {"one_operand", "both_operands"})
            .default_value("one_operand"),
        ParamSpec::list("figures",
                        "figures per lane variant, one row each: macs, activation, area_um2 (µm²), dynamic_mw (mW), leakage_mw "
                        "(mW); the row matching (macs, activation) is used (configs/components/acceltran-mac-lane.yaml)",
                        ParamSpec::map("row", "one lane variant", std::move(row)))
            .min(1)
            .required(),
    };
}

std::string plural(std::int64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Passes of the lane over the tile's elements for an element-wise kind: each MAC handles one
// element per pass and cycle. 0 for the MAC kinds and for kinds a lane never runs.
std::int64_t element_passes(const TileWork& w) {
    switch (w.kind) {
        case OpKind::add:
        case OpKind::reduce_sum:
        case OpKind::embedding:
        case OpKind::embedding_backward:
        case OpKind::concat:
        case OpKind::slice:
        case OpKind::slice_backward:
        case OpKind::relu:
        case OpKind::relu_backward:
        case OpKind::dropout:
        case OpKind::gelu: return 1;
        case OpKind::gelu_backward: return 2;
        case OpKind::tanh: return 4;
        case OpKind::tanh_backward: return 2;
        case OpKind::optimizer_update: {
            auto it = w.attrs.find("optimizer");
            const double optimizer = it == w.attrs.end() ? 0.0 : it->second;  // absent: AdamW, the default optimizer
            return optimizer == 0.0 ? 12 : 3;
        }
        default: return 0;
    }
}

bool is_mac_kind(OpKind k) {
    return k == OpKind::matmul || k == OpKind::seq_transform || k == OpKind::conv1d || k == OpKind::conv1d_backward;
}

}  // namespace

MacLane::MacLane(const Params& params)
    : macs_(params.get_int("macs")),
      gelu_(params.get_string("activation") == "gelu"),
      both_operands_(params.get_string("zero_skipping") == "both_operands") {
    const std::string activation = params.get_string("activation");
    const std::string wanted = std::to_string(macs_) + "/" + activation;
    const Params row = select_row(
        params, wanted, [](const Params& r) { return std::to_string(r.get_int("macs")) + "/" + r.get_string("activation"); }, "figures",
        [&](const std::vector<std::string>& keys) {
            return "no figures for a lane with " + plural(macs_, "MAC", "MACs") + " and a " + activation +
                   " unit; rows exist for (MACs/activation): " + join(keys);
        });
    const PowerFigures p = read_power(row);
    area_mm2_ = p.area_mm2;
    dynamic_w_ = p.dynamic_w;
    leakage_w_ = p.leakage_w;
}

std::vector<OpKind> MacLane::executes() const {
    std::vector<OpKind> kinds{OpKind::matmul,          OpKind::seq_transform, OpKind::conv1d,         OpKind::conv1d_backward,
                              OpKind::add,             OpKind::reduce_sum,    OpKind::embedding,      OpKind::embedding_backward,
                              OpKind::concat,          OpKind::slice,         OpKind::slice_backward, OpKind::optimizer_update,
                              OpKind::tanh,            OpKind::tanh_backward, OpKind::dropout};
    if (gelu_) {
        kinds.push_back(OpKind::gelu);
        kinds.push_back(OpKind::gelu_backward);
    } else {
        kinds.push_back(OpKind::relu);
        kinds.push_back(OpKind::relu_backward);
    }
    return kinds;
}

TileCost MacLane::tile_cost(const TileWork& w) const {
    const auto kinds = executes();
    if (std::find(kinds.begin(), kinds.end(), w.kind) == kinds.end())
        throw InternalError(std::string(plugin_name) + ": asked for the cost of a " + to_string(w.kind) + " tile, which a " +
                            (gelu_ ? "gelu" : "relu") + " lane does not execute");
    check_tile(w, plugin_name);
    std::int64_t cycles = 0;
    if (is_mac_kind(w.kind)) {
        // one_operand: the pre-sparsity unit packs the sparser operand, so a fraction
        // 1 - max(s0, s1) of the products remains. both_operands: a product is done only when
        // both operands are non-zero, a fraction (1 - s0)(1 - s1) of them.
        const double s0 = w.input_sparsity[0], s1 = w.input_sparsity[1];
        const double remaining = both_operands_ ? (1.0 - s0) * (1.0 - s1) : 1.0 - std::max(s0, s1);
        double macs_needed = static_cast<double>(w.elements()) * static_cast<double>(w.depth) * remaining;
        if (w.kind == OpKind::conv1d_backward) macs_needed *= 2.0;  // dx and dw
        cycles = ceil_cycles(macs_needed, macs_);
    } else {
        cycles = ceil_cycles(w.elements() * element_passes(w), macs_);
    }
    return TileCost{cycles, dynamic_energy_j(dynamic_w_, cycles, w.clock_hz)};
}

Factory mac_lane_factory() {
    return Factory{
        PluginKind::component,
        plugin_name,
        "AccelTran MAC lane: `macs` multiply-accumulate units and one GELU or ReLU unit (compute)\n"
        "Runs matmul, seq_transform and conv1d (and its backward) on the MACs, skipping zero operands:\n"
        "cycles = max(1, ceil(b·x·y·depth·r·k / macs)), k = 2 for conv1d_backward (dx and dw), r = 1 - max(s0, s1) with\n"
        "zero_skipping: one_operand (the default: AccelTran's pre-sparsity unit packs one operand, the sparser) or\n"
        "r = (1-s0)·(1-s1) with both_operands (every product with a zero operand skipped).\n"
        "Element-wise kinds take max(1, ceil(b·x·y·passes / macs)) cycles: 1 pass for add, reduce_sum, concat, gelu,\n"
        "dropout, embedding, slice and relu (and the backward forms of the last three), 2 for gelu_backward and tanh_backward, 4\n"
        "for tanh, 12 for an AdamW optimizer_update and 3 for SGD. A gelu lane runs gelu/gelu_backward, a relu lane\n"
        "relu/relu_backward.\n"
        "Energy per tile = dynamic power · cycles / clock. Area and power come from the figure row matching\n"
        "(macs, activation); see plugins/hardware/README.md.",
        mac_lane_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<MacLane>(params); },
    };
}

}  // namespace transcode::plugins::acceltran
