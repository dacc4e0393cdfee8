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

// Everything both fidelities share: tensor sizes, per-op dynamic energy terms, the final energy
// and utilisation accounting.
class Accounting {
public:
    Accounting(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& o) : g_(g), acc_(acc), o_(o) {
        const std::size_t n = g.tensors.size();
        sparsity_ = o.tensor_sparsity.empty() ? std::vector<double>(n, 0.0) : o.tensor_sparsity;
        if (sparsity_.size() != n) throw InternalError("simulate: tensor_sparsity has the wrong size");
        data_bytes_.resize(n);
        mask_bytes_.resize(n);
        element_bytes_.resize(n);
        for (std::size_t t = 0; t < n; ++t) {
            const TensorDesc& d = g.tensors[t];
            const double s = std::clamp(sparsity_[t], 0.0, 1.0);
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
        // Support units serving each compute kind: dynamic power per busy instance-cycle of that kind.
        std::map<std::string, std::int64_t> kind_count;
        for (const auto& u : acc.units)
            if (u.role == ComponentRole::compute) kind_count[u.unit_kind] += u.count;
        for (const auto& u : acc.units)
            if (u.role == ComponentRole::support && !u.serves.empty() && kind_count.count(u.serves) && (o.training || !u.training_only))
                support_j_per_cycle_[u.serves] += u.dynamic_w * static_cast<double>(u.count) / static_cast<double>(kind_count[u.serves]) / acc.clock_hz;
        lowered_ = lower(g, acc, sparsity_, o.training);
    }

    std::int64_t transfer_cycles(double bytes) const { return bytes > 0 ? static_cast<std::int64_t>(std::ceil(bytes / bytes_per_cycle_ - 1e-9)) : 0; }
    double footprint(TensorId t, BufferClass c) const {
        return c == BufferClass::mask ? mask_bytes_[static_cast<std::size_t>(t)] : data_bytes_[static_cast<std::size_t>(t)];
    }
    double transfer_bytes(TensorId t) const { return data_bytes_[static_cast<std::size_t>(t)] + mask_bytes_[static_cast<std::size_t>(t)]; }
    bool fits(TensorId t) const {
        const auto& d = g_.tensors[static_cast<std::size_t>(t)];
        return data_bytes_[static_cast<std::size_t>(t)] <= capacity_[buffer_index(class_of(d))] &&
               mask_bytes_[static_cast<std::size_t>(t)] <= capacity_[buffer_index(BufferClass::mask)];
    }

    // Dynamic energy of an op's tiles, buffer accesses and support units (transfers are added by
    // the scheduler as they happen). Adds buffer traffic to `buffers`.
    double op_energy(const LoweredOp& l, std::vector<BufferReport>& buffers) const {
        const OpDesc& op = g_.ops[static_cast<std::size_t>(l.op)];
        const double tiles = static_cast<double>(l.tiles);
        double e = tiles * l.energy_per_tile_j;
        auto access = [&](TensorId t, double elements, bool write) {
            const std::size_t ti = static_cast<std::size_t>(t);
            const BufferClass c = class_of(g_.tensors[ti]);
            const double bytes = tiles * elements * element_bytes_[ti];
            const double mask = mask_bytes_[ti] > 0 ? tiles * elements / 8.0 : 0.0;
            (write ? buffers[buffer_index(c)].write_bytes : buffers[buffer_index(c)].read_bytes) += bytes;
            (write ? buffers[buffer_index(BufferClass::mask)].write_bytes : buffers[buffer_index(BufferClass::mask)].read_bytes) += mask;
            e += bytes * buffer_energy_[buffer_index(c)] + mask * buffer_energy_[buffer_index(BufferClass::mask)];
        };
        for (std::size_t k = 0; k < op.inputs.size(); ++k) access(op.inputs[k], static_cast<double>(l.input_tile_elements[k]), false);
        for (TensorId t : op.outputs) access(t, static_cast<double>(l.output_tile_elements), true);
        const UnitGroup& unit = acc_.units[l.unit];
        if (auto it = support_j_per_cycle_.find(unit.unit_kind); it != support_j_per_cycle_.end())
            e += it->second * tiles * static_cast<double>(l.cycles_per_tile);
        return e;
    }
    // Energy of moving tensor t's `bytes` between main memory and its buffers (both ends); adds
    // the buffer side to `buffers` (written when `to_chip`, read otherwise).
    double transfer_energy(TensorId t, double bytes, bool to_chip, std::vector<BufferReport>& buffers) const {
        const std::size_t ti = static_cast<std::size_t>(t);
        const BufferClass c = class_of(g_.tensors[ti]);
        const double mask = std::min(bytes, mask_bytes_[ti]);
        const double data = bytes - mask;
        (to_chip ? buffers[buffer_index(c)].write_bytes : buffers[buffer_index(c)].read_bytes) += data;
        (to_chip ? buffers[buffer_index(BufferClass::mask)].write_bytes : buffers[buffer_index(BufferClass::mask)].read_bytes) += mask;
        return bytes * memory_energy_ + data * buffer_energy_[buffer_index(c)] + mask * buffer_energy_[buffer_index(BufferClass::mask)];
    }
    // Leakage of power-gated compute units (and the support units serving them) while an op runs.
    double gated_leakage(const LoweredOp& l) const {
        const UnitGroup& unit = acc_.units[l.unit];
        if (!acc_.power_gating) return 0.0;
        const double busy_s = static_cast<double>(l.tiles) * static_cast<double>(l.cycles_per_tile) / acc_.clock_hz;
        double p = unit.power_gateable ? unit.leakage_w : 0.0;
        for (const auto& s : acc_.units)
            if (s.role == ComponentRole::support && s.serves == unit.unit_kind && s.power_gateable && (o_.training || !s.training_only))
                p += s.leakage_w * static_cast<double>(s.count) / static_cast<double>(served_count(unit.unit_kind));
        return p * busy_s;
    }
    std::int64_t served_count(const std::string& kind) const {
        std::int64_t n = 0;
        for (const auto& u : acc_.units)
            if (u.role == ComponentRole::compute && u.unit_kind == kind) n += u.count;
        return n;
    }

    // Fills totals, unit reports and phases from the op records.
    void finish(SimulationResult& r) const {
        r.cycles = 0;
        for (const auto& rec : r.ops) r.cycles = std::max(r.cycles, rec.end);
        r.seconds = static_cast<double>(r.cycles) / acc_.clock_hz;
        r.area_mm2 = acc_.area_mm2();
        // Busy instance-cycles per unit group and per compute kind.
        std::vector<double> busy(acc_.units.size(), 0.0);
        std::vector<double> op_dynamic(acc_.units.size(), 0.0);
        std::map<std::string, double> kind_busy;
        r.tiles = 0;
        for (const auto& rec : r.ops) {
            const double b = static_cast<double>(rec.tiles) * static_cast<double>(rec.cycles_per_tile);
            busy[rec.unit] += b;
            kind_busy[acc_.units[rec.unit].unit_kind] += b;
            r.tiles += rec.tiles;
        }
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
        for (const auto& rec : r.ops) {
            const LoweredOp& l = lowered_[static_cast<std::size_t>(rec.op)];
            r.units[rec.unit].dynamic_j += static_cast<double>(l.tiles) * l.energy_per_tile_j;
        }
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
        // Phases.
        std::int64_t prev_end = 0;
        r.phases.clear();
        const std::vector<Phase> phases = o_.training ? std::vector<Phase>{Phase::forward, Phase::backward, Phase::update} : std::vector<Phase>{Phase::forward};
        for (Phase p : phases) {
            PhaseReport pr{p};
            std::int64_t end = prev_end;
            for (const auto& rec : r.ops) {
                if (g_.ops[static_cast<std::size_t>(rec.op)].phase != p) continue;
                ++pr.ops;
                pr.tiles += rec.tiles;
                pr.dynamic_j += rec.dynamic_j;
                pr.leakage_j += rec.gated_leakage_j;
                end = std::max(end, rec.end);
            }
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
    const Accelerator& acc_;
    const SimulationOptions& o_;
    std::vector<double> sparsity_, data_bytes_, mask_bytes_, element_bytes_;
    double capacity_[3] = {0, 0, 0};
    double buffer_energy_[3] = {0, 0, 0};
    double bytes_per_cycle_ = 0;
    double memory_energy_ = 0;
    std::map<std::string, double> support_j_per_cycle_;
    std::vector<LoweredOp> lowered_;
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

    void run(SimulationResult& r) {
        r.buffers = empty_buffers(acc_);
        for (std::size_t i = 0; i < g_.ops.size(); ++i) r.ops.push_back(run_op(static_cast<OpId>(i), r));
    }

private:
    // Issues a transfer of `bytes` on the main-memory channel, not before `after`; returns its end.
    std::int64_t transfer(double bytes, std::int64_t after, const std::string& what, SimulationResult& r, std::int64_t* start_out = nullptr) {
        const std::int64_t start = std::max(channel_free_, after);
        const std::int64_t cycles = a_.transfer_cycles(bytes);
        channel_free_ = start + cycles;
        if (start_out != nullptr) *start_out = start;
        if (o_.trace && cycles > 0) r.trace.push_back({what, "main_memory", start, cycles});
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
                available_[vi] = std::max(available_[vi], transfer(bytes, available_[vi], "write-back " + g_.tensors[vi].name, r));
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
        const LoweredOp& l = a_.lowered_[static_cast<std::size_t>(id)];
        OpRecord rec{id, l.unit, l.tiles, l.cycles_per_tile};
        rec.padded_fraction = l.padded_fraction;
        std::vector<TensorId> pinned = op.inputs;
        pinned.insert(pinned.end(), op.outputs.begin(), op.outputs.end());

        // Inputs: what must come from main memory.
        std::int64_t deps = 0, load_after = 0;
        double load_bytes = 0;
        std::vector<TensorId> loads;
        std::vector<double> fractions;
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
            transfer(load_bytes, load_after, "load for " + op.name, r, &load_start);
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
            rec.end = std::max(rec.end, transfer(stream_bytes, rec.start, "store of " + op.name, r));
            rec.store_bytes += stream_bytes;
            r.memory_write_bytes += stream_bytes;
        }
        for (TensorId t : op.outputs) available_[static_cast<std::size_t>(t)] = rec.end;
        if (o_.trace) r.trace.push_back({op.name, acc_.units[l.unit].name, rec.start, compute_end - rec.start});
        r.stall_memory_cycles += std::max<std::int64_t>(0, rec.data_ready - rec.ready);
        r.stall_unit_cycles += std::max<std::int64_t>(0, rec.start - rec.data_ready);

        rec.dynamic_j += a_.op_energy(l, r.buffers);
        rec.gated_leakage_j = a_.gated_leakage(l);
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
};

// --- analytic fidelity ------------------------------------------------------------------------

void run_analytic(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& o, const Accounting& a, SimulationResult& r) {
    r.buffers = empty_buffers(acc);
    std::vector<bool> on_chip(g.tensors.size(), false);
    std::int64_t now = 0;
    for (std::size_t i = 0; i < g.ops.size(); ++i) {
        const OpDesc& op = g.ops[i];
        const LoweredOp& l = a.lowered_[i];
        OpRecord rec{static_cast<OpId>(i), l.unit, l.tiles, l.cycles_per_tile};
        rec.padded_fraction = l.padded_fraction;
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            const std::size_t ti = static_cast<std::size_t>(t);
            if (on_chip[ti] && a.fits(t)) continue;
            const double bytes = a.transfer_bytes(t) * l.input_fetch_fraction[k];
            rec.load_bytes += bytes;
            rec.dynamic_j += a.transfer_energy(t, bytes, true, r.buffers);
            on_chip[ti] = l.input_fetch_fraction[k] >= 1.0;
        }
        for (TensorId t : op.outputs) {
            on_chip[static_cast<std::size_t>(t)] = true;
            if (!a.fits(t)) {
                rec.store_bytes += a.transfer_bytes(t);
                rec.dynamic_j += a.transfer_energy(t, a.transfer_bytes(t), false, r.buffers);
            }
        }
        const std::int64_t compute = ceil_div(l.tiles, acc.units[l.unit].count) * l.cycles_per_tile;
        const std::int64_t memory = a.transfer_cycles(rec.load_bytes + rec.store_bytes);
        rec.ready = rec.data_ready = rec.start = now;
        rec.end = now + std::max(compute, memory);
        now = rec.end;
        r.memory_read_bytes += rec.load_bytes;
        r.memory_write_bytes += rec.store_bytes;
        rec.dynamic_j += a.op_energy(l, r.buffers);
        rec.gated_leakage_j = a.gated_leakage(l);
        if (o.trace) r.trace.push_back({op.name, acc.units[l.unit].name, rec.start, rec.end - rec.start});
        r.ops.push_back(rec);
    }
}

}  // namespace

std::vector<double> sparsity_per_tensor(const ModelGraph& g, const SparsityByRole& s) {
    std::vector<double> out(g.tensors.size(), 0.0);
    std::vector<bool> produced(g.tensors.size(), false);
    for (const auto& op : g.ops)
        for (TensorId t : op.outputs) produced[static_cast<std::size_t>(t)] = true;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc& d = g.tensors[t];
        if (d.is_integer || d.is_input || !produced[t] || static_cast<TensorId>(t) == g.loss) continue;
        switch (d.role) {
            case TensorRole::activation: out[t] = s.activation; break;
            case TensorRole::activation_gradient: out[t] = s.activation_gradient; break;
            case TensorRole::weight_gradient: out[t] = s.weight_gradient; break;
            default: break;
        }
    }
    return out;
}

SimulationResult simulate(const ModelGraph& g, const Accelerator& acc, const SimulationOptions& options) {
    const Accounting a(g, acc, options);
    SimulationResult r;
    r.fidelity = options.fidelity;
    r.training = options.training;
    if (options.fidelity == Fidelity::event) {
        EventScheduler s(g, acc, options, a);
        s.run(r);
    } else {
        run_analytic(g, acc, options, a, r);
    }
    a.finish(r);
    if (r.cycles >= std::numeric_limits<std::int64_t>::max() / 4) {
        r.status = "infeasible";
        r.reason = "the schedule overflows the cycle counter";
    }
    return r;
}

}  // namespace transcode::engine
