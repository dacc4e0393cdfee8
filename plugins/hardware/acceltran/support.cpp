#include "support.hpp"

#include <memory>
#include <vector>

#include "common.hpp"

namespace transcode::plugins::acceltran {

namespace {

const std::vector<std::string>& unit_choices() {
    static const std::vector<std::string> c{"pre_sparsity", "post_sparsity", "fifo", "stochastic_rounding", "dataflow_controller", "dma"};
    return c;
}

ParamSchema support_schema() {
    ParamSchema row{ParamSpec::enumeration("unit", "the support unit of this row", unit_choices()).required()};
    for (auto& f : power_fields("unit")) row.push_back(std::move(f));
    return {
        ParamSpec::enumeration("unit",
                               "which unit: pre_sparsity, post_sparsity, fifo and stochastic_rounding accompany one MAC lane "
                               "each; dataflow_controller and dma one processing element",
                               unit_choices())
            .required(),
        ParamSpec::list("figures",
                        "figures per unit, one row each: unit, area_um2 (µm²), dynamic_mw (mW), leakage_mw (mW); the row "
                        "matching unit is used (configs/components/acceltran-support.yaml)",
                        ParamSpec::map("row", "one support unit", std::move(row)))
            .min(1)
            .required(),
    };
}

}  // namespace

SupportUnit::SupportUnit(const Params& params)
    : unit_(params.get_string("unit")), per_lane_(unit_ != "dataflow_controller" && unit_ != "dma") {
    const Params row = select_row(
        params, unit_, [](const Params& r) { return r.get_string("unit"); }, "unit",
        [&](const std::vector<std::string>& keys) { return "no figures for the " + unit_ + " unit; rows exist for: " + join(keys); });
    const PowerFigures p = read_power(row);
    area_mm2_ = p.area_mm2;
    dynamic_w_ = p.dynamic_w;
    leakage_w_ = p.leakage_w;
}

Factory support_factory() {
    return Factory{
        PluginKind::component,
        "acceltran.support",
        "AccelTran support unit: sparsity units, FIFO, stochastic rounding, dataflow controller or DMA (support)\n"
        "pre_sparsity, post_sparsity, fifo and stochastic_rounding serve the MAC lanes: they draw their dynamic power\n"
        "while a lane is busy and are power-gated with it; stochastic_rounding only in training. dataflow_controller and\n"
        "dma serve the whole processing element and stay powered. Area and power come from the unit's figure row; see\n"
        "plugins/hardware/README.md.",
        support_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<SupportUnit>(params); },
    };
}

}  // namespace transcode::plugins::acceltran
