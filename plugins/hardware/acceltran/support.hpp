// acceltran.support: the units that accompany the compute units of a processing element:
// pre-sparsity and post-sparsity units, FIFOs and stochastic rounding (one per MAC lane), and the
// dataflow controller and DMA (one per PE).
#pragma once

#include <string>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

class SupportUnit final : public Component {
public:
    explicit SupportUnit(const Params& params);

    ComponentRole role() const override { return ComponentRole::support; }
    std::string unit_kind() const override { return unit_; }
    double area_mm2() const override { return area_mm2_; }
    double leakage_w() const override { return leakage_w_; }
    /// The per-lane units are gated with their lane; the controller and DMA stay on.
    bool power_gateable() const override { return per_lane_; }
    /// "mac_lane" for the per-lane units, "" (the whole PE, always on) for the controller and DMA.
    std::string serves() const override { return per_lane_ ? "mac_lane" : ""; }
    double dynamic_w() const override { return dynamic_w_; }
    bool training_only() const override { return unit_ == "stochastic_rounding"; }

private:
    std::string unit_;
    bool per_lane_;
    double area_mm2_;
    double dynamic_w_;
    double leakage_w_;
};

/// The factory of acceltran.support.
Factory support_factory();

}  // namespace transcode::plugins::acceltran
