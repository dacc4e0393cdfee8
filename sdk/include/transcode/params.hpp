// Parameter schemas, declared once as data, and the validated Params a plugin receives.
//
// A plugin (or the engine, for its own config files) lists each parameter with its type, default or
// required flag, unit, doc string, and range or choices. The engine validates user input against
// the schema, applies the defaults, and hands over an immutable Params. Plugins never repeat a
// default in code.
//
//   ParamSchema schema{
//       ParamSpec::floating("tau_t", "gradient threshold").unit("").min(0.0).default_value(1e-4),
//       ParamSpec::enumeration("mode", "run mode", {"fast", "exact"}).default_value("exact"),
//   };
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "transcode/errors.hpp"
#include "transcode/value.hpp"

namespace transcode {

enum class ParamType { boolean, integer, floating, string, enumeration, list, map };

inline const char* to_string(ParamType t) {
    switch (t) {
        case ParamType::boolean: return "bool";
        case ParamType::integer: return "int";
        case ParamType::floating: return "float";
        case ParamType::string: return "string";
        case ParamType::enumeration: return "enum";
        case ParamType::list: return "list";
        case ParamType::map: return "map";
    }
    return "?";
}

class ParamSpec;
using ParamSchema = std::vector<ParamSpec>;

/// One declared parameter. Build with the static constructors and chain the modifiers.
class ParamSpec {
public:
    static ParamSpec boolean(std::string name, std::string doc) { return {ParamType::boolean, std::move(name), std::move(doc)}; }
    static ParamSpec integer(std::string name, std::string doc) { return {ParamType::integer, std::move(name), std::move(doc)}; }
    static ParamSpec floating(std::string name, std::string doc) { return {ParamType::floating, std::move(name), std::move(doc)}; }
    static ParamSpec string(std::string name, std::string doc) { return {ParamType::string, std::move(name), std::move(doc)}; }
    static ParamSpec enumeration(std::string name, std::string doc, std::vector<std::string> choices) {
        ParamSpec s{ParamType::enumeration, std::move(name), std::move(doc)};
        s.choices_ = std::move(choices);
        return s;
    }
    /// A list whose every element follows `element` (the element's name is ignored).
    static ParamSpec list(std::string name, std::string doc, ParamSpec element) {
        ParamSpec s{ParamType::list, std::move(name), std::move(doc)};
        s.element_ = std::make_shared<ParamSpec>(std::move(element));
        return s;
    }
    /// A nested map with its own schema; unknown keys inside it are errors.
    static ParamSpec map(std::string name, std::string doc, ParamSchema fields) {
        ParamSpec s{ParamType::map, std::move(name), std::move(doc)};
        s.fields_ = std::make_shared<ParamSchema>(std::move(fields));
        return s;
    }
    /// A map whose keys are checked later by someone else (e.g. a plugin's `params:` block, which
    /// the engine validates against that plugin's schema once the plugin is known).
    static ParamSpec open_map(std::string name, std::string doc) {
        ParamSpec s{ParamType::map, std::move(name), std::move(doc)};
        s.open_ = true;
        return s;
    }

    ParamSpec&& default_value(Value v) && { default_ = std::move(v); required_ = false; return std::move(*this); }
    ParamSpec&& required() && { required_ = true; default_.reset(); return std::move(*this); }
    ParamSpec&& unit(std::string u) && { unit_ = std::move(u); return std::move(*this); }
    /// Inclusive bounds for int and float values; for lists, bounds on the element count.
    ParamSpec&& min(double lo) && { min_ = lo; return std::move(*this); }
    ParamSpec&& max(double hi) && { max_ = hi; return std::move(*this); }
    /// Exclusive lower bound, e.g. "must be > 0" for a size.
    ParamSpec&& greater_than(double lo) && { min_ = lo; min_exclusive_ = true; return std::move(*this); }
    /// A string that names a file: the engine resolves a relative value against the directory of
    /// the YAML file it was written in, so the plugin receives a path that works from anywhere.
    ParamSpec&& file_path() && { file_path_ = true; return std::move(*this); }

    const std::string& name() const { return name_; }
    const std::string& doc() const { return doc_; }
    ParamType type() const { return type_; }
    bool is_required() const { return required_; }
    const std::optional<Value>& default_value() const { return default_; }
    const std::string& unit() const { return unit_; }
    const std::optional<double>& min() const { return min_; }
    bool min_exclusive() const { return min_exclusive_; }
    const std::optional<double>& max() const { return max_; }
    const std::vector<std::string>& choices() const { return choices_; }
    /// The element spec of a list (null otherwise).
    const ParamSpec* element() const { return element_.get(); }
    /// The fields of a closed map (null for open maps and non-maps).
    const ParamSchema* fields() const { return fields_.get(); }
    bool is_open_map() const { return open_; }
    bool is_file_path() const { return file_path_; }

private:
    ParamSpec(ParamType t, std::string name, std::string doc) : type_(t), name_(std::move(name)), doc_(std::move(doc)) {}

    ParamType type_;
    std::string name_;
    std::string doc_;
    std::string unit_;
    bool required_ = false;
    bool open_ = false;
    bool file_path_ = false;
    bool min_exclusive_ = false;
    std::optional<Value> default_;
    std::optional<double> min_;
    std::optional<double> max_;
    std::vector<std::string> choices_;
    std::shared_ptr<const ParamSpec> element_;
    std::shared_ptr<const ParamSchema> fields_;
};

/// Validated parameters: every declared parameter is present (defaults applied), with the
/// declared type. Asking for an undeclared name or the wrong type is a bug in the plugin and
/// throws InternalError.
class Params {
public:
    Params() = default;
    explicit Params(ValueMap values) : values_(std::move(values)) {}

    bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
    const Value& get(std::string_view name) const {
        auto it = values_.find(name);
        if (it == values_.end()) throw InternalError("parameter '" + std::string(name) + "' was not declared in the schema");
        return it->second;
    }
    bool get_bool(std::string_view n) const { return get(n).as_bool(); }
    std::int64_t get_int(std::string_view n) const { return get(n).as_int(); }
    double get_float(std::string_view n) const { return get(n).as_float(); }
    const std::string& get_string(std::string_view n) const { return get(n).as_string(); }
    const ValueList& get_list(std::string_view n) const { return get(n).as_list(); }
    Params get_map(std::string_view n) const { return Params(get(n).as_map()); }
    const ValueMap& values() const { return values_; }

private:
    ValueMap values_;
};

}  // namespace transcode
