// Analytic fidelity: per-op closed forms, ops in sequence, capacity respected through the live
// bytes of each buffer (simulator.hpp).
#include <algorithm>

#include "simulator/cost_model.hpp"

namespace transcode::engine::detail {

OpTotals run_analytic(const CostModel& m, SimulationResult& r) {
    const ModelGraph& g = m.graph();
    const SimulationOptions& o = m.options();
    const Accelerator& acc = m.accelerator();
    const std::size_t n_ops = g.ops.size(), n_tensors = g.tensors.size();
    OpTotals totals;

    // Live bytes per buffer at each op: every tensor from its first to its last touch.
    std::vector<std::int64_t> first(n_tensors, -1), last(n_tensors, -1), consumers(n_tensors, 0);
    for (std::size_t i = 0; i < n_ops; ++i) {
        const OpDesc& op = g.ops[i];
        for (TensorId t : op.inputs) ++consumers[static_cast<std::size_t>(t)];
        auto touch = [&](TensorId t) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (first[ti] < 0) first[ti] = static_cast<std::int64_t>(i);
            last[ti] = static_cast<std::int64_t>(i);
        };
        for (TensorId t : op.inputs) touch(t);
        for (TensorId t : op.outputs) touch(t);
    }
    std::vector<double> live[3];
    for (auto& l : live) l.assign(n_ops + 1, 0.0);
    for (std::size_t t = 0; t < n_tensors; ++t) {
        if (first[t] < 0) continue;
        const TensorId id = static_cast<TensorId>(t);
        const BufferClass c = class_of(g.tensors[t]);
        for (BufferClass b : {c, BufferClass::mask}) {
            const double bytes = m.footprint(id, b);
            live[buffer_index(b)][static_cast<std::size_t>(first[t])] += bytes;
            live[buffer_index(b)][static_cast<std::size_t>(last[t]) + 1] -= bytes;
        }
    }
    for (auto& l : live)
        for (std::size_t i = 1; i <= n_ops; ++i) l[i] += l[i - 1];
    // The fraction of what an op's buffer holds live that fits: what is still on chip.
    auto kept = [&](std::size_t b, std::size_t i) { return live[b][i] <= m.capacity(b) ? 1.0 : m.capacity(b) / live[b][i]; };

    std::vector<bool> on_chip(n_tensors, false);
    std::vector<double> dirty(n_tensors, 0.0);  ///< the fraction of a tensor on chip and newer than main memory
    if (o.op_records) r.ops.reserve(n_ops);
    std::int64_t now = 0;
    for (std::size_t i = 0; i < n_ops; ++i) {
        const OpDesc& op = g.ops[i];
        const LoweredOp& l = m.lowered(i);
        const ClassMapping& mp = m.cost(i).mapping;
        OpTraffic tr;
        OpRecord rec = m.record(i, tr);
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            const std::size_t ti = static_cast<std::size_t>(t);
            if (std::find(op.inputs.begin(), op.inputs.begin() + static_cast<std::ptrdiff_t>(k), t) != op.inputs.begin() + static_cast<std::ptrdiff_t>(k)) continue;
            const double fraction = l.input_fetch_fraction[k];
            const double whole = m.transfer_bytes(t);
            double hit = 0;
            if (on_chip[ti] && fraction >= 1.0) {
                hit = kept(buffer_index(class_of(g.tensors[ti])), i);
                if (m.footprint(t, BufferClass::mask) > 0) hit = std::min(hit, kept(buffer_index(BufferClass::mask), i));
            }
            // What was evicted of a dirty tensor was written back first.
            if (dirty[ti] > 0 && hit < 1.0) {
                rec.dynamic_j += m.transfer(t, whole * dirty[ti] * (1.0 - hit), false, tr);
                dirty[ti] *= hit;
            }
            const double passes = mp.tiled ? mp.input_fetch[k] : 1.0;
            rec.dynamic_j += m.transfer(t, whole * fraction * (passes - hit), true, tr);
            if (!mp.tiled && fraction >= 1.0 && m.fits(t)) on_chip[ti] = true;
        }
        for (TensorId t : op.outputs) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (!mp.tiled && m.fits(t)) {
                on_chip[ti] = true;
                dirty[ti] = 1.0;
                continue;
            }
            const double whole = m.transfer_bytes(t);
            rec.dynamic_j += m.transfer(t, whole * mp.output_writes, false, tr) + m.transfer(t, whole * mp.output_reads, true, tr);
            on_chip[ti] = false;
            dirty[ti] = 0.0;
        }
        m.set_work(rec, tr);
        // The op lasts as long as its busiest resource; main memory adds its latency once.
        std::int64_t cycles = 0;
        Resource binding = Resource::compute;
        for (std::size_t k = 0; k < resource_count; ++k) {
            std::int64_t c = rec.work_cycles[k];
            if (k == resource_index(Resource::main_memory) && c > 0) c += m.latency_cycles();
            if (c > cycles) {
                cycles = c;
                binding = static_cast<Resource>(k);
            }
        }
        totals.critical[resource_index(binding)] += cycles;
        totals.add(g.ops[i].phase, rec);
        totals.add_traffic(tr);
        rec.ready = rec.data_ready = rec.start = now;
        now = std::min(cycle_limit, now + cycles);
        rec.end = now;
        totals.span(g.ops[i].phase, rec.start, rec.end);
        if (o.trace) r.trace.push_back({op.name, acc.units[l.unit].name, rec.start, cycles});
        if (o.op_records) r.ops.push_back(std::move(rec));
        if (now >= cycle_limit) {
            totals.overflow = true;
            return totals;
        }
    }
    // The end-of-step flush.
    OpTraffic flush;
    for (std::size_t t = 0; t < n_tensors; ++t)
        if (dirty[t] > 0 && (persistent(g.tensors[t]) || consumers[t] == 0)) {
            const double bytes = m.transfer_bytes(static_cast<TensorId>(t)) * dirty[t];
            m.transfer(static_cast<TensorId>(t), bytes, false, flush);
            r.flush_bytes += bytes;
        }
    if (flush.memory_write > 0) {
        const std::int64_t cycles = std::max(m.memory_cycles(0, flush.memory_write), [&] {
            std::int64_t c = 0;
            for (std::size_t b = 0; b < 3; ++b) c = std::max(c, m.port_cycles(b, flush.buffer_read[b], 0));
            return c;
        }());
        totals.busy[resource_index(Resource::main_memory)] += static_cast<double>(m.memory_cycles(0, flush.memory_write));
        for (std::size_t b = 0; b < 3; ++b)
            totals.busy[resource_index(buffer_resource(static_cast<BufferClass>(b)))] += static_cast<double>(m.port_cycles(b, flush.buffer_read[b], 0));
        totals.add_traffic(flush);
        totals.critical[resource_index(Resource::main_memory)] += cycles;
        const std::int64_t start = now;
        now = std::min(cycle_limit, now + cycles);
        totals.span(o.training ? Phase::update : Phase::forward, start, now);
        if (o.trace) r.trace.push_back({"flush", "main_memory", start, cycles});
        if (now >= cycle_limit) totals.overflow = true;
    }
    return totals;
}

}  // namespace transcode::engine::detail
