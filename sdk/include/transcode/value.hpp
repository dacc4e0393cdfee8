// Value: the typed, validated data that configuration parameters resolve to.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "transcode/errors.hpp"

namespace transcode {

class Value;
using ValueList = std::vector<Value>;
using ValueMap = std::map<std::string, Value, std::less<>>;

/// A bool, integer, float, string, list or string-keyed map. Null means "absent".
class Value {
public:
    using Storage = std::variant<std::monostate, bool, std::int64_t, double, std::string, ValueList, ValueMap>;

    Value() = default;
    Value(bool b) : v_(b) {}
    Value(int i) : v_(static_cast<std::int64_t>(i)) {}
    Value(std::int64_t i) : v_(i) {}
    Value(double d) : v_(d) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(ValueList l) : v_(std::move(l)) {}
    Value(ValueMap m) : v_(std::move(m)) {}

    bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
    bool is_bool() const { return std::holds_alternative<bool>(v_); }
    bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
    bool is_float() const { return std::holds_alternative<double>(v_); }
    bool is_string() const { return std::holds_alternative<std::string>(v_); }
    bool is_list() const { return std::holds_alternative<ValueList>(v_); }
    bool is_map() const { return std::holds_alternative<ValueMap>(v_); }

    bool as_bool() const { return get<bool>("bool"); }
    std::int64_t as_int() const { return get<std::int64_t>("int"); }
    /// Integers widen to float; anything else is an InternalError.
    double as_float() const {
        if (is_int()) return static_cast<double>(std::get<std::int64_t>(v_));
        return get<double>("float");
    }
    const std::string& as_string() const { return get<std::string>("string"); }
    const ValueList& as_list() const { return get<ValueList>("list"); }
    const ValueMap& as_map() const { return get<ValueMap>("map"); }

    const Storage& storage() const { return v_; }
    bool operator==(const Value& o) const { return v_ == o.v_; }

private:
    template <class T>
    const T& get(const char* want) const {
        if (const T* p = std::get_if<T>(&v_)) return *p;
        throw InternalError(std::string("Value accessed as ") + want + " but holds another type");
    }
    Storage v_;
};

/// Compact YAML flow text of a value: 12, 0.5, gelu, [1, 2], {a: 1}; null is "null". Doubles use
/// the shortest text that reads back exactly.
inline std::string to_text(const Value& v) {
    struct Visit {
        std::string operator()(std::monostate) const { return "null"; }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(std::int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const {
            char buf[64];
            const auto r = std::to_chars(buf, buf + sizeof buf, d);
            return std::string(buf, r.ptr);
        }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(const ValueList& l) const {
            std::string out = "[";
            for (std::size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + to_text(l[i]);
            return out + "]";
        }
        std::string operator()(const ValueMap& m) const {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, x] : m) {
                out += (first ? "" : ", ") + k + ": " + to_text(x);
                first = false;
            }
            return out + "}";
        }
    };
    return std::visit(Visit{}, v.storage());
}

}  // namespace transcode
