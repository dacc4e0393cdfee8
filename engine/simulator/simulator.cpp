#include "simulator/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

namespace transcode::engine {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

BufferClass class_of(const TensorDesc& t) {
    switch (t.role) {
        case TensorRole::weight:
        case TensorRole::weight_gradient:
        case TensorRole::optimizer_state: return BufferClass::weight;
        default: return BufferClass::activation;
    }
}

bool persistent(const TensorDesc& t) { return t.role == TensorRole::weight || t.role == TensorRole::optimizer_state; }

constexpr std::size_t buffer_index(BufferClass c) { return static_cast<std::size_t>(c); }

// What the accounting needs of the ops, summed as they are scheduled: per phase, the ops, tiles,
// dynamic energy and gated leakage, and the latest end.
struct OpTotals {
    PhaseReport sums[3];
    std::int64_t ends[3] = {0, 0, 0};
    void add(Phase phase, const OpRecord& rec, std::int64_t ops = 1) {
        PhaseReport& s = sums[static_cast<std::size_t>(phase)];
        const double n = static_cast<double>(ops);
        s.ops += ops;
        s.tiles += ops * rec.tiles;
        s.dynamic_j += n * rec.dynamic_j;
        s.leakage_j += n * rec.gated_leakage_j;
    }
    void end(Phase phase, std::int64_t at) {
        std::int64_t& e = ends[static_cast<std::size_t>(phase)];
        e = std::max(e, at);
    }
};

// Everything both fidelities share: tensor sizes (per tensor type), per-op dynamic energy terms
// (per op class), the final energy and utilisation accounting.
class Accounting {
public:
    Accounting(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& o) : g_(p.graph()), p_(p), acc_(acc), o_(o) {
        const ModelGraph& g = g_;
        const std::size_t n = p.type_representatives().size();
        data_bytes_.resize(n);
        mask_bytes_.resize(n);
        element_bytes_.resize(n);
        for (std::size_t t = 0; t < n; ++t) {
            const std::size_t rep = static_cast<std::size_t>(p.type_representatives()[t]);
            const TensorDesc& d = g.tensors[rep];
            const double s = std::clamp(p.sparsity()[rep], 0.0, 1.0);
            const double bits = d.is_integer ? d.bits : acc.data_bits;
            element_bytes_[t] = bits / 8.0 * (1.0 - s);
            data_bytes_[t] = std::ceil(static_cast<double>(d.elements()) * element_bytes_[t]);
            mask_bytes_[t] = s > 0 ? std::ceil(static_cast<double>(d.elements()) / 8.0) : 0.0;
        }
        for (BufferClass c : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
            const UnitGroup& b = acc.buffer(c);
            capacity_[buffer_index(c)] = b.storage.capacity_bytes;
            buffer_energy_[buffer_index(c)] = b.storage.energy_per_byte_j;
        }
        const UnitGroup& mem = acc.main_memory();
        bytes_per_cycle_ = mem.storage.bandwidth_bytes_per_s / acc.clock_hz;
        memory_energy_ = mem.storage.energy_per_byte_j;
        if (!(bytes_per_cycle_ > 0)) throw ConfigError(fmt::format("accelerator '{}': main memory '{}' has no bandwidth", acc.name, mem.name));
        fits_.resize(n);
        for (std::size_t t = 0; t < n; ++t)
            fits_[t] = data_bytes_[t] <= capacity_[buffer_index(class_of(g.tensors[static_cast<std::size_t>(p.type_representatives()[t])]))] &&
                       mask_bytes_[t] <= capacity_[buffer_index(BufferClass::mask)];
        // Support units serving each compute unit group's kind: dynamic power per busy
        // instance-cycle of that group; and, with power gating, the leakage power of one busy
        // instance with its share of the gateable support units serving it.
        support_j_per_cycle_.assign(acc.units.size(), 0.0);
        gated_w_.assign(acc.units.size(), 0.0);
        for (std::size_t i = 0; i < acc.units.size(); ++i) {
            const UnitGroup& c = acc.units[i];
            if (c.role != ComponentRole::compute) continue;
            const std::int64_t served = served_count(c.unit_kind);
            for (const auto& u : acc.units)
                if (u.role == ComponentRole::support && u.serves == c.unit_kind && (o.training || !u.training_only))
                    support_j_per_cycle_[i] += u.dynamic_w * static_cast<double>(u.count) / static_cast<double>(served) / acc.clock_hz;
            if (!acc.power_gating) continue;
            double w = c.power_gateable ? c.leakage_w : 0.0;
            for (const auto& s : acc.units)
                if (s.role == ComponentRole::support && s.serves == c.unit_kind && s.power_gateable && (o.training || !s.training_only))
                    w += s.leakage_w * static_cast<double>(s.count) / static_cast<double>(served);
            gated_w_[i] = w;
        }
        lowering_ = lower(p, acc, o.training);
        // Ops of one class cost the same: their tile, buffer-access and support energy, their
        // gated leakage and their compute cycles are computed once per class.
        class_cost_.reserve(lowering_.classes.size());
        for (const LoweredOp& l : lowering_.classes) class_cost_.push_back(class_cost(l));
    }

    const LoweredOp& lowered(std::size_t op) const { return lowering_.of(op); }
    bool fits(TensorId t) const { return fits_[p_.tensor_type(t)]; }
    std::int64_t compute_cycles(std::size_t op) const { return class_cost_[p_.op_class(op)].compute_cycles; }
    double gated_leakage(std::size_t op) const { return class_cost_[p_.op_class(op)].gated_leakage_j; }
    // Dynamic energy of an op's tiles, buffer accesses and support units (transfers are added by
    // the scheduler as they happen). Adds its buffer traffic to `buffers`.
    double op_energy(std::size_t op, std::vector<BufferReport>& buffers) const {
        const ClassCost& c = class_cost_[p_.op_class(op)];
        for (std::size_t b = 0; b < 3; ++b) {
            buffers[b].read_bytes += c.read_bytes[b];
            buffers[b].write_bytes += c.write_bytes[b];
        }
        return c.dynamic_j;
    }

    std::int64_t transfer_cycles(double bytes) const { return bytes > 0 ? static_cast<std::int64_t>(std::ceil(bytes / bytes_per_cycle_ - 1e-9)) : 0; }
    double footprint(TensorId t, BufferClass c) const { return c == BufferClass::mask ? mask_bytes_[p_.tensor_type(t)] : data_bytes_[p_.tensor_type(t)]; }
    double transfer_bytes(TensorId t) const { return data_bytes_[p_.tensor_type(t)] + mask_bytes_[p_.tensor_type(t)]; }

    // What every op of a lowered class costs: the dynamic energy of its tiles, buffer accesses and
    // the support units serving it (transfers are added by the scheduler as they happen), its
    // buffer traffic, the leakage of power-gated units while it runs, and its compute cycles.
    struct ClassCost {
        double dynamic_j = 0;
        double read_bytes[3] = {0, 0, 0};
        double write_bytes[3] = {0, 0, 0};
        double gated_leakage_j = 0;
        std::int64_t compute_cycles = 0;
    };
    ClassCost class_cost(const LoweredOp& l) const {
        ClassCost c;
        const OpDesc& op = g_.ops[static_cast<std::size_t>(l.op)];
        const double tiles = static_cast<double>(l.tiles);
        c.dynamic_j = tiles * l.energy_per_tile_j;
        auto access = [&](TensorId t, double elements, bool write) {
            const std::size_t b = buffer_index(class_of(g_.tensors[static_cast<std::size_t>(t)]));
            const std::uint32_t ty = p_.tensor_type(t);
            const double bytes = tiles * elements * element_bytes_[ty];
            const double mask = mask_bytes_[ty] > 0 ? tiles * elements / 8.0 : 0.0;
            (write ? c.write_bytes : c.read_bytes)[b] += bytes;
            (write ? c.write_bytes : c.read_bytes)[buffer_index(BufferClass::mask)] += mask;
            c.dynamic_j += bytes * buffer_energy_[b] + mask * buffer_energy_[buffer_index(BufferClass::mask)];
        };
        for (std::size_t k = 0; k < op.inputs.size(); ++k) access(op.inputs[k], static_cast<double>(l.input_tile_elements[k]), false);
        for (TensorId t : op.outputs) access(t, static_cast<double>(l.output_tile_elements), true);
        c.dynamic_j += support_j_per_cycle_[l.unit] * tiles * static_cast<double>(l.cycles_per_tile);
        c.gated_leakage_j = class_gated_leakage(l);
        c.compute_cycles = ceil_div(l.tiles, acc_.units[l.unit].count) * l.cycles_per_tile;
        return c;
    }
    // Energy of moving tensor t's `bytes` between main memory and its buffers (both ends); adds
    // the buffer side to `buffers` (written when `to_chip`, read otherwise).
    double transfer_energy(TensorId t, double bytes, bool to_chip, std::vector<BufferReport>& buffers) const {
        const BufferClass c = class_of(g_.tensors[static_cast<std::size_t>(t)]);
        const double mask = std::min(bytes, mask_bytes_[p_.tensor_type(t)]);
        const double data = bytes - mask;
        (to_chip ? buffers[buffer_index(c)].write_bytes : buffers[buffer_index(c)].read_bytes) += data;
        (to_chip ? buffers[buffer_index(BufferClass::mask)].write_bytes : buffers[buffer_index(BufferClass::mask)].read_bytes) += mask;
        return bytes * memory_energy_ + data * buffer_energy_[buffer_index(c)] + mask * buffer_energy_[buffer_index(BufferClass::mask)];
    }
    // Leakage of power-gated compute units (and the support units serving them) while an op runs.
    double class_gated_leakage(const LoweredOp& l) const {
        if (!acc_.power_gating) return 0.0;
        const double busy_s = static_cast<double>(l.tiles) * static_cast<double>(l.cycles_per_tile) / acc_.clock_hz;
        return gated_w_[l.unit] * busy_s;
    }
    std::int64_t served_count(const std::string& kind) const {
        std::int64_t n = 0;
        for (const auto& u : acc_.units)
            if (u.role == ComponentRole::compute && u.unit_kind == kind) n += u.count;
        return n;
    }

    // Fills totals, unit reports and phases from the ops' totals.
    void finish(SimulationResult& r, const OpTotals& totals) const {
        // Tiles, busy instance-cycles and tile energy per unit group: per op class.
        r.tiles = 0;
        std::vector<double> busy(acc_.units.size(), 0.0), tile_j(acc_.units.size(), 0.0);
        for (std::size_t c = 0; c < lowering_.classes.size(); ++c) {
            const LoweredOp& l = lowering_.classes[c];
            const std::int64_t ops = p_.class_ops()[c];
            r.tiles += ops * l.tiles;
            busy[l.unit] += static_cast<double>(ops) * static_cast<double>(l.tiles) * static_cast<double>(l.cycles_per_tile);
            tile_j[l.unit] += static_cast<double>(ops) * static_cast<double>(l.tiles) * l.energy_per_tile_j;
        }
        r.cycles = std::max({totals.ends[0], totals.ends[1], totals.ends[2]});
        const PhaseReport* sums = totals.sums;
        const std::int64_t* ends = totals.ends;
        r.seconds = static_cast<double>(r.cycles) / acc_.clock_hz;
        r.area_mm2 = acc_.area_mm2();
        std::map<std::string, double> kind_busy;
        for (std::size_t i = 0; i < acc_.units.size(); ++i)
            if (acc_.units[i].role == ComponentRole::compute) kind_busy[acc_.units[i].unit_kind] += busy[i];
        // Always-on leakage power: non-gateable units, and everything when gating is off.
        double always_on_w = 0;
        r.units.clear();
        for (std::size_t i = 0; i < acc_.units.size(); ++i) {
            const UnitGroup& u = acc_.units[i];
            UnitReport ur{u.name, u.unit_kind, u.role, u.count, u.area_mm2 * static_cast<double>(u.count)};
            const double n = static_cast<double>(u.count);
            const bool active = o_.training || !u.training_only;
            if (u.role == ComponentRole::compute) {
                ur.busy_cycles = busy[i];
            } else if (u.role == ComponentRole::support && !u.serves.empty()) {
                const std::int64_t served = served_count(u.serves);
                ur.busy_cycles = served > 0 && active ? kind_busy[u.serves] * n / static_cast<double>(served) : 0.0;
                ur.dynamic_j = u.dynamic_w * ur.busy_cycles / acc_.clock_hz;
            } else if (u.role == ComponentRole::support) {
                ur.busy_cycles = n * static_cast<double>(r.cycles);
                ur.dynamic_j = u.dynamic_w * n * r.seconds;
            }
            const bool gated = acc_.power_gating && u.power_gateable;
            if (gated)
                ur.leakage_j = (u.role == ComponentRole::support && !active) ? 0.0 : u.leakage_w * ur.busy_cycles / acc_.clock_hz;
            else {
                ur.leakage_j = u.leakage_w * n * r.seconds;
                always_on_w += u.leakage_w * n;
            }
            ur.utilisation = r.cycles > 0 && n > 0 ? ur.busy_cycles / (n * static_cast<double>(r.cycles)) : 0.0;
            r.units.push_back(std::move(ur));
        }
        // Dynamic energy of compute units: their tiles; of buffers and main memory: their bytes.
        for (std::size_t i = 0; i < acc_.units.size(); ++i) r.units[i].dynamic_j += tile_j[i];
        for (std::size_t i = 0; i < acc_.units.size(); ++i) {
            const UnitGroup& u = acc_.units[i];
            if (u.role == ComponentRole::main_memory) r.units[i].dynamic_j = (r.memory_read_bytes + r.memory_write_bytes) * memory_energy_;
            if (u.role == ComponentRole::buffer) {
                const BufferReport& b = r.buffers[buffer_index(u.buffer_class)];
                r.units[i].dynamic_j = (b.read_bytes + b.write_bytes) * u.storage.energy_per_byte_j;
            }
        }
        r.dynamic_j = 0;
        r.leakage_j = 0;
        for (const auto& ur : r.units) {
            r.dynamic_j += ur.dynamic_j;
            r.leakage_j += ur.leakage_j;
        }
        // Phases: each one's span runs from the previous one's end.
        std::int64_t prev_end = 0;
        r.phases.clear();
        const std::vector<Phase> phases = o_.training ? std::vector<Phase>{Phase::forward, Phase::backward, Phase::update} : std::vector<Phase>{Phase::forward};
        for (Phase p : phases) {
            PhaseReport pr = sums[static_cast<std::size_t>(p)];
            pr.phase = p;
            const std::int64_t end = std::max(prev_end, ends[static_cast<std::size_t>(p)]);
            pr.cycles = end - prev_end;
            prev_end = end;
            pr.leakage_j += always_on_w * static_cast<double>(pr.cycles) / acc_.clock_hz;
            // Always-on support units (controllers, DMA) run for the whole phase.
            for (const auto& u : acc_.units)
                if (u.role == ComponentRole::support && u.serves.empty()) pr.dynamic_j += u.dynamic_w * static_cast<double>(u.count) * static_cast<double>(pr.cycles) / acc_.clock_hz;
            r.phases.push_back(pr);
        }
    }

    const ModelGraph& g_;
    const PreparedGraph& p_;
    const Accelerator& acc_;
    const SimulationOptions& o_;
    std::vector<double> data_bytes_, mask_bytes_, element_bytes_;  ///< per tensor type
    double capacity_[3] = {0, 0, 0};
    double buffer_energy_[3] = {0, 0, 0};
    double bytes_per_cycle_ = 0;
    double memory_energy_ = 0;
    std::vector<bool> fits_;  ///< per tensor type
    std::vector<double> support_j_per_cycle_;  ///< per unit group
    std::vector<double> gated_w_;              ///< per compute unit group, W (power gating only)
    Lowering lowering_;
    std::vector<ClassCost> class_cost_;
};

std::vector<BufferReport> empty_buffers(const Accelerator& acc) {
    std::vector<BufferReport> b;
    for (BufferClass c : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) b.push_back({c, acc.buffer(c).storage.capacity_bytes});
    return b;
}

// --- event fidelity ---------------------------------------------------------------------------

class EventScheduler {
public:
    EventScheduler(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& o, const Accounting& a) : g_(g), acc_(acc), o_(o), a_(a) {
        const std::size_t n = g.tensors.size();
        resident_.assign(n, false);
        dirty_.assign(n, false);
        available_.assign(n, 0);
        uses_.assign(n, 0);
        last_use_.assign(n, -1);
        for (const auto& op : g.ops)
            for (TensorId t : op.inputs) ++uses_[static_cast<std::size_t>(t)];
        for (const auto& u : acc.units) pools_.push_back(u.role == ComponentRole::compute ? o.pool_factory(u.count) : nullptr);
    }

    OpTotals run(SimulationResult& r) {
        r.buffers = empty_buffers(acc_);
        if (o_.op_records) r.ops.reserve(g_.ops.size());
        OpTotals totals;
        for (std::size_t i = 0; i < g_.ops.size(); ++i) {
            const OpRecord rec = run_op(static_cast<OpId>(i), r);
            totals.add(g_.ops[i].phase, rec);
            totals.end(g_.ops[i].phase, rec.end);
            if (o_.op_records) r.ops.push_back(rec);
        }
        return totals;
    }

private:
    // Issues a transfer of `bytes` on the main-memory channel, not before `after`; returns its end.
    // `what` and `name` label the trace event (built only when tracing).
    std::int64_t transfer(double bytes, std::int64_t after, const char* what, const std::string& name, SimulationResult& r, std::int64_t* start_out = nullptr) {
        const std::int64_t start = std::max(channel_free_, after);
        const std::int64_t cycles = a_.transfer_cycles(bytes);
        channel_free_ = start + cycles;
        if (start_out != nullptr) *start_out = start;
        if (o_.trace && cycles > 0) r.trace.push_back({std::string(what) + name, "main_memory", start, cycles});
        return channel_free_;
    }

    void release(TensorId t) {
        const std::size_t ti = static_cast<std::size_t>(t);
        if (!resident_[ti]) return;
        resident_[ti] = false;
        lru_[buffer_index(class_of(g_.tensors[ti]))].erase({last_use_[ti], t});
        used_[buffer_index(class_of(g_.tensors[ti]))] -= a_.footprint(t, class_of(g_.tensors[ti]));
        used_[buffer_index(BufferClass::mask)] -= a_.footprint(t, BufferClass::mask);
    }

    // Makes `t` resident, evicting least-recently-used tensors the op does not touch. False when
    // even that cannot make room (the op's own tensors fill the buffer): `t` is then streamed.
    bool allocate(TensorId t, const std::vector<TensorId>& pinned, OpRecord& rec, SimulationResult& r) {
        const std::size_t ti = static_cast<std::size_t>(t);
        const BufferClass c = class_of(g_.tensors[ti]);
        auto room = [&](BufferClass b) { return a_.capacity_[buffer_index(b)] - used_[buffer_index(b)]; };
        while (room(c) < a_.footprint(t, c) || room(BufferClass::mask) < a_.footprint(t, BufferClass::mask)) {
            const bool need_data = room(c) < a_.footprint(t, c);
            // The least recently used resident tensor that frees what is missing (earliest last
            // use, then lowest id): the first eligible entry of the LRU order of its class.
            auto first_eligible = [&](BufferClass cls) -> std::pair<std::int64_t, TensorId> {
                for (const auto& entry : lru_[buffer_index(cls)]) {
                    const TensorId v = entry.second;
                    if (std::find(pinned.begin(), pinned.end(), v) != pinned.end()) continue;
                    if (need_data ? a_.footprint(v, c) > 0 : a_.footprint(v, BufferClass::mask) > 0) return entry;
                }
                return {std::numeric_limits<std::int64_t>::max(), -1};
            };
            TensorId victim = -1;
            if (need_data)
                victim = first_eligible(c).second;
            else
                victim = std::min(first_eligible(BufferClass::activation), first_eligible(BufferClass::weight)).second;
            if (victim < 0) return false;
            const std::size_t vi = static_cast<std::size_t>(victim);
            if (dirty_[vi] && (uses_[vi] > 0 || persistent(g_.tensors[vi]))) {
                const double bytes = a_.transfer_bytes(victim);
                available_[vi] = std::max(available_[vi], transfer(bytes, available_[vi], "write-back ", g_.tensors[vi].name, r));
                rec.store_bytes += bytes;
                rec.dynamic_j += a_.transfer_energy(victim, bytes, false, r.buffers);
                r.memory_write_bytes += bytes;
                dirty_[vi] = false;
            }
            release(victim);
        }
        resident_[ti] = true;
        lru_[buffer_index(c)].insert({last_use_[ti], t});
        used_[buffer_index(c)] += a_.footprint(t, c);
        used_[buffer_index(BufferClass::mask)] += a_.footprint(t, BufferClass::mask);
        for (BufferClass b : {c, BufferClass::mask})
            r.buffers[buffer_index(b)].peak_bytes = std::max(r.buffers[buffer_index(b)].peak_bytes, used_[buffer_index(b)]);
        return true;
    }

    OpRecord run_op(OpId id, SimulationResult& r) {
        const OpDesc& op = g_.ops[static_cast<std::size_t>(id)];
        const LoweredOp& l = a_.lowered(static_cast<std::size_t>(id));
        OpRecord rec{id, l.unit, l.tiles, l.cycles_per_tile};
        rec.padded_fraction = l.padded_fraction;
        std::vector<TensorId>& pinned = pinned_;
        pinned.assign(op.inputs.begin(), op.inputs.end());
        pinned.insert(pinned.end(), op.outputs.begin(), op.outputs.end());

        // Inputs: what must come from main memory.
        std::int64_t deps = 0, load_after = 0;
        double load_bytes = 0;
        std::vector<TensorId>& loads = loads_;
        std::vector<double>& fractions = fractions_;
        loads.clear();
        fractions.clear();
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            const std::size_t ti = static_cast<std::size_t>(t);
            deps = std::max(deps, available_[ti]);
            if (resident_[ti] || std::find(loads.begin(), loads.end(), t) != loads.end()) continue;
            loads.push_back(t);
            fractions.push_back(l.input_fetch_fraction[k]);
        }
        for (std::size_t k = 0; k < loads.size(); ++k) {
            const TensorId t = loads[k];
            // A partial fetch (an embedding's gathered rows) is used once and not kept.
            if (fractions[k] >= 1.0 && a_.fits(t)) allocate(t, pinned, rec, r);  // may write back victims first; else streamed
            const double bytes = a_.transfer_bytes(t) * fractions[k];
            load_bytes += bytes;
            load_after = std::max(load_after, available_[static_cast<std::size_t>(t)]);
            rec.dynamic_j += a_.transfer_energy(t, bytes, true, r.buffers);
        }
        // Outputs: resident when they fit, else streamed to main memory.
        double stream_bytes = 0;
        for (TensorId t : op.outputs) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (a_.fits(t) && allocate(t, pinned, rec, r)) {
                dirty_[ti] = true;
            } else {
                stream_bytes += a_.transfer_bytes(t);
                rec.dynamic_j += a_.transfer_energy(t, a_.transfer_bytes(t), false, r.buffers);
            }
        }
        std::int64_t load_start = 0, load_cycles = 0;
        if (load_bytes > 0) {
            load_cycles = a_.transfer_cycles(load_bytes);
            transfer(load_bytes, load_after, "load for ", op.name, r, &load_start);
            rec.load_bytes = load_bytes;
            r.memory_read_bytes += load_bytes;
        }

        // Tiles, in waves of one tile per instance; wave w needs (w+1)/W of the op's loads.
        TilePool& pool = *pools_[l.unit];
        const std::int64_t instances = acc_.units[l.unit].count;
        const std::int64_t waves = load_bytes > 0 ? ceil_div(l.tiles, instances) : 1;
        rec.ready = deps;
        rec.start = std::numeric_limits<std::int64_t>::max();
        std::int64_t compute_end = 0;
        for (std::int64_t w = 0; w < waves; ++w) {
            const std::int64_t n = waves == 1 ? l.tiles : (w + 1 < waves ? instances : l.tiles - instances * (waves - 1));
            std::int64_t ready = deps;
            if (load_bytes > 0) ready = std::max(ready, load_start + ceil_div((w + 1) * load_cycles, waves));
            if (w == 0) rec.data_ready = ready;
            const DispatchResult d = pool.dispatch(ready, n, l.cycles_per_tile);
            rec.start = std::min(rec.start, d.first_start);
            compute_end = std::max(compute_end, d.last_end);
        }
        rec.end = compute_end;
        if (stream_bytes > 0) {
            rec.end = std::max(rec.end, transfer(stream_bytes, rec.start, "store of ", op.name, r));
            rec.store_bytes += stream_bytes;
            r.memory_write_bytes += stream_bytes;
        }
        for (TensorId t : op.outputs) available_[static_cast<std::size_t>(t)] = rec.end;
        if (o_.trace) r.trace.push_back({op.name, acc_.units[l.unit].name, rec.start, compute_end - rec.start});
        r.stall_memory_cycles += std::max<std::int64_t>(0, rec.data_ready - rec.ready);
        r.stall_unit_cycles += std::max<std::int64_t>(0, rec.start - rec.data_ready);

        rec.dynamic_j += a_.op_energy(static_cast<std::size_t>(id), r.buffers);
        rec.gated_leakage_j = a_.gated_leakage(static_cast<std::size_t>(id));
        // Uses, LRU order, and tensors no longer needed.
        for (TensorId t : op.inputs) --uses_[static_cast<std::size_t>(t)];
        for (TensorId t : pinned) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (resident_[ti]) {
                auto& lru = lru_[buffer_index(class_of(g_.tensors[ti]))];
                lru.erase({last_use_[ti], t});
                lru.insert({id, t});
            }
            last_use_[ti] = id;
            if (uses_[ti] == 0 && !persistent(g_.tensors[ti])) release(t);
        }
        return rec;
    }

    const ModelGraph& g_;
    const Accelerator& acc_;
    const SimulationOptions& o_;
    const Accounting& a_;
    std::vector<bool> resident_, dirty_;
    std::vector<std::int64_t> available_, uses_, last_use_;
    /// Resident tensors of the activation and weight buffers by (last use, id): the LRU order.
    std::set<std::pair<std::int64_t, TensorId>> lru_[2];
    double used_[3] = {0, 0, 0};
    std::int64_t channel_free_ = 0;
    std::vector<std::unique_ptr<TilePool>> pools_;
    std::vector<TensorId> pinned_, loads_;  ///< per op, kept to reuse their storage
    std::vector<double> fractions_;
};

// --- analytic fidelity ------------------------------------------------------------------------

// Every op of a load pattern (prepared_graph.hpp) loads, stores and costs the same: the closed
// forms run once per pattern, the phase sums are taken per pattern, and the ops only add up their
// durations (and, when asked for, get their records).
OpTotals run_analytic(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& o, const Accounting& a, SimulationResult& r) {
    const ModelGraph& g = p.graph();
    r.buffers = empty_buffers(acc);
    OpTotals totals;
    std::vector<OpRecord> records;  ///< per pattern: of every op of the pattern, but for op and times
    std::vector<std::int64_t> cycles;  ///< per pattern
    records.reserve(p.load_patterns().size());
    cycles.reserve(p.load_patterns().size());
    std::vector<BufferReport> traffic = empty_buffers(acc);
    for (const auto& pattern : p.load_patterns()) {
        const std::size_t i = static_cast<std::size_t>(pattern.first_op);
        const OpDesc& op = g.ops[i];
        const LoweredOp& l = a.lowered(i);
        for (auto& b : traffic) b.read_bytes = b.write_bytes = 0;
        OpRecord& rec = records.emplace_back(OpRecord{pattern.first_op, l.unit, l.tiles, l.cycles_per_tile});
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            if (pattern.seen[k] && a.fits(t)) continue;
            const double bytes = a.transfer_bytes(t) * l.input_fetch_fraction[k];
            rec.load_bytes += bytes;
            rec.dynamic_j += a.transfer_energy(t, bytes, true, traffic);
        }
        for (TensorId t : op.outputs)
            if (!a.fits(t)) {
                rec.store_bytes += a.transfer_bytes(t);
                rec.dynamic_j += a.transfer_energy(t, a.transfer_bytes(t), false, traffic);
            }
        cycles.push_back(std::max(a.compute_cycles(i), a.transfer_cycles(rec.load_bytes + rec.store_bytes)));
        rec.dynamic_j += a.op_energy(i, traffic);
        rec.gated_leakage_j = a.gated_leakage(i);
        rec.padded_fraction = l.padded_fraction;
        const double ops = static_cast<double>(pattern.ops);
        for (std::size_t b = 0; b < traffic.size(); ++b) {
            r.buffers[b].read_bytes += ops * traffic[b].read_bytes;
            r.buffers[b].write_bytes += ops * traffic[b].write_bytes;
        }
        r.memory_read_bytes += ops * rec.load_bytes;
        r.memory_write_bytes += ops * rec.store_bytes;
        for (Phase ph : {Phase::forward, Phase::backward, Phase::update})
            if (const std::int64_t n = pattern.phase_ops[static_cast<std::size_t>(ph)]; n > 0) totals.add(ph, rec, n);
    }
    // Ops in sequence: each ends when its pattern's cycles after the previous one.
    std::int64_t now = 0;
    // A search's case, only the clock, gets a loop of its own: folded into the loop below (with
    // OpTotals::end), the prepared BERT-Large step went from 0.023 to 0.042 ms
    // (BM_SimulatePrepared, records:0). `now` only grows, so assigning each phase's end equals
    // end()'s max, without the compare (0.030 ms with it).
    if (!o.op_records && !o.trace) {
        for (std::size_t i = 0; i < g.ops.size(); ++i) {
            now += cycles[p.load_pattern(i)];
            totals.ends[static_cast<std::size_t>(p.phase(i))] = now;
        }
        return totals;
    }
    if (o.op_records) r.ops.reserve(g.ops.size());
    for (std::size_t i = 0; i < g.ops.size(); ++i) {
        const std::uint32_t q = p.load_pattern(i);
        const std::int64_t start = now;
        now += cycles[q];
        totals.ends[static_cast<std::size_t>(p.phase(i))] = now;
        if (o.op_records) {
            OpRecord& rec = r.ops.emplace_back(records[q]);
            rec.op = static_cast<OpId>(i);
            rec.ready = rec.data_ready = rec.start = start;
            rec.end = now;
        }
        if (o.trace) r.trace.push_back({g.ops[i].name, acc.units[records[q].unit].name, start, now - start});
    }
    return totals;
}

}  // namespace

std::vector<double> sparsity_per_tensor(const ModelGraph& g, const SparsityByRole& s) {
    std::vector<double> out(g.tensors.size(), 0.0);
    std::vector<bool> produced(g.tensors.size(), false);
    for (const auto& op : g.ops)
        for (TensorId t : op.outputs) produced[static_cast<std::size_t>(t)] = true;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc& d = g.tensors[t];
        if (d.is_integer || d.is_input || static_cast<TensorId>(t) == g.loss) continue;
        // Weights are parameters, produced by no op (only the update's new weights are).
        if (d.role == TensorRole::weight) {
            out[t] = s.weight;
            continue;
        }
        if (!produced[t]) continue;
        switch (d.role) {
            case TensorRole::activation: out[t] = s.activation; break;
            case TensorRole::activation_gradient: out[t] = s.activation_gradient; break;
            case TensorRole::weight_gradient: out[t] = s.weight_gradient; break;
            default: break;
        }
    }
    return out;
}

namespace {

// simulate() on a graph prepared with options.tensor_sparsity.
SimulationResult simulate_prepared(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& options) {
    const ModelGraph& g = p.graph();
    const Accounting a(p, acc, options);
    SimulationResult r;
    r.fidelity = options.fidelity;
    r.training = options.training;
    const OpTotals totals = options.fidelity == Fidelity::event ? EventScheduler(g, acc, options, a).run(r) : run_analytic(p, acc, options, a, r);
    a.finish(r, totals);
    if (r.cycles >= std::numeric_limits<std::int64_t>::max() / 4) {
        r.status = "infeasible";
        r.reason = "the schedule overflows the cycle counter";
    }
    return r;
}

}  // namespace

SimulationResult simulate(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& options) {
    return simulate_prepared(PreparedGraph(g, options.tensor_sparsity), acc, options);
}

SimulationResult simulate(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& options) {
    if (!options.tensor_sparsity.empty() && options.tensor_sparsity != p.sparsity())
        throw InternalError("simulate: options.tensor_sparsity differs from the prepared graph's");
    return simulate_prepared(p, acc, options);
}

}  // namespace transcode::engine
