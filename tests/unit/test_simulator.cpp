// ELECTOR: the tile scheduler against closed forms, hand-computed figures, and a deliberately
// naive tile-by-tile scheduler on random graphs and accelerators.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/random.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "simulator/simulator.hpp"
#include "simulator_fixtures.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using namespace transcode::engine;
using namespace transcode::engine::test_fixtures;

namespace {

const fs::path source_dir = TRANSCODE_SOURCE_DIR;

// C[1, m, n] = A[1, m, k] . W[k, n], A a model input, W a weight.
ModelGraph single_matmul(std::int64_t m, std::int64_t k, std::int64_t n) {
    GraphBuilder b;
    const TensorId a = b.input("a", {1, m, k}, false);
    const TensorId w = b.weight("w", {k, n});
    b.op1(OpKind::matmul, "c", {a, w}, {1, m, n});
    return b.take();
}

SimulationResult run(const ModelGraph& g, const Accelerator& acc, bool training = false, std::vector<double> sparsity = {},
                     TilePoolFactory pool = &GroupedTilePool::make, Fidelity f = Fidelity::event) {
    SimulationOptions o;
    o.training = training;
    o.tensor_sparsity = std::move(sparsity);
    o.pool_factory = pool;
    o.fidelity = f;
    return simulate(g, acc, o);
}

// Deliberately naive: one tile at a time, each to the instance free first (lowest index on ties).
class NaivePool final : public TilePool {
public:
    explicit NaivePool(std::int64_t n) : free_(static_cast<std::size_t>(n), 0) {}
    DispatchResult dispatch(std::int64_t ready, std::int64_t tiles, std::int64_t cycles) override {
        DispatchResult r{std::numeric_limits<std::int64_t>::max(), 0};
        for (std::int64_t t = 0; t < tiles; ++t) {
            auto it = std::min_element(free_.begin(), free_.end());
            const std::int64_t start = std::max(*it, ready);
            *it = start + cycles;
            r.first_start = std::min(r.first_start, start);
            r.last_end = std::max(r.last_end, *it);
        }
        return r;
    }
    static std::unique_ptr<TilePool> make(std::int64_t n) { return std::make_unique<NaivePool>(n); }

private:
    std::vector<std::int64_t> free_;
};

}  // namespace

TEST_CASE("simulator: a compute-bound matmul takes exactly ceil(tiles / units) x cycles per tile") {
    AccSpec s;
    s.pes = 2;
    s.lanes = 3;  // 6 lanes: 64 tiles do not divide evenly
    s.mode = "high_bandwidth";
    s.extra_memory = ", high_bandwidth_gbps: 1.0e6";  // transfers take a cycle or two
    const Accelerator acc = accelerator_from(accelerator_yaml(s));
    const SimulationResult r = run(single_matmul(64, 64, 64), acc);
    REQUIRE(r.ops.size() == 1);
    const OpRecord& op = r.ops[0];
    CHECK(op.tiles == 1 * 4 * 4 * 4);        // (64/16) x (64/16) output tiles x 4 reduction chunks
    CHECK(op.cycles_per_tile == 16 * 16 * 16 / 16);  // 4096 MACs on 16 MACs
    CHECK(op.end - op.start == (64 + 5) / 6 * 256);  // ceil(64 / 6) x 256 = 2816
    CHECK(op.end == op.data_ready + (64 + 5) / 6 * 256);
    CHECK(r.flush_bytes == 64 * 64 * 2.5);  // the output C, a graph output, is flushed at the end
    CHECK(r.cycles == op.end + 20);          // 10 KB out of the activation buffer's port at 370 GB/s (1 cycle on the channel)
}

TEST_CASE("simulator: a pure transfer takes bytes / bandwidth") {
    const Accelerator acc = accelerator_from(accelerator_yaml(AccSpec{}));
    GraphBuilder b;  // one tile of compute on two [1, 16, 16] weights that come from LP-DDR3
    const TensorId x = b.weight("x", {1, 16, 16});
    const TensorId y = b.weight("y", {1, 16, 16});
    b.op1(OpKind::add, "sum", {x, y}, {1, 16, 16});
    const SimulationResult r = run(b.take(), acc);
    const double bytes = 2 * 256 * 20 / 8.0;  // 20-bit words
    CHECK(r.memory_read_bytes == bytes);
    const double bytes_per_cycle = 25.6e9 / 700e6;
    const auto transfer = static_cast<std::int64_t>(std::ceil(bytes / bytes_per_cycle));
    CHECK(transfer == 35);
    const std::int64_t latency = 70;  // 100 ns at 700 MHz (memory.yaml)
    CHECK(r.ops[0].data_ready == latency + transfer);
    CHECK(r.ops[0].end == latency + transfer + 256 / 16);  // then one add tile: 256 elements on 16 MACs
    // The sum, a graph output, is flushed: 320 bytes.
    CHECK(r.flush_bytes == bytes / 2);
    CHECK(r.cycles == r.ops[0].end + static_cast<std::int64_t>(std::ceil(bytes / 2 / bytes_per_cycle)));
}

TEST_CASE("simulator: overlapped load and compute take max(load, compute), not the sum") {
    AccSpec s;
    s.pes = 4;
    s.lanes = 16;  // 64 lanes
    const Accelerator acc = accelerator_from(accelerator_yaml(s));
    const SimulationResult r = run(single_matmul(256, 256, 256), acc);
    const OpRecord& op = r.ops[0];
    const std::int64_t compute = (op.tiles + 63) / 64 * op.cycles_per_tile;
    const auto load = static_cast<std::int64_t>(std::ceil(op.load_bytes / (25.6e9 / 700e6)));
    const std::int64_t waves = (op.tiles + 63) / 64;
    CHECK(compute == 64 * 256);
    CHECK(load == 8960);  // 2 x 65536 words of 20 bits at 36.57 B/cycle
    CHECK(r.cycles < load + compute);
    CHECK(r.cycles >= std::max(load, compute));
    const auto flush = static_cast<std::int64_t>(std::ceil(r.flush_bytes / (25.6e9 / 700e6)));
    CHECK(r.cycles <= std::max(load, compute) + 70 + (load + waves - 1) / waves + op.cycles_per_tile + flush);
}

TEST_CASE("simulator: shrinking the activation buffer below the working set raises traffic and cycles") {
    PluginHost& host = test::builtin_plugins();
    const LoadedModel m = load_model_file(source_dir / "configs/models/bert-tiny.yaml", {}, host);
    const ModelGraph step = make_training_graph(m.forward, OptimizerSettings{});
    AccSpec big;
    big.pes = 8;
    big.lanes = 16;
    AccSpec small = big;
    small.activation_mb = 0.25;
    const SimulationResult rb = run(step, accelerator_from(accelerator_yaml(big)), true);
    const SimulationResult rs = run(step, accelerator_from(accelerator_yaml(small)), true);
    CHECK(rs.memory_read_bytes > rb.memory_read_bytes);
    CHECK(rs.memory_write_bytes > rb.memory_write_bytes);
    CHECK(rs.cycles > rb.cycles);
    CHECK(rs.level(Resource::activation_buffer).peak_bytes <= 0.25 * 1048576);
}

TEST_CASE("simulator: sparsity 0.5 on the skipped operand halves the MAC cycles of a compute-bound matmul") {
    AccSpec s;
    s.mode = "high_bandwidth";
    s.extra_memory = ", high_bandwidth_gbps: 1.0e6";
    const Accelerator acc = accelerator_from(accelerator_yaml(s));
    const ModelGraph g = single_matmul(64, 64, 64);
    std::vector<double> sparsity(g.tensors.size(), 0.0);
    const SimulationResult dense = run(g, acc, false, sparsity);
    sparsity[0] = 0.5;  // the activation operand A
    const SimulationResult sparse = run(g, acc, false, sparsity);
    CHECK(dense.ops[0].cycles_per_tile == 256);
    CHECK(sparse.ops[0].cycles_per_tile == 128);
    CHECK(sparse.ops[0].end - sparse.ops[0].start == (dense.ops[0].end - dense.ops[0].start) / 2);
    // Compressed: half the data bytes of A, plus one mask bit per element.
    CHECK(sparse.memory_read_bytes == doctest::Approx(dense.memory_read_bytes - 64 * 64 * 2.5 / 2 + 64 * 64 / 8.0));
}

TEST_CASE("simulator: the area of AccelTran-Edge is the sum of its components, by hand from the figures") {
    const Accelerator acc = load_accelerator_file(source_dir / "configs/accelerators/acceltran-edge.yaml", {}, test::builtin_plugins());
    // Per PE (um^2): 16 GELU lanes of 16 MACs, 4 softmax (tile 16), 1 layer-norm (tile 16), per
    // lane a pre-sparsity, post-sparsity, FIFO and stochastic-rounding unit, 1 controller, 1 DMA.
    const double pe = 16 * 9418.667591 + 4 * 87573.326116 + 81104.126482 + 16 * (6216.896914 + 1181.201447 + 484.379110 + 79.043665) + 75946.982008 +
                      144.636242;
    const double buffers = 4 * 303305.83 + 8 * 294100.83 + 1 * 302565.0;  // per MB x MB
    const double expected_mm2 = (64 * pe + buffers) * 1e-6;
    CHECK(acc.area_mm2() == doctest::Approx(expected_mm2).epsilon(1e-12));
    CHECK(expected_mm2 == doctest::Approx(54.145).epsilon(1e-4));
}

TEST_CASE("simulator: a training step costs more than inference, in each phase") {
    PluginHost& host = test::builtin_plugins();
    const LoadedModel m = load_model_file(source_dir / "configs/models/bert-tiny.yaml", {}, host);
    const Accelerator acc = load_accelerator_file(source_dir / "configs/accelerators/acceltran-edge.yaml", {}, host);
    const SimulationResult inf = run(m.forward, acc, false);
    const SimulationResult tr = run(make_training_graph(m.forward, OptimizerSettings{}), acc, true);
    REQUIRE(inf.phases.size() == 1);
    REQUIRE(tr.phases.size() == 3);
    // The training forward pass keeps activations for the backward pass and runs stochastic
    // rounding: it costs at least the inference pass, and more energy.
    CHECK(tr.phases[0].cycles >= inf.phases[0].cycles);
    CHECK(tr.phases[0].dynamic_j > inf.phases[0].dynamic_j);
    for (const auto& p : tr.phases) {
        CHECK(p.cycles > 0);
        CHECK(p.dynamic_j > 0);
    }
    CHECK(tr.cycles > inf.cycles);
    CHECK(tr.total_j() > inf.total_j());
    CHECK(tr.phases[1].tiles > tr.phases[0].tiles);  // backward: input and weight gradients
}

namespace {

// A random accelerator, and a random chain of layers over [B, S, D] activations with fan-out through
// residuals, inference or a training step, with random per-tensor sparsity.
struct RandomCase {
    Accelerator acc;
    ModelGraph g;
    bool training = false;
    std::vector<double> sparsity;
};

RandomCase random_case(SplitMix64& rng) {
    auto pick = [&](std::initializer_list<std::int64_t> v) { return *(v.begin() + static_cast<std::ptrdiff_t>(rng.next() % v.size())); };
    AccSpec s;
    s.pes = static_cast<int>(pick({1, 2, 3}));
    s.lanes = static_cast<int>(pick({1, 2, 5, 8}));
    s.macs = static_cast<int>(pick({1, 16}));
    s.softmax = static_cast<int>(pick({1, 2, 4}));
    s.module_tile = static_cast<int>(pick({8, 16, 32}));
    s.tile_b = static_cast<int>(pick({1, 2}));
    s.tile_x = s.tile_y = static_cast<int>(pick({4, 8, 16}));
    s.activation_mb = static_cast<double>(pick({1, 4, 64})) / 64.0;  // some far below the working set
    s.weight_mb = static_cast<double>(pick({1, 8, 64})) / 64.0;
    s.mask_mb = 1.0 / 64.0;
    s.mode = pick({0, 1}) == 0 ? "low_bandwidth" : "high_bandwidth";
    s.gating = pick({0, 1}) == 1;
    RandomCase c{accelerator_from(accelerator_yaml(s)), {}, false, {}};

    GraphBuilder b;
    const std::int64_t B = pick({1, 2, 3}), S = pick({8, 12, 16}), D = pick({8, 16, 24});
    TensorId x = b.input("x", {B, S, D}, false);
    TensorId residual = x;
    const int layers = static_cast<int>(pick({2, 3, 5, 8}));
    for (int l = 0; l < layers; ++l) {
        const std::string n = fmt::format("l{}", l);
        switch (rng.next() % 5) {
            case 0: x = b.op1(OpKind::matmul, n, {x, b.weight(n + ".w", {D, D})}, {B, S, D}); break;
            case 1: x = b.op1(OpKind::gelu, n, {x}, {B, S, D}); break;
            case 2: x = b.op1(OpKind::softmax, n, {x}, {B, S, D}, {{"scale", 0.5}}); break;
            case 3: x = b.op1(OpKind::layer_norm, n, {x, b.weight(n + ".g", {D}), b.weight(n + ".b", {D})}, {B, S, D}); break;
            default: x = b.op1(OpKind::add, n, {x, residual}, {B, S, D}); residual = x; break;
        }
    }
    c.g = b.take();
    c.training = rng.next() % 2 == 0;
    if (c.training) c.g = make_training_graph(c.g, OptimizerSettings{});
    c.sparsity.assign(c.g.tensors.size(), 0.0);
    for (auto& v : c.sparsity) v = static_cast<double>(rng.next() % 3) * 0.25;
    return c;
}

}  // namespace

TEST_CASE("simulator: the batched scheduler equals a naive tile-by-tile scheduler on 100 random graphs and accelerators") {
    SplitMix64 rng(20261129);
    for (int c = 0; c < 100; ++c) {
        CAPTURE(c);
        const RandomCase rc = random_case(rng);
        const SimulationResult batched = run(rc.g, rc.acc, rc.training, rc.sparsity, &GroupedTilePool::make);
        const SimulationResult naive = run(rc.g, rc.acc, rc.training, rc.sparsity, &NaivePool::make);
        REQUIRE(batched.ops.size() == naive.ops.size());
        CHECK(batched.cycles == naive.cycles);
        CHECK(batched.dynamic_j == naive.dynamic_j);
        CHECK(batched.leakage_j == naive.leakage_j);
        CHECK(batched.memory_read_bytes == naive.memory_read_bytes);
        bool same_ops = true;
        for (std::size_t i = 0; i < batched.ops.size(); ++i)
            same_ops = same_ops && batched.ops[i].start == naive.ops[i].start && batched.ops[i].end == naive.ops[i].end;
        CHECK(same_ops);
    }
}

namespace {

// The same graph with every op made unique by an extra attribute (the components ignore it): one
// op class and one load pattern per op, so everything is lowered and costed op by op.
ModelGraph one_class_per_op(ModelGraph g) {
    for (std::size_t i = 0; i < g.ops.size(); ++i) g.ops[i].attrs["test_unique_op"] = static_cast<double>(i);
    return g;
}

// Results equal up to the order of floating-point sums (classes add up in another order).
void check_same_result(const SimulationResult& a, const SimulationResult& b) {
    auto close = [](double x, double y) { return std::abs(x - y) <= 1e-12 * std::max({1.0, std::abs(x), std::abs(y)}); };
    REQUIRE(a.ops.size() == b.ops.size());
    CHECK(a.cycles == b.cycles);
    CHECK(a.tiles == b.tiles);
    for (std::size_t k = 0; k < resource_count; ++k) CHECK(a.critical_path[k] == b.critical_path[k]);
    CHECK(close(a.dynamic_j, b.dynamic_j));
    CHECK(close(a.leakage_j, b.leakage_j));
    CHECK(close(a.memory_read_bytes, b.memory_read_bytes));
    CHECK(close(a.memory_write_bytes, b.memory_write_bytes));
    std::size_t differing_ops = 0;
    for (std::size_t i = 0; i < a.ops.size(); ++i) {
        const OpRecord &x = a.ops[i], &y = b.ops[i];
        if (x.unit != y.unit || x.tiles != y.tiles || x.cycles_per_tile != y.cycles_per_tile || x.start != y.start || x.end != y.end ||
            !close(x.dynamic_j, y.dynamic_j) || !close(x.load_bytes, y.load_bytes) || !close(x.store_bytes, y.store_bytes) ||
            !close(x.gated_leakage_j, y.gated_leakage_j))
            ++differing_ops;
    }
    CHECK(differing_ops == 0);
    REQUIRE(a.units.size() == b.units.size());
    for (std::size_t u = 0; u < a.units.size(); ++u) {
        CHECK(close(a.units[u].busy_cycles, b.units[u].busy_cycles));
        CHECK(close(a.units[u].dynamic_j, b.units[u].dynamic_j));
    }
    REQUIRE(a.levels.size() == b.levels.size());
    for (std::size_t i = 0; i < a.levels.size(); ++i) {
        CHECK(close(a.levels[i].read_bytes, b.levels[i].read_bytes));
        CHECK(close(a.levels[i].write_bytes, b.levels[i].write_bytes));
        CHECK(a.levels[i].peak_bytes == b.levels[i].peak_bytes);
    }
}

}  // namespace

TEST_CASE("simulator: lowering and costing once per op class equals doing it op by op, at both fidelities") {
    SUBCASE("100 random graphs and accelerators") {
        SplitMix64 rng(20261130);
        for (int c = 0; c < 100; ++c) {
            CAPTURE(c);
            const RandomCase rc = random_case(rng);
            const ModelGraph unique = one_class_per_op(rc.g);
            for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
                CAPTURE(to_string(f));
                check_same_result(run(rc.g, rc.acc, rc.training, rc.sparsity, &GroupedTilePool::make, f),
                                  run(unique, rc.acc, rc.training, rc.sparsity, &GroupedTilePool::make, f));
            }
        }
    }
    SUBCASE("a BERT-Tiny training step on AccelTran-Edge, whose two layers share their classes") {
        const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, test::builtin_plugins());
        const Accelerator acc = load_accelerator_file(source_dir / "configs" / "accelerators" / "acceltran-edge.yaml", {}, test::builtin_plugins());
        const ModelGraph g = make_training_graph(m.forward, OptimizerSettings{});
        const std::vector<double> sparsity = sparsity_per_tensor(g, {0.5, 0.9, 0.9});
        const PreparedGraph p(g, sparsity);
        CHECK(p.class_representatives().size() * 3 < g.ops.size());  // the classes are shared
        for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
            CAPTURE(to_string(f));
            check_same_result(run(g, acc, true, sparsity, &GroupedTilePool::make, f), run(one_class_per_op(g), acc, true, sparsity, &GroupedTilePool::make, f));
        }
    }
}

TEST_CASE("simulator: a BERT-Tiny training step with dropout runs its dropout ops on the MAC lanes at both fidelities, costed per class") {
    PluginHost& host = test::builtin_plugins();
    const auto plain = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, host);
    const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml",
                                   {"params.hidden_dropout=0.1", "params.attention_dropout=0.1"}, host);
    const Accelerator acc = load_accelerator_file(source_dir / "configs" / "accelerators" / "acceltran-edge.yaml", {}, host);
    const ModelGraph g = make_training_graph(m.forward, OptimizerSettings{});
    const ModelGraph g_plain = make_training_graph(plain.forward, OptimizerSettings{});
    // BERT-Tiny: embeddings 1, per layer 2 heads + attention output + feed-forward output, twice;
    // each forward dropout has a dropout as its backward form.
    std::vector<std::size_t> dropouts;
    for (std::size_t i = 0; i < g.ops.size(); ++i)
        if (g.ops[i].kind == OpKind::dropout) dropouts.push_back(i);
    CHECK(dropouts.size() == 2 * (1 + 2 * 4));
    // Seeds pick masks, not costs: the 18 dropouts, each with its own seed, fall into few classes
    // (one per shape and phase), so the graph has only a handful more classes than without dropout.
    const PreparedGraph p(g, {}), p_plain(g_plain, {});
    CHECK(p.class_representatives().size() <= p_plain.class_representatives().size() + 6);
    std::size_t mac_lane = acc.units.size();
    for (std::size_t u = 0; u < acc.units.size(); ++u)
        if (acc.units[u].unit_kind == "mac_lane") mac_lane = u;
    REQUIRE(mac_lane < acc.units.size());
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(to_string(f));
        const SimulationResult r = run(g, acc, true, {}, &GroupedTilePool::make, f);
        REQUIRE(r.ops.size() == g.ops.size());
        for (std::size_t i : dropouts) {
            CAPTURE(g.ops[i].name);
            CHECK(r.ops[i].unit == mac_lane);
            CHECK(r.ops[i].tiles > 0);
            CHECK(r.ops[i].cycles_per_tile > 0);
            CHECK(r.ops[i].end > r.ops[i].start);
            CHECK(r.ops[i].dynamic_j > 0);
        }
        CHECK(r.cycles >= run(g_plain, acc, true, {}, &GroupedTilePool::make, f).cycles);
        check_same_result(r, run(one_class_per_op(g), acc, true, {}, &GroupedTilePool::make, f));
    }
}

namespace {

// Every figure of two results but the op records, bit for bit.
void check_same_totals(const SimulationResult& a, const SimulationResult& b) {
    CHECK(a.cycles == b.cycles);
    CHECK(a.tiles == b.tiles);
    CHECK(a.dynamic_j == b.dynamic_j);
    CHECK(a.leakage_j == b.leakage_j);
    CHECK(a.memory_read_bytes == b.memory_read_bytes);
    CHECK(a.memory_write_bytes == b.memory_write_bytes);
    for (std::size_t k = 0; k < resource_count; ++k) CHECK(a.critical_path[k] == b.critical_path[k]);
    REQUIRE(a.phases.size() == b.phases.size());
    for (std::size_t i = 0; i < a.phases.size(); ++i) {
        CHECK(a.phases[i].ops == b.phases[i].ops);
        CHECK(a.phases[i].tiles == b.phases[i].tiles);
        CHECK(a.phases[i].cycles == b.phases[i].cycles);
        CHECK(a.phases[i].dynamic_j == b.phases[i].dynamic_j);
        CHECK(a.phases[i].leakage_j == b.phases[i].leakage_j);
    }
    REQUIRE(a.units.size() == b.units.size());
    for (std::size_t u = 0; u < a.units.size(); ++u) {
        CHECK(a.units[u].busy_cycles == b.units[u].busy_cycles);
        CHECK(a.units[u].dynamic_j == b.units[u].dynamic_j);
        CHECK(a.units[u].leakage_j == b.units[u].leakage_j);
    }
    REQUIRE(a.levels.size() == b.levels.size());
    for (std::size_t i = 0; i < a.levels.size(); ++i) {
        CHECK(a.levels[i].read_bytes == b.levels[i].read_bytes);
        CHECK(a.levels[i].write_bytes == b.levels[i].write_bytes);
        CHECK(a.levels[i].peak_bytes == b.levels[i].peak_bytes);
    }
}

// Phase sums taken from the op records, as a reader of ops.csv would.
void check_phases_sum_records(const SimulationResult& r, const ModelGraph& g) {
    for (const PhaseReport& ph : r.phases) {
        std::int64_t ops = 0, tiles = 0;
        double dynamic_j = 0;
        for (const OpRecord& rec : r.ops)
            if (g.ops[static_cast<std::size_t>(rec.op)].phase == ph.phase) {
                ++ops;
                tiles += rec.tiles;
                dynamic_j += rec.dynamic_j;
            }
        CHECK(ph.ops == ops);
        CHECK(ph.tiles == tiles);
        // Phases add the always-on support units' energy to their ops' energy.
        CHECK(ph.dynamic_j >= dynamic_j * (1 - 1e-12));
    }
}

}  // namespace

TEST_CASE("simulator: without op records every other figure is the same, at both fidelities") {
    auto both = [](const ModelGraph& g, const Accelerator& acc, bool training, const std::vector<double>& sparsity) {
        for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
            CAPTURE(to_string(f));
            SimulationOptions o;
            o.fidelity = f;
            o.training = training;
            o.tensor_sparsity = sparsity;
            const SimulationResult with = simulate(g, acc, o);
            o.op_records = false;
            const SimulationResult without = simulate(g, acc, o);
            CHECK(with.ops.size() == g.ops.size());
            CHECK(without.ops.empty());
            check_same_totals(with, without);
            check_phases_sum_records(with, g);
        }
    };
    SUBCASE("100 random graphs and accelerators") {
        SplitMix64 rng(20261204);
        for (int c = 0; c < 100; ++c) {
            CAPTURE(c);
            const RandomCase rc = random_case(rng);
            both(rc.g, rc.acc, rc.training, rc.sparsity);
        }
    }
    SUBCASE("a BERT-Tiny training step on AccelTran-Edge") {
        const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, test::builtin_plugins());
        const Accelerator acc = load_accelerator_file(source_dir / "configs" / "accelerators" / "acceltran-edge.yaml", {}, test::builtin_plugins());
        const ModelGraph g = make_training_graph(m.forward, OptimizerSettings{});
        both(g, acc, true, sparsity_per_tensor(g, {0.5, 0.9, 0.9}));
    }
}

TEST_CASE("simulator: a prepared graph simulates on many accelerators exactly as the graph itself") {
    const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, test::builtin_plugins());
    const ModelGraph g = make_training_graph(m.forward, OptimizerSettings{});
    const std::vector<double> sparsity = sparsity_per_tensor(g, {0.5, 0.9, 0.9});
    const PreparedGraph p(g, sparsity);
    for (const char* name : {"acceltran-edge.yaml", "acceltran-server.yaml"}) {
        const Accelerator acc = load_accelerator_file(source_dir / "configs" / "accelerators" / name, {}, test::builtin_plugins());
        for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
            CAPTURE(name);
            CAPTURE(to_string(f));
            SimulationOptions o;
            o.fidelity = f;
            const SimulationResult direct = run(g, acc, true, sparsity, &GroupedTilePool::make, f);
            const SimulationResult prepared = simulate(p, acc, o);
            CHECK(prepared.cycles == direct.cycles);
            CHECK(prepared.dynamic_j == direct.dynamic_j);
            CHECK(prepared.leakage_j == direct.leakage_j);
            CHECK(prepared.memory_read_bytes == direct.memory_read_bytes);
        }
    }
    SimulationOptions other;
    other.tensor_sparsity.assign(g.tensors.size(), 0.25);
    const Accelerator edge = load_accelerator_file(source_dir / "configs" / "accelerators" / "acceltran-edge.yaml", {}, test::builtin_plugins());
    CHECK_THROWS_WITH_AS(simulate(p, edge, other), "simulate: options.tensor_sparsity differs from the prepared graph's", InternalError);
    CHECK_THROWS_WITH_AS(PreparedGraph(g, std::vector<double>(3, 0.0)), "simulate: tensor_sparsity has the wrong size", InternalError);
}

TEST_CASE("simulator: the grouped pool matches the naive pool on random dispatch sequences") {
    SplitMix64 rng(7);
    for (int c = 0; c < 200; ++c) {
        const std::int64_t n = 1 + static_cast<std::int64_t>(rng.next() % 9);
        GroupedTilePool grouped(n);
        NaivePool naive(n);
        for (int d = 0; d < 30; ++d) {
            const std::int64_t ready = static_cast<std::int64_t>(rng.next() % 500);
            const std::int64_t tiles = 1 + static_cast<std::int64_t>(rng.next() % 40);
            const std::int64_t cycles = 1 + static_cast<std::int64_t>(rng.next() % 17);
            const DispatchResult a = grouped.dispatch(ready, tiles, cycles);
            const DispatchResult b = naive.dispatch(ready, tiles, cycles);
            REQUIRE(a.first_start == b.first_start);
            REQUIRE(a.last_end == b.last_end);
        }
    }
}

TEST_CASE("simulator: analytic fidelity stays within a stated factor of event fidelity on the shipped experiments") {
    PluginHost& host = test::builtin_plugins();
    const LoadedModel m = load_model_file(source_dir / "configs/models/bert-tiny.yaml", {}, host);
    const Accelerator acc = load_accelerator_file(source_dir / "configs/accelerators/acceltran-edge.yaml", {}, host);
    for (bool training : {false, true}) {
        const ModelGraph g = training ? make_training_graph(m.forward, OptimizerSettings{}) : m.forward;
        const SimulationResult ev = run(g, acc, training);
        const SimulationResult an = run(g, acc, training, {}, &GroupedTilePool::make, Fidelity::analytic);
        CAPTURE(training);
        CAPTURE(ev.cycles);
        CAPTURE(an.cycles);
        // Analytic ignores eviction traffic (faster) and overlap across ops (slower); on these
        // runs the two agree within a factor of 2 (README, "Fidelity", has the measured gaps).
        const double ratio = static_cast<double>(ev.cycles) / static_cast<double>(an.cycles);
        CHECK(ratio > 0.5);
        CHECK(ratio < 2.0);
        CHECK(an.tiles == ev.tiles);
    }
}

namespace {
// A scratch configs/ tree: the shipped components and models, and a test accelerator.
struct ScratchConfigs {
    test::TempDir dir;
    ScratchConfigs() {
        fs::create_directory_symlink(source_dir / "configs/components", dir.path() / "components");
        fs::create_directory_symlink(source_dir / "configs/models", dir.path() / "models");
    }
    fs::path accelerator(const std::string& yaml) const { return dir.write("accelerators/chip.yaml", yaml); }
};

const std::string relu_chip = R"(name: relu-chip
processing_elements:
  count: 2
  units:
    - {name: lane, component: acceltran.mac_lane, count: 4, params: {include: ../components/acceltran-mac-lane.yaml, macs: 16, activation: relu}}
    - {name: softmax, component: acceltran.softmax, count: 1, params: {include: ../components/acceltran-softmax.yaml, tile: 16}}
units:
  - {name: activation_buffer, component: acceltran.buffer, params: {include: ../components/acceltran-buffers.yaml, class: activation, size_mb: 4}}
  - {name: weight_buffer, component: acceltran.buffer, params: {include: ../components/acceltran-buffers.yaml, class: weight, size_mb: 8}}
  - {name: mask_buffer, component: acceltran.buffer, params: {include: ../components/acceltran-buffers.yaml, class: mask, size_mb: 1}}
  - {name: main_memory, component: memory.main_memory, params: {include: ../components/memory.yaml, type: lpddr3, banks: 32, ranks: 2, channels: 1}}
)";
}  // namespace

TEST_CASE("simulate: an accelerator with no unit for an op kind the model needs is an error naming the op kind") {
    ScratchConfigs c;
    const fs::path chip = c.accelerator(relu_chip);
    const auto r = test::run_cli("simulate --model " + (c.dir.path() / "models/bert-tiny.yaml").string() + " --accelerator " + chip.string() +
                                 " --out " + (c.dir.path() / "out").string());
    CHECK(r.exit_code == 2);
    const std::string runs =
        "its units run: lane: matmul seq_transform conv1d conv1d_backward add reduce_sum embedding embedding_backward concat slice slice_backward "
        "optimizer_update tanh tanh_backward dropout relu relu_backward; softmax: softmax softmax_backward cross_entropy cross_entropy_backward (unsupported-op)\n";
    CHECK(r.output == chip.string() + ":1:7: error: accelerator: accelerator 'relu-chip' has no unit that executes op kind 'layer_norm' (needed by op "
                                      "'embeddings.norm' of model 'bert-tiny'); " + runs +
                          chip.string() + ":1:7: error: accelerator: accelerator 'relu-chip' has no unit that executes op kind 'gelu' (needed by op "
                                          "'layer0.ff.0.gelu' of model 'bert-tiny'); " + runs);
    CHECK_FALSE(fs::exists(c.dir.path() / "out" / "results.json"));
}

TEST_CASE("accelerator files: zero or negative counts and sizes, and a missing buffer, are located config errors") {
    ScratchConfigs c;
    std::string yaml = relu_chip;
    yaml.replace(yaml.find("count: 1, params: {include: ../components/acceltran-softmax"), 8, "count: 0");
    yaml.replace(yaml.find("size_mb: 4"), 10, "size_mb: 0");
    yaml.replace(yaml.find("  count: 2"), 10, "  count: -3");
    fs::path chip = c.accelerator(yaml);
    auto r = test::run_cli("validate " + chip.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == chip.string() + ":3:10: error: processing_elements.count: value -3 is below the minimum 1 (range)\n" + chip.string() +
                          ":6:60: error: processing_elements.units[1].count: value 0 is below the minimum 1 (range)\n" + chip.string() +
                          ":8:144: error: units[0].params.size_mb: value 0 must be greater than 0 (range)\n1 of 1 file(s) invalid\n");

    std::string no_mask = relu_chip;
    no_mask.erase(no_mask.find("  - {name: mask_buffer"), no_mask.find("  - {name: main_memory") - no_mask.find("  - {name: mask_buffer"));
    chip = c.accelerator(no_mask);
    r = test::run_cli("validate " + chip.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == chip.string() +
                          ":8:3: error: units: an accelerator needs exactly one mask buffer, found 0 (add a unit whose component is a buffer of class mask) "
                          "(composition)\n1 of 1 file(s) invalid\n");
}

TEST_CASE("simulate: results are identical across runs, --threads, and with tracing on and off") {
    test::TempDir a, b, c;
    const std::string exp = (source_dir / "configs/experiments/bert-tiny-edge-training.yaml").string();
    REQUIRE(test::run_cli("run " + exp + " -q --threads 1 --out " + a.path().string()).exit_code == 0);
    REQUIRE(test::run_cli("run " + exp + " -q --threads 2 --out " + b.path().string()).exit_code == 0);
    REQUIRE(test::run_cli("run " + exp + " -q --set simulation.trace=false --out " + c.path().string()).exit_code == 0);
    auto read = [](const fs::path& p) {
        std::ifstream in(p);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    };
    CHECK(read(a.path() / "results.json") == read(b.path() / "results.json"));
    CHECK(read(a.path() / "ops.csv") == read(b.path() / "ops.csv"));
    CHECK(read(a.path() / "trace.json") == read(b.path() / "trace.json"));
    CHECK(read(a.path() / "ops.csv") == read(c.path() / "ops.csv"));
    CHECK_FALSE(fs::exists(c.path() / "trace.json"));
    auto doc_a = nlohmann::json::parse(read(a.path() / "results.json"));
    auto doc_c = nlohmann::json::parse(read(c.path() / "results.json"));
    for (const char* key : {"latency", "energy", "phases", "memory", "utilisation", "accelerator", "critical_path"}) CHECK(doc_a[key] == doc_c[key]);
    // The documented keys, with units in their names.
    for (const char* key : {"experiment", "engine_version", "plugins", "model", "accelerator", "phases", "latency", "energy", "utilisation", "memory",
                            "sparsity", "status"})
        CHECK(doc_a.contains(key));
    CHECK(doc_a["status"] == "ok");
    CHECK(doc_a["latency"]["cycles"].get<std::int64_t>() > 0);
    CHECK(doc_a["energy"]["total_j"].get<double>() == doctest::Approx(doc_a["energy"]["dynamic_j"].get<double>() + doc_a["energy"]["leakage_j"].get<double>()));
    auto trace = nlohmann::json::parse(read(a.path() / "trace.json"));
    CHECK(trace["traceEvents"].size() > 237);  // every op, the transfers, and the track names
    // Counter tracks: unit occupancy and bandwidth in use, back to 0 at the end.
    std::map<std::string, double> last;
    for (const auto& e : trace["traceEvents"])
        if (e["ph"] == "C") last[e["name"].get<std::string>()] = e["args"]["value"].get<double>();
    for (const char* track : {"mac_lane busy", "main_memory GB/s", "activation_buffer GB/s", "weight_buffer GB/s", "interconnect GB/s"}) {
        CAPTURE(track);
        REQUIRE(last.count(track) == 1);
        CHECK(last[track] == 0.0);
    }
    // ops.csv: bytes per level, the binding resource and the mapping of every op.
    const std::string csv = read(a.path() / "ops.csv");
    CHECK(csv.substr(0, csv.find("\r\n")) ==
          "index,name,phase,kind,layer,unit,tiles,cycles_per_tile,start_cycle,end_cycle,cycles,dynamic_j,load_bytes,store_bytes,activation_buffer_bytes,"
          "weight_buffer_bytes,mask_buffer_bytes,interconnect_bytes,binding,dataflow,tiled,padded_fraction");
    CHECK(csv.find(",output_stationary,0,") != std::string::npos);
    std::int64_t path = 0;
    for (const auto& [k, v] : doc_a["critical_path"].items()) path += v.get<std::int64_t>();
    CHECK(path == doc_a["latency"]["cycles"].get<std::int64_t>());
}

TEST_CASE("simulate: simulation.batch_size sets the model's batch, transcode simulate defaults to inference") {
    test::TempDir a, b;
    const std::string exp = (source_dir / "configs/experiments/bert-tiny-edge-inference.yaml").string();
    REQUIRE(test::run_cli("run " + exp + " -q --out " + a.path().string()).exit_code == 0);
    REQUIRE(test::run_cli("run " + exp + " -q --set simulation.batch_size=8 --out " + b.path().string()).exit_code == 0);
    const auto da = nlohmann::json::parse(test::read_file(a.path() / "results.json"));
    const auto db = nlohmann::json::parse(test::read_file(b.path() / "results.json"));
    CHECK(da["model"]["params"]["batch_size"] == 4);
    CHECK(db["model"]["params"]["batch_size"] == 8);
    CHECK(db["simulation"]["tiles"].get<std::int64_t>() > da["simulation"]["tiles"].get<std::int64_t>());

    test::TempDir c;
    const auto r = test::run_cli("simulate -q --model " + (source_dir / "configs/models/bert-tiny.yaml").string() + " --accelerator " +
                                 (source_dir / "configs/accelerators/acceltran-edge.yaml").string() + " --out " + c.path().string());
    REQUIRE(r.exit_code == 0);
    const auto dc = nlohmann::json::parse(test::read_file(c.path() / "results.json"));
    CHECK(dc["simulation"]["mode"] == "inference");
    CHECK(dc["phases"].size() == 1);
    CHECK(dc["accelerator"]["area_mm2"].get<double>() == doctest::Approx(54.145207).epsilon(1e-6));
    CHECK(fs::exists(c.path() / "ops.csv"));
}

TEST_CASE("simulate: a saved sparsity profile sets the sparsity, a missing point is a located error") {
    test::TempDir d;
    const fs::path profile = d.write("profile.yaml", R"(model: bert-tiny-task
pruning: pruning.dynaprop
points:
  - params: {tau_t: 0.0}
    sparsity: {activation: 0.0, activation_gradient: 0.0, weight_gradient: 0.0}
  - params: {tau_t: 0.001}
    sparsity: {activation: 0.5, activation_gradient: 0.9, weight_gradient: 0.8}
    validation_accuracy: 0.9
)");
    const std::string base = "simulate -q --model " + (source_dir / "configs/models/bert-tiny.yaml").string() + " --accelerator " +
                             (source_dir / "configs/accelerators/acceltran-edge.yaml").string() + " --mode training --set simulation.sparsity_profile=" +
                             profile.string();
    const auto r = test::run_cli(base + " --set simulation.profile_point=1 --out " + (d.path() / "a").string());
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(test::read_file(d.path() / "a" / "results.json"));
    CHECK(doc["sparsity"]["activation"] == 0.5);
    CHECK(doc["sparsity"]["weight_gradient"] == 0.8);
    CHECK(doc["sparsity"]["source"] == "profile " + profile.string() + " point 1");
    const auto dense = test::run_cli(base + " --out " + (d.path() / "b").string());
    REQUIRE(dense.exit_code == 0);
    const auto doc_dense = nlohmann::json::parse(test::read_file(d.path() / "b" / "results.json"));
    CHECK(doc_dense["latency"]["cycles"].get<std::int64_t>() > doc["latency"]["cycles"].get<std::int64_t>());

    const auto bad = test::run_cli(base + " --set simulation.profile_point=2 --out " + (d.path() / "c").string());
    CHECK(bad.exit_code == 2);
    CHECK(bad.output == "--set:1:29: error: simulation.profile_point: the profile has 2 point(s); profile_point 2 does not exist (range)\n");
}

TEST_CASE("sparsity_per_tensor: the weight role goes to every weight tensor and nothing else") {
    const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, test::builtin_plugins());
    const ModelGraph g = make_training_graph(m.forward, OptimizerSettings{});
    const std::vector<double> only_weights = sparsity_per_tensor(g, SparsityByRole{0.0, 0.0, 0.0, 0.5});
    const std::vector<double> all_roles = sparsity_per_tensor(g, SparsityByRole{0.3, 0.6, 0.7, 0.5});
    const std::vector<double> no_weights = sparsity_per_tensor(g, SparsityByRole{0.3, 0.6, 0.7, 0.0});
    std::size_t weights = 0, updated = 0;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc& d = g.tensors[t];
        CAPTURE(d.name);
        const bool weight = d.role == TensorRole::weight;
        CHECK(only_weights[t] == (weight ? 0.5 : 0.0));
        // The other roles are as before: the weight figure changes only weight tensors.
        CHECK(all_roles[t] == (weight ? 0.5 : no_weights[t]));
        if (weight) CHECK(no_weights[t] == 0.0);
        if (d.role == TensorRole::optimizer_state) CHECK(all_roles[t] == 0.0);  // AdamW's m and v stay dense
        weights += weight ? 1 : 0;
        updated += weight && d.name.ends_with(".next") ? 1 : 0;
    }
    // Every parameter (no op produces it), and the update's new weights (pruned weights stay pruned).
    CHECK(weights > 0);
    CHECK(updated * 2 == weights);
}

TEST_CASE("simulator: BERT-Tiny with weight sparsity 0.5 moves fewer main-memory bytes and its matmuls on weights take fewer cycles") {
    const auto m = load_model_file(source_dir / "configs" / "models" / "bert-tiny.yaml", {}, test::builtin_plugins());
    const Accelerator acc = load_accelerator_file(source_dir / "configs" / "accelerators" / "acceltran-edge.yaml", {}, test::builtin_plugins());
    for (const bool training : {false, true}) {
        CAPTURE(training);
        const ModelGraph g = training ? make_training_graph(m.forward, OptimizerSettings{}) : m.forward;
        const SimulationResult dense = run(g, acc, training, sparsity_per_tensor(g, SparsityByRole{}));
        const SimulationResult sparse = run(g, acc, training, sparsity_per_tensor(g, SparsityByRole{0.0, 0.0, 0.0, 0.5}));
        REQUIRE(dense.status == "ok");
        REQUIRE(sparse.status == "ok");
        // Weights are stored compressed: half their data bytes plus one mask bit per element.
        CHECK(sparse.memory_read_bytes < dense.memory_read_bytes);
        if (training) CHECK(sparse.memory_write_bytes < dense.memory_write_bytes);  // the updated weights
        CHECK(sparse.cycles < dense.cycles);
        REQUIRE(sparse.ops.size() == g.ops.size());
        REQUIRE(dense.ops.size() == g.ops.size());
        std::int64_t dense_matmul_cycles = 0, sparse_matmul_cycles = 0, on_weights = 0;
        for (std::size_t i = 0; i < g.ops.size(); ++i) {
            const OpDesc& op = g.ops[i];
            if (op.kind != OpKind::matmul) continue;
            CAPTURE(op.name);
            dense_matmul_cycles += dense.ops[i].tiles * dense.ops[i].cycles_per_tile;
            sparse_matmul_cycles += sparse.ops[i].tiles * sparse.ops[i].cycles_per_tile;
            const bool weight_operand = std::any_of(op.inputs.begin(), op.inputs.begin() + std::min<std::ptrdiff_t>(2, std::ssize(op.inputs)),
                                                    [&](TensorId t) { return g.tensors[static_cast<std::size_t>(t)].role == TensorRole::weight; });
            // A weight operand half zero: half the products (one_operand skips the sparser one's zeros).
            if (weight_operand) {
                ++on_weights;
                CHECK(sparse.ops[i].cycles_per_tile == (dense.ops[i].cycles_per_tile + 1) / 2);
            } else {
                CHECK(sparse.ops[i].cycles_per_tile == dense.ops[i].cycles_per_tile);
            }
        }
        CHECK(on_weights > 0);
        CHECK(sparse_matmul_cycles < dense_matmul_cycles);
    }
}

TEST_CASE("simulate: simulation.sparsity.weight reaches the simulation and results.json") {
    test::TempDir d;
    const std::string base = "simulate -q --model " + (source_dir / "configs/models/bert-tiny.yaml").string() + " --accelerator " +
                             (source_dir / "configs/accelerators/acceltran-edge.yaml").string();
    REQUIRE(test::run_cli(base + " --out " + (d.path() / "dense").string()).exit_code == 0);
    REQUIRE(test::run_cli(base + " --set simulation.sparsity.weight=0.5 --out " + (d.path() / "pruned").string()).exit_code == 0);
    const auto dense = nlohmann::json::parse(test::read_file(d.path() / "dense" / "results.json"));
    const auto pruned = nlohmann::json::parse(test::read_file(d.path() / "pruned" / "results.json"));
    CHECK(dense["sparsity"]["weight"] == 0.0);
    CHECK(pruned["sparsity"]["weight"] == 0.5);
    CHECK(pruned["memory"]["bytes_read"].get<double>() < dense["memory"]["bytes_read"].get<double>());
    CHECK(pruned["latency"]["cycles"].get<std::int64_t>() < dense["latency"]["cycles"].get<std::int64_t>());
    const auto bad = test::run_cli(base + " --set simulation.sparsity.weight=1 --out " + (d.path() / "bad").string());
    CHECK(bad.exit_code == 2);
    CHECK(bad.output.find("simulation.sparsity.weight") != std::string::npos);
}
