#include "mapping/gemm_mapping.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace transcode::engine {

namespace {

// Dimensions of the GEMM (indices into tile arrays) and operands (indices into the problem's arrays).
enum Dim : int { dim_m = 0, dim_n = 1, dim_k = 2 };
constexpr int dim_count = 3;
constexpr int operand_count = 3;  // A, B, C
constexpr std::array<const char*, operand_count> operand_names = {"A", "B", "C"};
constexpr std::array<const char*, dim_count> dim_names = {"m", "n", "k"};
/// The two dimensions each operand's tile spans: A (m, k), B (k, n), C (m, n).
constexpr std::array<std::array<int, 2>, operand_count> operand_dims = {{{dim_m, dim_k}, {dim_k, dim_n}, {dim_m, dim_n}}};

/// The tile counts up to this value are all candidates; above it they are 1/8 apart.
constexpr std::int64_t exact_counts = 32;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

std::string format_number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

/// The problem with its buffers compacted to the (at most three) that hold an operand.
struct Prepared {
    std::array<std::int64_t, dim_count> dim{};
    std::array<std::int64_t, dim_count> lo{};  ///< smallest tile per dimension
    std::array<double, operand_count> bytes_per_element{};
    std::array<double, operand_count> whole_bytes{};  ///< one read or write of the operand, all batches
    std::array<int, operand_count> slot{};            ///< compact buffer of each operand
    std::array<double, operand_count> slot_capacity{};
    std::array<int, operand_count> slot_buffer{};  ///< the caller's index of each compact buffer
    int slots = 0;
};

/// The largest tile along `j` (at most the dimension) that fits with the other two tiles of `t`, or
/// 0 when none at least the smallest tile does.
std::int64_t largest_fitting_tile(const Prepared& p, const std::array<std::int64_t, dim_count>& t, int j) {
    std::array<double, operand_count> fixed{}, per_unit{};
    for (int o = 0; o < operand_count; ++o) {
        const auto [d0, d1] = operand_dims[o];
        const double e = p.bytes_per_element[o];
        if (d0 == j)
            per_unit[p.slot[o]] += e * static_cast<double>(t[d1]);
        else if (d1 == j)
            per_unit[p.slot[o]] += e * static_cast<double>(t[d0]);
        else
            fixed[p.slot[o]] += e * static_cast<double>(t[d0]) * static_cast<double>(t[d1]);
    }
    double limit = static_cast<double>(p.dim[j]);
    for (int s = 0; s < p.slots; ++s) {
        const double room = p.slot_capacity[s] - fixed[s];
        if (room < 0) return 0;
        if (per_unit[s] > 0) limit = std::min(limit, std::floor(room / per_unit[s]));
    }
    const auto tile = static_cast<std::int64_t>(limit);
    return tile >= p.lo[j] ? tile : 0;
}

/// How many times each operand moves whole for tile counts `count` under dataflow `d` (the rule
/// of the header, resolved per innermost loop).
std::array<double, operand_count> fetches_of(Dataflow d, const std::array<std::int64_t, dim_count>& count) {
    const auto tm = static_cast<double>(count[dim_m]), tn = static_cast<double>(count[dim_n]), tk = static_cast<double>(count[dim_k]);
    switch (d) {
        case Dataflow::weight_stationary: return {tn, 1.0, tk};
        case Dataflow::input_stationary: return {1.0, tm, tk};
        default: return {tn, tm, 1.0};
    }
}

/// The bytes moved by `tile` under `d`: read A, read B, read C (partial sums), write C.
std::array<double, 4> traffic_of(const Prepared& p, Dataflow d, const std::array<std::int64_t, dim_count>& tile) {
    std::array<std::int64_t, dim_count> count{};
    for (int j = 0; j < dim_count; ++j) count[j] = ceil_div(p.dim[j], tile[j]);
    const auto f = fetches_of(d, count);
    return {p.whole_bytes[0] * f[0], p.whole_bytes[1] * f[1], p.whole_bytes[2] * (f[2] - 1.0), p.whole_bytes[2] * f[2]};
}

/// The sum of traffic_of's four numbers, added in the order of GemmMapping::total_bytes().
double total_of(const std::array<double, 4>& bytes) { return bytes[0] + bytes[1] + bytes[2] + bytes[3]; }

/// The mapping of `tile` under `d`.
GemmMapping mapping_of(const Prepared& p, Dataflow d, const std::array<std::int64_t, dim_count>& tile) {
    std::array<std::int64_t, dim_count> count{};
    for (int j = 0; j < dim_count; ++j) count[j] = ceil_div(p.dim[j], tile[j]);
    const auto f = fetches_of(d, count);
    const auto bytes = traffic_of(p, d, tile);
    GemmMapping out;
    out.feasible = true;
    out.dataflow = d;
    out.tile_m = tile[dim_m];
    out.tile_n = tile[dim_n];
    out.tile_k = tile[dim_k];
    for (int o = 0; o < operand_count; ++o) {
        out.fetches[o] = f[o];
        out.read_bytes[o] = bytes[static_cast<std::size_t>(o)];
    }
    out.write_bytes = bytes[3];
    return out;
}

/// The innermost loop of each dataflow: its tile does not change the traffic.
int innermost_dim(Dataflow d) {
    switch (d) {
        case Dataflow::weight_stationary: return dim_m;
        case Dataflow::input_stationary: return dim_n;
        default: return dim_k;
    }
}

/// The best mapping for one (not automatic) dataflow; `p`'s smallest tiles are known to fit.
GemmMapping map_dataflow(const Prepared& p, Dataflow d) {
    const int fixed = innermost_dim(d);
    int e = fixed == dim_m ? dim_n : dim_m;              // enumerated
    int o = dim_count - fixed - e;                        // largest that fits
    if (ceil_div(p.dim[o], p.lo[o]) < ceil_div(p.dim[e], p.lo[e])) std::swap(e, o);  // enumerate the fewer counts

    std::array<std::int64_t, dim_count> tile = p.lo;
    const std::int64_t e_largest = largest_fitting_tile(p, tile, e);
    const std::int64_t count_lo = ceil_div(p.dim[e], std::max<std::int64_t>(e_largest, 1));
    const std::int64_t count_hi = ceil_div(p.dim[e], p.lo[e]);

    std::array<std::int64_t, dim_count> best = tile;
    double best_total = std::numeric_limits<double>::infinity();
    // Nothing beats every operand moving once: stop there (later candidates cannot be strictly better).
    const double compulsory = total_of({p.whole_bytes[0], p.whole_bytes[1], 0.0, p.whole_bytes[2]});
    std::int64_t previous_tile = 0;
    auto next = [](std::int64_t t) { return t < exact_counts ? t + 1 : t + t / 8; };
    std::int64_t count = 1;
    while (count < count_lo) count = next(count);
    for (;; count = next(count)) {
        tile[e] = std::max(p.lo[e], ceil_div(p.dim[e], std::min(count, count_hi)));
        if (tile[e] != previous_tile) {
            previous_tile = tile[e];
            tile[o] = p.lo[o];
            const std::int64_t fit = largest_fitting_tile(p, tile, o);
            if (fit > 0) {
                tile[o] = std::max(p.lo[o], ceil_div(p.dim[o], ceil_div(p.dim[o], fit)));  // same count, least space
                const double total = total_of(traffic_of(p, d, tile));
                if (total < best_total) {
                    best_total = total;
                    best = tile;
                    if (total <= compulsory) break;
                }
            }
        }
        if (count >= count_hi) break;
    }
    return mapping_of(p, d, best);
}

GemmMapping infeasible(Dataflow d, std::string reason) {
    GemmMapping m;
    m.dataflow = d == Dataflow::automatic ? Dataflow::output_stationary : d;
    m.reason = std::move(reason);
    return m;
}

}  // namespace

const char* to_string(Dataflow d) {
    switch (d) {
        case Dataflow::output_stationary: return "output_stationary";
        case Dataflow::weight_stationary: return "weight_stationary";
        case Dataflow::input_stationary: return "input_stationary";
        case Dataflow::automatic: return "auto";
    }
    return "auto";
}

std::optional<Dataflow> dataflow_from_string(std::string_view s) {
    for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic})
        if (s == to_string(d)) return d;
    return std::nullopt;
}

double GemmMapping::total_bytes() const { return read_bytes[0] + read_bytes[1] + read_bytes[2] + write_bytes; }

double compulsory_bytes(const GemmProblem& p) {
    const auto batch = static_cast<double>(p.batch), m = static_cast<double>(p.m), n = static_cast<double>(p.n),
               k = static_cast<double>(p.k);
    return batch * (m * k * p.element_bytes[0] + k * n * p.element_bytes[1] + m * n * p.element_bytes[2]);
}

double traffic_lower_bound_bytes(const GemmProblem& p, std::span<const double> capacity_bytes) {
    const double compulsory = compulsory_bytes(p);
    const double e = std::min({p.element_bytes[0], p.element_bytes[1], p.element_bytes[2]});
    if (!(e > 0)) return compulsory;
    double capacity = 0;
    for (int s = 0; s < operand_count; ++s) {
        const int b = p.buffer[s];
        if (b < 0 || static_cast<std::size_t>(b) >= capacity_bytes.size()) continue;
        bool first = true;  // count each buffer once
        for (int o = 0; o < s; ++o) first = first && p.buffer[o] != b;
        if (first) capacity += std::max(0.0, capacity_bytes[static_cast<std::size_t>(b)]);
    }
    const double elements = capacity / e;
    if (!(elements > 0)) return compulsory;
    const double per_product = 2.0 * static_cast<double>(p.m) * static_cast<double>(p.n) * static_cast<double>(p.k) / std::sqrt(elements) -
                               2.0 * elements;
    return std::max(compulsory, static_cast<double>(p.batch) * e * per_product);
}

GemmMapping map_gemm(const GemmProblem& p, std::span<const double> capacity_bytes, Dataflow d) {
    Prepared q;
    q.dim = {p.m, p.n, p.k};
    if (p.batch < 1) return infeasible(d, "batch is " + std::to_string(p.batch) + "; it must be at least 1");
    for (int j = 0; j < dim_count; ++j) {
        if (q.dim[j] < 1) return infeasible(d, std::string(dim_names[j]) + " is " + std::to_string(q.dim[j]) + "; it must be at least 1");
        q.lo[j] = std::clamp<std::int64_t>(p.min_tile[j], 1, q.dim[j]);
    }
    for (int o = 0; o < operand_count; ++o) {
        const double e = p.element_bytes[o];
        if (!(e >= 0) || !std::isfinite(e))
            return infeasible(d, std::string(operand_names[o]) + " has " + format_number(e) + " bytes per element");
        const int b = p.buffer[o];
        if (b < 0 || static_cast<std::size_t>(b) >= capacity_bytes.size())
            return infeasible(d, std::string(operand_names[o]) + " is held by buffer " + std::to_string(b) + ", but " +
                                     std::to_string(capacity_bytes.size()) + " buffer capacities are given");
        const double capacity = capacity_bytes[static_cast<std::size_t>(b)];
        if (std::isnan(capacity)) return infeasible(d, "buffer " + std::to_string(b) + " has no capacity (NaN)");
        int s = 0;
        while (s < q.slots && q.slot_buffer[s] != b) ++s;
        if (s == q.slots) {
            q.slot_buffer[s] = b;
            q.slot_capacity[s] = capacity;
            ++q.slots;
        }
        q.slot[o] = s;
        q.bytes_per_element[o] = e;
        const auto [d0, d1] = operand_dims[o];
        q.whole_bytes[o] = static_cast<double>(p.batch) * static_cast<double>(q.dim[d0]) * static_cast<double>(q.dim[d1]) * e;
    }

    // The smallest tiles must fit: report the first buffer (by index) that cannot hold them.
    std::array<double, operand_count> smallest{};
    for (int o = 0; o < operand_count; ++o) {
        const auto [d0, d1] = operand_dims[o];
        smallest[q.slot[o]] += q.bytes_per_element[o] * static_cast<double>(q.lo[d0]) * static_cast<double>(q.lo[d1]);
    }
    int worst = -1;
    for (int s = 0; s < q.slots; ++s)
        if (smallest[s] > q.slot_capacity[s] && (worst < 0 || q.slot_buffer[s] < q.slot_buffer[worst])) worst = s;
    if (worst >= 0)
        return infeasible(d, "buffer " + std::to_string(q.slot_buffer[worst]) + " holds " + format_number(q.slot_capacity[worst]) +
                                 " bytes; the smallest tile (m " + std::to_string(q.lo[dim_m]) + ", n " + std::to_string(q.lo[dim_n]) +
                                 ", k " + std::to_string(q.lo[dim_k]) + ") needs " + format_number(smallest[worst]) + " bytes of it");

    if (d != Dataflow::automatic) return map_dataflow(q, d);
    GemmMapping best;
    for (Dataflow candidate : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary}) {
        GemmMapping m = map_dataflow(q, candidate);
        if (!best.feasible || m.total_bytes() < best.total_bytes()) best = std::move(m);
    }
    return best;
}

}  // namespace transcode::engine
