#include "simulator/cost_model.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace transcode::engine::detail {

BufferClass class_of(const TensorDesc& t) { return buffer_class_of(t.role); }

bool persistent(const TensorDesc& t) { return t.role == TensorRole::weight || t.role == TensorRole::optimizer_state; }

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
std::int64_t product(const Shape& s, std::size_t from, std::size_t to) {
    std::int64_t p = 1;
    for (std::size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
    return p;
}

}  // namespace

void OpTotals::add(Phase phase, const OpRecord& rec, std::int64_t ops) {
    const std::size_t ph = static_cast<std::size_t>(phase);
    PhaseReport& s = sums[ph];
    const double n = static_cast<double>(ops);
    s.ops += ops;
    s.tiles += ops * rec.tiles;
    s.dynamic_j += n * rec.dynamic_j;
    s.leakage_j += n * rec.gated_leakage_j;
    for (std::size_t k = 0; k < resource_count; ++k) phase_work[ph][k] += n * static_cast<double>(rec.work_cycles[k]);
    for (std::size_t k = 1; k < resource_count; ++k) busy[k] += n * static_cast<double>(rec.work_cycles[k]);
}

void OpTotals::span(Phase phase, std::int64_t start, std::int64_t end) {
    const std::size_t ph = static_cast<std::size_t>(phase);
    starts[ph] = std::min(starts[ph], start);
    ends[ph] = std::max(ends[ph], end);
}

void OpTotals::add_traffic(const OpTraffic& t, double times) {
    for (std::size_t b = 0; b < 3; ++b) {
        traffic.buffer_read[b] += times * t.buffer_read[b];
        traffic.buffer_write[b] += times * t.buffer_write[b];
    }
    traffic.memory_read += times * t.memory_read;
    traffic.memory_write += times * t.memory_write;
    traffic.link_read += times * t.link_read;
    traffic.link_write += times * t.link_write;
}

CostModel::CostModel(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& o) : g_(p.graph()), p_(p), acc_(acc), o_(o) {
    const ModelGraph& g = g_;
    const std::size_t n = p.type_representatives().size();
    data_bytes_.resize(n);
    mask_bytes_.resize(n);
    element_bytes_.resize(n);
    for (std::size_t t = 0; t < n; ++t) {
        const std::size_t rep = static_cast<std::size_t>(p.type_representatives()[t]);
        const TensorDesc& d = g.tensors[rep];
        const double s = std::clamp(p.sparsity()[rep], 0.0, 1.0);
        const double bits = d.is_integer ? d.bits : acc.bits_of(d.role);
        element_bytes_[t] = bits / 8.0 * (1.0 - s);
        data_bytes_[t] = std::ceil(static_cast<double>(d.elements()) * element_bytes_[t]);
        mask_bytes_[t] = s > 0 ? std::ceil(static_cast<double>(d.elements()) / 8.0) : 0.0;
    }
    for (BufferClass c : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const UnitGroup& b = acc.buffer(c);
        const std::size_t i = buffer_index(c);
        capacity_[i] = b.storage.capacity_bytes;
        buffer_energy_[i] = b.storage.energy_per_byte_j;
        port_read_bpc_[i] = b.storage.read_bandwidth_bytes_per_s / acc.clock_hz;
        port_write_bpc_[i] = b.storage.write_bandwidth_bytes_per_s / acc.clock_hz;
    }
    const UnitGroup& mem = acc.main_memory();
    memory_read_bpc_ = mem.storage.read_bandwidth_bytes_per_s / acc.clock_hz;
    memory_write_bpc_ = mem.storage.write_bandwidth_bytes_per_s / acc.clock_hz;
    memory_energy_ = mem.storage.energy_per_byte_j;
    latency_cycles_ = to_cycles(mem.storage.latency_s * acc.clock_hz);
    // resolve_accelerator refuses these; an Accelerator built in code must not divide by zero.
    for (double bpc : {memory_read_bpc_, memory_write_bpc_, port_read_bpc_[0], port_read_bpc_[1], port_read_bpc_[2], port_write_bpc_[0], port_write_bpc_[1],
                       port_write_bpc_[2]})
        if (!(bpc > 0) || !std::isfinite(bpc))
            throw ConfigError(fmt::format("accelerator '{}': every buffer and the main memory need a finite read and write bandwidth > 0", acc.name));
    memory_read_cpb_ = 1.0 / memory_read_bpc_;
    memory_write_cpb_ = 1.0 / memory_write_bpc_;
    for (std::size_t i = 0; i < 3; ++i) {
        port_read_cpb_[i] = 1.0 / port_read_bpc_[i];
        port_write_cpb_[i] = 1.0 / port_write_bpc_[i];
    }
    if (const UnitGroup* link = acc.interconnect()) {
        link_read_bpc_ = link->storage.read_bandwidth_bytes_per_s / acc.clock_hz;
        link_write_bpc_ = link->storage.write_bandwidth_bytes_per_s / acc.clock_hz;
        link_energy_ = link->storage.energy_per_byte_j;
    }
    const auto df = dataflow_from_string(acc.dataflow);
    if (!df) throw ConfigError(fmt::format("accelerator '{}': unknown dataflow '{}'", acc.name, acc.dataflow));
    dataflow_ = *df;
    fits_.resize(n);
    for (std::size_t t = 0; t < n; ++t)
        fits_[t] = data_bytes_[t] <= capacity_[buffer_index(class_of(g.tensors[static_cast<std::size_t>(p.type_representatives()[t])]))] &&
                   mask_bytes_[t] <= capacity_[buffer_index(BufferClass::mask)];
    // Support units serving each compute unit group's kind: dynamic power per busy instance-cycle
    // of that group; and, with power gating, the leakage power of one busy instance with its share
    // of the gateable support units serving it.
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
    if (infeasible_.empty()) infeasible_ = lowering_.infeasible;
    if (infeasible_.empty() && o.fidelity == Fidelity::event) {
        double waves = 0;
        for (std::size_t i = 0; i < g.ops.size(); ++i) {
            const LoweredOp& l = lowering_.of(i);
            waves += std::ceil(static_cast<double>(l.tiles) / static_cast<double>(acc.units[l.unit].count));
        }
        if (waves > max_event_waves)
            infeasible_ = fmt::format("the event fidelity would schedule {:.3g} waves of tiles, more than the limit of 2^25 ({:.3g}); "
                                      "the analytic fidelity simulates it (is the model absurdly sized?)",
                                      waves, max_event_waves);
    }
    class_cost_.reserve(lowering_.classes.size());
    for (const LoweredOp& l : lowering_.classes) class_cost_.push_back(class_cost(l));
}

ClassMapping CostModel::class_mapping(const LoweredOp& l) {
    ClassMapping m;
    const OpDesc& op = g_.ops[static_cast<std::size_t>(l.op)];
    m.input_fetch.assign(op.inputs.size(), 1.0);
    if (op.kind != OpKind::matmul) return m;
    const TensorId ta = op.inputs[0], tb = op.inputs[1], tc = op.outputs[0];
    const Shape& a = g_.tensors[static_cast<std::size_t>(ta)].shape;
    const Shape& b = g_.tensors[static_cast<std::size_t>(tb)].shape;
    const Shape& c = g_.tensors[static_cast<std::size_t>(tc)].shape;
    if (a.size() < 2 || b.size() < 2 || c.size() < 2) return m;
    GemmProblem q;
    q.m = c[c.size() - 2];
    q.n = c.back();
    q.k = op.attr("transpose_a") != 0.0 ? a[a.size() - 2] : a.back();
    const std::int64_t a_batch = product(a, 0, a.size() - 2);
    if (op.attr("batch_reduce") != 0.0)
        q.k *= a_batch;  // a weight gradient: the reduction runs over the batch too
    else if (b.size() == 2)
        q.m *= a_batch;  // a shared B (a weight): the batch folds into the rows
    else
        q.batch = product(c, 0, c.size() - 2);
    const TensorId operands[3] = {ta, tb, tc};
    for (std::size_t i = 0; i < 3; ++i) {
        q.element_bytes[i] = element_bytes_[p_.tensor_type(operands[i])];
        q.buffer[i] = static_cast<int>(buffer_index(class_of(g_.tensors[static_cast<std::size_t>(operands[i])])));
    }
    q.min_tile[0] = acc_.tile_x;
    q.min_tile[1] = acc_.tile_y;
    q.min_tile[2] = acc_.tile_y;
    // Double buffering: the tiles get half of each buffer, so that the next tiles (and the next op's
    // data) load while these compute, and what else is resident is not all evicted.
    const double caps[2] = {capacity_[0] / 2, capacity_[1] / 2};
    const GemmMapping g = map_gemm(q, caps, dataflow_);
    if (!g.feasible) {
        if (infeasible_.empty()) {
            std::string why = g.reason;
            for (const auto& [from, to] : {std::pair<std::string, std::string>{"buffer 0 holds", "the activation buffer holds"}, {"buffer 1 holds", "the weight buffer holds"}})
                if (why.rfind(from, 0) == 0) why = to + why.substr(from.size());
            infeasible_ = fmt::format("op '{}' ({}): no tile fits the buffers (tiles get half of each buffer): {}", op.name, to_string(op.kind), why);
        }
        return m;
    }
    m.dataflow = to_string(g.dataflow);
    m.tiled = g.fetches[0] > 1 || g.fetches[1] > 1 || g.fetches[2] > 1;
    if (!m.tiled) return m;
    m.input_fetch[0] = g.fetches[0];
    m.input_fetch[1] = g.fetches[1];
    m.output_writes = g.fetches[2];
    m.output_reads = g.fetches[2] - 1;
    const double tm = static_cast<double>(g.tile_m), tn = static_cast<double>(g.tile_n), tk = static_cast<double>(g.tile_k);
    m.footprint[q.buffer[0]] += tm * tk * q.element_bytes[0];
    m.footprint[q.buffer[1]] += tk * tn * q.element_bytes[1];
    m.footprint[q.buffer[2]] += tm * tn * q.element_bytes[2];
    return m;
}

ClassCost CostModel::class_cost(const LoweredOp& l) {
    ClassCost c;
    const OpDesc& op = g_.ops[static_cast<std::size_t>(l.op)];
    const double tiles = static_cast<double>(l.tiles);
    c.dynamic_j = tiles * l.energy_per_tile_j;
    double link_read = 0, link_write = 0;
    auto access = [&](TensorId t, double elements, bool write) {
        const std::size_t b = buffer_index(class_of(g_.tensors[static_cast<std::size_t>(t)]));
        const std::uint32_t ty = p_.tensor_type(t);
        const double bytes = tiles * elements * element_bytes_[ty];
        const double mask = mask_bytes_[ty] > 0 ? tiles * elements / 8.0 : 0.0;
        (write ? c.tile_write : c.tile_read)[b] += bytes;
        (write ? c.tile_write : c.tile_read)[buffer_index(BufferClass::mask)] += mask;
        (write ? link_write : link_read) += bytes + mask;
        c.dynamic_j += bytes * buffer_energy_[b] + mask * buffer_energy_[buffer_index(BufferClass::mask)] + (bytes + mask) * link_energy_;
    };
    for (std::size_t k = 0; k < op.inputs.size(); ++k) access(op.inputs[k], static_cast<double>(l.input_tile_elements[k]), false);
    for (TensorId t : op.outputs) access(t, static_cast<double>(l.output_tile_elements), true);
    c.dynamic_j += support_j_per_cycle_[l.unit] * tiles * static_cast<double>(l.cycles_per_tile);
    if (acc_.power_gating) c.gated_leakage_j = gated_w_[l.unit] * tiles * static_cast<double>(l.cycles_per_tile) / acc_.clock_hz;
    c.compute_cycles = static_cast<std::int64_t>(
        std::min<__int128>(static_cast<__int128>(ceil_div(l.tiles, acc_.units[l.unit].count)) * l.cycles_per_tile, cycle_limit));
    if (link_read_bpc_ > 0) c.link_cycles = to_cycles(bytes_cycles(link_read, 1.0 / link_read_bpc_) + bytes_cycles(link_write, 1.0 / link_write_bpc_));
    for (std::size_t b = 0; b < 3; ++b) c.port_cycles[b] = port_cycles(b, c.tile_read[b], c.tile_write[b]);
    c.mapping = class_mapping(l);
    return c;
}

double CostModel::transfer(TensorId t, double bytes, bool to_chip, OpTraffic& traffic) const {
    if (!(bytes > 0)) return 0.0;
    const std::size_t c = buffer_index(class_of(g_.tensors[static_cast<std::size_t>(t)]));
    const std::size_t m = buffer_index(BufferClass::mask);
    const double whole = transfer_bytes(t);
    const double mask = whole > 0 ? bytes * mask_bytes_[p_.tensor_type(t)] / whole : 0.0;
    const double data = bytes - mask;
    (to_chip ? traffic.buffer_write : traffic.buffer_read)[c] += data;
    (to_chip ? traffic.buffer_write : traffic.buffer_read)[m] += mask;
    (to_chip ? traffic.memory_read : traffic.memory_write) += bytes;
    return bytes * memory_energy_ + data * buffer_energy_[c] + mask * buffer_energy_[m];
}

OpRecord CostModel::record(std::size_t op, OpTraffic& traffic) const {
    const LoweredOp& l = lowered(op);
    const ClassCost& c = cost(op);
    OpRecord rec;
    rec.op = static_cast<OpId>(op);
    rec.unit = l.unit;
    rec.tiles = l.tiles;
    rec.cycles_per_tile = l.cycles_per_tile;
    rec.padded_fraction = l.padded_fraction;
    rec.dynamic_j = c.dynamic_j;
    rec.gated_leakage_j = c.gated_leakage_j;
    rec.dataflow = c.mapping.dataflow;
    rec.tiled = c.mapping.tiled;
    for (std::size_t b = 0; b < 3; ++b) {
        traffic.buffer_read[b] += c.tile_read[b];
        traffic.buffer_write[b] += c.tile_write[b];
        traffic.link_read += c.tile_read[b];
        traffic.link_write += c.tile_write[b];
    }
    return rec;
}

void CostModel::set_work(OpRecord& rec, const OpTraffic& t) const {
    const ClassCost& c = cost(static_cast<std::size_t>(rec.op));
    rec.work_cycles[resource_index(Resource::compute)] = c.compute_cycles;
    rec.work_cycles[resource_index(Resource::main_memory)] = memory_cycles(t.memory_read, t.memory_write);
    for (BufferClass b : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const std::size_t i = buffer_index(b);
        rec.work_cycles[resource_index(buffer_resource(b))] = port_cycles(i, t.buffer_read[i], t.buffer_write[i]);
        rec.buffer_bytes[i] = t.buffer_read[i] + t.buffer_write[i];
    }
    rec.work_cycles[resource_index(Resource::interconnect)] = c.link_cycles;
    rec.interconnect_bytes = t.link_read + t.link_write;
    rec.load_bytes = t.memory_read;
    rec.store_bytes = t.memory_write;
    std::size_t best = 0;
    for (std::size_t k = 1; k < resource_count; ++k)
        if (rec.work_cycles[k] > rec.work_cycles[best]) best = k;
    rec.binding = static_cast<Resource>(best);
}

std::int64_t CostModel::served_count(const std::string& kind) const {
    std::int64_t n = 0;
    for (const auto& u : acc_.units)
        if (u.role == ComponentRole::compute && u.unit_kind == kind) n += u.count;
    return n;
}

void CostModel::finish(SimulationResult& r, const OpTotals& totals) const {
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
    r.seconds = static_cast<double>(r.cycles) / acc_.clock_hz;
    r.area_mm2 = acc_.area_mm2();
    r.memory_read_bytes = totals.traffic.memory_read;
    r.memory_write_bytes = totals.traffic.memory_write;
    for (std::size_t k = 0; k < resource_count; ++k) r.critical_path[k] = totals.critical[k];

    // Levels: main memory, the three buffers, the interconnect.
    const double total_cycles = static_cast<double>(std::max<std::int64_t>(r.cycles, 1));
    r.levels.clear();
    auto level = [&](Resource res, const std::string& unit, double cap, double read, double write, double energy_per_byte) {
        LevelReport lr{res, unit, cap, 0.0, read, write};
        lr.busy_cycles = totals.busy[resource_index(res)];
        lr.busy_fraction = lr.busy_cycles / total_cycles;
        lr.dynamic_j = (read + write) * energy_per_byte;
        r.levels.push_back(std::move(lr));
    };
    level(Resource::main_memory, acc_.main_memory().name, 0.0, totals.traffic.memory_read, totals.traffic.memory_write, memory_energy_);
    for (BufferClass b : {BufferClass::activation, BufferClass::weight, BufferClass::mask}) {
        const std::size_t i = buffer_index(b);
        level(buffer_resource(b), acc_.buffer(b).name, capacity_[i], totals.traffic.buffer_read[i], totals.traffic.buffer_write[i], buffer_energy_[i]);
    }
    const UnitGroup* link = acc_.interconnect();
    level(Resource::interconnect, link != nullptr ? link->name : "", 0.0, totals.traffic.link_read, totals.traffic.link_write, link_energy_);
    for (std::size_t b = 0; b < 3; ++b) r.levels[b + 1].peak_bytes = totals.peak[b];

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
            ur.dynamic_j = tile_j[i];
        } else if (u.role == ComponentRole::support && !u.serves.empty()) {
            const std::int64_t served = served_count(u.serves);
            ur.busy_cycles = served > 0 && active ? kind_busy[u.serves] * n / static_cast<double>(served) : 0.0;
            ur.dynamic_j = u.dynamic_w * ur.busy_cycles / acc_.clock_hz;
        } else if (u.role == ComponentRole::support) {
            ur.busy_cycles = n * static_cast<double>(r.cycles);
            ur.dynamic_j = u.dynamic_w * n * r.seconds;
        } else {
            const Resource res = u.role == ComponentRole::main_memory ? Resource::main_memory
                                 : u.role == ComponentRole::buffer    ? buffer_resource(u.buffer_class)
                                                                      : Resource::interconnect;
            const LevelReport& lr = r.level(res);
            ur.busy_cycles = lr.busy_cycles;
            ur.dynamic_j = lr.dynamic_j;
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
    r.dynamic_j = 0;
    r.leakage_j = 0;
    for (const auto& ur : r.units) {
        r.dynamic_j += ur.dynamic_j;
        r.leakage_j += ur.leakage_j;
    }
    // Phases: [start, end] spans; always-on energy over the cycles from the previous phase's end.
    const std::vector<Phase> phases = o_.training ? std::vector<Phase>{Phase::forward, Phase::backward, Phase::update} : std::vector<Phase>{Phase::forward};
    r.phases.clear();
    std::int64_t prev_end = 0;
    for (Phase p : phases) {
        const std::size_t ph = static_cast<std::size_t>(p);
        PhaseReport pr = totals.sums[ph];
        pr.phase = p;
        pr.start = totals.starts[ph] == std::numeric_limits<std::int64_t>::max() ? prev_end : totals.starts[ph];
        pr.end = std::max(pr.start, totals.ends[ph]);
        pr.cycles = pr.end - pr.start;
        std::size_t best = 0;
        for (std::size_t k = 1; k < resource_count; ++k)
            if (totals.phase_work[ph][k] > totals.phase_work[ph][best]) best = k;
        pr.binding = static_cast<Resource>(best);
        const std::int64_t end = std::max(prev_end, pr.end);
        const double owned = static_cast<double>(end - prev_end);
        prev_end = end;
        pr.leakage_j += always_on_w * owned / acc_.clock_hz;
        for (const auto& u : acc_.units)
            if (u.role == ComponentRole::support && u.serves.empty()) pr.dynamic_j += u.dynamic_w * static_cast<double>(u.count) * owned / acc_.clock_hz;
        r.phases.push_back(pr);
    }
    // Exclusive cycles: the part of each span no other span covers.
    for (std::size_t i = 0; i < r.phases.size(); ++i) {
        std::vector<std::pair<std::int64_t, std::int64_t>> others;
        for (std::size_t j = 0; j < r.phases.size(); ++j)
            if (j != i && r.phases[j].end > r.phases[j].start) others.emplace_back(r.phases[j].start, r.phases[j].end);
        std::sort(others.begin(), others.end());
        std::int64_t covered = 0, at = r.phases[i].start;
        for (const auto& [s, e] : others) {
            const std::int64_t lo = std::max(s, at), hi = std::min(e, r.phases[i].end);
            if (hi > lo) {
                covered += hi - lo;
                at = hi;
            }
        }
        r.phases[i].exclusive_cycles = r.phases[i].cycles - covered;
    }
}

}  // namespace transcode::engine::detail
