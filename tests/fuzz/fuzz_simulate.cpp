// fuzz_simulate: bytes -> a small random (model, accelerator) pair -> ELECTOR, with its physics checked.
//
// The bytes choose, one byte per decision (missing bytes read as 0):
//   - a candidate of the published spaces configs/design_spaces/flexibert2.yaml and acceltran.yaml
//     (one byte per knob, modulo its choices), kept small: at most 4 layers (the layers knob takes
//     its first two values), batch 1 or 2, sequence length 8, 16 or 32;
//   - the sizes of the activation, weight and mask buffers (down to 64 bytes, so that capacity binds
//     and a tile that does not fit is refused), the dataflow, the interconnect's and the main
//     memory's bandwidth scales, the clock;
//   - inference or a training step, the sparsity of each tensor role, and the fidelity (analytic
//     always; event as well when the step has at most 400 ops).
// The sizes are bounded on purpose: huge models and overflow are the business of the resource
// limits (README, Hardening), not of this target.
//
// A config the plugins refuse is a located ConfigError; an infeasible result must give its reason.
// An ok result must respect every physical lower bound (as tests/unit/test_elector_physics.cpp
// checks on the published spaces): each compute unit group's tile work fits in its instances x the
// run, main memory's read and write bytes / bandwidth fit in the run, so do each buffer port's and
// the interconnect's; dense runs move at least the compulsory traffic (every graph input read, every
// graph output written); the critical path adds up to the latency; energies are finite and >= 0;
// and a second run of the same pair gives the same figures (determinism).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "design_space/design_space_file.hpp"
#include "fuzz_support.hpp"
#include "graph/training_graph.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"
#include "simulator/prepared_graph.hpp"
#include "simulator/simulator.hpp"

using namespace transcode;
using namespace transcode::engine;

namespace {

/// Reads the input one decision at a time; past the end every byte reads 0.
class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : next() % n; }
    template <class T, std::size_t N>
    const T& pick_of(const T (&choices)[N]) {
        return choices[pick(N)];
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

const SpaceSide& side(const char* file, SpaceSide::Target target) {
    config::Diagnostics diags;
    const config::Node node = config::load_file(fuzz::base_dir() / ".." / "design_spaces" / file, diags);
    static std::vector<std::unique_ptr<SpaceSide>> kept;
    kept.push_back(std::make_unique<SpaceSide>(load_space_side(node, "", target, fuzz::host(), diags)));
    if (diags.size() != 0) fuzz::fail(std::string("the published space does not load: ") + file);
    return *kept.back();
}
const SpaceSide& models() {
    static const SpaceSide& s = side("flexibert2.yaml", SpaceSide::Target::model);
    return s;
}
const SpaceSide& accelerators() {
    static const SpaceSide& s = side("acceltran.yaml", SpaceSide::Target::accelerator);
    return s;
}

Candidate candidate_of(const SpaceSide& s, Bytes& in) {
    Candidate c(s.space.size(), 0);
    for (std::size_t k = 0; k < c.size(); ++k) {
        std::size_t n = s.space.knobs()[k].values.size();
        if (s.target == SpaceSide::Target::model && k == s.flexibert.layers) n = std::min<std::size_t>(n, 2);  // 2 or 4 layers
        c[k] = in.pick(n);
    }
    return s.space.canonical(std::move(c));
}

// Sets `params.<key>` of the unit named `unit` in `list` (a path the overrides cannot reach by name).
void set_unit_param(config::Node& acc, const char* list, const std::string& unit, const std::string& key, const std::string& value) {
    config::Node* units = config::find_path(acc, list);
    if (units == nullptr) fuzz::fail(std::string("the base accelerator has no ") + list);
    for (auto& item : units->items)
        if (const config::Node* name = item.find("name"); name != nullptr && name->scalar == unit)
            if (config::Node* v = item.find("params") != nullptr ? item.find("params")->find(key) : nullptr) {
                v->scalar = value;
                return;
            }
    fuzz::fail("the base accelerator has no " + unit + ".params." + key);
}

// Compulsory main-memory traffic of a dense step: every tensor no op produces is read once (an
// embedding table only its gathered rows, unless another op reads it whole), every tensor no op
// reads is written once.
std::pair<double, double> compulsory(const ModelGraph& g, const Accelerator& acc) {
    std::vector<double> fraction(g.tensors.size(), 0.0);
    std::vector<bool> produced(g.tensors.size(), false), consumed(g.tensors.size(), false);
    for (const auto& op : g.ops) {
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const auto t = static_cast<std::size_t>(op.inputs[k]);
            consumed[t] = true;
            fraction[t] = std::max(fraction[t], input_fetch_fraction(g, op, k));
        }
        for (TensorId t : op.outputs) produced[static_cast<std::size_t>(t)] = true;
    }
    double read = 0, write = 0;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc& d = g.tensors[t];
        const double bytes = std::ceil(static_cast<double>(d.elements()) * (d.is_integer ? d.bits : acc.bits_of(d.role)) / 8.0);
        if (!produced[t] && consumed[t]) read += bytes * fraction[t];
        if (produced[t] && !consumed[t]) write += bytes;
    }
    return {read, write};
}

void check_bounds(const ModelGraph& g, const Accelerator& acc, const SimulationResult& r, bool dense, const std::string& label) {
    auto check = [&](bool ok, const std::string& what) { fuzz::check(ok, what + " (" + label + ")"); };
    check(r.cycles > 0, "an ok run takes no cycles");
    check(std::isfinite(r.dynamic_j) && r.dynamic_j >= 0 && std::isfinite(r.leakage_j) && r.leakage_j >= 0, "an energy is negative or not finite");
    check(std::isfinite(r.area_mm2) && r.area_mm2 > 0, "the area is not positive");
    check(std::abs(r.seconds - static_cast<double>(r.cycles) / acc.clock_hz) <= 1e-9 * r.seconds, "seconds is not cycles / clock");
    const double cycles = static_cast<double>(r.cycles) + 1e-6;
    // Compute: each unit group's tile work (tiles x cycles per tile) fits in its instances x the run,
    // i.e. the run is at least the work / the peak rate; so do the busy cycles it reports.
    std::vector<double> work(acc.units.size(), 0.0);
    for (const OpRecord& op : r.ops) {
        check(op.unit < acc.units.size(), "an op ran on a unit that does not exist");
        work[op.unit] += static_cast<double>(op.tiles) * static_cast<double>(op.cycles_per_tile);
        check(op.end <= r.cycles, "an op ends after the run");
        check(op.start >= op.ready && op.end >= op.start, "an op starts before its inputs exist, or ends before it starts");
    }
    for (std::size_t u = 0; u < acc.units.size(); ++u)
        if (work[u] > 0) check(work[u] <= static_cast<double>(acc.units[u].count) * cycles * (1 + 1e-9), "compute work over the peak rate x the run: " + acc.units[u].name);
    for (const auto& u : r.units)
        if (u.role == ComponentRole::compute) check(u.busy_cycles <= static_cast<double>(u.count) * cycles * (1 + 1e-9), "busy cycles over the run: " + u.name);
    // Main memory: one channel for reads and writes.
    auto per_cycle = [&](double bytes_per_s) { return bytes_per_s / acc.clock_hz; };
    const StorageSpec& mem = acc.main_memory().storage;
    check(r.memory_read_bytes / per_cycle(mem.read_bandwidth_bytes_per_s) + r.memory_write_bytes / per_cycle(mem.write_bandwidth_bytes_per_s) <=
              cycles * (1 + 1e-9) + 1.0,
          "main-memory traffic / bandwidth over the run");
    for (BufferClass b : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const LevelReport& l = r.level(buffer_resource(b));
        const StorageSpec& s = acc.buffer(b).storage;
        check(l.read_bytes / per_cycle(s.read_bandwidth_bytes_per_s) + l.write_bytes / per_cycle(s.write_bandwidth_bytes_per_s) <= cycles * (1 + 1e-9) + 1.0,
              std::string("buffer traffic / bandwidth over the run: ") + to_string(buffer_resource(b)));
    }
    if (const UnitGroup* link = acc.interconnect()) {
        const LevelReport& l = r.level(Resource::interconnect);
        check(l.read_bytes / per_cycle(link->storage.read_bandwidth_bytes_per_s) + l.write_bytes / per_cycle(link->storage.write_bandwidth_bytes_per_s) <=
                  cycles * (1 + 1e-9) + 1.0,
              "interconnect traffic / bandwidth over the run");
    }
    if (dense) {
        const auto [read, write] = compulsory(g, acc);
        check(r.memory_read_bytes >= read * (1 - 1e-9), fmt::format("main-memory reads {} below the compulsory {}", r.memory_read_bytes, read));
        check(r.memory_write_bytes >= write * (1 - 1e-9), fmt::format("main-memory writes {} below the compulsory {}", r.memory_write_bytes, write));
    }
    std::int64_t sum = 0;
    for (std::int64_t c : r.critical_path) sum += c;
    check(sum == r.cycles, "the critical path does not add up to the latency");
}

bool same(const SimulationResult& a, const SimulationResult& b) {
    if (a.status != b.status || a.reason != b.reason || a.cycles != b.cycles || a.dynamic_j != b.dynamic_j || a.leakage_j != b.leakage_j ||
        a.area_mm2 != b.area_mm2 || a.tiles != b.tiles || a.memory_read_bytes != b.memory_read_bytes || a.memory_write_bytes != b.memory_write_bytes ||
        a.ops.size() != b.ops.size())
        return false;
    for (std::size_t i = 0; i < a.ops.size(); ++i)
        if (a.ops[i].start != b.ops[i].start || a.ops[i].end != b.ops[i].end || a.ops[i].dynamic_j != b.ops[i].dynamic_j) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::host();
    (void)models();
    (void)accelerators();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes in(data, size);
    const Candidate model_c = candidate_of(models(), in);
    const Candidate acc_c = candidate_of(accelerators(), in);
    std::vector<std::pair<std::string, config::Node>> model_params;
    config::Node acc = decode_accelerator(accelerators(), acc_c, model_params);
    config::Node model = decode_model(models(), model_c, model_params);

    static const char* const buffer_mb[] = {"0.00006", "0.001", "0.0078125", "0.0625", "0.25", "1", "4"};
    static const char* const buffers[] = {"activation_buffer", "weight_buffer", "mask_buffer"};
    for (const char* b : buffers)
        if (in.next() % 2 == 1) set_unit_param(acc, "units", b, "size_mb", in.pick_of(buffer_mb));
    static const char* const dataflows[] = {"output_stationary", "weight_stationary", "input_stationary", "auto"};
    static const char* const clocks_mhz[] = {"700", "1", "2000"};
    const std::int64_t batch = 1 + static_cast<std::int64_t>(in.pick(2));
    const int seq = 8 << in.pick(3);
    const std::string overrides[] = {fmt::format("dataflow={}", in.pick_of(dataflows)), fmt::format("clock_mhz={}", in.pick_of(clocks_mhz))};
    config::Diagnostics diags;
    for (const auto& o : overrides) config::apply_override(acc, o, diags);
    config::apply_override(model, fmt::format("params.batch_size={}", batch), diags);
    config::apply_override(model, fmt::format("params.sequence_length={}", seq), diags);
    const std::string label = fmt::format("model {} accelerator {}", to_flow_text(model), to_flow_text(acc));
    if (diags.size() != 0) fuzz::fail("an override of the fuzz target does not apply: " + label);

    std::optional<LoadedModel> loaded;
    std::optional<Accelerator> accelerator;
    try {
        loaded = resolve_model(model, "model", fuzz::host(), diags);
        accelerator = resolve_accelerator(acc, "accelerator", fuzz::host(), diags);
        diags.throw_if_any();
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
        fuzz::note(std::string("refused: ") + e.what());
        return 0;
    }
    if (!loaded || !accelerator) fuzz::fail("no model or accelerator, and no diagnostic: " + label);

    const bool training = in.next() % 2 == 1;
    static const double sparsities[] = {0, 0, 0.3, 0.5, 0.9, 0.99};
    SparsityByRole roles{in.pick_of(sparsities), in.pick_of(sparsities), in.pick_of(sparsities), in.pick_of(sparsities)};
    const bool dense = roles.activation == 0 && roles.activation_gradient == 0 && roles.weight_gradient == 0 && roles.weight == 0;
    const ModelGraph g = training ? make_training_graph(loaded->forward, OptimizerSettings{}) : loaded->forward;
    const bool event = in.next() % 2 == 1 && g.ops.size() <= 400;

    for (Fidelity f : {Fidelity::analytic, Fidelity::event}) {
        if (f == Fidelity::event && !event) continue;
        SimulationOptions o;
        o.fidelity = f;
        o.training = training;
        o.tensor_sparsity = sparsity_per_tensor(g, roles);
        const std::string run_label = fmt::format("{}, {}, sparsity {}/{}/{}/{}, {}", to_string(f), training ? "training" : "inference", roles.activation,
                                                  roles.activation_gradient, roles.weight_gradient, roles.weight, label);
        SimulationResult r;
        try {
            r = simulate(g, *accelerator, o);
        } catch (const ConfigError& e) {
            // An op kind no unit runs (the only refusal simulate() makes of a resolved pair).
            fuzz::check(std::string(e.what()).find("has no unit that executes op kind") != std::string::npos,
                        std::string("an unexpected ConfigError from the simulator: ") + e.what());
            fuzz::note(std::string("simulator refused: ") + e.what());
            continue;
        }
        const SimulationResult again = simulate(g, *accelerator, o);
        fuzz::check(same(r, again), "two runs of the same pair differ (" + run_label + ")");
        if (r.status != "ok") {
            fuzz::check(r.status == "infeasible" && !r.reason.empty(), "a run that is neither ok nor infeasible with a reason (" + run_label + ")");
            fuzz::note("infeasible: " + r.reason);
            continue;
        }
        check_bounds(g, *accelerator, r, dense, run_label);
        fuzz::note(fmt::format("ok: {} ops, {} cycles, {}", g.ops.size(), r.cycles, run_label.substr(0, 60)));
    }
    return 0;
}
