// GEMM mappings (engine/mapping): map_gemm against hand-computed traffic, the compulsory and
// communication lower bounds, and an exhaustive search over tile sizes and all six loop orders
// whose fetch counts are derived from the loop order directly (written here independently).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/random.hpp"
#include "mapping/gemm_mapping.hpp"

using namespace transcode::engine;

namespace {

constexpr std::array<Dataflow, 3> named_dataflows = {Dataflow::output_stationary, Dataflow::weight_stationary,
                                                     Dataflow::input_stationary};

// ---- The oracle: loop orders and fetch counts from first principles ----

// Dimensions m = 0, n = 1, k = 2. Operand X's tile spans dims_of[X]: A (m, k), B (k, n), C (m, n).
constexpr int dims_of[3][2] = {{0, 2}, {2, 1}, {0, 1}};
bool depends(int operand, int dim) { return dims_of[operand][0] == dim || dims_of[operand][1] == dim; }

// The six loop orders, outer to inner.
constexpr int loop_orders[6][3] = {{0, 1, 2}, {1, 0, 2}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}, {2, 0, 1}};

// Which dataflow a loop order is: its innermost loop (k: output, m: weight, n: input stationary).
Dataflow dataflow_of(const int (&order)[3]) {
    return order[2] == 2 ? Dataflow::output_stationary : order[2] == 0 ? Dataflow::weight_stationary : Dataflow::input_stationary;
}

// fetches(X): the product of the tile counts of the loops X does not depend on that sit outside
// X's innermost relevant loop.
double fetches(const int (&order)[3], const std::array<std::int64_t, 3>& count, int operand) {
    int innermost = -1;
    for (int i = 0; i < 3; ++i)
        if (depends(operand, order[i])) innermost = i;
    double f = 1;
    for (int i = 0; i < innermost; ++i)
        if (!depends(operand, order[i])) f *= static_cast<double>(count[static_cast<std::size_t>(order[i])]);
    return f;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::array<std::int64_t, 3> dims(const GemmProblem& p) { return {p.m, p.n, p.k}; }

// Total bytes moved by tiles `tile` in loop order `order`.
double oracle_traffic(const GemmProblem& p, const int (&order)[3], const std::array<std::int64_t, 3>& tile) {
    const auto d = dims(p);
    std::array<std::int64_t, 3> count{};
    for (std::size_t j = 0; j < 3; ++j) count[j] = ceil_div(d[j], tile[j]);
    const double batch = static_cast<double>(p.batch);
    double total = 0;
    for (int x = 0; x < 3; ++x) {
        const double whole = batch * static_cast<double>(d[static_cast<std::size_t>(dims_of[x][0])]) *
                             static_cast<double>(d[static_cast<std::size_t>(dims_of[x][1])]) * p.element_bytes[x];
        const double f = fetches(order, count, x);
        total += x == 2 ? whole * (2 * f - 1) : whole * f;  // C: written f times, read back f - 1 times
    }
    return total;
}

bool oracle_fits(const GemmProblem& p, const std::vector<double>& capacity, const std::array<std::int64_t, 3>& tile) {
    std::vector<double> used(capacity.size(), 0.0);
    for (int x = 0; x < 3; ++x)
        used[static_cast<std::size_t>(p.buffer[x])] += p.element_bytes[x] * static_cast<double>(tile[static_cast<std::size_t>(dims_of[x][0])]) *
                                                      static_cast<double>(tile[static_cast<std::size_t>(dims_of[x][1])]);
    for (std::size_t b = 0; b < capacity.size(); ++b)
        if (used[b] > capacity[b]) return false;
    return true;
}

// Tile sizes to try along a dimension: every size from min(min_tile, dim) to dim, or (`distinct`)
// only the smallest size giving each tile count: any other size has the same counts, hence the
// same traffic, and a larger footprint.
std::vector<std::int64_t> tile_sizes(std::int64_t dim, std::int64_t min_tile, bool distinct) {
    std::vector<std::int64_t> sizes;
    std::int64_t last_count = 0;
    for (std::int64_t t = std::min(min_tile, dim); t <= dim; ++t) {
        const std::int64_t c = ceil_div(dim, t);
        if (!distinct || c != last_count) sizes.push_back(t);
        last_count = c;
    }
    return sizes;
}

struct Optimum {
    double overall = std::numeric_limits<double>::infinity();
    std::array<double, 3> per_dataflow{std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(),
                                       std::numeric_limits<double>::infinity()};
    bool feasible() const { return std::isfinite(overall); }
};

Optimum exhaustive(const GemmProblem& p, const std::vector<double>& capacity, bool distinct) {
    Optimum best;
    const auto sm = tile_sizes(p.m, p.min_tile[0], distinct), sn = tile_sizes(p.n, p.min_tile[1], distinct),
               sk = tile_sizes(p.k, p.min_tile[2], distinct);
    for (auto tm : sm)
        for (auto tn : sn)
            for (auto tk : sk) {
                if (!oracle_fits(p, capacity, {tm, tn, tk})) break;  // larger tk only needs more space
                for (const auto& order : loop_orders) {
                    const double q = oracle_traffic(p, order, {tm, tn, tk});
                    const auto df = static_cast<std::size_t>(dataflow_of(order));
                    best.per_dataflow[df] = std::min(best.per_dataflow[df], q);
                    best.overall = std::min(best.overall, q);
                }
            }
    return best;
}

// ---- Random problems ----

double log_uniform(SplitMix64& rng, double lo, double hi) { return std::exp(std::log(lo) + rng.uniform() * (std::log(hi) - std::log(lo))); }

struct RandomProblem {
    GemmProblem p;
    std::vector<double> capacity;
};

// m, n, k in [1, max_dim], batch 1-3, bytes per element 1 or 2.5, A/B/C in one or two buffers,
// smallest tiles 1, 4 or 16, capacities log-uniform from 0.9 x the smallest tiles to 2 x the whole
// working set of one product.
RandomProblem random_problem(SplitMix64& rng, std::int64_t max_dim) {
    auto below = [&](std::uint64_t n) { return static_cast<std::int64_t>(rng.next() % n); };
    RandomProblem r;
    GemmProblem& p = r.p;
    p.m = 1 + below(static_cast<std::uint64_t>(max_dim));
    p.n = 1 + below(static_cast<std::uint64_t>(max_dim));
    p.k = 1 + below(static_cast<std::uint64_t>(max_dim));
    p.batch = 1 + below(3);
    const bool two_buffers = below(2) == 1;
    constexpr std::int64_t min_tiles[3] = {1, 4, 16};
    for (int x = 0; x < 3; ++x) {
        p.element_bytes[x] = below(2) == 0 ? 1.0 : 2.5;
        p.buffer[x] = two_buffers ? static_cast<int>(below(2)) : 0;
        p.min_tile[x] = min_tiles[below(3)];
    }
    const auto d = dims(p);
    for (int b = 0; b < 2; ++b) {
        double smallest = 0, whole = 0;
        for (int x = 0; x < 3; ++x) {
            if (p.buffer[x] != b) continue;
            const auto d0 = static_cast<std::size_t>(dims_of[x][0]), d1 = static_cast<std::size_t>(dims_of[x][1]);
            smallest += p.element_bytes[x] * static_cast<double>(std::min(p.min_tile[d0], d[d0])) *
                        static_cast<double>(std::min(p.min_tile[d1], d[d1]));
            whole += p.element_bytes[x] * static_cast<double>(d[d0]) * static_cast<double>(d[d1]);
        }
        r.capacity.push_back(whole > 0 ? log_uniform(rng, 0.9 * smallest, 2.0 * whole) : log_uniform(rng, 1.0, 1e6));
    }
    return r;
}

// The mapping's tiles fit, and its traffic is what the oracle computes for its loop order.
void check_consistent(const GemmProblem& p, const std::vector<double>& capacity, const GemmMapping& g) {
    REQUIRE(g.feasible);
    REQUIRE(g.dataflow != Dataflow::automatic);
    const std::array<std::int64_t, 3> tile{g.tile_m, g.tile_n, g.tile_k};
    const auto d = dims(p);
    for (std::size_t j = 0; j < 3; ++j) {
        CHECK(tile[j] >= std::min(p.min_tile[j], d[j]));
        CHECK(tile[j] <= d[j]);
    }
    CHECK(oracle_fits(p, capacity, tile));
    for (const auto& order : loop_orders)
        if (dataflow_of(order) == g.dataflow) CHECK(g.total_bytes() == doctest::Approx(oracle_traffic(p, order, tile)).epsilon(1e-12));
    for (double f : g.fetches) CHECK(f >= 1);
    const double batch = static_cast<double>(p.batch), m = static_cast<double>(p.m), n = static_cast<double>(p.n),
                 k = static_cast<double>(p.k);
    CHECK(g.read_bytes[0] == doctest::Approx(batch * m * k * p.element_bytes[0] * g.fetches[0]).epsilon(1e-12));
    CHECK(g.read_bytes[1] == doctest::Approx(batch * k * n * p.element_bytes[1] * g.fetches[1]).epsilon(1e-12));
    CHECK(g.read_bytes[2] == doctest::Approx(batch * m * n * p.element_bytes[2] * (g.fetches[2] - 1)).epsilon(1e-12));
    CHECK(g.write_bytes == doctest::Approx(batch * m * n * p.element_bytes[2] * g.fetches[2]).epsilon(1e-12));
}

}  // namespace

TEST_CASE("mapping: when everything fits every dataflow reaches the compulsory traffic") {
    GemmProblem p;
    p.batch = 3;
    p.m = 64;
    p.n = 48;
    p.k = 80;
    p.element_bytes[0] = 1;
    p.element_bytes[1] = 2.5;
    p.element_bytes[2] = 2;
    p.min_tile[0] = p.min_tile[1] = p.min_tile[2] = 16;
    // Working set of one product: 64*80*1 + 80*48*2.5 + 64*48*2 = 5120 + 9600 + 6144 = 20864 bytes.
    SUBCASE("one buffer") {
        const std::vector<double> capacity{20864};
        for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic}) {
            CAPTURE(to_string(d));
            const GemmMapping g = map_gemm(p, capacity, d);
            REQUIRE(g.feasible);
            CHECK(g.total_bytes() == compulsory_bytes(p));
            CHECK(g.total_bytes() == 3.0 * 20864);
            CHECK(g.read_bytes[2] == 0);
            for (double f : g.fetches) CHECK(f == 1);
        }
        CHECK(map_gemm(p, capacity, Dataflow::automatic).dataflow == Dataflow::output_stationary);  // the tie goes to OS
    }
    SUBCASE("A, B and C each in their own buffer") {
        p.buffer[1] = 1;
        p.buffer[2] = 2;
        const std::vector<double> capacity{5120, 9600, 6144};
        for (Dataflow d : named_dataflows) {
            CAPTURE(to_string(d));
            CHECK(map_gemm(p, capacity, d).total_bytes() == compulsory_bytes(p));
        }
    }
}

TEST_CASE("mapping: on 300 random GEMMs map_gemm is at least the lower bound and within 1.5x of an exhaustive search") {
    SplitMix64 rng(20261205);
    int feasible = 0, above_compulsory = 0;
    for (int c = 0; c < 300; ++c) {
        CAPTURE(c);
        const RandomProblem r = random_problem(rng, 300);
        const GemmProblem& p = r.p;
        CAPTURE(p.m);
        CAPTURE(p.n);
        CAPTURE(p.k);
        const Optimum best = exhaustive(p, r.capacity, true);
        const GemmMapping g = map_gemm(p, r.capacity, Dataflow::automatic);
        REQUIRE(g.feasible == best.feasible());
        if (!g.feasible) continue;
        ++feasible;
        if (best.overall > compulsory_bytes(p)) ++above_compulsory;
        check_consistent(p, r.capacity, g);
        CHECK(g.total_bytes() >= traffic_lower_bound_bytes(p, r.capacity));
        CHECK(g.total_bytes() >= best.overall * (1 - 1e-12));
        CHECK(g.total_bytes() <= 1.5 * best.overall);
        for (Dataflow d : named_dataflows) {
            CAPTURE(to_string(d));
            const GemmMapping named = map_gemm(p, r.capacity, d);
            check_consistent(p, r.capacity, named);
            CHECK(named.dataflow == d);
            const double optimum = best.per_dataflow[static_cast<std::size_t>(d)];
            CHECK(named.total_bytes() >= optimum * (1 - 1e-12));
            CHECK(named.total_bytes() <= 1.5 * optimum);
            CHECK(g.total_bytes() <= named.total_bytes());
        }
    }
    // The draw exercises both regimes.
    CHECK(feasible > 200);
    CHECK(above_compulsory > 50);
}

TEST_CASE("mapping: on 40 larger GEMMs map_gemm is within the 12.5% that its grid of tile counts promises") {
    // Dimensions up to 1500 give tile counts above 32, where the search takes counts 1/8 apart.
    SplitMix64 rng(5);
    for (int c = 0; c < 40; ++c) {
        CAPTURE(c);
        const RandomProblem r = random_problem(rng, 1500);
        const Optimum best = exhaustive(r.p, r.capacity, true);
        const GemmMapping g = map_gemm(r.p, r.capacity, Dataflow::automatic);
        REQUIRE(g.feasible == best.feasible());
        if (!g.feasible) continue;
        CHECK(g.total_bytes() >= best.overall * (1 - 1e-12));
        CHECK(g.total_bytes() <= 1.125 * best.overall);
        for (Dataflow d : named_dataflows) {
            CAPTURE(to_string(d));
            const double optimum = best.per_dataflow[static_cast<std::size_t>(d)];
            const GemmMapping named = map_gemm(r.p, r.capacity, d);
            CHECK(named.total_bytes() >= optimum * (1 - 1e-12));
            CHECK(named.total_bytes() <= 1.125 * optimum);
        }
    }
}

TEST_CASE("mapping: the exhaustive search over tile counts equals the one over every tile size on 60 small GEMMs") {
    SplitMix64 rng(7);
    for (int c = 0; c < 60; ++c) {
        CAPTURE(c);
        const RandomProblem r = random_problem(rng, 40);
        const Optimum counts = exhaustive(r.p, r.capacity, true), sizes = exhaustive(r.p, r.capacity, false);
        CHECK(counts.overall == sizes.overall);
        for (std::size_t d = 0; d < 3; ++d) CHECK(counts.per_dataflow[d] == sizes.per_dataflow[d]);
    }
}

TEST_CASE("mapping: shrinking a capacity never lowers the traffic") {
    SplitMix64 rng(99);
    for (int c = 0; c < 100; ++c) {
        CAPTURE(c);
        RandomProblem r = random_problem(rng, c % 2 == 0 ? 300 : 5000);
        const bool one_buffer = c % 3 == 0;  // halve one buffer, or all of them
        const std::size_t which = static_cast<std::size_t>(rng.next() % r.capacity.size());
        for (auto& cap : r.capacity) cap *= 4;
        for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic}) {
            CAPTURE(to_string(d));
            std::vector<double> capacity = r.capacity;
            double previous = 0;
            int steps = 0;
            for (;; ++steps) {
                const GemmMapping g = map_gemm(r.p, capacity, d);
                if (!g.feasible) break;
                CAPTURE(steps);
                CHECK(g.total_bytes() >= previous);
                previous = g.total_bytes();
                if (one_buffer)
                    capacity[which] /= 2;
                else
                    for (auto& cap : capacity) cap /= 2;
                if (steps > 200) break;  // a buffer that holds nothing never runs out
            }
        }
    }
}

TEST_CASE("mapping: output and weight stationary trade places as K grows relative to M and N") {
    const std::vector<double> capacity{100};  // bytes; holds neither A nor B whole below
    SUBCASE("K much larger than M and N: weight stationary pays for partial sums") {
        GemmProblem p;
        p.m = 4;
        p.n = 4;
        p.k = 1024;
        // OS: tile_k = 1, tile_m = tile_n = 4 (4 + 4 + 16 = 24 bytes): A, B read once, C written once:
        // 4096 + 4096 + 16 = 8208 = compulsory.
        const GemmMapping os = map_gemm(p, capacity, Dataflow::output_stationary);
        CHECK(os.total_bytes() == 8208);
        CHECK(os.fetches[0] == 1);
        CHECK(os.fetches[1] == 1);
        CHECK(os.fetches[2] == 1);
        // WS: tile_m = 1; tile_n = 4 (tile_n < 4 reads A twice or more); then tile_k + 4 tile_k + 4 <= 100
        // gives tile_k = 19, Tk = ceil(1024 / 19) = 54: C written 54 x 16 = 864 and read back 53 x 16 = 848.
        // 4096 + 4096 + 848 + 864 = 9904.
        const GemmMapping ws = map_gemm(p, capacity, Dataflow::weight_stationary);
        CHECK(ws.tile_m == 1);
        CHECK(ws.tile_n == 4);
        CHECK(ws.tile_k == 19);
        CHECK(ws.read_bytes[0] == 4096);
        CHECK(ws.read_bytes[1] == 4096);
        CHECK(ws.read_bytes[2] == 848);
        CHECK(ws.write_bytes == 864);
        CHECK(ws.fetches[2] == 54);
        CHECK(ws.total_bytes() == 9904);
        CHECK(os.total_bytes() < ws.total_bytes());
        CHECK(map_gemm(p, capacity, Dataflow::automatic).dataflow == Dataflow::output_stationary);
    }
    SUBCASE("M large, B fits and A does not: weight stationary keeps B and wins") {
        GemmProblem p;
        p.m = 1024;
        p.n = 4;
        p.k = 4;
        // WS: tile_m = 1, tile_n = tile_k = 4 (4 + 16 + 4 = 24 bytes): all read or written once:
        // 4096 + 16 + 4096 = 8208.
        const GemmMapping ws = map_gemm(p, capacity, Dataflow::weight_stationary);
        CHECK(ws.total_bytes() == 8208);
        // OS: tile_k = 1; tile_n = 4 (a smaller one reads A twice); tile_m + 4 + 4 tile_m <= 100 gives
        // tile_m = 19, Tm = 54: B read 54 x 16 = 864. 4096 + 864 + 4096 = 9056.
        const GemmMapping os = map_gemm(p, capacity, Dataflow::output_stationary);
        CHECK(os.tile_m == 19);
        CHECK(os.tile_n == 4);
        CHECK(os.tile_k == 1);
        CHECK(os.read_bytes[0] == 4096);
        CHECK(os.read_bytes[1] == 864);
        CHECK(os.read_bytes[2] == 0);
        CHECK(os.write_bytes == 4096);
        CHECK(os.total_bytes() == 9056);
        CHECK(ws.total_bytes() < os.total_bytes());
        const GemmMapping best = map_gemm(p, capacity, Dataflow::automatic);
        CHECK(best.dataflow == Dataflow::weight_stationary);
        CHECK(best.total_bytes() == 8208);
    }
}

TEST_CASE("mapping: a buffer smaller than the smallest tile is infeasible with a reason") {
    GemmProblem p;
    p.m = p.n = p.k = 256;
    p.element_bytes[2] = 1.5;
    p.buffer[1] = p.buffer[2] = 1;  // B and C share buffer 1
    p.min_tile[0] = p.min_tile[1] = p.min_tile[2] = 64;
    SUBCASE("B and C's smallest tiles: 64 x 64 x 1 + 64 x 64 x 1.5 = 10240 bytes") {
        for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic}) {
            const GemmMapping g = map_gemm(p, std::vector<double>{1e6, 4096}, d);
            CHECK_FALSE(g.feasible);
            CHECK(g.reason == "buffer 1 holds 4096 bytes; the smallest tile (m 64, n 64, k 64) needs 10240 bytes of it");
            CHECK(g.total_bytes() == 0);
        }
        CHECK(map_gemm(p, std::vector<double>{1e6, 10240}, Dataflow::automatic).feasible);
    }
    SUBCASE("a dimension below the smallest tile clips it") {
        p.m = 8;  // A: 8 x 64, C: 8 x 64 x 1.5 = 768, B: 64 x 64 = 4096
        const GemmMapping g = map_gemm(p, std::vector<double>{1e6, 4000.5}, Dataflow::automatic);
        CHECK(g.reason == "buffer 1 holds 4000.5 bytes; the smallest tile (m 8, n 64, k 64) needs 4864 bytes of it");
    }
    SUBCASE("a buffer index without a capacity") {
        const GemmMapping g = map_gemm(p, std::vector<double>{1e6}, Dataflow::automatic);
        CHECK_FALSE(g.feasible);
        CHECK(g.reason == "B is held by buffer 1, but 1 buffer capacities are given");
    }
}

TEST_CASE("mapping: dimensions of 2^31 - 1 give finite traffic above the lower bound") {
    GemmProblem p;
    p.m = p.n = p.k = (std::int64_t{1} << 31) - 1;
    p.batch = 2;
    p.min_tile[0] = p.min_tile[1] = p.min_tile[2] = 16;
    const std::vector<double> capacity{1 << 20};
    const double bound = traffic_lower_bound_bytes(p, capacity);
    CHECK(std::isfinite(bound));
    CHECK(bound > compulsory_bytes(p));
    for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic}) {
        CAPTURE(to_string(d));
        const GemmMapping g = map_gemm(p, capacity, d);
        REQUIRE(g.feasible);
        CHECK(std::isfinite(g.total_bytes()));
        CHECK(g.total_bytes() >= bound);
        check_consistent(p, capacity, g);
    }
    // Output stationary with square tiles reaches the bound within a small factor: 2 mnk / sqrt(S).
    CHECK(map_gemm(p, capacity, Dataflow::automatic).total_bytes() <= 2.0 * bound);
}

TEST_CASE("mapping: dataflow names round-trip and unknown names are rejected") {
    for (Dataflow d : {Dataflow::output_stationary, Dataflow::weight_stationary, Dataflow::input_stationary, Dataflow::automatic})
        CHECK(dataflow_from_string(to_string(d)) == d);
    CHECK(std::string(to_string(Dataflow::automatic)) == "auto");
    CHECK_FALSE(dataflow_from_string("os").has_value());
    CHECK_FALSE(dataflow_from_string("").has_value());
    CHECK_FALSE(dataflow_from_string("automatic").has_value());
    CHECK_FALSE(dataflow_from_string("Output_stationary").has_value());
}
