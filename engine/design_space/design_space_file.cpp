#include "design_space/design_space_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "config/schema_validation.hpp"
#include "transcode/input_file.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

using config::Node;

Node sequence(std::vector<Node> items, const config::Location& where) {
    Node n;
    n.kind = Node::Kind::sequence;
    n.items = std::move(items);
    n.where = where;
    return n;
}

void set_field(Node& map, const std::string& key, Node value) {
    if (Node* existing = map.find(key)) {
        *existing = std::move(value);
        return;
    }
    map.key_locations.push_back(value.where);
    map.fields.emplace_back(key, std::move(value));
}

void erase_field(Node& map, std::string_view key) {
    for (std::size_t i = 0; i < map.fields.size(); ++i)
        if (map.fields[i].first == key) {
            map.fields.erase(map.fields.begin() + static_cast<std::ptrdiff_t>(i));
            map.key_locations.erase(map.key_locations.begin() + static_cast<std::ptrdiff_t>(i));
            return;
        }
}

// A Node value as a typed Value: integers and decimals become numbers, other scalars strings.
Value to_value(const Node& n) {
    switch (n.kind) {
        case Node::Kind::null: return Value{};
        case Node::Kind::scalar: {
            if (!n.quoted) {
                std::int64_t i = 0;
                const char* end = n.scalar.data() + n.scalar.size();
                if (!n.scalar.empty()) {
                    const auto r = std::from_chars(n.scalar.data(), end, i);
                    if (r.ec == std::errc() && r.ptr == end) return Value{i};
                }
                if (const auto d = config::parse_decimal(n.scalar)) return Value{*d};
            }
            return Value{n.scalar};
        }
        case Node::Kind::sequence: {
            ValueList l;
            for (const auto& item : n.items) l.push_back(to_value(item));
            return Value{std::move(l)};
        }
        case Node::Kind::map: {
            ValueMap m;
            for (const auto& [k, v] : n.fields) m[k] = to_value(v);
            return Value{std::move(m)};
        }
    }
    return Value{};
}

// Sets the node at `path` (which must exist) to `value`; a map value is merged into a map.
void set_at(Node& root, const std::string& path, const Node& value) {
    Node* target = config::find_path(root, path);
    if (target == nullptr) return;  // checked when the space was loaded
    if (value.kind == Node::Kind::map && target->kind == Node::Kind::map) {
        for (const auto& [k, v] : value.fields) set_field(*target, k, v);
        return;
    }
    *target = value;
}

const ParamSchema& side_schema() {
    static const ParamSchema schema{
        ParamSpec::string("name", "the space's name").required(),
        ParamSpec::string("description", "free text").default_value(""),
        ParamSpec::enumeration("target", "what the knobs build", {"model", "accelerator"}).required(),
        ParamSpec::string("base", "the model or accelerator file the knobs change, relative to this file").file_path().required(),
        ParamSpec::enumeration("structure", "target model: how knobs become model params", {"flexibert"}).default_value("flexibert"),
        ParamSpec::boolean("heterogeneous", "target model: one choice per layer (and per head and stack), or one for the whole model")
            .default_value(true),
    };
    return schema;
}

std::optional<std::int64_t> positive_int(const Node& n) {
    if (n.kind != Node::Kind::scalar || n.quoted) return std::nullopt;
    std::int64_t v = 0;
    const char* end = n.scalar.data() + n.scalar.size();
    const auto r = std::from_chars(n.scalar.data(), end, v);
    if (r.ec != std::errc() || r.ptr != end || v <= 0) return std::nullopt;
    return v;
}

// Limits of a design space, checked before the work they guard (docs/errors.md, "limit"): the
// values one knob lists (each is compared with every other for duplicates), the largest layer,
// head and stack count (a heterogeneous space has knobs per layer, head and stack, so a count of
// 10^9 would build 10^9 knobs before the model family's range check could refuse it), and the
// values of all knobs together once the counts are expanded.
constexpr std::size_t max_knob_values = 1024;
constexpr std::int64_t max_count_value = 1024;
constexpr double max_expanded_values = 100000;

// A non-empty list of scalars (or, with `maps_ok`, maps) at knobs.NAME; reports what is wrong.
bool check_values(const Node* list, const std::string& path, bool maps_ok, config::Diagnostics& diags) {
    if (list == nullptr) return false;
    if (list->kind != Node::Kind::sequence || list->items.empty()) {
        diags.add(list->where, path, fmt::format("expected a non-empty list of values, got {}", list->kind == Node::Kind::sequence ? "an empty list" : list->kind_name()),
                  "type");
        return false;
    }
    if (list->items.size() > max_knob_values) {
        diags.add(list->where, path, fmt::format("the knob lists {} values; a knob lists at most {}", list->items.size(), max_knob_values), "limit");
        return false;
    }
    bool ok = true;
    for (std::size_t i = 0; i < list->items.size(); ++i) {
        const Node& v = list->items[i];
        if (v.kind == Node::Kind::scalar || (maps_ok && v.kind == Node::Kind::map)) continue;
        diags.add(v.where, fmt::format("{}[{}]", path, i), fmt::format("expected a {}, got a {}", maps_ok ? "scalar or a map" : "scalar", v.kind_name()), "type");
        ok = false;
    }
    for (std::size_t i = 0; ok && i < list->items.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (to_value(list->items[i]) == to_value(list->items[j])) {
                diags.add(list->items[i].where, fmt::format("{}[{}]", path, i), fmt::format("value {} is listed twice", to_flow_text(list->items[i])), "duplicate");
                ok = false;
                break;
            }
    return ok;
}

// Counts (layers, heads, stacks): positive integers in ascending order, so that "layer l exists"
// is "the layer-count knob's index is at least the first index whose value exceeds l".
bool check_ascending_counts(const Node& list, const std::string& path, config::Diagnostics& diags) {
    std::int64_t prev = 0;
    for (std::size_t i = 0; i < list.items.size(); ++i) {
        const auto v = positive_int(list.items[i]);
        if (!v) {
            diags.add(list.items[i].where, fmt::format("{}[{}]", path, i), fmt::format("expected a positive integer, got {}", to_flow_text(list.items[i])), "type");
            return false;
        }
        if (*v <= prev) {
            diags.add(list.items[i].where, fmt::format("{}[{}]", path, i), fmt::format("counts must be listed in ascending order ({} follows {})", *v, prev), "order");
            return false;
        }
        if (*v > max_count_value) {
            diags.add(list.items[i].where, fmt::format("{}[{}]", path, i), fmt::format("count {} is above the limit of {}", *v, max_count_value), "limit");
            return false;
        }
        prev = *v;
    }
    return true;
}

// The first index of an ascending count list whose value exceeds `n`.
std::size_t first_above(const std::vector<config::Node>& values, std::size_t n) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (static_cast<std::size_t>(*positive_int(values[i])) > n) return i;
    return values.size();
}

constexpr const char* model_knob_names[] = {"layers", "hidden", "heads", "head_ops", "ff_stacks", "ff_hidden"};
// Knobs a flexibert space may leave out (the model's own default then holds).
constexpr const char* optional_model_knob_names[] = {"ff_activation"};

void build_flexibert_space(SpaceSide& side, const Node& knobs, const std::string& path, bool heterogeneous, config::Diagnostics& diags) {
    if (knobs.kind != Node::Kind::map) {
        diags.add(knobs.where, path + "knobs", fmt::format("expected a map from knob name to its list of values, got a {}", knobs.kind_name()), "type");
        return;
    }
    std::vector<std::string> names(std::begin(model_knob_names), std::end(model_knob_names));
    names.insert(names.end(), std::begin(optional_model_knob_names), std::end(optional_model_knob_names));
    for (std::size_t f = 0; f < knobs.fields.size(); ++f) {
        const std::string& key = knobs.fields[f].first;
        if (std::find(names.begin(), names.end(), key) != names.end()) continue;
        const std::string near = config::closest_match(key, names);
        diags.add(knobs.key_locations[f], path + "knobs." + key,
                  fmt::format("unknown knob '{}'{}; a flexibert space has layers, hidden, heads, head_ops, ff_stacks, ff_hidden and optionally ff_activation", key,
                              near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)),
                  "unknown-key");
    }
    std::map<std::string, const Node*> lists;
    bool ok = true;
    for (const char* name : model_knob_names) {
        const Node* list = knobs.find(name);
        if (list == nullptr) {
            diags.add(knobs.where, path + "knobs." + name, fmt::format("knob '{}' is missing; give its list of values (one value fixes it)", name), "required");
            ok = false;
            continue;
        }
        ok = check_values(list, path + "knobs." + name, false, diags) && ok;
        lists[name] = list;
    }
    for (const char* name : optional_model_knob_names) {
        if (const Node* list = knobs.find(name)) {
            ok = check_values(list, path + "knobs." + name, false, diags) && ok;
            lists[name] = list;
        }
    }
    if (!ok) return;
    for (const char* name : {"layers", "heads", "ff_stacks"}) ok = check_ascending_counts(*lists[name], path + "knobs." + name, diags) && ok;
    if (!ok) return;

    if (heterogeneous) {
        // One hidden, heads and ff_stacks knob per layer, one op knob per head, one ff_hidden knob per
        // stack: count the values they will hold before building any.
        const auto size = [&](const char* name) { return static_cast<double>(lists[name]->items.size()); };
        const auto largest = [&](const char* name) { return static_cast<double>(*positive_int(lists[name]->items.back())); };
        const double per_layer = size("hidden") + size("heads") + size("ff_stacks") + largest("heads") * size("head_ops") + largest("ff_stacks") * size("ff_hidden");
        const double total = size("layers") + largest("layers") * per_layer;
        if (total > max_expanded_values) {
            diags.add(knobs.where, path + "knobs",
                      fmt::format("a heterogeneous space of up to {} layers, {} heads and {} ff_stacks has {:.0f} knob values in all (a knob per layer, head and "
                                  "stack), more than the limit of {:.0f}; lower the counts, list fewer values, or set heterogeneous: false",
                                  largest("layers"), largest("heads"), largest("ff_stacks"), total, max_expanded_values),
                      "limit");
            return;
        }
    }
    auto& fx = side.flexibert;
    fx.heterogeneous = heterogeneous;
    std::vector<Knob> out;
    auto add = [&](const std::string& knob_name, const Node& list, bool ordinal, std::ptrdiff_t parent, std::size_t parent_min) {
        Knob k;
        k.name = knob_name;
        for (const auto& v : list.items) k.values.push_back(to_value(v));
        k.ordinal = ordinal;
        k.parent = parent;
        k.parent_min = parent_min;
        out.push_back(std::move(k));
        side.value_nodes.push_back(list.items);
        return out.size() - 1;
    };
    const Node& layers = *lists["layers"];
    const Node& heads = *lists["heads"];
    const Node& stacks = *lists["ff_stacks"];
    fx.max_layers = static_cast<std::size_t>(*positive_int(layers.items.back()));
    fx.max_heads = static_cast<std::size_t>(*positive_int(heads.items.back()));
    fx.max_stacks = static_cast<std::size_t>(*positive_int(stacks.items.back()));
    fx.layers = add("layers", layers, true, -1, 0);
    const std::size_t per_layer = heterogeneous ? fx.max_layers : 1;
    for (std::size_t l = 0; l < per_layer; ++l) {
        const std::string prefix = heterogeneous ? fmt::format("layer[{}].", l) : "";
        const auto lp = static_cast<std::ptrdiff_t>(fx.layers);
        const std::size_t lmin = heterogeneous ? first_above(layers.items, l) : 0;
        fx.hidden.push_back(add(prefix + "hidden", *lists["hidden"], true, lp, lmin));
        const std::size_t h = add(prefix + "heads", heads, true, lp, lmin);
        fx.heads.push_back(h);
        std::vector<std::size_t> ops;
        for (std::size_t i = 0; i < (heterogeneous ? fx.max_heads : 1); ++i)
            ops.push_back(add(heterogeneous ? fmt::format("{}head[{}].op", prefix, i) : "head_op", *lists["head_ops"], false, static_cast<std::ptrdiff_t>(h),
                              heterogeneous ? first_above(heads.items, i) : 0));
        fx.head_ops.push_back(std::move(ops));
        const std::size_t s = add(prefix + "ff_stacks", stacks, true, lp, lmin);
        fx.stacks.push_back(s);
        std::vector<std::size_t> ff;
        for (std::size_t i = 0; i < (heterogeneous ? fx.max_stacks : 1); ++i)
            ff.push_back(add(heterogeneous ? fmt::format("{}ff[{}].hidden", prefix, i) : "ff_hidden", *lists["ff_hidden"], true, static_cast<std::ptrdiff_t>(s),
                             heterogeneous ? first_above(stacks.items, i) : 0));
        fx.ff_hidden.push_back(std::move(ff));
    }
    // One activation for the whole model (an unordered choice): it must match the MAC lanes' non-linearity.
    if (lists.count("ff_activation") != 0) fx.ff_activation = add("ff_activation", *lists["ff_activation"], false, -1, 0);
    side.space = DesignSpace(std::move(out));
}

void build_accelerator_space(SpaceSide& side, const Node& knobs, const std::string& path, config::Diagnostics& diags) {
    if (knobs.kind != Node::Kind::sequence) {
        diags.add(knobs.where, path + "knobs", fmt::format("expected a list of knobs ({{name, values, set}}), got a {}", knobs.kind_name()), "type");
        return;
    }
    std::vector<Knob> out;
    std::vector<std::string> seen;
    const std::size_t before = diags.size();
    for (std::size_t i = 0; i < knobs.items.size(); ++i) {
        const Node& k = knobs.items[i];
        const std::string kp = fmt::format("{}knobs[{}]", path, i);
        if (k.kind != Node::Kind::map) {
            diags.add(k.where, kp, fmt::format("expected a map {{name, values, set}}, got a {}", k.kind_name()), "type");
            continue;
        }
        static const std::vector<std::string> keys{"name", "values", "set", "model_params", "ordinal"};
        for (std::size_t f = 0; f < k.fields.size(); ++f)
            if (std::find(keys.begin(), keys.end(), k.fields[f].first) == keys.end()) {
                const std::string near = config::closest_match(k.fields[f].first, keys);
                diags.add(k.key_locations[f], kp + "." + k.fields[f].first,
                          fmt::format("unknown key '{}'{}; a knob has name, values, set, model_params and ordinal", k.fields[f].first,
                                      near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)),
                          "unknown-key");
            }
        const Node* name = k.find("name");
        if (name == nullptr || name->kind != Node::Kind::scalar || name->scalar.empty()) {
            diags.add(k.where, kp + ".name", "every knob needs a name", "required");
            continue;
        }
        if (std::find(seen.begin(), seen.end(), name->scalar) != seen.end())
            diags.add(name->where, kp + ".name", fmt::format("knob '{}' is defined twice", name->scalar), "duplicate");
        seen.push_back(name->scalar);
        const Node* values = k.find("values");
        if (values == nullptr) {
            diags.add(k.where, kp + ".values", fmt::format("knob '{}' needs values: a non-empty list", name->scalar), "required");
            continue;
        }
        if (!check_values(values, kp + ".values", true, diags)) continue;
        auto paths = [&](const char* key) {
            std::vector<std::string> out_paths;
            const Node* p = k.find(key);
            if (p == nullptr) return out_paths;
            if (p->kind != Node::Kind::sequence) {
                diags.add(p->where, kp + "." + key, fmt::format("expected a list of paths, got a {}", p->kind_name()), "type");
                return out_paths;
            }
            for (std::size_t j = 0; j < p->items.size(); ++j) out_paths.push_back(p->items[j].scalar);
            return out_paths;
        };
        std::vector<std::string> set = paths("set"), params = paths("model_params");
        if (const Node* p = k.find("set"); p != nullptr && p->kind == Node::Kind::sequence)
            for (std::size_t j = 0; j < set.size(); ++j)
                if (config::find_path(side.base, set[j]) == nullptr)
                    diags.add(p->items[j].where, fmt::format("{}.set[{}]", kp, j),
                              fmt::format("path '{}' does not exist in the base accelerator {}", set[j], side.base.find("name") ? side.base.find("name")->scalar : ""),
                              "path");
        if (set.empty() && params.empty()) diags.add(k.where, kp, fmt::format("knob '{}' sets nothing: give set (accelerator paths) or model_params", name->scalar), "required");
        Knob knob;
        knob.name = name->scalar;
        bool numeric = true;
        for (const auto& v : values->items) {
            knob.values.push_back(to_value(v));
            numeric = numeric && (knob.values.back().is_int() || knob.values.back().is_float());
        }
        knob.ordinal = numeric;
        if (const Node* o = k.find("ordinal")) {
            if (o->scalar == "true" || o->scalar == "false")
                knob.ordinal = o->scalar == "true";
            else
                diags.add(o->where, kp + ".ordinal", fmt::format("expected true or false, got {}", to_flow_text(*o)), "type");
        }
        out.push_back(std::move(knob));
        side.value_nodes.push_back(values->items);
        side.set_paths.push_back(std::move(set));
        side.model_params.push_back(std::move(params));
    }
    if (diags.size() == before) side.space = DesignSpace(std::move(out));
}

// Each value, with every other knob at its first value, must give a config the family or the
// components accept.
void check_each_value(const SpaceSide& side, const std::string& path, PluginHost& host, config::Diagnostics& diags) {
    const auto& knobs = side.space.knobs();
    for (std::size_t k = 0; k < knobs.size(); ++k) {
        // Per-layer copies of a model knob repeat the same list: check the first copy only.
        if (side.target == SpaceSide::Target::model && knobs[k].name.rfind("layer[", 0) == 0 && knobs[k].name.rfind("layer[0].", 0) != 0) continue;
        if (knobs[k].name.find("head[") != std::string::npos && knobs[k].name.find("head[0]") == std::string::npos) continue;
        if (knobs[k].name.find("ff[") != std::string::npos && knobs[k].name.find("ff[0]") == std::string::npos) continue;
        for (std::size_t v = 0; v < knobs[k].values.size(); ++v) {
            Candidate c(knobs.size(), 0);
            // Activate the knob's ancestors at the lowest index that keeps it active.
            for (std::size_t a = k; knobs[a].parent >= 0; a = static_cast<std::size_t>(knobs[a].parent))
                c[static_cast<std::size_t>(knobs[a].parent)] = std::max(c[static_cast<std::size_t>(knobs[a].parent)], knobs[a].parent_min);
            c[k] = v;
            config::Diagnostics inner;
            std::vector<std::pair<std::string, Node>> extra;
            if (side.target == SpaceSide::Target::model)
                resolve_model(decode_model(side, c, extra), "model", host, inner);
            else
                resolve_accelerator(decode_accelerator(side, c, extra), "accelerator", host, inner);
            if (inner.empty()) continue;
            const Node& at = side.value_nodes[k][v];
            const std::string& why = inner.items().front().message;
            diags.add(at.where, fmt::format("{}knobs.{}", path, knobs[k].name),
                      fmt::format("value {} of knob '{}' is refused by the {} ({}: {})", to_flow_text(at), knobs[k].name,
                                  side.target == SpaceSide::Target::model ? "model family" : "accelerator's components", inner.items().front().path, why),
                      "design-space");
        }
    }
}

}  // namespace

SpaceSide fixed_side(SpaceSide::Target target, const Node& config, const std::string& name) {
    SpaceSide side;
    side.target = target;
    side.name = name;
    side.base = config;
    return side;
}

SpaceSide load_space_side(const Node& node, const std::string& path, SpaceSide::Target target, PluginHost& host, config::Diagnostics& diags) {
    SpaceSide side;
    side.target = target;
    side.file = node.where.file;
    const std::string prefix = path.empty() ? "" : path + ".";
    if (node.kind != Node::Kind::map) {
        diags.add(node.where, path, fmt::format("expected a design space (usually include: ../design_spaces/NAME.yaml), got a {}", node.kind_name()), "type");
        return side;
    }
    Node head = node;
    erase_field(head, "knobs");
    const std::size_t before = diags.size();
    const ValueMap v = config::validate_map(head, side_schema(), path, diags);
    if (diags.size() != before) return side;
    side.name = v.at("name").as_string();
    const std::string& want = target == SpaceSide::Target::model ? "model" : "accelerator";
    if (v.at("target").as_string() != want) {
        diags.add(node.find("target")->where, prefix + "target",
                  fmt::format("design space '{}' builds {}s, but this place needs a space of {}s", side.name, v.at("target").as_string(), want), "target");
        return side;
    }
    const fs::path base_file = v.at("base").as_string();
    if (const std::string problem = input_file_problem(base_file, max_config_file_bytes); !problem.empty()) {
        diags.add(node.find("base")->where, prefix + "base",
                  problem == "not found" ? fmt::format("base file '{}' not found", base_file.string()) : fmt::format("base file '{}' {}", base_file.string(), problem),
                  is_size_problem(problem) ? "limit" : "file");
        return side;
    }
    side.base = config::load_file(base_file, diags);
    if (diags.size() != before) return side;
    const Node* knobs = node.find("knobs");
    if (knobs == nullptr) {
        diags.add(node.where, prefix + "knobs", "a design space needs knobs", "required");
        return side;
    }
    if (target == SpaceSide::Target::model) {
        const Node* family = side.base.find("family");
        if (family == nullptr || (family->scalar != "flexibert" && family->scalar != "models.flexibert")) {
            diags.add(node.find("base")->where, prefix + "base",
                      fmt::format("structure flexibert needs a base model of family flexibert, got {}", family != nullptr ? to_flow_text(*family) : "none"),
                      "structure");
            return side;
        }
        build_flexibert_space(side, *knobs, prefix, v.at("heterogeneous").as_bool(), diags);
    } else {
        build_accelerator_space(side, *knobs, prefix, diags);
    }
    if (diags.size() == before) check_each_value(side, prefix, host, diags);
    return side;
}

Node decode_model(const SpaceSide& side, const Candidate& c, const std::vector<std::pair<std::string, Node>>& model_params) {
    Node model = side.base;
    Node* params = model.find("params");
    if (params == nullptr) {
        Node p;
        p.kind = Node::Kind::map;
        p.where = model.where;
        set_field(model, "params", std::move(p));
        params = model.find("params");
    }
    if (!side.space.knobs().empty()) {
        const auto& fx = side.flexibert;
        auto value = [&](std::size_t knob) -> const Node& { return side.value_nodes[knob][c[knob]]; };
        auto count = [&](std::size_t knob) { return static_cast<std::size_t>(*positive_int(value(knob))); };
        const std::size_t layers = count(fx.layers);
        const config::Location at = value(fx.layers).where;
        std::vector<Node> hidden, heads, ff;
        for (std::size_t l = 0; l < layers; ++l) {
            const std::size_t i = fx.heterogeneous ? l : 0;
            hidden.push_back(value(fx.hidden[i]));
            std::vector<Node> ops;
            for (std::size_t h = 0; h < count(fx.heads[i]); ++h) ops.push_back(value(fx.head_ops[i][fx.heterogeneous ? h : 0]));
            heads.push_back(sequence(std::move(ops), value(fx.heads[i]).where));
            std::vector<Node> sizes;
            for (std::size_t s = 0; s < count(fx.stacks[i]); ++s) sizes.push_back(value(fx.ff_hidden[i][fx.heterogeneous ? s : 0]));
            ff.push_back(sequence(std::move(sizes), value(fx.stacks[i]).where));
        }
        erase_field(*params, "preset");
        erase_field(*params, "head_dim");
        set_field(*params, "layers", value(fx.layers));
        set_field(*params, "hidden", sequence(std::move(hidden), at));
        set_field(*params, "heads", sequence(std::move(heads), at));
        set_field(*params, "ff", sequence(std::move(ff), at));
        if (fx.ff_activation) set_field(*params, "ff_activation", value(*fx.ff_activation));
    }
    for (const auto& [key, v] : model_params) set_field(*params, key, v);
    return model;
}

Node decode_accelerator(const SpaceSide& side, const Candidate& c, std::vector<std::pair<std::string, Node>>& model_params) {
    Node acc = side.base;
    for (std::size_t k = 0; k < side.space.size(); ++k) {
        const Node& v = side.value_nodes[k][c[k]];
        for (const auto& p : side.set_paths[k]) set_at(acc, p, v);
        for (const auto& p : side.model_params[k]) model_params.emplace_back(p, v);
    }
    return acc;
}

const ParamSchema& design_space_file_schema() { return side_schema(); }

}  // namespace transcode::engine
