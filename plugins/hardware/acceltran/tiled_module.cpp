#include "tiled_module.hpp"

#include <algorithm>

#include "common.hpp"

namespace transcode::plugins::acceltran {

ParamSchema tiled_module_schema(const std::string& module, const std::string& file) {
    ParamSchema row{ParamSpec::integer("tile", "tile size of the variant").unit("elements").greater_than(0).required()};
    for (auto& f : power_fields(module)) row.push_back(std::move(f));
    return {
        ParamSpec::integer("tile", "elements the " + module + " handles per cycle and pass; must have a row in figures")
            .unit("elements")
            .greater_than(0)
            .required(),
        ParamSpec::list("figures",
                        "figures per tile size, one row each: tile, area_um2 (µm²), dynamic_mw (mW), leakage_mw (mW); the row "
                        "matching tile is used (configs/components/" +
                            file + ")",
                        ParamSpec::map("row", "one " + module + " variant", std::move(row)))
            .min(1)
            .required(),
    };
}

TiledModule::TiledModule(const Params& params, std::string plugin, std::string unit_kind, const std::string& noun,
                         std::vector<PassCount> passes)
    : plugin_(std::move(plugin)), unit_kind_(std::move(unit_kind)), passes_(std::move(passes)), tile_(params.get_int("tile")) {
    const Params row = select_row(
        params, std::to_string(tile_), [](const Params& r) { return std::to_string(r.get_int("tile")); }, "tile",
        [&](const std::vector<std::string>& keys) {
            return "no figures for " + noun + " with tile " + std::to_string(tile_) + "; rows exist for tiles: " + join(keys);
        });
    const PowerFigures p = read_power(row);
    area_mm2_ = p.area_mm2;
    dynamic_w_ = p.dynamic_w;
    leakage_w_ = p.leakage_w;
}

std::vector<OpKind> TiledModule::executes() const {
    std::vector<OpKind> kinds;
    for (const auto& p : passes_) kinds.push_back(p.kind);
    return kinds;
}

TileCost TiledModule::tile_cost(const TileWork& w) const {
    auto it = std::find_if(passes_.begin(), passes_.end(), [&](const PassCount& p) { return p.kind == w.kind; });
    if (it == passes_.end())
        throw InternalError(plugin_ + ": asked for the cost of a " + to_string(w.kind) + " tile, which a " + unit_kind_ +
                            " module does not execute");
    check_tile(w, plugin_);
    const std::int64_t cycles = std::max<std::int64_t>(1, ceil_cycles(w.elements(), tile_) * it->passes);
    return TileCost{cycles, dynamic_energy_j(dynamic_w_, cycles, w.clock_hz)};
}

}  // namespace transcode::plugins::acceltran
