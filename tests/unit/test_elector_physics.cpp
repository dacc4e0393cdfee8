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

#include "codesign/design_space_file.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "simulator/simulator.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using namespace transcode::engine;

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
        if (ratio > 1.8 || ratio < 0.75) {
            auto show = [](const SimulationResult& r) {
                std::string s = fmt::format("cycles {} read {:.3g} write {:.3g} crit", r.cycles, r.memory_read_bytes, r.memory_write_bytes);
                for (std::size_t k = 0; k < resource_count; ++k) s += fmt::format(" {}={}", to_string(static_cast<Resource>(k)), r.critical_path[k]);
                for (const auto& l : r.levels) s += fmt::format(" | {} busy {:.3g}", to_string(l.level), l.busy_cycles);
                return s;
            };
            MESSAGE(p.label << "\n E " << show(event) << "\n A " << show(analytic));
        }
        ratios.push_back(ratio);
    }
    std::sort(ratios.begin(), ratios.end());
    const double median = ratios[ratios.size() / 2];
    MESSAGE(fmt::format("analytic / event cycles over {} pairs: min {:.3f}, median {:.3f}, max {:.3f}", ratios.size(), ratios.front(), median, ratios.back()));
    CHECK(median >= 0.8);
    CHECK(median <= 1.25);
}
