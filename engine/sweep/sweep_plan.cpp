#include "sweep/sweep_plan.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "config/yaml_text.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

using config::Diagnostics;
using config::Location;
using config::Node;

bool same_place(const Location& a, const Location& b) { return a.file == b.file && a.line == b.line && a.column == b.column; }

// Every location in `n` whose file is `from` gets `to`'s file (and, when `whole`, its line and column).
void relocate(Node& n, const std::string& from, const Location& to, bool whole) {
    auto fix = [&](Location& l) {
        if (l.file != from) return;
        if (whole)
            l = to;
        else
            l.file = to.file;
    };
    fix(n.where);
    for (auto& l : n.key_locations) fix(l);
    for (auto& item : n.items) relocate(item, from, to, whole);
    for (auto& f : n.fields) relocate(f.second, from, to, whole);
}

// A number given to a range: an integer when its text is one, else a finite double.
struct Number {
    bool integer = false;
    std::int64_t i = 0;
    double d = 0;
};

bool parse_number(const Node& n, Number& out) {
    if (n.kind != Node::Kind::scalar || n.quoted || n.scalar.empty()) return false;
    const char* first = n.scalar.data();
    const char* last = first + n.scalar.size();
    if (*first == '+') ++first;
    std::int64_t i = 0;
    if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc() && p == last) {
        out = {true, i, static_cast<double>(i)};
        return true;
    }
    char* end = nullptr;
    const double d = std::strtod(n.scalar.c_str(), &end);
    if (end != n.scalar.c_str() + n.scalar.size() || !std::isfinite(d)) return false;
    out = {false, 0, d};
    return true;
}

// 15 significant digits: 0.1 + 2 * 0.1 is written 0.3, as the user would.
std::string number_text(double v) { return fmt::format("{:.15g}", v); }

void unknown_keys(const Node& map, const std::vector<std::string>& known, const std::string& path, Diagnostics& diags) {
    for (std::size_t f = 0; f < map.fields.size(); ++f) {
        const std::string& key = map.fields[f].first;
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        const std::string near = config::closest_match(key, known);
        diags.add(map.key_locations[f], path.empty() ? key : path + "." + key,
                  near.empty() ? fmt::format("unknown key '{}'; allowed keys: {}", key, fmt::join(known, ", "))
                               : fmt::format("unknown key '{}'; did you mean '{}'?", key, near),
                  "unknown-key");
    }
}

// sweep.axes[i].range: from, to, step (inclusive of `to` when a whole number of steps reaches it).
void load_range(const Node& range, const std::string& path, SweepAxis& axis, Diagnostics& diags) {
    if (range.kind != Node::Kind::map) {
        diags.add(range.where, path, fmt::format("expected a map {{from: A, to: B, step: S}}, got a {}", range.kind_name()), "type");
        return;
    }
    unknown_keys(range, {"from", "to", "step"}, path, diags);
    Number num[3];
    const char* keys[3] = {"from", "to", "step"};
    bool ok = true;
    for (int k = 0; k < 3; ++k) {
        const Node* n = range.find(keys[k]);
        if (n == nullptr) {
            if (k == 2) {
                num[2] = {true, 1, 1.0};  // step 1 by default
                continue;
            }
            diags.add(range.where, path + "." + keys[k], fmt::format("a range needs {} (a number)", keys[k]), "required");
            ok = false;
        } else if (!parse_number(*n, num[k])) {
            diags.add(n->where, path + "." + keys[k], fmt::format("expected a number, got '{}'", n->kind == Node::Kind::scalar ? n->scalar : n->kind_name()),
                      "type");
            ok = false;
        }
    }
    if (!ok) return;
    const Node* step_node = range.find("step");
    const Location step_where = step_node != nullptr ? step_node->where : range.where;
    const Number &from = num[0], &to = num[1], &step = num[2];
    if (step.d == 0) {
        diags.add(step_where, path + ".step", "step is 0: a range needs a positive step (to above from) or a negative one (to below from)", "range");
        return;
    }
    if ((to.d > from.d && step.d < 0) || (to.d < from.d && step.d > 0)) {
        diags.add(step_where, path + ".step",
                  fmt::format("step {} goes away from to (from {} to {}): it never reaches it", step_node != nullptr ? step_node->scalar : "1",
                              range.find("from")->scalar, range.find("to")->scalar),
                  "range");
        return;
    }
    const bool integer = from.integer && to.integer && step.integer;
    // How many values: every from + k * step up to `to` (a tiny tolerance for decimal steps).
    const long double span = integer ? (static_cast<long double>(to.i) - static_cast<long double>(from.i)) / static_cast<long double>(step.i)
                                     : (static_cast<long double>(to.d) - from.d) / step.d;
    const long double count = std::floor(span + (integer ? 0.0L : 1e-9L)) + 1;
    if (count > static_cast<long double>(max_sweep_points)) {
        diags.add(range.where, path, fmt::format("the range gives {:.0f} values; a sweep may have at most {} points", static_cast<double>(count), max_sweep_points),
                  "limit");
        return;
    }
    const auto n = static_cast<std::size_t>(count);
    for (std::size_t k = 0; k < n; ++k) {
        Node v;
        v.kind = Node::Kind::scalar;
        v.where = range.where;
        v.scalar = integer ? fmt::format("{}", from.i + static_cast<std::int64_t>(k) * step.i) : number_text(from.d + static_cast<double>(k) * step.d);
        axis.texts.push_back(v.scalar);
        axis.values.push_back(std::move(v));
    }
}

std::string point_label(const SweepPlan& plan, std::size_t point) {
    const auto texts = plan.value_texts(point);
    std::vector<std::string> parts;
    for (std::size_t a = 0; a < plan.axes.size(); ++a) parts.push_back(plan.axes[a].path + "=" + texts[a]);
    return fmt::format("sweep point {} ({})", point, fmt::join(parts, ", "));
}

// The most distinct errors the points' validation reports before it stops looking.
constexpr std::size_t max_point_errors = 50;

}  // namespace

std::size_t SweepPlan::points() const {
    if (axes.empty()) return 0;
    if (combine == SweepCombine::zip) return axes.front().values.size();
    std::size_t n = 1;
    for (const auto& a : axes) n *= a.values.size();
    return n;
}

std::vector<std::size_t> SweepPlan::value_indices(std::size_t point) const {
    std::vector<std::size_t> idx(axes.size(), 0);
    if (combine == SweepCombine::zip) {
        std::fill(idx.begin(), idx.end(), point);
        return idx;
    }
    std::size_t rest = point;
    for (std::size_t a = axes.size(); a-- > 0;) {  // the last axis varies fastest
        idx[a] = rest % axes[a].values.size();
        rest /= axes[a].values.size();
    }
    return idx;
}

std::vector<std::string> SweepPlan::value_texts(std::size_t point) const {
    const auto idx = value_indices(point);
    std::vector<std::string> out;
    for (std::size_t a = 0; a < axes.size(); ++a) out.push_back(axes[a].texts[idx[a]]);
    return out;
}

config::Node SweepPlan::point_document(std::size_t point, Diagnostics& diags) const {
    static const std::string set_file = "--set", hidden_file = std::string("\x1f") + "--set";
    Node doc = base;
    // Command-line overrides of the sweep file itself keep their "--set" locations: hidden while the
    // axes are applied, so that only what an axis sets is located at the sweep section.
    relocate(doc, set_file, Location{hidden_file, 0, 0}, false);
    const auto idx = value_indices(point);
    for (std::size_t a = 0; a < axes.size(); ++a) {
        const SweepAxis& axis = axes[a];
        const Node& value = axis.values[idx[a]];
        Diagnostics local;
        config::apply_override(doc, axis.path + "=" + config::to_flow_text(value), local);
        if (!local.empty()) {
            for (const auto& d : local.items())
                diags.add(axis.where, fmt::format("sweep.axes[{}].path", a), fmt::format("cannot set '{}': {}", axis.path, d.message), "sweep-path");
            continue;
        }
        if (Node* set = config::find_path(doc, axis.path)) relocate(*set, set_file, value.where, true);
        relocate(doc, set_file, axis.where, true);
    }
    relocate(doc, hidden_file, Location{set_file, 0, 0}, false);
    return doc;
}

std::string SweepPlan::signature() const {
    // FNV-1a (64 bits) over everything that decides the points.
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto add = [&](const std::string& s) {
        for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
        h = (h ^ 0xff) * 0x100000001b3ull;  // a separator, so that ("ab", "c") differs from ("a", "bc")
    };
    add(of);
    add(combine == SweepCombine::zip ? "zip" : "product");
    add(config::to_flow_text(base));
    for (const auto& a : axes) {
        add(a.path);
        for (const auto& t : a.texts) add(t);
    }
    return fmt::format("{:016x}", h);
}

SweepPlan load_sweep_plan(const Node& root, const fs::path& file, SweepPointKind kind, PluginHost& host, Diagnostics& diags) {
    SweepPlan plan;
    plan.file = file;
    plan.kind = std::move(kind);
    if (const Node* name = root.find("experiment"); name != nullptr && name->kind == Node::Kind::scalar) plan.name = name->scalar;
    const std::size_t before = diags.size();
    const Node* sweep = root.find("sweep");
    if (sweep == nullptr) {
        diags.add(root.where, "sweep",
                  "kind sweep needs a sweep section: of (the kind each point runs), axes (each a path and its values or range) and combine "
                  "(product or zip)",
                  "required");
        return plan;
    }
    if (sweep->kind != Node::Kind::map) {
        diags.add(sweep->where, "sweep", fmt::format("expected a map, got a {}", sweep->kind_name()), "type");
        return plan;
    }
    unknown_keys(*sweep, {"of", "combine", "axes", "point_timeout_s"}, "sweep", diags);

    const Node* of = sweep->find("of");
    const auto& kinds = sweep_point_kinds();
    if (of == nullptr)
        diags.add(sweep->where, "sweep.of", fmt::format("kind sweep needs sweep.of, the kind each point runs: one of {}", fmt::join(kinds, ", ")), "required");
    else if (of->kind != Node::Kind::scalar || std::find(kinds.begin(), kinds.end(), of->scalar) == kinds.end())
        diags.add(of->where, "sweep.of",
                  fmt::format("'{}' is not a kind a sweep can run; sweep.of is one of: {}", of->kind == Node::Kind::scalar ? of->scalar : of->kind_name(),
                              fmt::join(kinds, ", ")),
                  "choice");
    else
        plan.of = of->scalar;

    if (const Node* combine = sweep->find("combine")) {
        if (combine->kind == Node::Kind::scalar && combine->scalar == "zip")
            plan.combine = SweepCombine::zip;
        else if (!(combine->kind == Node::Kind::scalar && combine->scalar == "product"))
            diags.add(combine->where, "sweep.combine",
                      fmt::format("'{}' is not one of: product, zip", combine->kind == Node::Kind::scalar ? combine->scalar : combine->kind_name()), "choice");
    }
    if (const Node* t = sweep->find("point_timeout_s")) {
        Number n;
        if (!parse_number(*t, n) || n.d < 0)
            diags.add(t->where, "sweep.point_timeout_s", "expected a number of seconds >= 0 (0: no limit)", "range");
        else
            plan.point_timeout_s = n.d;
    }

    const Node* axes = sweep->find("axes");
    if (axes == nullptr) {
        diags.add(sweep->where, "sweep.axes", "kind sweep needs sweep.axes: a list of {path: CONFIG.PATH, values: [...]} or {path: ..., range: {from, to, step}}",
                  "required");
    } else if (axes->kind != Node::Kind::sequence || axes->items.empty()) {
        diags.add(axes->where, "sweep.axes",
                  axes->kind == Node::Kind::sequence ? std::string("sweep.axes is empty: give at least one axis")
                                                     : fmt::format("expected a list of axes, got a {}", axes->kind_name()),
                  axes->kind == Node::Kind::sequence ? "empty" : "type");
    } else {
        for (std::size_t i = 0; i < axes->items.size(); ++i) {
            const Node& item = axes->items[i];
            const std::string path = fmt::format("sweep.axes[{}]", i);
            if (item.kind != Node::Kind::map) {
                diags.add(item.where, path, fmt::format("expected a map {{path: ..., values: [...]}}, got a {}", item.kind_name()), "type");
                continue;
            }
            unknown_keys(item, {"path", "values", "range"}, path, diags);
            SweepAxis axis;
            const Node* p = item.find("path");
            if (p == nullptr || p->kind != Node::Kind::scalar || p->scalar.empty()) {
                diags.add(p != nullptr ? p->where : item.where, path + ".path",
                          "an axis needs a path: the config setting it varies, as --set names it (e.g. simulation.fidelity, "
                          "accelerator.units[activation_buffer].params.size_mb)",
                          p == nullptr ? "required" : "type");
            } else {
                axis.path = p->scalar;
                axis.where = p->where;
            }
            const Node* values = item.find("values");
            const Node* range = item.find("range");
            if (values != nullptr && range != nullptr) {
                diags.add(range->where, path + ".range", "give values or range, not both", "conflict");
            } else if (values == nullptr && range == nullptr) {
                diags.add(item.where, path + ".values", "an axis needs values (a list) or range ({from, to, step})", "required");
            } else if (values != nullptr) {
                if (values->kind != Node::Kind::sequence)
                    diags.add(values->where, path + ".values", fmt::format("expected a list of values, got a {}", values->kind_name()), "type");
                else if (values->items.empty())
                    diags.add(values->where, path + ".values", "values is empty: give at least one value", "empty");
                else if (values->items.size() > max_sweep_points)
                    diags.add(values->where, path + ".values", fmt::format("{} values; a sweep may have at most {} points", values->items.size(), max_sweep_points),
                              "limit");
                else
                    for (const Node& v : values->items) {
                        axis.values.push_back(v);
                        axis.texts.push_back(config::to_flow_text(v));
                    }
            } else {
                load_range(*range, path + ".range", axis, diags);
            }
            plan.axes.push_back(std::move(axis));
        }
        if (diags.size() == before) {
            if (plan.combine == SweepCombine::zip) {
                for (std::size_t i = 1; i < plan.axes.size(); ++i)
                    if (plan.axes[i].values.size() != plan.axes[0].values.size())
                        diags.add(axes->items[i].where, fmt::format("sweep.axes[{}]", i),
                                  fmt::format("combine zip needs axes of equal length: axes[0] ({}) has {} value(s), axes[{}] ({}) has {}", plan.axes[0].path,
                                              plan.axes[0].values.size(), i, plan.axes[i].path, plan.axes[i].values.size()),
                                  "zip");
            } else {
                long double n = 1;
                for (const auto& a : plan.axes) n *= static_cast<long double>(a.values.size());
                if (n > static_cast<long double>(max_sweep_points))
                    diags.add(axes->where, "sweep.axes",
                              fmt::format("the axes give {:.0f} points; a sweep may have at most {}", static_cast<double>(n), max_sweep_points), "limit");
            }
        }
    }
    if (diags.size() != before) return plan;

    // The base: the document without its sweep section, of kind `of`.
    plan.base = root;
    for (std::size_t f = 0; f < plan.base.fields.size(); ++f)
        if (plan.base.fields[f].first == "sweep") {
            plan.base.fields.erase(plan.base.fields.begin() + static_cast<std::ptrdiff_t>(f));
            plan.base.key_locations.erase(plan.base.key_locations.begin() + static_cast<std::ptrdiff_t>(f));
            break;
        }
    if (Node* k = plan.base.find("kind")) {
        k->scalar = plan.of;
        k->quoted = false;
    }

    // Every point, validated as an experiment of kind `of` before any runs. A problem at the place
    // of an axis's path is that path's; any other is the point's (the same problem in several
    // points is reported once, for the first).
    std::set<std::tuple<std::string, int, int, std::string, std::string>> seen;
    std::size_t reported = 0;
    const std::size_t n = plan.points();
    for (std::size_t k = 0; k < n && reported < max_point_errors; ++k) {
        Diagnostics found;
        Node doc = plan.point_document(k, found);
        if (found.empty()) {
            try {
                plan.kind.validate(std::move(doc), file, host);
            } catch (const ConfigError& e) {
                auto items = config::parse_diagnostics(e.what());
                if (items.empty()) items.push_back({root.where, "", e.what(), "sweep"});
                for (const auto& d : items) found.add(d.where, d.path, d.message, d.rule);
            }
        }
        for (const auto& d : found.items()) {
            if (!seen.insert({d.where.file, d.where.line, d.where.column, d.path, d.message}).second) continue;
            ++reported;
            if (d.path.rfind("sweep.axes[", 0) == 0) {
                diags.add(d.where, d.path, d.message, d.rule);
                continue;
            }
            const auto axis = std::find_if(plan.axes.begin(), plan.axes.end(), [&](const SweepAxis& a) { return same_place(a.where, d.where); });
            if (axis != plan.axes.end())
                diags.add(d.where, fmt::format("sweep.axes[{}].path", axis - plan.axes.begin()),
                          d.path == axis->path ? fmt::format("'{}' is not a setting of a {} experiment: {}", axis->path, plan.of, d.message)
                                                   : fmt::format("'{}' is not a setting of a {} experiment: {}: {}", axis->path, plan.of, d.path, d.message),
                          "sweep-path");
            else
                diags.add(d.where, d.path, fmt::format("{}: {}", point_label(plan, k), d.message), d.rule);
        }
    }
    return plan;
}

}  // namespace transcode::engine
