// ELECTOR against physics: on random (model, accelerator) pairs from the published design spaces,
// at both fidelities, no result beats a lower bound (compute, each level's bytes / bandwidth, the
// compulsory traffic), the two fidelities agree within a bounded factor, and constructed cases
// show time-consistent buffers, the end-of-step flush, dataflows and buffer-bound ops.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "design_space/design_space_file.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "mapping/gemm_mapping.hpp"
#include "simulator/simulator.hpp"
#include "simulator_fixtures.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using namespace transcode::engine;
using namespace transcode::engine::test_fixtures;

namespace {

const fs::path source_dir = TRANSCODE_SOURCE_DIR;

engine::SpaceSide load_side(const fs::path& file, engine::SpaceSide::Target target) {
    config::Diagnostics diags;
    const config::Node node = config::load_file(file, diags);
    engine::SpaceSide side = engine::load_space_side(node, "", target, test::builtin_plugins(), diags);
    diags.throw_if_any();
    return side;
}

Accelerator accelerator_of(const config::Node& node) {
    config::Diagnostics diags;
    auto a = resolve_accelerator(node, "", test::builtin_plugins(), diags);
    diags.throw_if_any();
    REQUIRE(a.has_value());
    return std::move(*a);
}

// Sets `params.<key>` of the chip-level unit named `unit` (overrides cannot reach list items by name).
void set_unit_param(config::Node& acc, const std::string& unit, const std::string& key, const std::string& value, const char* list = "units") {
    for (auto& item : config::find_path(acc, list)->items)
        if (item.find("name")->scalar == unit) {
            config::Node* v = item.find("params")->find(key);
            REQUIRE(v != nullptr);
            v->scalar = value;
            return;
        }
    FAIL("no unit " << unit);
}

struct Pair {
    std::string label;
    ModelGraph graph;
    Accelerator acc;
    bool training = false;
};

// `n` random pairs: a FlexiBERT 2.0 model and an AccelTran accelerator, each sampled from its
// published space, at a small batch and sequence (to keep the suite fast), with buffers also cut
// down to 64 KB-1 MB so that capacity binds, inference or a training step.
std::vector<Pair> random_pairs(int n, std::uint64_t seed) {
    static const engine::SpaceSide models = load_side(source_dir / "configs/design_spaces/flexibert2.yaml", engine::SpaceSide::Target::model);
    static const engine::SpaceSide accs = load_side(source_dir / "configs/design_spaces/acceltran.yaml", engine::SpaceSide::Target::accelerator);
    std::mt19937_64 rng(seed);
    std::vector<Pair> out;
    for (int i = 0; i < n; ++i) {
        std::vector<std::pair<std::string, config::Node>> params;
        config::Node acc = engine::decode_accelerator(accs, accs.space.sample(rng), params);
        config::Node model = engine::decode_model(models, models.space.sample(rng), {});
        config::Diagnostics diags;
        const std::int64_t batch = 1 + static_cast<std::int64_t>(rng() % 2), seq = rng() % 2 == 0 ? 16 : 32;
        config::apply_override(model, fmt::format("params.batch_size={}", batch), diags);
        config::apply_override(model, fmt::format("params.sequence_length={}", seq), diags);
        const double sizes[] = {0.0625, 0.25, 1.0, 4.0};
        if (rng() % 2 == 0) set_unit_param(acc, "activation_buffer", "size_mb", fmt::format("{}", sizes[rng() % 4]));
        if (rng() % 2 == 0) set_unit_param(acc, "weight_buffer", "size_mb", fmt::format("{}", sizes[rng() % 4]));
        set_unit_param(acc, "mac_lane", "activation", "gelu", "processing_elements.units");  // every FlexiBERT model uses GELU
        const char* dataflows[] = {"output_stationary", "weight_stationary", "auto"};
        config::apply_override(acc, fmt::format("dataflow={}", dataflows[rng() % 3]), diags);
        diags.throw_if_any();
        auto loaded = resolve_model(model, "model", test::builtin_plugins(), diags);
        diags.throw_if_any();
        Pair p;
        p.training = rng() % 2 == 0;
        p.graph = p.training ? make_training_graph(loaded->forward, OptimizerSettings{}) : loaded->forward;
        p.acc = accelerator_of(acc);
        p.label = fmt::format("pair {}: {} ops, {} PEs, buffers {}/{} MB, {}, {}", i, p.graph.ops.size(), p.acc.pes, p.acc.buffer(BufferClass::activation).storage.capacity_bytes / 1048576.0,
                              p.acc.buffer(BufferClass::weight).storage.capacity_bytes / 1048576.0, p.acc.dataflow, p.training ? "training" : "inference");
        out.push_back(std::move(p));
    }
    return out;
}

SimulationResult run(const Pair& p, Fidelity f) {
    SimulationOptions o;
    o.training = p.training;
    o.fidelity = f;
    return simulate(p.graph, p.acc, o);
}

// Bytes of a dense tensor as the accelerator stores it.
double tensor_bytes(const ModelGraph& g, const Accelerator& acc, std::size_t t) {
    const TensorDesc& d = g.tensors[t];
    const double bits = d.is_integer ? d.bits : acc.bits_of(d.role);
    return std::ceil(static_cast<double>(d.elements()) * bits / 8.0);
}

// Compulsory main-memory traffic: every tensor no op produces is read once (an embedding table only
// its gathered rows, unless another op reads it whole), and every tensor no op reads is written once.
std::pair<double, double> compulsory(const ModelGraph& g, const Accelerator& acc) {
    std::vector<double> fraction(g.tensors.size(), 0.0);
    std::vector<bool> produced(g.tensors.size(), false), consumed(g.tensors.size(), false);
    for (const auto& op : g.ops) {
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const std::size_t t = static_cast<std::size_t>(op.inputs[k]);
            consumed[t] = true;
            fraction[t] = std::max(fraction[t], input_fetch_fraction(g, op, k));
        }
        for (TensorId t : op.outputs) produced[static_cast<std::size_t>(t)] = true;
    }
    double read = 0, write = 0;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        if (!produced[t] && consumed[t]) read += tensor_bytes(g, acc, t) * fraction[t];
        if (produced[t] && !consumed[t]) write += tensor_bytes(g, acc, t);
    }
    return {read, write};
}

double per_cycle(double bytes_per_s, const Accelerator& acc) { return bytes_per_s / acc.clock_hz; }

// Every bound a schedule must respect.
void check_bounds(const Pair& p, const SimulationResult& r) {
    REQUIRE(r.status == "ok");
    const double cycles = static_cast<double>(r.cycles) + 1e-6;
    // Compute: every unit group's busy instance-cycles fit in its instances x the run.
    for (const auto& u : r.units)
        if (u.role == ComponentRole::compute) CHECK(u.busy_cycles <= static_cast<double>(u.count) * cycles);
    // Main memory: one channel for reads and writes.
    const UnitGroup& mem = p.acc.main_memory();
    CHECK(r.memory_read_bytes / per_cycle(mem.storage.read_bandwidth_bytes_per_s, p.acc) +
              r.memory_write_bytes / per_cycle(mem.storage.write_bandwidth_bytes_per_s, p.acc) <=
          cycles + 1.0);
    // Each buffer's port, and the interconnect.
    for (BufferClass b : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const LevelReport& l = r.level(buffer_resource(b));
        const StorageSpec& s = p.acc.buffer(b).storage;
        CHECK(l.read_bytes / per_cycle(s.read_bandwidth_bytes_per_s, p.acc) + l.write_bytes / per_cycle(s.write_bandwidth_bytes_per_s, p.acc) <= cycles + 1.0);
    }
    if (const UnitGroup* link = p.acc.interconnect()) {
        const LevelReport& l = r.level(Resource::interconnect);
        CHECK(l.read_bytes / per_cycle(link->storage.read_bandwidth_bytes_per_s, p.acc) +
                  l.write_bytes / per_cycle(link->storage.write_bandwidth_bytes_per_s, p.acc) <=
              cycles + 1.0);
    }
    // Compulsory traffic (the models are dense here).
    const auto [read, write] = compulsory(p.graph, p.acc);
    CHECK(r.memory_read_bytes >= read * (1 - 1e-9));
    CHECK(r.memory_write_bytes >= write * (1 - 1e-9));
    // Critical-path attribution adds up to the latency.
    std::int64_t sum = 0;
    for (std::int64_t c : r.critical_path) sum += c;
    CHECK(sum == r.cycles);
}

}  // namespace

TEST_CASE("elector physics: 200 random pairs from the published spaces respect every lower bound at both fidelities, and the fidelities agree") {
    const std::vector<Pair> pairs = random_pairs(200, 16);
    std::vector<double> ratios;
    for (const Pair& p : pairs) {
        CAPTURE(p.label);
        const SimulationResult event = run(p, Fidelity::event);
        const SimulationResult analytic = run(p, Fidelity::analytic);
        check_bounds(p, event);
        check_bounds(p, analytic);
        const double ratio = static_cast<double>(analytic.cycles) / static_cast<double>(event.cycles);
        CAPTURE(ratio);
        CHECK(ratio >= 0.5);
        CHECK(ratio <= 2.0);
        ratios.push_back(ratio);
    }
    std::sort(ratios.begin(), ratios.end());
    const double median = ratios[ratios.size() / 2];
    MESSAGE(fmt::format("analytic / event cycles over {} pairs: min {:.3f}, median {:.3f}, max {:.3f}", ratios.size(), ratios.front(), median, ratios.back()));
    CHECK(median >= 0.8);
    CHECK(median <= 1.25);
}

namespace {

SimulationResult run_graph(const ModelGraph& g, const Accelerator& acc, bool training, Fidelity f = Fidelity::event) {
    SimulationOptions o;
    o.training = training;
    o.fidelity = f;
    return simulate(g, acc, o);
}

const OpRecord& op_named(const ModelGraph& g, const SimulationResult& r, const std::string& name) {
    for (const auto& rec : r.ops)
        if (g.ops[static_cast<std::size_t>(rec.op)].name == name) return rec;
    FAIL("no op " << name);
    return r.ops.front();
}

ModelGraph load_step(const char* model, bool training, const std::vector<std::string>& overrides = {}) {
    const LoadedModel m = load_model_file(source_dir / "configs/models" / model, overrides, test::builtin_plugins());
    return training ? make_training_graph(m.forward, OptimizerSettings{}) : m.forward;
}

}  // namespace

TEST_CASE("elector physics: a smaller activation buffer raises main-memory traffic at both fidelities") {
    const ModelGraph step = load_step("bert-tiny.yaml", true);
    AccSpec big;
    big.pes = 8;
    big.lanes = 16;
    big.interconnect = true;
    AccSpec small = big;
    small.activation_mb = 0.25;
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        const SimulationResult rb = run_graph(step, accelerator_from(accelerator_yaml(big)), true, f);
        const SimulationResult rs = run_graph(step, accelerator_from(accelerator_yaml(small)), true, f);
        CHECK(rs.memory_read_bytes > 1.2 * rb.memory_read_bytes);
        CHECK(rs.memory_write_bytes > rb.memory_write_bytes);
        CHECK(rs.cycles > rb.cycles);
    }
}

TEST_CASE("elector physics: with ample main memory, a small matmul takes its buffer bytes / buffer bandwidth") {
    AccSpec s;
    s.pes = 256;
    s.lanes = 16;  // 4096 lanes: one wave of 4-cycle tiles
    s.tile_x = s.tile_y = 4;
    s.mode = "high_bandwidth";
    s.extra_memory = ", high_bandwidth_gbps: 1.0e6";
    s.interconnect = true;
    const Accelerator acc = accelerator_from(accelerator_yaml(s));
    GraphBuilder b;
    const TensorId a = b.input("a", {1, 64, 64}, false);
    b.op1(OpKind::matmul, "c", {a, b.weight("w", {64, 64})}, {1, 64, 64});
    const ModelGraph g = b.take();
    const SimulationResult r = run_graph(g, acc, false);
    const OpRecord& op = r.ops.at(0);
    CHECK(op.tiles == 16 * 16 * 16);
    CHECK(op.cycles_per_tile == 4);  // 4 x 4 x 4 MACs on 16 MACs
    // The activation buffer's port: A's 4 x 4 words per tile read, C's 4 x 4 written, A filled once;
    // 20-bit words, 370 GB/s at 700 MHz.
    const double bytes = 4096 * 16 * 2.5 + 4096 * 16 * 2.5 + 64 * 64 * 2.5;
    CHECK(op.buffer_bytes[0] == bytes);
    CHECK(op.binding == Resource::activation_buffer);
    CHECK(op.end - op.start == static_cast<std::int64_t>(std::ceil(bytes / (370e9 / 700e6))));
    CHECK(op.end - op.start == 640);
    const SimulationResult an = run_graph(g, acc, false, Fidelity::analytic);
    CHECK(an.ops.at(0).end - an.ops.at(0).start == 640);
    CHECK(an.ops.at(0).binding == Resource::activation_buffer);
}

TEST_CASE("elector physics: a prefetch waits for the space of a tensor that a running op still reads") {
    // op0 reads X (320 KB) for a long time on one lane; op1, independent, needs Y (640 KB). Both do
    // not fit the 768 KB activation buffer together: Y's load must wait until op0 has finished with
    // X. With a buffer that holds both, Y's load overlaps op0.
    GraphBuilder b;
    const TensorId x = b.input("x", {1, 256, 512}, false);
    const TensorId y = b.input("y", {1, 256, 1024}, false);
    b.op1(OpKind::matmul, "op0", {x, b.weight("w0", {512, 16})}, {1, 256, 16});
    b.op1(OpKind::matmul, "op1", {y, b.weight("w1", {1024, 16})}, {1, 256, 16});
    const ModelGraph g = b.take();
    AccSpec s;
    s.lanes = 1;
    s.activation_mb = 0.75;
    const SimulationResult tight = run_graph(g, accelerator_from(accelerator_yaml(s)), false);
    REQUIRE(tight.ops.size() == 2);
    CHECK(tight.ops[1].data_ready >= tight.ops[0].end);
    s.activation_mb = 2;
    const SimulationResult ample = run_graph(g, accelerator_from(accelerator_yaml(s)), false);
    CHECK(ample.ops[1].data_ready < ample.ops[0].end);
    CHECK(tight.ops[0].end == ample.ops[0].end);  // op0 itself is not delayed
}

TEST_CASE("elector physics: a BERT-Tiny training step on Server writes back every weight and its AdamW state") {
    const ModelGraph step = load_step("bert-tiny.yaml", true);
    const Accelerator acc = load_accelerator_file(source_dir / "configs/accelerators/acceltran-server.yaml", {}, test::builtin_plugins());
    double next = 0;  // w, m and v after the update
    for (std::size_t t = 0; t < step.tensors.size(); ++t) {
        const TensorDesc& d = step.tensors[t];
        if ((d.role == TensorRole::weight || d.role == TensorRole::optimizer_state) && d.name.size() > 5 && d.name.substr(d.name.size() - 5) == ".next")
            next += tensor_bytes(step, acc, t);
    }
    CHECK(next > 3 * 4.3e6 * 2.5);  // about 4.4 M parameters, 20-bit words, three copies
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        const SimulationResult r = run_graph(step, acc, true, f);
        CHECK(r.memory_write_bytes >= next);
        CHECK(r.flush_bytes > 0);  // what is still on chip leaves at the end, as part of the update phase
        CHECK(r.phases.back().end == r.cycles);
    }
}

TEST_CASE("elector physics: weight- and output-stationary trade places as the theory predicts") {
    auto traffic = [](std::int64_t m, std::int64_t k, std::int64_t n, double act_mb, double weight_mb, const char* dataflow, Fidelity f) {
        GraphBuilder b;
        const TensorId a = b.input("a", {1, m, k}, false);
        b.op1(OpKind::matmul, "c", {a, b.weight("w", {k, n})}, {1, m, n});
        AccSpec s;
        s.activation_mb = act_mb;
        s.weight_mb = weight_mb;
        s.dataflow = dataflow;
        const SimulationResult r = run_graph(b.take(), accelerator_from(accelerator_yaml(s)), false, f);
        REQUIRE(r.status == "ok");
        return r.memory_read_bytes + r.memory_write_bytes;
    };
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        // K >> M, N and neither A nor W fits: a split K makes weight-stationary send partial sums
        // out and back; output-stationary keeps C.
        const double os_long = traffic(64, 16384, 64, 0.0625, 0.0625, "output_stationary", f);
        const double ws_long = traffic(64, 16384, 64, 0.0625, 0.0625, "weight_stationary", f);
        CHECK(os_long < ws_long);
        // M >> K, N, W fits, A does not: weight-stationary reads W once and A once; output-stationary
        // re-reads W for every row tile.
        const double os_tall = traffic(16384, 64, 64, 0.0625, 1, "output_stationary", f);
        const double ws_tall = traffic(16384, 64, 64, 0.0625, 1, "weight_stationary", f);
        CHECK(ws_tall < os_tall);
        CHECK(traffic(16384, 64, 64, 0.0625, 1, "auto", f) == ws_tall);
    }
}

TEST_CASE("elector physics: BERT-Base's first feed-forward matmul with 64 KB buffers moves at least the communication lower bound") {
    const ModelGraph g = load_step("bert-base.yaml", false);
    AccSpec s;
    s.pes = 64;
    s.lanes = 16;
    s.activation_mb = s.weight_mb = 0.0625;
    const Accelerator acc = accelerator_from(accelerator_yaml(s));
    GemmProblem q;  // [4 x 128, 768] . [768, 3072], 20-bit words
    q.m = 4 * 128;
    q.k = 768;
    q.n = 3072;
    q.element_bytes[0] = q.element_bytes[1] = q.element_bytes[2] = 2.5;
    q.buffer[1] = 1;
    const double caps[2] = {65536, 65536};
    const double bound = traffic_lower_bound_bytes(q, caps);
    CHECK(bound > 12e6);  // about 2 m n k / sqrt(S) in 20-bit words
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        const SimulationResult r = run_graph(g, acc, false, f);
        const OpRecord& op = op_named(g, r, "layer0.ff.0.matmul");
        CHECK(op.tiled);
        CHECK(op.load_bytes + op.store_bytes >= bound);
    }
}

TEST_CASE("elector physics: buffers too small for one tile, and bandwidths too small to count, are infeasible with the reason") {
    GraphBuilder b;
    const TensorId a = b.input("a", {1, 64, 64}, false);
    b.op1(OpKind::matmul, "c", {a, b.weight("w", {64, 64})}, {1, 64, 64});
    const ModelGraph g = b.take();
    SUBCASE("no tile fits") {
        AccSpec s;
        s.activation_mb = 0.001;  // 1048 bytes: half for tiles, and a 16 x 16 tile of A alone is 640
        for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
            const SimulationResult r = run_graph(g, accelerator_from(accelerator_yaml(s)), false, f);
            CHECK(r.status == "infeasible");
            CHECK(r.reason ==
                  "op 'c' (matmul): no tile fits the buffers (tiles get half of each buffer): the activation buffer holds 524.288 bytes; the smallest "
                  "tile (m 16, n 16, k 16) needs 1280 bytes of it");
        }
    }
    SUBCASE("a main memory too slow to count overflows, and is never faster than a quicker one") {
        std::int64_t previous = 0;
        // 1.0e-310 GB/s: a byte costs infinitely many cycles (the bytes per cycle are subnormal). It
        // used to make 0 bytes cost 0 x inf = NaN, counted as 0 cycles, and the run was faster than
        // at 25.6 GB/s with status ok.
        for (const char* gbps : {"25.6", "1.0e-3", "1.0e-9", "1.0e-20", "1.0e-310"}) {
            CAPTURE(gbps);
            AccSpec s;
            s.extra_memory = fmt::format(", low_bandwidth_gbps: {}", gbps);
            for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
                const SimulationResult r = run_graph(g, accelerator_from(accelerator_yaml(s)), false, f);
                CHECK(r.cycles >= previous);
                if (std::string(gbps) == "1.0e-20" || std::string(gbps) == "1.0e-310") {
                    CHECK(r.status == "infeasible");
                    CHECK(r.reason.rfind("overflow", 0) == 0);
                } else {
                    CHECK(r.status == "ok");
                }
                if (f == Fidelity::analytic) previous = r.cycles;
            }
        }
    }
}

TEST_CASE("elector physics: a bandwidth or latency that is not finite or not positive is a located config error") {
    auto error_of = [](const std::string& extra_memory, bool interconnect_zero) {
        AccSpec s;
        s.extra_memory = extra_memory;
        std::string yaml = accelerator_yaml(s);
        if (interconnect_zero) yaml += "  - {name: interconnect, component: memory.interconnect, params: {read_bandwidth_gbps: 0, write_bandwidth_gbps: 1}}\n";
        try {
            (void)accelerator_from(yaml);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    CHECK(error_of(", latency_ns: -1", false).find("units[3].params.latency_ns: value -1 is below the minimum 0 (range)") != std::string::npos);
    CHECK(error_of(", latency_ns: .nan", false).find("units[3].params.latency_ns: value .nan is not a finite number (range)") != std::string::npos);
    CHECK(error_of(", low_bandwidth_gbps: .inf", false).find("units[3].params.low_bandwidth_gbps: value .inf is not a finite number (range)") != std::string::npos);
    CHECK(error_of(", low_bandwidth_gbps: 0", false).find("units[3].params.low_bandwidth_gbps: value 0 must be greater than 0 (range)") != std::string::npos);
    CHECK(error_of("", true).find("units[4].params.read_bandwidth_gbps: value 0 must be greater than 0 (range)") != std::string::npos);
}

TEST_CASE("elector physics: optimizer state and gradients are stored at their own widths") {
    const ModelGraph step = load_step("bert-tiny.yaml", true);
    auto with = [&](const std::string& extra) {
        return load_accelerator_file(source_dir / "configs/accelerators/acceltran-server.yaml", {extra}, test::builtin_plugins());
    };
    const Accelerator base = with("data_bits=20"), wide = with("optimizer_state_bits=32");
    CHECK(base.optimizer_state_bits == 20);  // the default is data_bits
    CHECK(base.gradient_bits == 20);
    CHECK(wide.optimizer_state_bits == 32);
    CHECK(wide.bits_of(TensorRole::optimizer_state) == 32);
    CHECK(wide.bits_of(TensorRole::weight) == 20);
    double state_elements = 0;  // AdamW's m and v, read once each
    for (const auto& t : step.tensors)
        if (t.role == TensorRole::optimizer_state && t.name.find(".next") == std::string::npos) state_elements += static_cast<double>(t.elements());
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        const SimulationResult a = run_graph(step, base, true, f), b = run_graph(step, wide, true, f);
        CHECK(b.memory_read_bytes - a.memory_read_bytes >= 0.99 * state_elements * 12 / 8);  // 12 more bits per element
        CHECK(b.memory_write_bytes - a.memory_write_bytes >= 0.99 * state_elements * 12 / 8);
    }
    const Accelerator grads = with("gradient_bits=8");
    CHECK(run_graph(step, grads, true, Fidelity::analytic).level(Resource::weight_buffer).write_bytes <
          run_graph(step, base, true, Fidelity::analytic).level(Resource::weight_buffer).write_bytes);
}

TEST_CASE("elector physics: a sparse embedding update moves and computes only the gathered rows") {
    const LoadedModel m = load_model_file(source_dir / "configs/models/bert-tiny.yaml", {}, test::builtin_plugins());
    OptimizerSettings sparse;
    sparse.sparse_embedding_update = true;
    const ModelGraph dense_step = make_training_graph(m.forward, OptimizerSettings{});
    const ModelGraph sparse_step = make_training_graph(m.forward, sparse);
    // The word table: 30,522 rows, 4 x 128 ids gathered; positions and segments are gathered whole.
    const OpDesc* update = nullptr;
    for (const auto& op : sparse_step.ops)
        if (op.kind == OpKind::optimizer_update && op.attr("rows_fraction") > 0) {
            CHECK(update == nullptr);
            update = &op;
        }
    REQUIRE(update != nullptr);
    CHECK(update->attr("rows_fraction") == doctest::Approx(512.0 / 30522.0));
    const Accelerator acc = load_accelerator_file(source_dir / "configs/accelerators/acceltran-edge.yaml", {}, test::builtin_plugins());
    const double table = 30522.0 * 128;  // elements of the table, of its m and of its v
    for (Fidelity f : {Fidelity::event, Fidelity::analytic}) {
        CAPTURE(std::string(to_string(f)));
        const SimulationResult d = run_graph(dense_step, acc, true, f), s = run_graph(sparse_step, acc, true, f);
        REQUIRE(s.status == "ok");
        // Reading and writing w, m and v of the whole table (20-bit words) is what sparse saves, less its gathered rows.
        CHECK(d.memory_read_bytes - s.memory_read_bytes >= 0.9 * 3 * table * 2.5 * (1 - 512.0 / 30522.0));
        CHECK(d.memory_write_bytes - s.memory_write_bytes >= 0.9 * 3 * table * 2.5 * (1 - 512.0 / 30522.0));
        CHECK(s.cycles < d.cycles);
        CHECK(s.phases.back().tiles < d.phases.back().tiles);
    }
    // The training kinds refuse it: the executor's updates are dense.
    test::TempDir dir;
    const auto r = test::run_cli("run " + (source_dir / "configs/experiments/bert-tiny-train.yaml").string() +
                                 " -q --set optimizer.embedding_update=sparse --out " + dir.path().string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("error: optimizer.embedding_update: sparse embedding updates are simulated only; kind train_and_simulate trains with the "
                        "executor, whose updates are dense (conflict)") != std::string::npos);
}
