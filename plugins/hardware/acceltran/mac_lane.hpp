// acceltran.mac_lane: a lane of `macs` multiply-accumulate units with one non-linearity unit
// (GELU or ReLU), fed by the pre-sparsity unit so that zero operands are skipped (of the sparser
// operand by default, `zero_skipping: one_operand`; of either with `both_operands`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

class MacLane final : public Component {
public:
    explicit MacLane(const Params& params);

    ComponentRole role() const override { return ComponentRole::compute; }
    std::string unit_kind() const override { return "mac_lane"; }
    double area_mm2() const override { return area_mm2_; }
    double leakage_w() const override { return leakage_w_; }
    std::vector<OpKind> executes() const override;
    TileCost tile_cost(const TileWork& w) const override;

private:
    std::int64_t macs_;
    bool gelu_;           ///< a GELU lane (else ReLU)
    bool both_operands_;  ///< zero_skipping: both_operands (else one_operand)
    double area_mm2_;
    double dynamic_w_;
    double leakage_w_;
};

/// The factory of acceltran.mac_lane.
Factory mac_lane_factory();

}  // namespace transcode::plugins::acceltran
