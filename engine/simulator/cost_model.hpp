// What both fidelities of ELECTOR share (internal to engine/simulator): the bytes of every tensor
// type, each memory level's bandwidth and energy, every op class's lowered cost and mapping, the
// sums taken as ops are scheduled, and the final energy, utilisation, level and phase accounting.
// simulator.hpp describes the model; event_scheduler.cpp and analytic_model.cpp apply it.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "simulator/simulator.hpp"

namespace transcode::engine::detail {

BufferClass class_of(const TensorDesc& t);
/// Weights and optimizer state live on after their last use (until evicted or flushed).
bool persistent(const TensorDesc& t);
constexpr std::size_t buffer_index(BufferClass c) { return static_cast<std::size_t>(c); }
constexpr std::size_t resource_index(Resource r) { return static_cast<std::size_t>(r); }
/// Times beyond this are an overflow: the run is reported infeasible ("overflow").
constexpr std::int64_t cycle_limit = std::int64_t{1} << 60;
/// Event fidelity schedules an op's tiles wave by wave (one tile per instance) when it loads data:
/// at most this many waves in a run, summed over its ops (ceil(tiles / instances) each), or the
/// pair is infeasible before any is scheduled. The loop does about 10^6 waves a second (measured:
/// 8.4e6 waves in 7.7 s on a shared core), so 2^25 is at most about 30 s; the analytic fidelity
/// has no such limit. The sum is an upper bound: an op without loads dispatches its tiles at once.
constexpr double max_event_waves = 0x1p25;

/// How an op class's operands cross main memory <-> buffer (engine/mapping for matmuls).
struct ClassMapping {
    bool tiled = false;              ///< some operand crosses more than once: the op streams them all
    std::string dataflow;            ///< matmuls only
    std::vector<double> input_fetch;  ///< per input: times it is read whole (1 unless tiled)
    double output_writes = 1;        ///< times the output is written whole (partial sums included)
    double output_reads = 0;         ///< times partial sums of the output are read back
    double footprint[3] = {0, 0, 0};  ///< a tiled op's tiles, bytes reserved per buffer while it runs
};

/// What every op of a lowered class costs, apart from its main-memory traffic.
struct ClassCost {
    double dynamic_j = 0;               ///< tiles, buffer and interconnect accesses, support units
    double tile_read[3] = {0, 0, 0};    ///< bytes the tiles read from each buffer
    double tile_write[3] = {0, 0, 0};   ///< bytes the tiles write to each buffer
    double gated_leakage_j = 0;
    std::int64_t compute_cycles = 0;    ///< waves of tiles on its unit group
    std::int64_t link_cycles = 0;       ///< interconnect
    std::int64_t port_cycles[3] = {0, 0, 0};  ///< each buffer's port for the tiles' traffic alone
    ClassMapping mapping;
};

/// An op's traffic per level, as scheduled.
struct OpTraffic {
    double buffer_read[3] = {0, 0, 0}, buffer_write[3] = {0, 0, 0};
    double memory_read = 0, memory_write = 0;
    double link_read = 0, link_write = 0;
};

/// Sums taken as ops are scheduled (per phase, per level), and the critical path.
struct OpTotals {
    PhaseReport sums[3];
    std::int64_t starts[3] = {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max(),
                              std::numeric_limits<std::int64_t>::max()};
    std::int64_t ends[3] = {0, 0, 0};
    double phase_work[3][resource_count] = {};
    OpTraffic traffic;                       ///< all ops, plus write-backs and the flush
    double busy[resource_count] = {};        ///< busy cycles per resource (compute unused)
    double link_busy = 0;
    std::int64_t critical[resource_count] = {};
    double peak[3] = {0, 0, 0};              ///< bytes held or reserved at once, per buffer
    bool overflow = false;
    void add(Phase phase, const OpRecord& rec, std::int64_t ops = 1);
    void span(Phase phase, std::int64_t start, std::int64_t end);
    void add_traffic(const OpTraffic& t, double times = 1);
};

class CostModel {
public:
    CostModel(const PreparedGraph& p, const Accelerator& acc, const SimulationOptions& o);

    const ModelGraph& graph() const { return g_; }
    const PreparedGraph& prepared() const { return p_; }
    const Accelerator& accelerator() const { return acc_; }
    const SimulationOptions& options() const { return o_; }
    /// Why the pair cannot run (a matmul whose smallest tile does not fit), or "".
    const std::string& infeasible() const { return infeasible_; }

    const LoweredOp& lowered(std::size_t op) const { return lowering_.of(op); }
    const ClassCost& cost(std::size_t op) const { return class_cost_[p_.op_class(op)]; }
    bool fits(TensorId t) const { return fits_[p_.tensor_type(t)]; }
    double footprint(TensorId t, BufferClass c) const { return c == BufferClass::mask ? mask_bytes_[p_.tensor_type(t)] : data_bytes_[p_.tensor_type(t)]; }
    double transfer_bytes(TensorId t) const { return data_bytes_[p_.tensor_type(t)] + mask_bytes_[p_.tensor_type(t)]; }
    double capacity(std::size_t b) const { return capacity_[b]; }

    /// Channel occupancy of a main-memory transfer (saturates at cycle_limit).
    std::int64_t memory_cycles(double read, double write) const { return to_cycles(bytes_cycles(read, memory_read_cpb_) + bytes_cycles(write, memory_write_cpb_)); }
    std::int64_t latency_cycles() const { return latency_cycles_; }
    std::int64_t port_cycles(std::size_t b, double read, double write) const {
        return to_cycles(bytes_cycles(read, port_read_cpb_[b]) + bytes_cycles(write, port_write_cpb_[b]));
    }
    /// Bytes of tensor t moved between main memory and its buffers: the main-memory energy and the
    /// buffer side (written when `to_chip`, read otherwise), added to `traffic`. Returns the energy.
    double transfer(TensorId t, double bytes, bool to_chip, OpTraffic& traffic) const;
    /// The energy of `memory_bytes` through main memory and, per buffer, `a[b]` (+ `b[b]`) bytes
    /// through its port: what transfer() charges, summed (b may be nullptr).
    double transfer_energy(double memory_bytes, const double* a, const double* b) const {
        double e = memory_bytes * memory_energy_;
        for (std::size_t i = 0; i < 3; ++i) e += (a[i] + (b != nullptr ? b[i] : 0.0)) * buffer_energy_[i];
        return e;
    }
    /// Fills the op-independent fields of a record and adds the class's tile traffic to `traffic`.
    OpRecord record(std::size_t op, OpTraffic& traffic) const;
    /// Work per resource and the binding one, from the op's traffic (compute from its class).
    void set_work(OpRecord& rec, const OpTraffic& traffic) const;

    /// Fills totals, unit, level and phase reports.
    void finish(SimulationResult& r, const OpTotals& totals) const;

    /// Cycles to move `bytes` at `cycles_per_byte`. A bandwidth so small that its cycles per byte
    /// are infinite (1e-310 GB/s) must not make 0 bytes cost 0 x inf = NaN, nor a NaN sum count as
    /// 0 cycles: no bytes cost nothing, any bytes cost infinitely much (to_cycles saturates).
    static double bytes_cycles(double bytes, double cycles_per_byte) { return bytes > 0 ? bytes * cycles_per_byte : 0.0; }

    static std::int64_t to_cycles(double c) {
        if (!(c > 0)) return 0;
        if (c >= static_cast<double>(cycle_limit)) return cycle_limit;
        const double x = c - 1e-9;  // the ceiling, without a libm call in the analytic loop
        const auto i = static_cast<std::int64_t>(x);
        return static_cast<double>(i) < x ? i + 1 : i;
    }

private:
    ClassCost class_cost(const LoweredOp& l);
    ClassMapping class_mapping(const LoweredOp& l);
    std::int64_t served_count(const std::string& kind) const;

    const ModelGraph& g_;
    const PreparedGraph& p_;
    const Accelerator& acc_;
    const SimulationOptions& o_;
    std::vector<double> data_bytes_, mask_bytes_, element_bytes_;  ///< per tensor type
    std::vector<bool> fits_;                                       ///< per tensor type
    double capacity_[3] = {0, 0, 0};
    double buffer_energy_[3] = {0, 0, 0};
    double port_read_bpc_[3] = {0, 0, 0}, port_write_bpc_[3] = {0, 0, 0};  ///< bytes per cycle
    double port_read_cpb_[3] = {0, 0, 0}, port_write_cpb_[3] = {0, 0, 0};  ///< cycles per byte
    double memory_read_bpc_ = 0, memory_write_bpc_ = 0, memory_energy_ = 0;
    double memory_read_cpb_ = 0, memory_write_cpb_ = 0;
    std::int64_t latency_cycles_ = 0;
    double link_read_bpc_ = 0, link_write_bpc_ = 0, link_energy_ = 0;  ///< 0 bpc: no interconnect
    Dataflow dataflow_ = Dataflow::output_stationary;
    std::vector<double> support_j_per_cycle_;  ///< per unit group
    std::vector<double> gated_w_;              ///< per compute unit group, W (power gating only)
    Lowering lowering_;
    std::vector<ClassCost> class_cost_;
    std::string infeasible_;
};

/// Event fidelity (event_scheduler.cpp).
OpTotals run_event(const CostModel& m, SimulationResult& r);
/// Analytic fidelity (analytic_model.cpp).
OpTotals run_analytic(const CostModel& m, SimulationResult& r);

}  // namespace transcode::engine::detail
