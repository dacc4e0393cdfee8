#include "simulator/lowering.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "graph/model_size.hpp"
#include "plugin_host/plugin_host.hpp"
#include "simulator/cost_model.hpp"

namespace transcode::engine {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

const TensorDesc& tensor(const ModelGraph& g, TensorId t) { return g.tensors[static_cast<std::size_t>(t)]; }

bool is_mac_kind(OpKind k) {
    return k == OpKind::matmul || k == OpKind::seq_transform || k == OpKind::conv1d || k == OpKind::conv1d_backward;
}

// [batch, rows, cols] of a shape.
struct Flat {
    std::int64_t batch = 1, rows = 1, cols = 1;
};
Flat flatten(const Shape& s) {
    Flat f;
    if (s.empty()) return f;
    f.cols = s.back();
    if (s.size() >= 2) f.rows = s[s.size() - 2];
    for (std::size_t i = 0; i + 2 < s.size(); ++i) f.batch *= s[i];
    return f;
}

TensorId reference_tensor(const OpDesc& op) {
    switch (op.kind) {
        case OpKind::reduce_sum:
        case OpKind::embedding_backward:
        case OpKind::cross_entropy:
        case OpKind::optimizer_update:
        case OpKind::layer_norm_backward: return op.inputs.at(0);
        default: return op.outputs.at(0);
    }
}

struct Geometry {
    Flat out;                 // the tiled output space
    std::int64_t reduction = 1;  // MACs per output element in total
    std::int64_t depth = 1;      // per tile
    std::int64_t chunks = 1;     // reduction chunks
};

Geometry geometry(const ModelGraph& g, const OpDesc& op, std::int64_t tile_y) {
    Geometry geo;
    switch (op.kind) {
        case OpKind::matmul: {
            const Shape& a = tensor(g, op.inputs[0]).shape;
            const bool ta = op.attr("transpose_a") != 0.0;
            std::int64_t k = ta ? a[a.size() - 2] : a.back();
            const Shape& c = tensor(g, op.outputs[0]).shape;
            geo.out = flatten(c);
            if (op.attr("batch_reduce") != 0.0)
                for (std::size_t i = 0; i + 2 < a.size(); ++i) k *= a[i];
            geo.reduction = k;
            geo.depth = std::min(k, tile_y);
            geo.chunks = ceil_div(k, geo.depth);
            break;
        }
        case OpKind::seq_transform: {
            geo.out = flatten(tensor(g, op.outputs[0]).shape);
            geo.reduction = geo.out.rows;
            geo.depth = std::min(geo.reduction, tile_y);
            geo.chunks = ceil_div(geo.reduction, geo.depth);
            break;
        }
        case OpKind::conv1d:
        case OpKind::conv1d_backward: {
            const Shape& w = tensor(g, op.inputs[op.kind == OpKind::conv1d ? 1 : 2]).shape;
            const Shape& x = tensor(g, op.inputs[op.kind == OpKind::conv1d ? 0 : 1]).shape;
            geo.out = flatten(x);
            geo.reduction = geo.depth = w.back();
            break;
        }
        default: geo.out = flatten(tensor(g, reference_tensor(op)).shape); break;
    }
    // A sparse embedding update touches only the gathered rows of its table.
    if (op.kind == OpKind::optimizer_update && op.attr("rows_fraction") > 0 && op.attr("rows_fraction") < 1) {
        const double rows = static_cast<double>(geo.out.rows) * op.attr("rows_fraction");
        geo.out.rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(rows)));
    }
    return geo;
}

}  // namespace

namespace {

bool executes(const Accelerator& acc, OpKind kind) {
    return std::any_of(acc.units.begin(), acc.units.end(), [&](const UnitGroup& u) {
        return u.role == ComponentRole::compute && std::find(u.executes.begin(), u.executes.end(), kind) != u.executes.end();
    });
}

// The first op of each kind among `ops` (in graph order) that no unit executes.
template <typename OpIds>
std::vector<std::pair<OpKind, std::string>> missing_kinds(const ModelGraph& g, const OpIds& ops, const Accelerator& acc) {
    std::vector<std::pair<OpKind, std::string>> missing;
    std::vector<OpKind> checked;
    for (auto id : ops) {
        const OpDesc& op = g.ops[static_cast<std::size_t>(id)];
        if (std::find(checked.begin(), checked.end(), op.kind) != checked.end()) continue;
        checked.push_back(op.kind);
        if (!executes(acc, op.kind)) missing.emplace_back(op.kind, op.name);
    }
    return missing;
}

}  // namespace

std::vector<std::pair<OpKind, std::string>> unsupported_op_kinds(const ModelGraph& g, const Accelerator& acc) {
    std::vector<std::size_t> all(g.ops.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return missing_kinds(g, all, acc);
}

std::vector<std::pair<OpKind, std::string>> unsupported_op_kinds(const PreparedGraph& p, const Accelerator& acc) {
    // The first op of each class, in graph order: the first op of each kind is among them.
    return missing_kinds(p.graph(), p.class_representatives(), acc);
}

namespace {

// `work` is scratch, reused from op to op (its attrs keep their storage).
LoweredOp lower_op(const ModelGraph& g, const Accelerator& acc, std::size_t i, const std::vector<double>& tensor_sparsity, bool training, TileWork& work,
                   std::string& infeasible) {
    const OpDesc& op = g.ops[i];
    const Geometry geo = geometry(g, op, acc.tile_y);
    LoweredOp l;
    l.op = static_cast<OpId>(i);
    work.kind = op.kind;
    // Output tiles are always full (padded) tiles; a reduction shorter than the tile's y is not
    // padded (the accumulation just ends sooner).
    work.b = acc.tile_b;
    work.x = acc.tile_x;
    work.y = acc.tile_y;
    work.depth = geo.depth;
    for (std::size_t k = 0; k < 2; ++k) work.input_sparsity[k] = k < op.inputs.size() ? tensor_sparsity[static_cast<std::size_t>(op.inputs[k])] : 0.0;
    work.training = training;
    work.clock_hz = acc.clock_hz;
    work.attrs = op.attrs;
    // In doubles first: a product of int64 counts could overflow to a wrong (even negative) count.
    const double tiles = static_cast<double>(ceil_div(geo.out.batch, work.b)) * static_cast<double>(ceil_div(geo.out.rows, work.x)) *
                         static_cast<double>(ceil_div(geo.out.cols, work.y)) * static_cast<double>(geo.chunks);
    if (tiles > max_tiles_per_op) {
        if (infeasible.empty())
            infeasible = fmt::format("op '{}' ({}) has {:.3g} tiles of (b {}, x {}, y {}), more than the limit of 2^40 ({:.3g}) per op (is the model absurdly sized?)",
                                     op.name, to_string(op.kind), tiles, work.b, work.x, work.y, max_tiles_per_op);
        l.tiles = 1;
    } else {
        l.tiles = static_cast<std::int64_t>(tiles);
    }
    const double useful = static_cast<double>(geo.out.batch) * static_cast<double>(geo.out.rows) * static_cast<double>(geo.out.cols) *
                          static_cast<double>(geo.reduction);
    const double padded = static_cast<double>(l.tiles) * static_cast<double>(work.elements()) * static_cast<double>(work.depth);
    l.padded_fraction = padded > 0 ? 1.0 - useful / padded : 0.0;

    // The fastest unit group that executes the kind.
    bool found = false;
    std::int64_t best = 0;
    for (std::size_t u = 0; u < acc.units.size(); ++u) {
        const UnitGroup& unit = acc.units[u];
        if (unit.role != ComponentRole::compute || std::find(unit.executes.begin(), unit.executes.end(), op.kind) == unit.executes.end()) continue;
        const TileCost cost = call_plugin(unit.info->name, "tile_cost", [&] { return (*unit.component)->tile_cost(work); });
        if (cost.cycles < 1 || !(cost.energy_j >= 0) || !std::isfinite(cost.energy_j))
            throw PluginError(fmt::format("plugin '{}' failed in tile_cost(): op '{}' ({}): {} cycles and {} J per tile (cycles must be >= 1, energy >= 0)",
                                          unit.info->name, op.name, to_string(op.kind), cost.cycles, cost.energy_j));
        // Saturates at cycle_limit: waves x cycles per tile of an absurd component could overflow.
        const std::int64_t total =
            static_cast<std::int64_t>(std::min<__int128>(static_cast<__int128>(ceil_div(l.tiles, unit.count)) * cost.cycles, detail::cycle_limit));
        if (!found || total < best) {
            found = true;
            best = total;
            l.unit = u;
            l.cycles_per_tile = cost.cycles;
            l.energy_per_tile_j = cost.energy_j;
        }
    }
    if (best >= detail::cycle_limit && infeasible.empty())
        infeasible = fmt::format("overflow: op '{}' ({}) computes for more than 2^60 cycles ({} tiles of {} cycles on {} instances of '{}')", op.name,
                                 to_string(op.kind), l.tiles, l.cycles_per_tile, acc.units[l.unit].count, acc.units[l.unit].name);
    // Elements each tile touches, per operand (buffer traffic).
    const std::int64_t tile_out = work.elements();
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
        const std::int64_t whole = tensor(g, op.inputs[k]).elements();
        std::int64_t per_tile = tile_out;
        if (is_mac_kind(op.kind) && k < 2) per_tile = (k == 0 ? work.b * work.x : work.b * work.y) * work.depth;
        l.input_tile_elements.push_back(std::min(per_tile, whole));
    }
    l.output_tile_elements = tile_out;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) l.input_fetch_fraction.push_back(input_fetch_fraction(g, op, k));
    return l;
}

}  // namespace

Lowering lower(const PreparedGraph& p, const Accelerator& acc, bool training) {
    const ModelGraph& g = p.graph();
    if (const auto missing = unsupported_op_kinds(p, acc); !missing.empty())
        throw ConfigError(fmt::format("accelerator '{}' has no unit that executes op kind '{}' (needed by op '{}')", acc.name,
                                      to_string(missing.front().first), missing.front().second));
    Lowering out;
    out.classes.reserve(p.class_representatives().size());
    TileWork work;
    for (OpId op : p.class_representatives())
        out.classes.push_back(lower_op(g, acc, static_cast<std::size_t>(op), p.sparsity(), training, work, out.infeasible));
    out.prepared = &p;
    return out;
}

}  // namespace transcode::engine
