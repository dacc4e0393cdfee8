// Helpers shared by the acceltran components: figure-row lookup, unit conversions, cycle counts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "transcode/component.hpp"
#include "transcode/params.hpp"

namespace transcode::plugins::acceltran {

/// µm² -> mm².
inline double um2_to_mm2(double um2) { return um2 * 1e-6; }
/// mW -> W.
inline double mw_to_w(double mw) { return mw * 1e-3; }

/// The three figures every compute and support row carries: area (µm²), dynamic power and leakage
/// power (mW), as schema fields of a figure row.
std::vector<ParamSpec> power_fields(const std::string& what);

/// Area, dynamic and leakage power of a figure row, converted to mm² and W.
struct PowerFigures {
    double area_mm2 = 0.0;
    double dynamic_w = 0.0;
    double leakage_w = 0.0;
};
PowerFigures read_power(const Params& row);

/// Picks the row of the `figures` list whose key_of(row) equals `wanted`. Two rows with the same
/// key are a ConfigError at the later one ("figures[3]"). When no row matches, throws
/// ConfigError(error_path, missing(keys of every row, in file order)).
Params select_row(const Params& params, const std::string& wanted, const std::function<std::string(const Params&)>& key_of,
                  const std::string& error_path, const std::function<std::string(const std::vector<std::string>&)>& missing);

/// "a, b, c".
std::string join(const std::vector<std::string>& items);

/// Checks what the engine hands to tile_cost(): a positive shape and depth, sparsities in [0, 1],
/// a positive clock. A violation is an engine bug (InternalError naming `unit`).
void check_tile(const TileWork& w, const std::string& unit);

/// max(1, ceil(work / per_cycle)) for a work amount computed in floating point. A relative
/// 1e-12 is taken off before rounding up, so that a product that is an integer in exact
/// arithmetic (16·16·16·0.5 / 16 = 128) never rounds up to the next cycle because of a rounding
/// error in its last bits.
std::int64_t ceil_cycles(double work, std::int64_t per_cycle);

/// max(1, ceil(work / per_cycle)) in integers.
std::int64_t ceil_cycles(std::int64_t work, std::int64_t per_cycle);

/// Dynamic energy of `cycles` cycles at `dynamic_w`: dynamic_w · cycles / clock_hz.
inline double dynamic_energy_j(double dynamic_w, std::int64_t cycles, double clock_hz) {
    return dynamic_w * static_cast<double>(cycles) / clock_hz;
}

}  // namespace transcode::plugins::acceltran
