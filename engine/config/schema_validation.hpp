// Validation of located YAML against a ParamSchema: unknown keys (with "did you mean"), types,
// ranges, choices and required keys. Produces typed Values with defaults applied.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "transcode/params.hpp"

namespace transcode::config {

/// A number in decimal notation (digits, '.', exponent, sign; no hex, "nan" or "inf"); nullopt
/// for anything else. The float rule of every config file, and of the importers.
std::optional<double> parse_decimal(const std::string& s);

/// Validates a map node against `schema`. `path` is the dotted prefix of the node ("" at the
/// root). Every problem is added to `diags`; the result holds what was valid plus defaults.
ValueMap validate_map(const Node& node, const ParamSchema& schema, const std::string& path, Diagnostics& diags);

/// Validates one node against one spec (used for each field, list element and nested map).
Value validate_value(const Node& node, const ParamSpec& spec, const std::string& path, Diagnostics& diags);

/// Convenience for tests and programmatic use: parses `yaml` (a map, or empty text for all
/// defaults) and validates it against `schema`. Throws ConfigError with every diagnostic.
Params parse_params(const ParamSchema& schema, std::string_view yaml, const std::string& source = "<params>");

}  // namespace transcode::config
