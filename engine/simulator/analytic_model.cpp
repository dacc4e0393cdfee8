// Analytic fidelity: per-op closed forms, ops in sequence, capacity respected through the live
// bytes of each buffer (simulator.hpp). Its loop runs over every op with flat per-type tables and
// no allocation, and builds full OpRecords only when they are asked for.
#include <algorithm>

#include "common/deadline.hpp"
#include "simulator/cost_model.hpp"

namespace transcode::engine::detail {

OpTotals run_analytic(const CostModel& m, SimulationResult& r) {
    const PreparedGraph& p = m.prepared();
    const ModelGraph& g = m.graph();
    const SimulationOptions& o = m.options();
    const Accelerator& acc = m.accelerator();
    const std::size_t n_ops = g.ops.size(), n_tensors = g.tensors.size();
    OpTotals totals;

    // Per tensor type: bytes moved whole, the share of them that is mask, its buffer, whether it fits.
    const std::size_t n_types = p.type_representatives().size();
    std::vector<double> whole(n_types), mask_share(n_types);
    std::vector<std::uint8_t> buffer(n_types), fits(n_types), keeps(n_types);
    for (std::size_t ty = 0; ty < n_types; ++ty) {
        const TensorId rep = p.type_representatives()[ty];
        whole[ty] = m.transfer_bytes(rep);
        mask_share[ty] = whole[ty] > 0 ? m.footprint(rep, BufferClass::mask) / whole[ty] : 0.0;
        buffer[ty] = static_cast<std::uint8_t>(buffer_index(class_of(g.tensors[static_cast<std::size_t>(rep)])));
        fits[ty] = m.fits(rep) ? 1 : 0;
        keeps[ty] = persistent(g.tensors[static_cast<std::size_t>(rep)]) ? 1 : 0;
    }
    // Each buffer's live bytes at each op (prepared_graph.hpp). The fraction of them that fits is
    // what of a tensor is still on chip when an op reads it again.
    const double scale[4] = {acc.data_bits / 8.0, acc.gradient_bits / 8.0, acc.optimizer_state_bits / 8.0, 1.0};
    std::vector<double> live[3];
    for (std::size_t b = 0; b < 2; ++b) {
        live[b].assign(n_ops, 0.0);
        for (std::size_t w = 0; w < 4; ++w)
            for (std::size_t i = 0; i < n_ops; ++i) live[b][i] += p.live(b, static_cast<WidthGroup>(w), i) * scale[w];
    }
    live[2].resize(n_ops);
    for (std::size_t i = 0; i < n_ops; ++i) live[2][i] = p.live_mask(i);
    const double capacity[3] = {m.capacity(0), m.capacity(1), m.capacity(2)};
    for (std::size_t b = 0; b < 3; ++b)
        for (std::size_t i = 0; i < n_ops; ++i) totals.peak[b] = std::max(totals.peak[b], std::min(capacity[b], live[b][i]));
    auto kept = [&](std::size_t b, std::size_t i) { return live[b][i] <= capacity[b] ? 1.0 : capacity[b] / live[b][i]; };

    std::vector<std::uint8_t> on_chip(n_tensors, 0);
    std::vector<double> dirty(n_tensors, 0.0);  ///< the fraction on chip and newer than main memory
    std::vector<TensorId> written;              ///< every tensor ever made dirty, once, for the flush
    written.reserve(n_ops);
    std::vector<std::uint8_t> listed(n_tensors, 0);
    // Per phase: main-memory and fill/drain bytes (their energy is linear in them), class energy.
    double phase_memory[3] = {0, 0, 0}, phase_fill[3][3] = {};
    // Ops per phase and class: what every op of a class costs alike is summed once, at the end.
    const std::size_t n_classes = p.class_representatives().size();
    std::vector<std::int64_t> class_count(3 * n_classes, 0);
    if (o.op_records) r.ops.reserve(n_ops);
    std::int64_t memory_end = 0;  ///< the main-memory stage's end
    std::int64_t last_end = 0;    ///< the latest end of an op so far
    std::vector<std::int64_t> ready_at(n_tensors, 0);  ///< when a tensor's producer ends
    std::vector<std::int32_t> producer(n_tensors, -1);
    struct Span {
        std::int64_t deps = 0, start = 0, end = 0;
        std::int32_t pred = -1;
        std::uint8_t binding = 0;
    };
    std::vector<Span> spans(n_ops);
    const PreparedGraph::Operand* operands = p.operands().data();
    for (std::size_t i = 0; i < n_ops; ++i) {
        if ((i & 63) == 0) check_deadline();  // a co-design evaluation's budget (search.evaluation_timeout_s)
        const std::uint32_t cls = p.op_class(i);
        const ClassCost& cc = m.cost(i);
        const ClassMapping& mp = cc.mapping;
        double read = 0, write = 0, fill[3] = {0, 0, 0}, drain[3] = {0, 0, 0};
        auto move = [&](std::uint32_t ty, double bytes, bool to_chip) {
            (to_chip ? read : write) += bytes;
            double* side = to_chip ? fill : drain;
            side[buffer[ty]] += bytes * (1.0 - mask_share[ty]);
            side[2] += bytes * mask_share[ty];
        };
        const std::uint32_t begin = p.operand_begin(i), mid = begin + p.inputs(i), end = p.operand_begin(i + 1);
        Span& span = spans[i];
        for (std::uint32_t j = begin; j < mid; ++j) {
            const PreparedGraph::Operand& x = operands[j];
            if (x.repeat) continue;
            const std::size_t ti = static_cast<std::size_t>(x.tensor);
            if (ready_at[ti] > span.deps) {
                span.deps = ready_at[ti];
                span.pred = producer[ti];
            }
            const std::uint32_t ty = x.type;
            double hit = 0;
            if (on_chip[ti] && x.fetch_fraction >= 1.0) {
                hit = kept(buffer[ty], i);
                if (mask_share[ty] > 0) hit = std::min(hit, kept(2, i));
            }
            if (dirty[ti] > 0 && hit < 1.0) {  // what was evicted of a dirty tensor was written back first
                move(ty, whole[ty] * dirty[ti] * (1.0 - hit), false);
                dirty[ti] *= hit;
            }
            const double passes = mp.tiled ? mp.input_fetch[x.input] : 1.0;
            if (passes > hit) move(ty, whole[ty] * x.fetch_fraction * (passes - hit), true);
            if (!mp.tiled && x.fetch_fraction >= 1.0 && fits[ty]) on_chip[ti] = 1;
        }
        for (std::uint32_t j = mid; j < end; ++j) {
            const std::size_t ti = static_cast<std::size_t>(operands[j].tensor);
            const std::uint32_t ty = operands[j].type;
            if (operands[j].fetch_fraction < 1.0) {  // a sparse embedding update writes its rows through
                move(ty, whole[ty] * operands[j].fetch_fraction, false);
                on_chip[ti] = 0;
                dirty[ti] = 0.0;
                continue;
            }
            if (!mp.tiled && fits[ty]) {
                on_chip[ti] = 1;
                dirty[ti] = 1.0;
                if (!listed[ti]) {
                    listed[ti] = 1;
                    written.push_back(operands[j].tensor);
                }
                continue;
            }
            move(ty, whole[ty] * mp.output_writes, false);
            if (mp.output_reads > 0) move(ty, whole[ty] * mp.output_reads, true);
            on_chip[ti] = 0;
            dirty[ti] = 0.0;
        }
        // Main memory moves each op's bytes in op order; an op executes (compute, buffer ports,
        // interconnect: its busiest) once its inputs exist and its data has arrived, the latency
        // after its transfer. So loads overlap execution, and independent ops overlap each other
        // (heads, branches); resources shared by overlapping ops are bounded in total below.
        std::int64_t work[resource_count];
        work[resource_index(Resource::compute)] = cc.compute_cycles;
        work[resource_index(Resource::main_memory)] = read + write > 0 ? m.memory_cycles(read, write) : 0;
        for (std::size_t b = 0; b < 3; ++b)
            work[2 + b] = fill[b] + drain[b] > 0 ? m.port_cycles(b, cc.tile_read[b] + drain[b], cc.tile_write[b] + fill[b]) : cc.port_cycles[b];
        work[resource_index(Resource::interconnect)] = cc.link_cycles;
        std::int64_t exec = cc.compute_cycles;
        std::size_t binding = 0;
        for (std::size_t k = 2; k < resource_count; ++k)
            if (work[k] > exec) {
                exec = work[k];
                binding = k;
            }
        std::int64_t start = span.deps;
        if (work[resource_index(Resource::main_memory)] > 0) {
            // A tiled op's tiles take the buffers' space: its transfers wait for the ops before it.
            if (mp.tiled) memory_end = std::max(memory_end, last_end);
            memory_end = std::min(cycle_limit, memory_end + work[resource_index(Resource::main_memory)]);
            start = std::max(start, memory_end + m.latency_cycles());
        }
        const std::size_t ph = static_cast<std::size_t>(p.phase(i));
        for (std::size_t k = 0; k < resource_count; ++k) totals.phase_work[ph][k] += static_cast<double>(work[k]);
        if (read + write > 0) {
            phase_memory[ph] += read + write;
            for (std::size_t b = 0; b < 3; ++b) {
                phase_fill[ph][b] += fill[b] + drain[b];
                totals.traffic.buffer_read[b] += drain[b];
                totals.traffic.buffer_write[b] += fill[b];
            }
            totals.traffic.memory_read += read;
            totals.traffic.memory_write += write;
        }
        ++class_count[ph * n_classes + cls];
        const std::int64_t now = std::min(cycle_limit, start + exec);
        const std::int64_t cycles = now - start;
        span.start = start;
        span.end = now;
        last_end = std::max(last_end, now);
        span.binding = static_cast<std::uint8_t>(binding);
        for (std::uint32_t j = mid; j < end; ++j) {
            ready_at[static_cast<std::size_t>(operands[j].tensor)] = now;
            producer[static_cast<std::size_t>(operands[j].tensor)] = static_cast<std::int32_t>(i);
        }
        totals.starts[ph] = std::min(totals.starts[ph], start);
        totals.ends[ph] = std::max(totals.ends[ph], now);
        if (o.trace) r.trace.push_back({g.ops[i].name, acc.units[m.lowered(i).unit].name, start, cycles});
        if (o.op_records) {
            OpTraffic tr;
            OpRecord rec = m.record(i, tr);
            for (std::size_t b = 0; b < 3; ++b) {
                tr.buffer_read[b] += drain[b];
                tr.buffer_write[b] += fill[b];
            }
            tr.memory_read = read;
            tr.memory_write = write;
            m.set_work(rec, tr);
            rec.dynamic_j += m.transfer_energy(read + write, fill, drain);
            rec.ready = rec.data_ready = rec.start = start;
            rec.end = now;
            r.ops.push_back(std::move(rec));
        }
        if (now >= cycle_limit) {
            totals.overflow = true;
            break;
        }
    }
    // The critical path through the ops, walked back from the op that ends last.
    std::int64_t now = 0;
    std::int64_t x = -1;
    for (std::size_t i = 0; i < n_ops; ++i)
        if (spans[i].end >= now) {
            now = spans[i].end;
            x = static_cast<std::int64_t>(i);
        }
    while (x >= 0) {
        const Span& s = spans[static_cast<std::size_t>(x)];
        totals.critical[s.binding] += s.end - s.start;
        totals.critical[resource_index(Resource::main_memory)] += s.start - s.deps;  // its data arriving
        x = s.pred;
    }
    std::vector<double> group_busy(acc.units.size(), 0.0);
    for (std::size_t ph = 0; ph < 3; ++ph) {
        PhaseReport& s = totals.sums[ph];
        for (std::size_t c = 0; c < n_classes; ++c) {
            const std::int64_t n = class_count[ph * n_classes + c];
            if (n == 0) continue;
            const ClassCost& cc = m.cost(static_cast<std::size_t>(p.class_representatives()[c]));
            const double ops = static_cast<double>(n);
            s.ops += n;
            const LoweredOp& l = m.lowered(static_cast<std::size_t>(p.class_representatives()[c]));
            s.tiles += n * l.tiles;
            group_busy[l.unit] += ops * static_cast<double>(l.tiles) * static_cast<double>(l.cycles_per_tile);
            s.dynamic_j += ops * cc.dynamic_j;
            s.leakage_j += ops * cc.gated_leakage_j;
            for (std::size_t b = 0; b < 3; ++b) {
                totals.traffic.buffer_read[b] += ops * cc.tile_read[b];
                totals.traffic.buffer_write[b] += ops * cc.tile_write[b];
                totals.traffic.link_read += ops * cc.tile_read[b];
                totals.traffic.link_write += ops * cc.tile_write[b];
            }
        }
        s.dynamic_j += m.transfer_energy(phase_memory[ph], phase_fill[ph], nullptr);
        for (std::size_t k = 1; k < resource_count; ++k) totals.busy[k] += totals.phase_work[ph][k];
    }
    // Overlapping ops share their resources: no run is shorter than the busiest one's total work
    // (a compute unit group's busy instance-cycles over its instances, a port's or the channel's
    // cycles). What that adds beyond the path is the binding resource's.
    std::int64_t bound = 0;
    std::size_t bound_by = 0;
    for (std::size_t u = 0; u < acc.units.size(); ++u)
        if (acc.units[u].role == ComponentRole::compute && acc.units[u].count > 0) {
            const std::int64_t c = CostModel::to_cycles(group_busy[u] / static_cast<double>(acc.units[u].count));
            if (c > bound) bound = c, bound_by = 0;
        }
    for (std::size_t k = 1; k < resource_count; ++k)
        if (const std::int64_t c = CostModel::to_cycles(totals.busy[k]); c > bound) bound = c, bound_by = k;
    if (bound > now && !totals.overflow) {
        totals.critical[bound_by] += bound - now;
        now = bound;
        const std::size_t last = static_cast<std::size_t>(o.training ? Phase::update : Phase::forward);
        totals.ends[last] = std::max(totals.ends[last], now);
    }
    // The end-of-step flush: dirty weights, optimizer state and graph outputs.
    double flushed = 0, flush_drain[3] = {0, 0, 0};
    for (const TensorId id : written) {
        const std::size_t t = static_cast<std::size_t>(id);
        if (totals.overflow) break;
        if (dirty[t] > 0 && (keeps[p.tensor_type(id)] || p.consumers(t) == 0)) {
            const std::uint32_t ty = p.tensor_type(id);
            const double bytes = whole[ty] * dirty[t];
            flushed += bytes;
            flush_drain[buffer[ty]] += bytes * (1.0 - mask_share[ty]);
            flush_drain[2] += bytes * mask_share[ty];
        }
    }
    if (flushed > 0) {
        r.flush_bytes = flushed;
        std::int64_t cycles = m.memory_cycles(0, flushed);
        totals.busy[resource_index(Resource::main_memory)] += static_cast<double>(cycles);
        for (std::size_t b = 0; b < 3; ++b) {
            const std::int64_t port = m.port_cycles(b, flush_drain[b], 0);
            totals.busy[2 + b] += static_cast<double>(port);
            cycles = std::max(cycles, port);
            totals.traffic.buffer_read[b] += flush_drain[b];
        }
        totals.traffic.memory_write += flushed;
        const std::size_t last = static_cast<std::size_t>(o.training ? Phase::update : Phase::forward);
        totals.sums[last].dynamic_j += m.transfer_energy(flushed, flush_drain, nullptr);
        const std::int64_t start = std::max(now, memory_end);
        totals.critical[resource_index(Resource::main_memory)] += start + cycles - now;
        now = std::min(cycle_limit, start + cycles);
        totals.ends[last] = std::max(totals.ends[last], now);
        totals.starts[last] = std::min(totals.starts[last], start);
        if (o.trace) r.trace.push_back({"flush", "main_memory", start, cycles});
        if (now >= cycle_limit) totals.overflow = true;
    }
    return totals;
}

}  // namespace transcode::engine::detail
