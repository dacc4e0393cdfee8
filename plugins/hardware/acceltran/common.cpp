#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "transcode/errors.hpp"

namespace transcode::plugins::acceltran {

std::vector<ParamSpec> power_fields(const std::string& what) {
    std::vector<ParamSpec> f;
    f.push_back(ParamSpec::floating("area_um2", "silicon area of one " + what).unit("µm²").greater_than(0).required());
    f.push_back(ParamSpec::floating("dynamic_mw", "dynamic power of one " + what + " while busy").unit("mW").min(0).required());
    f.push_back(ParamSpec::floating("leakage_mw", "leakage power of one " + what + " while powered").unit("mW").min(0).required());
    return f;
}

PowerFigures read_power(const Params& row) {
    return PowerFigures{um2_to_mm2(row.get_float("area_um2")), mw_to_w(row.get_float("dynamic_mw")), mw_to_w(row.get_float("leakage_mw"))};
}

Params select_row(const Params& params, const std::string& wanted, const std::function<std::string(const Params&)>& key_of,
                  const std::string& error_path, const std::function<std::string(const std::vector<std::string>&)>& missing) {
    const ValueList& rows = params.get_list("figures");
    std::vector<std::string> keys;
    std::map<std::string, std::size_t> first_index;
    std::optional<Params> found;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        Params row(rows[i].as_map());
        std::string key = key_of(row);
        if (auto [it, inserted] = first_index.emplace(key, i); !inserted)
            throw ConfigError("figures[" + std::to_string(i) + "]", "figures[" + std::to_string(i) + "] repeats the row for " + key +
                                                                        " (figures[" + std::to_string(it->second) + "]); keep one");
        if (key == wanted) found = row;
        keys.push_back(std::move(key));
    }
    if (!found) throw ConfigError(error_path, missing(keys));
    return *found;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

void check_tile(const TileWork& w, const std::string& unit) {
    auto bad = [&](const std::string& what) { throw InternalError(unit + ": tile_cost() of " + to_string(w.kind) + " got " + what); };
    if (w.b < 1 || w.x < 1 || w.y < 1) bad("a tile shape with a dimension below 1");
    if (w.depth < 1) bad("a depth below 1");
    for (double s : w.input_sparsity)
        if (!(s >= 0.0 && s <= 1.0)) bad("an input sparsity outside [0, 1]");
    if (!(w.clock_hz > 0.0) || !std::isfinite(w.clock_hz)) bad("a clock that is not a positive number");
}

std::int64_t ceil_cycles(double work, std::int64_t per_cycle) {
    const double q = work / static_cast<double>(per_cycle);
    const double c = std::ceil(q - 1e-12 * std::max(1.0, q));
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(c));
}

std::int64_t ceil_cycles(std::int64_t work, std::int64_t per_cycle) {
    return std::max<std::int64_t>(1, (work + per_cycle - 1) / per_cycle);
}

}  // namespace transcode::plugins::acceltran
