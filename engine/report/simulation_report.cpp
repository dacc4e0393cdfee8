#include "report/simulation_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "common/atomic_file.hpp"
#include "common/csv_table.hpp"
#include "report/results.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

std::string si(double v, const char* unit) {
    const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
    int i = 0;
    while (std::abs(v) >= 1000.0 && i < 5) {
        v /= 1000.0;
        ++i;
    }
    return fmt::format("{:.4g} {}{}", v, prefixes[i], unit);
}

std::string seconds_text(double s) {
    if (s >= 1) return fmt::format("{:.4g} s", s);
    if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
    return fmt::format("{:.4g} us", s * 1e6);
}

std::string joules_text(double j) {
    if (j >= 1) return fmt::format("{:.4g} J", j);
    if (j >= 1e-3) return fmt::format("{:.4g} mJ", j * 1e3);
    return fmt::format("{:.4g} uJ", j * 1e6);
}

// Utilisation by unit kind: busy instance-cycles over instances x cycles.
std::map<std::string, std::pair<double, double>> by_kind(const SimulationResult& r) {
    std::map<std::string, std::pair<double, double>> k;  // kind -> (busy, capacity)
    for (const auto& u : r.units) {
        if (u.role != ComponentRole::compute) continue;
        k[u.kind].first += u.busy_cycles;
        k[u.kind].second += static_cast<double>(u.count) * static_cast<double>(r.cycles);
    }
    return k;
}

}  // namespace

void add_simulation_results(nlohmann::json& doc, const ModelGraph& g, const Accelerator& acc, const SimulationResult& r, const SparsityByRole& sparsity,
                            const std::string& sparsity_source) {
    nlohmann::json breakdown = nlohmann::json::object();
    for (const auto& u : r.units) breakdown[u.name] = {{"component", acc.units[static_cast<std::size_t>(&u - r.units.data())].info->name}, {"count", u.count}, {"area_mm2", u.area_mm2}};
    doc["accelerator"] = {{"name", acc.name},
                          {"area_mm2", r.area_mm2},
                          {"clock_hz", acc.clock_hz},
                          {"tile", {acc.tile_b, acc.tile_x, acc.tile_y}},
                          {"power_gating", acc.power_gating},
                          {"breakdown", breakdown}};
    nlohmann::json phases = nlohmann::json::object();
    for (const auto& p : r.phases)
        phases[to_string(p.phase)] = {{"ops", p.ops},
                                      {"tiles", p.tiles},
                                      {"start_cycle", p.start},
                                      {"end_cycle", p.end},
                                      {"cycles", p.cycles},
                                      {"exclusive_cycles", p.exclusive_cycles},
                                      {"seconds", static_cast<double>(p.cycles) / acc.clock_hz},
                                      {"binding", to_string(p.binding)},
                                      {"dynamic_j", p.dynamic_j},
                                      {"leakage_j", p.leakage_j},
                                      {"total_j", p.dynamic_j + p.leakage_j}};
    doc["phases"] = phases;
    doc["latency"] = {{"cycles", r.cycles}, {"seconds", r.seconds}};
    nlohmann::json energy_breakdown = nlohmann::json::object();
    for (const auto& u : r.units) energy_breakdown[u.name] = {{"dynamic_j", u.dynamic_j}, {"leakage_j", u.leakage_j}};
    doc["energy"] = {{"dynamic_j", r.dynamic_j}, {"leakage_j", r.leakage_j}, {"total_j", r.total_j()}, {"breakdown", energy_breakdown}};
    nlohmann::json util = nlohmann::json::object();
    for (const auto& [kind, bc] : by_kind(r)) util[kind] = bc.second > 0 ? bc.first / bc.second : 0.0;
    doc["utilisation"] = util;
    nlohmann::json peak = nlohmann::json::object();
    nlohmann::json levels = nlohmann::json::object();
    for (const auto& l : r.levels) {
        nlohmann::json j = {{"unit", l.unit},           {"read_bytes", l.read_bytes},       {"write_bytes", l.write_bytes},
                            {"busy_cycles", l.busy_cycles}, {"busy_fraction", l.busy_fraction}, {"dynamic_j", l.dynamic_j}};
        if (l.level != Resource::main_memory && l.level != Resource::interconnect) {
            j["capacity_bytes"] = l.capacity_bytes;
            j["peak_bytes"] = l.peak_bytes;
            peak[to_string(static_cast<BufferClass>(static_cast<int>(l.level) - 2))] = l.peak_bytes;
        }
        levels[to_string(l.level)] = j;
    }
    doc["memory"] = {{"bytes_read", r.memory_read_bytes}, {"bytes_written", r.memory_write_bytes}, {"flush_bytes", r.flush_bytes}, {"peak_buffer_bytes", peak},
                     {"levels", levels}};
    nlohmann::json critical = nlohmann::json::object();
    for (std::size_t k = 0; k < resource_count; ++k) critical[to_string(static_cast<Resource>(k))] = r.critical_path[k];
    doc["critical_path"] = critical;
    doc["sparsity"] = {{"source", sparsity_source},
                       {"activation", sparsity.activation},
                       {"activation_gradient", sparsity.activation_gradient},
                       {"weight_gradient", sparsity.weight_gradient},
                       {"weight", sparsity.weight}};
    std::int64_t flops_ops = 0;
    for (const auto& op : g.ops) flops_ops += op.phase == Phase::forward ? 1 : 0;
    doc["simulation"] = {{"fidelity", to_string(r.fidelity)}, {"mode", r.training ? "training" : "inference"}, {"ops", r.ops.size()},
                         {"forward_ops", flops_ops}, {"tiles", r.tiles}};
    doc["status"] = r.status;
    if (!r.reason.empty()) doc["reason"] = r.reason;
}

void write_ops_csv(const fs::path& file, const ModelGraph& g, const Accelerator& acc, const SimulationResult& r) {
    CsvTable table({"index", "name", "phase", "kind", "layer", "unit", "tiles", "cycles_per_tile", "start_cycle", "end_cycle", "cycles", "dynamic_j",
                    "load_bytes", "store_bytes", "activation_buffer_bytes", "weight_buffer_bytes", "mask_buffer_bytes", "interconnect_bytes", "binding",
                    "dataflow", "tiled", "padded_fraction"});
    for (const auto& rec : r.ops) {
        const OpDesc& op = g.ops[static_cast<std::size_t>(rec.op)];
        table.add_row({fmt::format("{}", rec.op), op.name, to_string(op.phase), to_string(op.kind), fmt::format("{}", op.layer), acc.units[rec.unit].name,
                       fmt::format("{}", rec.tiles), fmt::format("{}", rec.cycles_per_tile), fmt::format("{}", rec.start), fmt::format("{}", rec.end),
                       fmt::format("{}", rec.end - rec.start), fmt::format("{:.6g}", rec.dynamic_j), fmt::format("{:.0f}", rec.load_bytes),
                       fmt::format("{:.0f}", rec.store_bytes), fmt::format("{:.0f}", rec.buffer_bytes[0]), fmt::format("{:.0f}", rec.buffer_bytes[1]),
                       fmt::format("{:.0f}", rec.buffer_bytes[2]), fmt::format("{:.0f}", rec.interconnect_bytes), to_string(rec.binding), rec.dataflow,
                       rec.tiled ? "1" : "0", fmt::format("{:.4f}", rec.padded_fraction)});
    }
    table.write(file);
}

void write_trace_json(const fs::path& file, const Accelerator& acc, const SimulationResult& r) {
    nlohmann::json events = nlohmann::json::array();
    std::map<std::string, int> tid;
    auto track = [&](const std::string& name) {
        auto [it, inserted] = tid.emplace(name, static_cast<int>(tid.size()) + 1);
        if (inserted) events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", 1}, {"tid", it->second}, {"args", {{"name", name}}}});
        return it->second;
    };
    for (const auto& u : acc.units)
        if (u.role == ComponentRole::compute) track(u.name);
    track("main_memory");
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", 1}, {"args", {{"name", acc.name}}}});
    const double us_per_cycle = 1e6 / acc.clock_hz;
    for (const auto& e : r.trace)
        events.push_back({{"name", e.name}, {"ph", "X"}, {"pid", 1}, {"tid", track(e.track)}, {"ts", static_cast<double>(e.start) * us_per_cycle},
                          {"dur", static_cast<double>(e.cycles) * us_per_cycle}, {"args", {{"start_cycle", e.start}, {"cycles", e.cycles}}}});
    // Counter tracks: the steps summed in time order, one sample per cycle at which a track changes.
    std::vector<TraceCounterStep> steps = r.counters;
    std::stable_sort(steps.begin(), steps.end(), [](const TraceCounterStep& a, const TraceCounterStep& b) { return a.at < b.at; });
    std::map<std::string, double> value;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        value[steps[i].track] += steps[i].delta;
        if (i + 1 < steps.size() && steps[i + 1].at == steps[i].at && steps[i + 1].track == steps[i].track) continue;
        const double v = std::abs(value[steps[i].track]) < 1e-9 ? 0.0 : value[steps[i].track];
        events.push_back({{"name", steps[i].track}, {"ph", "C"}, {"pid", 1}, {"ts", static_cast<double>(steps[i].at) * us_per_cycle}, {"args", {{"value", v}}}});
    }
    write_json_file(file, {{"traceEvents", events}, {"displayTimeUnit", "ns"}});
}

void print_simulation_summary(const std::string& model, const Accelerator& acc, const SimulationResult& r) {
    fmt::print("\n{} on {}: {} ({} fidelity), status {}{}\n", model, acc.name, r.training ? "training step" : "inference", to_string(r.fidelity), r.status,
               r.reason.empty() ? "" : " (" + r.reason + ")");
    fmt::print("  latency      {} cycles = {} at {} MHz ({} tiles)\n", r.cycles, seconds_text(r.seconds), acc.clock_hz / 1e6, r.tiles);
    fmt::print("  energy       {} total = {} dynamic + {} leakage\n", joules_text(r.total_j()), joules_text(r.dynamic_j), joules_text(r.leakage_j));
    fmt::print("  area         {:.3f} mm^2\n", r.area_mm2);
    fmt::print("  memory       {} read, {} written (main memory)\n", si(r.memory_read_bytes, "B"), si(r.memory_write_bytes, "B"));
    for (const auto& l : r.levels) {
        if (l.level == Resource::interconnect && l.unit.empty()) continue;
        std::string held;
        if (l.level != Resource::main_memory && l.level != Resource::interconnect) held = fmt::format(", peak {} of {}", si(l.peak_bytes, "B"), si(l.capacity_bytes, "B"));
        fmt::print("  {:<18} {} read, {} written, busy {:.1f}%{}\n", to_string(l.level), si(l.read_bytes, "B"), si(l.write_bytes, "B"), 100.0 * l.busy_fraction, held);
    }
    std::string path;
    for (std::size_t k = 0; k < resource_count; ++k)
        if (r.critical_path[k] > 0)
            path += fmt::format("{}{} {:.1f}%", path.empty() ? "" : ", ", to_string(static_cast<Resource>(k)),
                                r.cycles > 0 ? 100.0 * static_cast<double>(r.critical_path[k]) / static_cast<double>(r.cycles) : 0.0);
    fmt::print("  critical path {}\n", path);
    std::string util;
    for (const auto& [kind, bc] : by_kind(r)) util += fmt::format("{}{} {:.1f}%", util.empty() ? "" : ", ", kind, bc.second > 0 ? 100.0 * bc.first / bc.second : 0.0);
    fmt::print("  utilisation  {}\n", util);
    fmt::print("  {:<10} {:>6} {:>12} {:>12} {:>12} {:>12} {:>18} {:>12} {:>12}\n", "phase", "ops", "tiles", "start", "end", "only here", "binding", "dynamic",
               "leakage");
    for (const auto& p : r.phases)
        fmt::print("  {:<10} {:>6} {:>12} {:>12} {:>12} {:>12} {:>18} {:>12} {:>12}\n", to_string(p.phase), p.ops, p.tiles, p.start, p.end, p.exclusive_cycles,
                   to_string(p.binding), joules_text(p.dynamic_j), joules_text(p.leakage_j));
}

}  // namespace transcode::engine
