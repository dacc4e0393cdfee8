#include "simulator/simulator.hpp"

#include <cmath>
#include <limits>

#include "common/deadline.hpp"
#include "simulator/cost_model.hpp"

namespace transcode::engine {

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
    check_deadline();  // a co-design evaluation's budget (search.evaluation_timeout_s); the loops check it too
    const detail::CostModel m(p, acc, options);
    check_deadline();
    SimulationResult r;
    r.fidelity = options.fidelity;
    r.training = options.training;
    r.area_mm2 = acc.area_mm2();
    if (!m.infeasible().empty()) {
        r.status = "infeasible";
        r.reason = m.infeasible();
        return r;
    }
    const detail::OpTotals totals = options.fidelity == Fidelity::event ? detail::run_event(m, r) : detail::run_analytic(m, r);
    m.finish(r, totals);
    if (totals.overflow) {
        r.status = "infeasible";
        r.reason = "overflow: the schedule runs past 2^60 cycles (is a bandwidth or the model absurdly sized?)";
    } else if (!std::isfinite(r.dynamic_j) || !std::isfinite(r.leakage_j)) {
        // Energies are sums of doubles: an absurd energy per byte or per tile makes them infinite.
        r.status = "infeasible";
        r.reason = "overflow: the energy is not a finite number (is an energy figure or the model absurdly sized?)";
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
