#include "hardware/accelerator.hpp"

#include <cmath>

#include <fmt/format.h>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_config.hpp"

namespace transcode::engine {

const ParamSchema& accelerator_unit_schema() {
    static const ParamSchema schema{
        ParamSpec::string("name", "the unit's name in reports, e.g. mac_lane").required(),
        ParamSpec::string("component", "component plugin, qualified or short (see `transcode plugins list --kind component`)").required(),
        ParamSpec::integer("count", "identical instances (per PE inside processing_elements)").min(1).max(1 << 24).default_value(1),
        ParamSpec::open_map("params", "the component's parameters (see `transcode plugins describe NAME`)"),
    };
    return schema;
}

namespace {

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "." + b; }

// Resolves one unit line: its plugin, parameters and the component object.
std::optional<UnitGroup> resolve_unit(const config::Node& node, const ValueMap& values, const std::string& path, std::int64_t multiplier,
                                      bool per_pe, PluginHost& host, config::Diagnostics& diags) {
    if (!values.count("name") || !values.count("component")) return std::nullopt;
    UnitGroup u;
    u.name = values.at("name").as_string();
    u.path = path;
    u.per_pe = per_pe;
    u.count = values.at("count").as_int() * multiplier;
    const std::string& plugin = values.at("component").as_string();
    const config::Node* plugin_node = node.find("component");
    u.info = find_plugin(host, plugin, PluginKind::component, "component", plugin_node != nullptr ? plugin_node->where : node.where,
                         join(path, "component"), diags);
    if (u.info == nullptr) return std::nullopt;
    const config::Node* params_node = node.find("params");
    config::Node empty;
    empty.where = node.where;
    const config::Node& pn = params_node != nullptr ? *params_node : empty;
    const std::string params_path = join(path, "params");
    const std::size_t before = diags.size();
    ValueMap p = config::validate_map(pn, u.info->schema, params_path, diags);
    if (diags.size() != before) return std::nullopt;
    u.params = Params(std::move(p));
    try {
        u.component = std::make_shared<PluginPtr<Component>>(host.create<Component>(*u.info, u.params));
        const Component& c = **u.component;
        call_plugin(u.info->name, "describe", [&] {
            u.role = c.role();
            u.unit_kind = c.unit_kind();
            u.area_mm2 = c.area_mm2();
            u.leakage_w = c.leakage_w();
            u.power_gateable = c.power_gateable();
            u.executes = c.executes();
            u.buffer_class = c.buffer_class();
            u.storage = c.storage();
            u.serves = c.serves();
            u.dynamic_w = c.dynamic_w();
            u.training_only = c.training_only();
        });
    } catch (const ConfigError& e) {
        report_plugin_config_error(e, pn, params_path, u.info->name, diags);
        return std::nullopt;
    }
    if (!(u.area_mm2 >= 0) || !(u.leakage_w >= 0) || !(u.dynamic_w >= 0))
        throw PluginError(fmt::format("plugin '{}': negative or NaN area, leakage or dynamic power", u.info->name));
    return u;
}

}  // namespace

const ParamSchema& accelerator_schema() {
    static const ParamSchema schema{
        ParamSpec::string("name", "name of the accelerator, used in reports").required(),
        ParamSpec::string("description", "free text").default_value(""),
        ParamSpec::floating("clock_mhz", "clock frequency").unit("MHz").greater_than(0).max(1e5).default_value(700.0),
        ParamSpec::integer("data_bits", "storage width of every non-integer tensor (AccelTran: 20-bit fixed point)").unit("bits").min(1).max(64).default_value(20),
        ParamSpec::integer("gradient_bits", "storage width of activation and weight gradients (default: data_bits)").unit("bits").min(1).max(64),
        ParamSpec::integer("optimizer_state_bits", "storage width of optimizer state, e.g. AdamW's m and v (default: data_bits)").unit("bits").min(1).max(64),
        ParamSpec::enumeration("dataflow",
                               "loop order of every matmul's tiles between main memory and the buffers: output_stationary (AccelTran's), "
                               "weight_stationary, input_stationary, or auto (per op, the one that moves the fewest bytes)",
                               {"output_stationary", "weight_stationary", "input_stationary", "auto"})
            .default_value("output_stationary"),
        ParamSpec::map("tile", "the (b, x, y) tile every op is cut into",
                       {
                           ParamSpec::integer("b", "tile extent along the batch").min(1).max(4096).default_value(1),
                           ParamSpec::integer("x", "tile extent along output rows").min(1).max(4096).default_value(16),
                           ParamSpec::integer("y", "tile extent along output columns (and the matmul reduction chunk)").min(1).max(4096).default_value(16),
                       }),
        ParamSpec::boolean("power_gating", "switch idle compute units off (they leak only while busy)").default_value(true),
        ParamSpec::map("processing_elements", "a processing-element template repeated `count` times",
                       {
                           ParamSpec::integer("count", "processing elements").min(1).max(1 << 20).default_value(1),
                           ParamSpec::list("units", "the units of one PE, with counts per PE", ParamSpec::open_map("unit", "{name, component, count, params}"))
                               .default_value(ValueList{}),
                       }),
        ParamSpec::list("units", "chip-level units: the activation, weight and mask buffers, one main memory and at most one interconnect",
                        ParamSpec::open_map("unit", "{name, component, count, params}"))
            .default_value(ValueList{}),
    };
    return schema;
}

double Accelerator::area_mm2() const {
    double a = 0;
    for (const auto& u : units) a += u.area_mm2 * static_cast<double>(u.count);
    return a;
}

const UnitGroup& Accelerator::buffer(BufferClass c) const {
    for (const auto& u : units)
        if (u.role == ComponentRole::buffer && u.buffer_class == c) return u;
    throw InternalError(fmt::format("accelerator '{}' has no {} buffer (resolve_accelerator checks this)", name, to_string(c)));
}

const UnitGroup* Accelerator::interconnect() const {
    for (const auto& u : units)
        if (u.role == ComponentRole::interconnect) return &u;
    return nullptr;
}

int Accelerator::bits_of(TensorRole role) const {
    switch (role) {
        case TensorRole::activation_gradient:
        case TensorRole::weight_gradient: return gradient_bits;
        case TensorRole::optimizer_state: return optimizer_state_bits;
        default: return data_bits;
    }
}

const UnitGroup& Accelerator::main_memory() const {
    for (const auto& u : units)
        if (u.role == ComponentRole::main_memory) return u;
    throw InternalError(fmt::format("accelerator '{}' has no main memory (resolve_accelerator checks this)", name));
}

std::optional<Accelerator> resolve_accelerator(const config::Node& node, const std::string& path, PluginHost& host, config::Diagnostics& diags) {
    const std::size_t before = diags.size();
    ValueMap values = config::validate_map(node, accelerator_schema(), path, diags);
    if (!values.count("name")) return std::nullopt;
    // Invalid fields are absent from `values` (already reported): fall back to the defaults so
    // that the units are still checked and every problem is reported at once.
    auto field = [&](const ValueMap& m, const char* key, const Value& fallback) -> const Value& {
        auto it = m.find(key);
        return it != m.end() ? it->second : fallback;
    };
    static const ValueMap no_map;
    const Value empty_map{no_map};
    Accelerator a;
    a.name = values.at("name").as_string();
    a.description = field(values, "description", Value{std::string()}).as_string();
    a.clock_hz = field(values, "clock_mhz", Value{700.0}).as_float() * 1e6;
    a.data_bits = static_cast<int>(field(values, "data_bits", Value{std::int64_t{20}}).as_int());
    a.gradient_bits = static_cast<int>(field(values, "gradient_bits", Value{std::int64_t{a.data_bits}}).as_int());
    a.optimizer_state_bits = static_cast<int>(field(values, "optimizer_state_bits", Value{std::int64_t{a.data_bits}}).as_int());
    a.dataflow = field(values, "dataflow", Value{std::string("output_stationary")}).as_string();
    const ValueMap& tile = field(values, "tile", empty_map).as_map();
    a.tile_b = field(tile, "b", Value{std::int64_t{1}}).as_int();
    a.tile_x = field(tile, "x", Value{std::int64_t{16}}).as_int();
    a.tile_y = field(tile, "y", Value{std::int64_t{16}}).as_int();
    a.power_gating = field(values, "power_gating", Value{true}).as_bool();
    const ValueMap& pe = field(values, "processing_elements", empty_map).as_map();
    a.pes = field(pe, "count", Value{std::int64_t{1}}).as_int();

    const ParamSchema line_schema = accelerator_unit_schema();
    auto resolve_list = [&](const config::Node* list, const std::string& list_path, std::int64_t multiplier, bool per_pe) {
        if (list == nullptr || list->kind != config::Node::Kind::sequence) return;  // absent, or reported by validation
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const config::Node& item = list->items[i];
            const std::string item_path = fmt::format("{}[{}]", list_path, i);
            if (item.kind != config::Node::Kind::map) continue;  // reported by validation
            const std::size_t line_before = diags.size();
            const ValueMap line = config::validate_map(item, line_schema, item_path, diags);
            if (diags.size() != line_before) continue;
            if (auto u = resolve_unit(item, line, item_path, multiplier, per_pe, host, diags)) {
                for (const auto& other : a.units)
                    if (other.name == u->name)
                        diags.add(item.find("name") != nullptr ? item.find("name")->where : item.where, join(item_path, "name"),
                                  fmt::format("unit name '{}' is already used by {}", u->name, other.path), "unique");
                if (u->role == ComponentRole::main_memory && per_pe)
                    diags.add(item.where, item_path, "main memory belongs in the chip-level `units:` list, not inside a PE", "placement");
                a.units.push_back(std::move(*u));
            }
        }
    };
    const config::Node* pe_node = node.find("processing_elements");
    resolve_list(pe_node != nullptr ? pe_node->find("units") : nullptr, join(path, "processing_elements.units"), a.pes, true);
    resolve_list(node.find("units"), join(path, "units"), 1, false);
    if (diags.size() != before) return std::nullopt;

    // Exactly one buffer of each class and one main memory, each a single instance.
    auto count_role = [&](auto pred) {
        int n = 0;
        for (const auto& u : a.units) n += pred(u) ? 1 : 0;
        return n;
    };
    const config::Node* units_node = node.find("units");
    const config::Location where = units_node != nullptr ? units_node->where : node.where;
    for (BufferClass c : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const int n = count_role([&](const UnitGroup& u) { return u.role == ComponentRole::buffer && u.buffer_class == c; });
        if (n != 1)
            diags.add(where, join(path, "units"),
                      fmt::format("an accelerator needs exactly one {} buffer, found {} (add a unit whose component is a buffer of class {})", to_string(c), n,
                                  to_string(c)),
                      "composition");
    }
    if (const int n = count_role([](const UnitGroup& u) { return u.role == ComponentRole::main_memory; }); n != 1)
        diags.add(where, join(path, "units"), fmt::format("an accelerator needs exactly one main memory, found {}", n), "composition");
    for (const auto& u : a.units)
        if ((u.role == ComponentRole::buffer || u.role == ComponentRole::main_memory || u.role == ComponentRole::interconnect) && u.count != 1) {
            const config::Node* item = config::find_path(node, u.path.substr(path.empty() ? 0 : path.size() + 1));
            diags.add(item != nullptr ? item->where : where, join(u.path, "count"),
                      fmt::format("a {} is modelled as one unit; give its total size instead of a count of {}", to_string(u.role), u.count), "composition");
        }
    if (const int n = count_role([](const UnitGroup& u) { return u.role == ComponentRole::interconnect; }); n > 1)
        diags.add(where, join(path, "units"), fmt::format("an accelerator has at most one interconnect, found {}", n), "composition");
    // Every level of the memory hierarchy moves data in finite, positive time.
    for (const auto& u : a.units) {
        if (u.role != ComponentRole::buffer && u.role != ComponentRole::main_memory && u.role != ComponentRole::interconnect) continue;
        const config::Node* item = config::find_path(node, u.path.substr(path.empty() ? 0 : path.size() + 1));
        const config::Location at = item != nullptr ? item->where : where;
        auto check = [&](const char* what, double v, bool zero_ok) {
            if (std::isfinite(v) && (v > 0 || (zero_ok && v == 0))) return;
            diags.add(at, join(u.path, "params"),
                      fmt::format("unit '{}' ({}): its {} must be finite and {} 0, got {}", u.name, u.info->name, what, zero_ok ? ">=" : ">", v), "range");
        };
        check("read bandwidth (bytes/s)", u.storage.read_bandwidth_bytes_per_s, false);
        check("write bandwidth (bytes/s)", u.storage.write_bandwidth_bytes_per_s, false);
        check("latency (s)", u.storage.latency_s, true);
        if (u.role == ComponentRole::buffer) check("capacity (bytes)", u.storage.capacity_bytes, false);
    }
    if (count_role([](const UnitGroup& u) { return u.role == ComponentRole::compute; }) == 0)
        diags.add(pe_node != nullptr ? pe_node->where : node.where, join(path, "processing_elements.units"), "an accelerator needs at least one compute unit",
                  "composition");
    if (diags.size() != before) return std::nullopt;
    return a;
}

Accelerator load_accelerator_file(const std::filesystem::path& file, const std::vector<std::string>& overrides, PluginHost& host) {
    config::Diagnostics diags;
    config::Node root = config::load_file(file, diags);
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    return load_accelerator(std::move(root), std::move(diags), file, host);
}

Accelerator load_accelerator(config::Node root, config::Diagnostics diags, const std::filesystem::path& file, PluginHost& host) {
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    if (root.kind != config::Node::Kind::map) {
        diags.add(root.where.file.empty() ? config::Location{file.string(), 1, 1} : root.where, "",
                  fmt::format("an accelerator file must be a map, got {}", root.kind_name()), "type");
        diags.throw_if_any();
    }
    auto loaded = resolve_accelerator(root, "", host, diags);
    diags.throw_if_any();
    if (!loaded) throw InternalError("resolve_accelerator failed without a diagnostic");
    return std::move(*loaded);
}

}  // namespace transcode::engine
