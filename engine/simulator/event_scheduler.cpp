// Event fidelity: ops in dependency order over the compute pools, the main-memory channel, the
// buffer ports and the interconnect, with buffers that are consistent in time (simulator.hpp).
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "common/deadline.hpp"
#include "simulator/cost_model.hpp"

namespace transcode::engine::detail {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
// ceil(total x part / whole) without overflow (total may be a saturated cycle count).
std::int64_t share(std::int64_t total, std::int64_t part, std::int64_t whole) {
    return static_cast<std::int64_t>((static_cast<__int128>(total) * part + whole - 1) / whole);
}

// A resource that serves one request at a time (the main-memory channel, a buffer port, the
// interconnect): each request takes the earliest gap of its length at or after its ready time, so
// a request issued late in program order does not push the ones after it past idle time.
class Timeline {
public:
    /// Reserves `cycles` (>= 1) from the earliest free moment >= `from`; returns the start.
    std::int64_t reserve(std::int64_t from, std::int64_t cycles) {
        auto it = busy_.upper_bound(from);
        if (it != busy_.begin() && std::prev(it)->second > from) from = std::prev(it)->second;
        while (it != busy_.end() && it->first < from + cycles) {
            from = std::max(from, it->second);
            ++it;
        }
        // Insert [from, from + cycles), merged with the intervals it touches.
        std::int64_t lo = from, hi = from + cycles;
        if (it != busy_.end() && it->first == hi) {
            hi = it->second;
            it = busy_.erase(it);
        }
        if (it != busy_.begin() && std::prev(it)->second == lo) {
            std::prev(it)->second = hi;
        } else {
            busy_.emplace_hint(it, lo, hi);
        }
        end_ = std::max(end_, from + cycles);
        return from;
    }
    std::int64_t end() const { return end_; }

private:
    std::map<std::int64_t, std::int64_t> busy_;  ///< start -> end, disjoint and not touching
    std::int64_t end_ = 0;
};

class EventScheduler {
public:
    explicit EventScheduler(const CostModel& m) : m_(m), g_(m.graph()), acc_(m.accelerator()), o_(m.options()) {
        const std::size_t n = g_.tensors.size();
        resident_.assign(n, false);
        dirty_.assign(n, false);
        available_.assign(n, 0);
        busy_until_.assign(n, 0);
        uses_.assign(n, 0);
        last_use_.assign(n, -1);
        producer_.assign(n, -1);
        for (const auto& op : g_.ops)
            for (TensorId t : op.inputs) ++uses_[static_cast<std::size_t>(t)];
        consumers_ = uses_;
        for (const auto& u : acc_.units) pools_.push_back(u.role == ComponentRole::compute ? o_.pool_factory(u.count) : nullptr);
        steps_.resize(g_.ops.size());
    }

    OpTotals run(SimulationResult& r) {
        if (o_.op_records) r.ops.reserve(g_.ops.size());
        OpTotals totals;
        std::int64_t last_end = 0;
        for (std::size_t i = 0; i < g_.ops.size(); ++i) {
            check_deadline();  // a co-design evaluation's budget (search.evaluation_timeout_s)
            const OpRecord rec = run_op(i, r, totals);
            totals.add(g_.ops[i].phase, rec);
            totals.span(g_.ops[i].phase, steps_[i].begin, rec.end);
            last_end = std::max(last_end, rec.end);
            if (o_.op_records) r.ops.push_back(rec);
            if (rec.end >= cycle_limit || channel_.end() >= cycle_limit) {
                totals.overflow = true;
                return totals;
            }
        }
        // The end-of-step flush: dirty weights, optimizer state and graph outputs still on chip.
        OpTraffic flush;
        std::int64_t flush_end = 0;
        for (std::size_t t = 0; t < g_.tensors.size(); ++t)
            if (resident_[t] && dirty_[t] && (persistent(g_.tensors[t]) || consumers_[t] == 0)) {
                const double bytes = m_.transfer_bytes(static_cast<TensorId>(t));
                m_.transfer(static_cast<TensorId>(t), bytes, false, flush);
                const std::int64_t cycles = m_.memory_cycles(0, bytes);
                if (cycles == 0) continue;
                const std::int64_t start = channel_.reserve(std::max(available_[t], busy_until_[t]), cycles);
                totals.busy[resource_index(Resource::main_memory)] += static_cast<double>(cycles);
                counter(r, "main_memory", start, start + cycles, bytes);
                if (o_.trace) r.trace.push_back({"flush of " + g_.tensors[t].name, "main_memory", start, cycles});
                flush_end = std::max(flush_end, start + cycles);
                // The bytes leave through the tensor's buffer ports too.
                const BufferClass c = class_of(g_.tensors[t]);
                for (BufferClass b : {c, BufferClass::mask}) {
                    const std::size_t i = buffer_index(b);
                    const double share = m_.footprint(static_cast<TensorId>(t), b);
                    if (share <= 0) continue;
                    const std::int64_t port = m_.port_cycles(i, share, 0);
                    const std::int64_t at = ports_[i].reserve(start, port);
                    totals.busy[resource_index(buffer_resource(b))] += static_cast<double>(port);
                    flush_end = std::max(flush_end, at + port);
                }
                r.flush_bytes += bytes;
            }
        totals.add_traffic(flush);
        const Phase last = o_.training ? Phase::update : Phase::forward;
        if (flush_end > 0) totals.span(last, flush_end, flush_end);
        if (flush_end >= cycle_limit) totals.overflow = true;
        for (std::size_t b = 0; b < 3; ++b) totals.peak[b] = peak_[b];
        critical_path(totals, last_end, std::max(last_end, flush_end));
        return totals;
    }

private:
    /// What the critical-path walk needs of every op.
    struct Step {
        std::int64_t begin = 0, ready = 0, data_ready = 0, start = 0, end = 0;
        std::int64_t pred = -1;  ///< the op that produced the input that arrived last
        Resource end_by = Resource::compute;  ///< what the op's end waited for after its first tile
    };

    void counter(SimulationResult& r, const std::string& track, std::int64_t from, std::int64_t to, double bytes) const {
        if (!o_.trace || to <= from) return;
        const double gbps = bytes / static_cast<double>(to - from) * acc_.clock_hz / 1e9;
        r.counters.push_back({track + " GB/s", from, gbps});
        r.counters.push_back({track + " GB/s", to, -gbps});
    }

    // Frees room for `need` bytes in buffer b from whatever is free first: space already released
    // (free when its last reader ends) or the least recently used tensor the op does not touch (free
    // when its readers end and, if dirty and still needed, its write-back is done). Returns the cycle
    // at which the room is free, or nullopt when even that cannot make it (the op's own tensors fill
    // the buffer).
    std::optional<std::int64_t> make_room(std::size_t b, double need, const std::vector<TensorId>& pinned, OpRecord& rec, OpTraffic& tr, SimulationResult& r) {
        std::int64_t at = 0;
        std::vector<std::pair<std::int64_t, double>> taken;
        while (m_.capacity(b) - used_[b] < need - 1e-9) {
            const TensorId v = victim(b, pinned);
            const std::int64_t released = pending_[b].empty() ? std::numeric_limits<std::int64_t>::max() : pending_[b].begin()->first;
            if (v >= 0 && free_time(v) < released) {
                evict(v, rec, tr, r);  // its space becomes pending, taken on the next pass
                continue;
            }
            if (pending_[b].empty()) {
                for (const auto& p : taken) {
                    pending_[b].insert(p);
                    used_[b] += p.second;
                }
                return std::nullopt;
            }
            auto it = pending_[b].begin();
            used_[b] -= it->second;
            at = std::max(at, it->first);
            taken.emplace_back(*it);
            pending_[b].erase(it);
        }
        return at;
    }

    // When evicting v would free its space: after its readers, and its write-back if it needs one.
    std::int64_t free_time(TensorId v) const {
        const std::size_t vi = static_cast<std::size_t>(v);
        if (!(dirty_[vi] && (uses_[vi] > 0 || persistent(g_.tensors[vi]) || consumers_[vi] == 0))) return busy_until_[vi];
        return std::max(available_[vi], busy_until_[vi]) + m_.memory_cycles(0, m_.transfer_bytes(v));  // if the channel is free then
    }

    // The least recently used resident tensor, not touched by the op, that holds bytes in buffer b.
    TensorId victim(std::size_t b, const std::vector<TensorId>& pinned) const {
        auto first = [&](std::size_t cls) -> std::pair<std::int64_t, TensorId> {
            for (const auto& entry : lru_[cls]) {
                const TensorId v = entry.second;
                if (std::find(pinned.begin(), pinned.end(), v) != pinned.end()) continue;
                if (m_.footprint(v, static_cast<BufferClass>(b)) > 0) return entry;
            }
            return {std::numeric_limits<std::int64_t>::max(), -1};
        };
        if (b != buffer_index(BufferClass::mask)) return first(b).second;
        return std::min(first(0), first(1)).second;
    }

    // Evicts v: a dirty copy that is still needed (or persistent, or a graph output) is written
    // back after its last use so far; its space is released when that and every reader are done.
    void evict(TensorId v, OpRecord& rec, OpTraffic& tr, SimulationResult& r) {
        const std::size_t vi = static_cast<std::size_t>(v);
        std::int64_t free_at = busy_until_[vi];
        if (dirty_[vi] && (uses_[vi] > 0 || persistent(g_.tensors[vi]) || consumers_[vi] == 0)) free_at = std::max(free_at, write_back(v, rec, tr, r));
        release(v, free_at);
    }

    std::int64_t write_back(TensorId v, OpRecord& rec, OpTraffic& tr, SimulationResult& r) {
        const std::size_t vi = static_cast<std::size_t>(v);
        const double bytes = m_.transfer_bytes(v);
        rec.dynamic_j += m_.transfer(v, bytes, false, tr);
        const std::int64_t cycles = std::max<std::int64_t>(1, m_.memory_cycles(0, bytes));
        const std::int64_t start = channel_.reserve(std::max(available_[vi], busy_until_[vi]), cycles);
        counter(r, "main_memory", start, start + cycles, bytes);
        if (o_.trace) r.trace.push_back({"write-back of " + g_.tensors[vi].name, "main_memory", start, cycles});
        dirty_[vi] = false;
        available_[vi] = std::max(available_[vi], start + cycles);  // a re-load waits for it
        return start + cycles;
    }

    // Drops t from its buffers; its space becomes free at `free_at`.
    void release(TensorId t, std::int64_t free_at) {
        const std::size_t ti = static_cast<std::size_t>(t);
        if (!resident_[ti]) return;
        resident_[ti] = false;
        const BufferClass c = class_of(g_.tensors[ti]);
        lru_[buffer_index(c)].erase({last_use_[ti], t});
        for (BufferClass b : {c, BufferClass::mask})
            if (const double bytes = m_.footprint(t, b); bytes > 0) pending_[buffer_index(b)].emplace(free_at, bytes);
    }

    // Makes t resident (the cycle its space is free), or nullopt: t is then streamed.
    std::optional<std::int64_t> allocate(TensorId t, const std::vector<TensorId>& pinned, OpRecord& rec, OpTraffic& tr, SimulationResult& r) {
        const std::size_t ti = static_cast<std::size_t>(t);
        const BufferClass c = class_of(g_.tensors[ti]);
        const auto data_at = make_room(buffer_index(c), m_.footprint(t, c), pinned, rec, tr, r);
        if (!data_at) return std::nullopt;
        const auto mask_at = make_room(buffer_index(BufferClass::mask), m_.footprint(t, BufferClass::mask), pinned, rec, tr, r);
        if (!mask_at) return std::nullopt;
        resident_[ti] = true;
        lru_[buffer_index(c)].insert({last_use_[ti], t});
        for (BufferClass b : {c, BufferClass::mask}) {
            used_[buffer_index(b)] += m_.footprint(t, b);
            peak_[buffer_index(b)] = std::max(peak_[buffer_index(b)], used_[buffer_index(b)]);
        }
        return std::max(*data_at, *mask_at);
    }

    OpRecord run_op(std::size_t id, SimulationResult& r, OpTotals& totals) {
        const OpDesc& op = g_.ops[id];
        const LoweredOp& l = m_.lowered(id);
        const ClassCost& cc = m_.cost(id);
        const ClassMapping& mp = cc.mapping;
        OpTraffic tr;
        OpRecord rec = m_.record(id, tr);
        Step& step = steps_[id];
        std::vector<TensorId>& pinned = pinned_;
        pinned.assign(op.inputs.begin(), op.inputs.end());
        pinned.insert(pinned.end(), op.outputs.begin(), op.outputs.end());

        std::int64_t deps = 0;
        for (TensorId t : op.inputs)
            if (available_[static_cast<std::size_t>(t)] > deps) {
                deps = available_[static_cast<std::size_t>(t)];
                step.pred = producer_[static_cast<std::size_t>(t)];
            }
        // A tiled op holds its tiles' footprint in the buffers while it runs.
        std::int64_t space_at = 0;
        double reserved[3] = {0, 0, 0};
        if (mp.tiled)
            for (std::size_t b = 0; b < 3; ++b)
                if (mp.footprint[b] > 0)
                    if (const auto at = make_room(b, mp.footprint[b], pinned, rec, tr, r)) {
                        space_at = std::max(space_at, *at);
                        used_[b] += mp.footprint[b];
                        peak_[b] = std::max(peak_[b], used_[b]);
                        reserved[b] = mp.footprint[b];
                    }
        // Inputs: what must come from main memory.
        double load_bytes = 0;
        std::int64_t load_after = 0;
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            const std::size_t ti = static_cast<std::size_t>(t);
            if (std::find(op.inputs.begin(), op.inputs.begin() + static_cast<std::ptrdiff_t>(k), t) != op.inputs.begin() + static_cast<std::ptrdiff_t>(k)) continue;
            const double fraction = l.input_fetch_fraction[k];
            const double size = m_.transfer_bytes(t) * fraction;
            double bytes = 0;
            if (resident_[ti]) {
                bytes = size * (mp.input_fetch[k] - 1.0);  // a tiled op re-reads what it cannot keep
            } else {
                bytes = size * mp.input_fetch[k];
                // A partial fetch (an embedding's gathered rows) is used once and not kept.
                if (!mp.tiled && fraction >= 1.0 && m_.fits(t))
                    if (const auto at = allocate(t, pinned, rec, tr, r)) space_at = std::max(space_at, *at);
            }
            if (bytes <= 0) continue;
            load_bytes += bytes;
            load_after = std::max(load_after, available_[ti]);
            rec.dynamic_j += m_.transfer(t, bytes, true, tr);
        }
        // Outputs: resident when they fit and the op is not tiled; else streamed to main memory.
        double store_write = 0, store_read = 0;
        const double written = output_write_fraction(op);
        for (TensorId t : op.outputs) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (written < 1.0) {  // a sparse embedding update writes its rows through
                store_write += m_.transfer_bytes(t) * written;
                rec.dynamic_j += m_.transfer(t, m_.transfer_bytes(t) * written, false, tr);
                continue;
            }
            if (!mp.tiled && m_.fits(t))
                if (const auto at = allocate(t, pinned, rec, tr, r)) {
                    space_at = std::max(space_at, *at);
                    dirty_[ti] = true;
                    continue;
                }
            const double w = m_.transfer_bytes(t) * mp.output_writes, rd = m_.transfer_bytes(t) * mp.output_reads;
            store_write += w;
            store_read += rd;
            rec.dynamic_j += m_.transfer(t, w, false, tr) + m_.transfer(t, rd, true, tr);
        }
        std::int64_t load_start = 0, load_cycles = 0;
        if (load_bytes > 0) {
            load_cycles = m_.memory_cycles(load_bytes, 0);
            load_start = channel_.reserve(std::max(load_after, space_at), load_cycles);
            counter(r, "main_memory", load_start, load_start + load_cycles, load_bytes);
            if (o_.trace) r.trace.push_back({"load for " + op.name, "main_memory", load_start, load_cycles});
        }
        step.begin = load_bytes > 0 ? std::min(deps, load_start) : deps;

        // Tiles, in waves of one tile per instance; wave w needs (w+1)/W of the op's loads, which
        // arrive the main memory's latency after they are issued.
        TilePool& pool = *pools_[l.unit];
        const std::int64_t instances = acc_.units[l.unit].count;
        const std::int64_t waves = load_bytes > 0 ? ceil_div(l.tiles, instances) : 1;
        rec.ready = deps;
        rec.start = std::numeric_limits<std::int64_t>::max();
        std::int64_t compute_end = 0;
        for (std::int64_t w = 0; w < waves; ++w) {
            if ((w & 1023) == 1023) check_deadline();  // an op can have billions of waves
            const std::int64_t n = waves == 1 ? l.tiles : (w + 1 < waves ? instances : l.tiles - instances * (waves - 1));
            std::int64_t ready = std::max(deps, space_at);
            if (load_bytes > 0) ready = std::max(ready, load_start + m_.latency_cycles() + share(load_cycles, w + 1, waves));
            if (w == 0) rec.data_ready = ready;
            const DispatchResult d = pool.dispatch(ready, n, l.cycles_per_tile);
            rec.start = std::min(rec.start, d.first_start);
            compute_end = std::max(compute_end, d.last_end);
        }
        if (o_.trace) {
            const double busy = static_cast<double>(std::min(l.tiles, instances));
            r.counters.push_back({acc_.units[l.unit].name + " busy", rec.start, busy});
            r.counters.push_back({acc_.units[l.unit].name + " busy", compute_end, -busy});
        }
        rec.end = compute_end;
        step.end_by = Resource::compute;
        auto bound = [&](std::int64_t end, Resource res) {
            if (end > rec.end) {
                rec.end = end;
                step.end_by = res;
            }
        };
        // Buffer ports and the interconnect serve the op's traffic from its first tile on.
        for (BufferClass b : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
            const std::size_t i = buffer_index(b);
            const std::int64_t cycles = m_.port_cycles(i, tr.buffer_read[i], tr.buffer_write[i]);
            if (cycles == 0) continue;
            const std::int64_t start = ports_[i].reserve(rec.start, cycles);
            counter(r, acc_.buffer(b).name, start, start + cycles, tr.buffer_read[i] + tr.buffer_write[i]);
            bound(start + cycles, buffer_resource(b));
        }
        if (cc.link_cycles > 0) {
            const std::int64_t start = link_.reserve(rec.start, cc.link_cycles);
            counter(r, "interconnect", start, start + cc.link_cycles, tr.link_read + tr.link_write);
            bound(start + cc.link_cycles, Resource::interconnect);
        }
        if (store_write + store_read > 0) {
            const std::int64_t cycles = m_.memory_cycles(store_read, store_write);
            const std::int64_t start = channel_.reserve(rec.start, cycles);
            counter(r, "main_memory", start, start + cycles, store_write + store_read);
            if (o_.trace) r.trace.push_back({"store of " + op.name, "main_memory", start, cycles});
            bound(start + cycles, Resource::main_memory);
        }
        for (TensorId t : op.outputs) {
            available_[static_cast<std::size_t>(t)] = rec.end;
            producer_[static_cast<std::size_t>(t)] = static_cast<std::int64_t>(id);
        }
        for (TensorId t : pinned) busy_until_[static_cast<std::size_t>(t)] = std::max(busy_until_[static_cast<std::size_t>(t)], rec.end);
        for (std::size_t b = 0; b < 3; ++b)
            if (reserved[b] > 0) pending_[b].emplace(rec.end, reserved[b]);
        if (o_.trace) r.trace.push_back({op.name, acc_.units[l.unit].name, rec.start, compute_end - rec.start});

        // Uses, LRU order, and tensors no longer needed (a graph output is written back first).
        for (TensorId t : op.inputs) --uses_[static_cast<std::size_t>(t)];
        for (TensorId t : pinned) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (resident_[ti]) {
                auto& lru = lru_[buffer_index(class_of(g_.tensors[ti]))];
                lru.erase({last_use_[ti], t});
                lru.insert({static_cast<std::int64_t>(id), t});
            }
            last_use_[ti] = static_cast<std::int64_t>(id);
            // A graph output stays until it is flushed (or written back when evicted).
            if (uses_[ti] == 0 && consumers_[ti] > 0 && !persistent(g_.tensors[ti])) release(t, busy_until_[ti]);
        }
        m_.set_work(rec, tr);
        totals.add_traffic(tr);
        step.ready = rec.ready;
        step.data_ready = rec.data_ready;
        step.start = rec.start;
        step.end = rec.end;
        return rec;
    }

    // Walks back from the step's end along the ops whose inputs arrived last; each op contributes
    // [its predecessor's end, its end], split into waiting for data (main memory), for its unit
    // (compute) and its own span (what its end waited for).
    void critical_path(OpTotals& totals, std::int64_t last_end, std::int64_t end) const {
        std::int64_t* c = totals.critical;
        c[resource_index(Resource::main_memory)] += end - last_end;  // the flush
        std::int64_t x = -1;
        for (std::size_t i = 0; i < steps_.size(); ++i)
            if (steps_[i].end == last_end) x = static_cast<std::int64_t>(i);
        while (x >= 0) {
            const Step& s = steps_[static_cast<std::size_t>(x)];
            c[resource_index(s.end_by)] += s.end - s.start;
            c[resource_index(Resource::compute)] += s.start - s.data_ready;
            c[resource_index(Resource::main_memory)] += s.data_ready - s.ready;
            const std::int64_t before = s.pred >= 0 ? steps_[static_cast<std::size_t>(s.pred)].end : 0;
            c[resource_index(Resource::main_memory)] += s.ready - before;
            x = s.pred;
        }
    }

    const CostModel& m_;
    const ModelGraph& g_;
    const Accelerator& acc_;
    const SimulationOptions& o_;
    std::vector<bool> resident_, dirty_;
    std::vector<std::int64_t> available_, busy_until_, uses_, consumers_, last_use_, producer_;
    /// Resident tensors of the activation and weight buffers by (last use, id): the LRU order.
    std::set<std::pair<std::int64_t, TensorId>> lru_[2];
    /// Space released but still busy until a cycle, per buffer: cycle -> bytes.
    std::multimap<std::int64_t, double> pending_[3];
    double used_[3] = {0, 0, 0};  ///< resident, reserved and pending bytes
    double peak_[3] = {0, 0, 0};
    Timeline channel_, ports_[3], link_;
    std::vector<std::unique_ptr<TilePool>> pools_;
    std::vector<Step> steps_;
    std::vector<TensorId> pinned_;  ///< per op, kept to reuse its storage
};

}  // namespace

OpTotals run_event(const CostModel& m, SimulationResult& r) { return EventScheduler(m).run(r); }

}  // namespace transcode::engine::detail
