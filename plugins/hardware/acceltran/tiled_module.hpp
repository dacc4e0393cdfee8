// The shape shared by acceltran.softmax and acceltran.layer_norm: a module of tile size T that
// handles T elements per cycle in each of a fixed number of passes over its input.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

/// One op kind a tiled module runs and its passes over the tile's elements.
struct PassCount {
    OpKind kind;
    std::int64_t passes;
};

class TiledModule final : public Component {
public:
    /// `plugin` names the factory (for messages), `unit_kind` the unit ("softmax"), `noun` how a
    /// message calls it ("a softmax module").
    TiledModule(const Params& params, std::string plugin, std::string unit_kind, const std::string& noun, std::vector<PassCount> passes);

    ComponentRole role() const override { return ComponentRole::compute; }
    std::string unit_kind() const override { return unit_kind_; }
    double area_mm2() const override { return area_mm2_; }
    double leakage_w() const override { return leakage_w_; }
    std::vector<OpKind> executes() const override;
    /// cycles = max(1, ceil(b·x·y / tile) · passes); energy = dynamic power · cycles / clock.
    TileCost tile_cost(const TileWork& w) const override;

private:
    std::string plugin_;
    std::string unit_kind_;
    std::vector<PassCount> passes_;
    std::int64_t tile_;
    double area_mm2_;
    double dynamic_w_;
    double leakage_w_;
};

/// The schema of a tiled module: `tile` and `figures` (rows of tile, area_um2, dynamic_mw,
/// leakage_mw). `module` names it in docs ("softmax module"), `file` is its figure file.
ParamSchema tiled_module_schema(const std::string& module, const std::string& file);

}  // namespace transcode::plugins::acceltran
