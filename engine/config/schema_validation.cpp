#include "config/schema_validation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include <filesystem>

namespace transcode::config {

std::optional<double> parse_decimal(const std::string& s) {
    if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
    // Only decimal notation: reject hex floats, "nan", "inf" spelled the C way, and trailing junk.
    for (char c : s)
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return std::nullopt;
    return v;
}

namespace {

std::string join_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::string show(double v) { return fmt::format("{}", v); }

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

// A plain scalar that YAML reads as null.
bool is_null_text(const Node& n) { return !n.quoted && (n.scalar == "~" || n.scalar == "null" || n.scalar == "Null" || n.scalar == "NULL"); }

std::string describe_got(const Node& n) {
    if (n.kind == Node::Kind::scalar) return is_null_text(n) ? std::string("null") : fmt::format("'{}'", n.scalar);
    if (n.kind == Node::Kind::null) return "nothing";
    return fmt::format("a {}", n.kind_name());
}

void type_error(const Node& n, const ParamSpec& spec, const std::string& path, Diagnostics& diags) {
    std::string want;
    switch (spec.type()) {
        case ParamType::boolean: want = "a bool (true or false)"; break;
        case ParamType::integer: want = "an int"; break;
        case ParamType::floating: want = "a float"; break;
        case ParamType::string: want = "a string"; break;
        case ParamType::enumeration: want = "one of: " + join(spec.choices()); break;
        case ParamType::list: want = "a list"; break;
        case ParamType::map: want = "a map"; break;
    }
    diags.add(n.where, path, fmt::format("expected {}, got {}", want, describe_got(n)), "type");
}

// Checks spec.min()/max() against v; `what` is "value X" or "list length N".
bool check_range(double v, const std::string& what, const Node& n, const ParamSpec& spec, const std::string& path, Diagnostics& diags) {
    if (spec.min()) {
        const double lo = *spec.min();
        if (spec.min_exclusive() && !(v > lo)) {
            diags.add(n.where, path, fmt::format("{} must be greater than {}", what, show(lo)), "range");
            return false;
        }
        if (!spec.min_exclusive() && v < lo) {
            diags.add(n.where, path, fmt::format("{} is below the minimum {}", what, show(lo)), "range");
            return false;
        }
    }
    if (spec.max() && v > *spec.max()) {
        diags.add(n.where, path, fmt::format("{} is above the maximum {}", what, show(*spec.max())), "range");
        return false;
    }
    return true;
}

std::optional<bool> parse_bool(const std::string& s) {
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    return std::nullopt;
}

std::optional<std::int64_t> parse_int(const std::string& s, bool& overflow) {
    overflow = false;
    std::string_view t = s;
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || p != t.data() + t.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
        overflow = true;
        return std::nullopt;
    }
    if (ec != std::errc()) return std::nullopt;
    return v;
}

std::optional<double> parse_float(const std::string& s) {
    if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
    if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") return std::numeric_limits<double>::infinity();
    if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -std::numeric_limits<double>::infinity();
    return parse_decimal(s);
}

// Converts a node without a schema (inside open maps), keeping scalars as strings.
Value raw_value(const Node& n) {
    switch (n.kind) {
        case Node::Kind::null: return Value{};
        case Node::Kind::scalar: return Value{n.scalar};
        case Node::Kind::sequence: {
            ValueList l;
            for (const auto& i : n.items) l.push_back(raw_value(i));
            return Value{std::move(l)};
        }
        case Node::Kind::map: {
            ValueMap m;
            for (const auto& [k, v] : n.fields) m.emplace(k, raw_value(v));
            return Value{std::move(m)};
        }
    }
    return Value{};
}

}  // namespace

Value validate_value(const Node& n, const ParamSpec& spec, const std::string& path, Diagnostics& diags) {
    const bool scalar = n.kind == Node::Kind::scalar && !is_null_text(n);
    switch (spec.type()) {
        case ParamType::boolean: {
            auto b = scalar && !n.quoted ? parse_bool(n.scalar) : std::nullopt;
            if (!b) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            return Value{*b};
        }
        case ParamType::integer: {
            bool overflow = false;
            auto v = scalar && !n.quoted ? parse_int(n.scalar, overflow) : std::nullopt;
            if (overflow) {
                diags.add(n.where, path, fmt::format("value {} does not fit in a 64-bit int", n.scalar), "range");
                return Value{};
            }
            if (!v) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            if (!check_range(static_cast<double>(*v), fmt::format("value {}", *v), n, spec, path, diags)) return Value{};
            return Value{*v};
        }
        case ParamType::floating: {
            auto v = scalar && !n.quoted ? parse_float(n.scalar) : std::nullopt;
            if (!v) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            if (!std::isfinite(*v)) {
                diags.add(n.where, path, fmt::format("value {} is not a finite number", n.scalar), "range");
                return Value{};
            }
            if (!check_range(*v, fmt::format("value {}", show(*v)), n, spec, path, diags)) return Value{};
            return Value{*v};
        }
        case ParamType::string:
            if (!scalar) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            if (spec.is_file_path() && !n.scalar.empty() && !n.where.file.empty() && std::filesystem::path(n.scalar).is_relative() &&
                n.where.file != "--set")
                return Value{(std::filesystem::path(n.where.file).parent_path() / n.scalar).lexically_normal().string()};
            return Value{n.scalar};
        case ParamType::enumeration: {
            if (!scalar) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            const auto& c = spec.choices();
            if (std::find(c.begin(), c.end(), n.scalar) == c.end()) {
                const std::string near = closest_match(n.scalar, c);
                diags.add(n.where, path,
                          near.empty() ? fmt::format("'{}' is not one of: {}", n.scalar, join(c))
                                       : fmt::format("'{}' is not one of: {}; did you mean '{}'?", n.scalar, join(c), near),
                          "choice");
                return Value{};
            }
            return Value{n.scalar};
        }
        case ParamType::list: {
            if (n.kind != Node::Kind::sequence) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            ValueList out;
            const std::size_t before = diags.size();
            for (std::size_t i = 0; i < n.items.size(); ++i)
                out.push_back(validate_value(n.items[i], *spec.element(), fmt::format("{}[{}]", path, i), diags));
            if (diags.size() != before) return Value{};
            if (!check_range(static_cast<double>(n.items.size()), fmt::format("list length {}", n.items.size()), n, spec, path, diags)) return Value{};
            return Value{std::move(out)};
        }
        case ParamType::map: {
            if (n.kind != Node::Kind::map) {
                type_error(n, spec, path, diags);
                return Value{};
            }
            if (spec.is_open_map()) return raw_value(n);
            return Value{validate_map(n, *spec.fields(), path, diags)};
        }
    }
    throw InternalError("validate_value: unhandled parameter type");
}

ValueMap validate_map(const Node& node, const ParamSchema& schema, const std::string& path, Diagnostics& diags) {
    ValueMap out;
    if (node.kind != Node::Kind::map && node.kind != Node::Kind::null) {
        diags.add(node.where, path, fmt::format("expected a map, got {}", describe_got(node)), "type");
        return out;
    }
    std::vector<std::string> known;
    for (const auto& spec : schema) known.push_back(spec.name());

    for (std::size_t i = 0; i < node.fields.size(); ++i) {
        const std::string& key = node.fields[i].first;  // not a structured binding: clang 14 cannot capture one
        const auto it = std::find_if(schema.begin(), schema.end(), [&](const ParamSpec& s) { return s.name() == key; });
        if (it != schema.end()) continue;
        const std::string near = closest_match(key, known);
        std::string msg = fmt::format("unknown key '{}'", key);
        if (!near.empty())
            msg += fmt::format("; did you mean '{}'?", near);
        else if (known.empty())
            msg += "; this section takes no keys";
        else
            msg += fmt::format("; allowed keys: {}", join(known));
        diags.add(node.key_locations[i], join_path(path, key), msg, "unknown-key");
    }

    for (const auto& spec : schema) {
        const std::string child_path = join_path(path, spec.name());
        const Node* child = node.find(spec.name());
        if (child != nullptr) {
            Value v = validate_value(*child, spec, child_path, diags);
            if (!v.is_null()) out.emplace(spec.name(), std::move(v));
            continue;
        }
        if (spec.is_required()) {
            diags.add(node.where, child_path, fmt::format("required key '{}' is missing", spec.name()), "required");
        } else if (spec.default_value()) {
            out.emplace(spec.name(), *spec.default_value());
        } else if (spec.type() == ParamType::map && spec.fields() != nullptr) {
            // An absent section takes its fields' defaults (and reports its required fields).
            Node empty;
            empty.where = node.where;
            out.emplace(spec.name(), Value{validate_map(empty, *spec.fields(), child_path, diags)});
        }
    }
    return out;
}

Params parse_params(const ParamSchema& schema, std::string_view yaml, const std::string& source) {
    Diagnostics diags;
    const Node n = load_string(yaml, source, diags);
    ValueMap values;
    if (diags.empty()) values = validate_map(n, schema, "", diags);
    diags.throw_if_any();
    return Params(std::move(values));
}

}  // namespace transcode::config
