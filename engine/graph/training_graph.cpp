#include "graph/training_graph.hpp"

#include <fmt/format.h>

#include "graph/graph_check.hpp"

namespace transcode::engine {

namespace {

class Derivation {
public:
    Derivation(const ModelGraph& fwd) : g_(fwd) {}

    ModelGraph run(const OptimizerSettings& opt) {
        const std::size_t n_forward_tensors = g_.tensors.size();
        const auto order = topological_order(g_, "training graph");
        // Which tensors carry a gradient: weights, and whatever depends on one.
        needs_.assign(n_forward_tensors, false);
        for (std::size_t t = 0; t < n_forward_tensors; ++t) needs_[t] = g_.tensors[t].role == TensorRole::weight && !g_.tensors[t].is_integer;
        std::vector<bool> consumed(n_forward_tensors, false);
        for (OpId id : order) {
            const OpDesc& op = g_.ops[static_cast<std::size_t>(id)];
            bool any = false;
            for (TensorId t : op.inputs) {
                any = any || needs_[static_cast<std::size_t>(t)];
                consumed[static_cast<std::size_t>(t)] = true;
            }
            for (TensorId t : op.outputs) needs_[static_cast<std::size_t>(t)] = any && !g_.tensors[static_cast<std::size_t>(t)].is_integer;
        }
        contributions_.assign(n_forward_tensors, {});
        final_.assign(n_forward_tensors, -1);

        if (g_.loss >= 0) {
            seed(g_.loss, "loss.grad");
        } else {
            for (std::size_t t = 0; t < n_forward_tensors; ++t)
                if (needs_[t] && !consumed[t] && g_.tensors[t].role != TensorRole::weight) seed(static_cast<TensorId>(t), g_.tensors[t].name + ".grad");
        }
        for (auto it = order.rbegin(); it != order.rend(); ++it) backward(static_cast<std::size_t>(*it));

        // Update phase: every weight that received a gradient.
        for (std::size_t t = 0; t < n_forward_tensors; ++t) {
            if (g_.tensors[t].role != TensorRole::weight) continue;
            const TensorId grad = gradient(static_cast<TensorId>(t));
            if (grad < 0) continue;
            const TensorDesc w = g_.tensors[t];
            layer_ = first_consumer_layer(static_cast<TensorId>(t));
            std::vector<TensorId> inputs{static_cast<TensorId>(t), grad};
            std::vector<TensorId> outputs{add_tensor(w.name + ".next", w.shape, TensorRole::weight, w.bits)};
            if (opt.kind == OptimizerSettings::Kind::adamw) {
                for (const char* s : {"m", "v"}) {
                    inputs.push_back(add_tensor(w.name + ".adam_" + s, w.shape, TensorRole::optimizer_state, 32));
                    outputs.push_back(add_tensor(w.name + ".adam_" + s + ".next", w.shape, TensorRole::optimizer_state, 32));
                }
            }
            const double rows = opt.sparse_embedding_update ? gathered_rows(static_cast<TensorId>(t)) : 1.0;
            OpDesc up{OpKind::optimizer_update, w.name + ".update", inputs, outputs,
                      {{"optimizer", opt.kind == OptimizerSettings::Kind::adamw ? 0.0 : 1.0},
                       {"lr", opt.learning_rate},
                       {"beta1", opt.beta1},
                       {"beta2", opt.beta2},
                       {"eps", opt.eps},
                       // No weight decay on 1-D weights (biases, LayerNorm gains and offsets), as BERT does.
                       {"weight_decay", w.shape.size() == 1 ? 0.0 : opt.weight_decay}},
                      Phase::update, layer_};
            if (rows < 1.0) {
                up.attrs["rows_fraction"] = rows;
                for (auto& op : g_.ops)
                    if (op.kind == OpKind::embedding_backward && op.outputs.front() == grad) op.attrs["rows_fraction"] = rows;
            }
            g_.ops.push_back(std::move(up));
        }
        return std::move(g_);
    }

private:
    ModelGraph g_;
    std::vector<bool> needs_;
    std::vector<std::vector<TensorId>> contributions_;
    std::vector<TensorId> final_;
    int layer_ = -1;

    // The share of a weight's rows that the step's embedding ops gather (at most 1); 1 when an op
    // other than an embedding reads it, or when its gradient is a sum of several contributions.
    double gathered_rows(TensorId t) const {
        double ids = 0;
        for (const auto& op : g_.ops) {
            if (op.phase != Phase::forward) continue;
            for (std::size_t k = 0; k < op.inputs.size(); ++k)
                if (op.inputs[k] == t) {
                    if (op.kind != OpKind::embedding || k != 1) return 1.0;
                    ids += static_cast<double>(g_.tensors[static_cast<std::size_t>(op.inputs[0])].elements());
                }
        }
        const double rows = static_cast<double>(g_.tensors[static_cast<std::size_t>(t)].shape.front());
        return contributions_[static_cast<std::size_t>(t)].size() > 1 ? 1.0 : std::min(1.0, ids / rows);
    }

    int first_consumer_layer(TensorId t) const {
        for (const auto& op : g_.ops)
            for (TensorId i : op.inputs)
                if (i == t) return op.layer;
        return -1;
    }

    TensorId add_tensor(std::string name, Shape shape, TensorRole role, int bits) {
        TensorDesc d;
        d.name = std::move(name);
        d.shape = std::move(shape);
        d.role = role;
        d.bits = bits;
        g_.tensors.push_back(std::move(d));
        return static_cast<TensorId>(g_.tensors.size() - 1);
    }

    void seed(TensorId t, const std::string& name) {
        const TensorDesc d = g_.tensors[static_cast<std::size_t>(t)];
        const TensorId s = add_tensor(name, d.shape, TensorRole::activation_gradient, d.bits);
        g_.tensors[static_cast<std::size_t>(s)].is_input = true;
        contributions_[static_cast<std::size_t>(t)].push_back(s);
    }

    TensorRole grad_role(TensorId of) const {
        return g_.tensors[static_cast<std::size_t>(of)].role == TensorRole::weight ? TensorRole::weight_gradient : TensorRole::activation_gradient;
    }

    // Emits a backward op; its outputs are gradients of `of` (one target tensor per output).
    std::vector<TensorId> emit(OpKind kind, const std::string& name, std::vector<TensorId> inputs, const std::vector<TensorId>& of,
                               std::map<std::string, double> attrs = {}, std::vector<Shape> shapes = {}) {
        OpDesc op{kind, name, std::move(inputs), {}, std::move(attrs), Phase::backward, layer_};
        for (std::size_t i = 0; i < of.size(); ++i) {
            const TensorDesc& target = g_.tensors[static_cast<std::size_t>(of[i])];
            Shape shape = shapes.empty() ? target.shape : shapes[i];
            op.outputs.push_back(add_tensor(of.size() == 1 ? name : fmt::format("{}.{}", name, i), std::move(shape), grad_role(of[i]), target.bits));
        }
        g_.ops.push_back(std::move(op));
        return g_.ops.back().outputs;
    }

    void contribute(TensorId of, TensorId grad) {
        if (needs_[static_cast<std::size_t>(of)]) contributions_[static_cast<std::size_t>(of)].push_back(grad);
    }

    // The accumulated gradient of a forward tensor, summing several contributions with add ops.
    TensorId gradient(TensorId t) {
        auto& mine = contributions_[static_cast<std::size_t>(t)];
        if (final_[static_cast<std::size_t>(t)] >= 0) return final_[static_cast<std::size_t>(t)];
        if (mine.empty()) return -1;
        TensorId acc = mine[0];
        const std::string base = g_.tensors[static_cast<std::size_t>(t)].name + ".grad";
        for (std::size_t i = 1; i < mine.size(); ++i)
            acc = emit(OpKind::add, i + 1 == mine.size() ? base : fmt::format("{}.sum{}", base, i), {acc, mine[i]}, {t}).front();
        final_[static_cast<std::size_t>(t)] = acc;
        return acc;
    }

    bool needs(TensorId t) const { return needs_[static_cast<std::size_t>(t)]; }
    const Shape& shape(TensorId t) const { return g_.tensors[static_cast<std::size_t>(t)].shape; }

    void backward(std::size_t index) {
        const OpDesc op = g_.ops[index];  // copy: emit() grows g_.ops
        bool any_input = false;
        for (TensorId t : op.inputs) any_input = any_input || needs(t);
        if (!any_input) return;
        std::vector<TensorId> dy;
        bool any_grad = false;
        for (TensorId t : op.outputs) {
            dy.push_back(gradient(t));
            any_grad = any_grad || dy.back() >= 0;
        }
        if (!any_grad) return;
        layer_ = op.layer;
        const std::string n = op.name + ".bwd";
        const auto& in = op.inputs;
        switch (op.kind) {
            case OpKind::matmul: matmul_backward(op, dy[0]); break;
            case OpKind::add:
                contribute(in[0], dy[0]);
                if (needs(in[1])) contribute(in[1], shape(in[1]) == shape(in[0]) ? dy[0] : emit(OpKind::reduce_sum, n + "_bias", {dy[0]}, {in[1]}).front());
                break;
            case OpKind::layer_norm: {
                // The backward op recomputes the normalisation, so it needs the forward op's eps.
                const auto r = emit(OpKind::layer_norm_backward, n, {dy[0], in[0], in[1]}, {in[0], in[1], in[2]}, {{"eps", op.attr("eps", 1e-12)}});
                for (int i = 0; i < 3; ++i) contribute(in[static_cast<std::size_t>(i)], r[static_cast<std::size_t>(i)]);
                break;
            }
            case OpKind::softmax:
                contribute(in[0], emit(OpKind::softmax_backward, n, {dy[0], op.outputs[0]}, {in[0]}, {{"scale", op.attr("scale", 1.0)}}).front());
                break;
            case OpKind::gelu: contribute(in[0], emit(OpKind::gelu_backward, n, {dy[0], in[0]}, {in[0]}).front()); break;
            case OpKind::relu: contribute(in[0], emit(OpKind::relu_backward, n, {dy[0], in[0]}, {in[0]}).front()); break;
            case OpKind::tanh: contribute(in[0], emit(OpKind::tanh_backward, n, {dy[0], op.outputs[0]}, {in[0]}).front()); break;
            case OpKind::embedding:
                if (needs(in[1])) contribute(in[1], emit(OpKind::embedding_backward, n, {dy[0], in[0]}, {in[1]}).front());
                break;
            case OpKind::seq_transform:
                // With a padding mask (input 1), the transposed transform takes the same mask.
                contribute(in[0], emit(OpKind::seq_transform, n, in.size() == 2 ? std::vector<TensorId>{dy[0], in[1]} : std::vector<TensorId>{dy[0]}, {in[0]},
                                       {{"variant", op.attr("variant")}, {"transpose", op.attr("transpose") != 0.0 ? 0.0 : 1.0}})
                                      .front());
                break;
            case OpKind::conv1d: {
                std::vector<TensorId> args{dy[0], in[0], in[1]};
                if (in.size() == 3) args.push_back(in[2]);  // the padding mask
                const auto r = emit(OpKind::conv1d_backward, n, args, {in[0], in[1]});
                contribute(in[0], r[0]);
                contribute(in[1], r[1]);
                break;
            }
            case OpKind::concat: {
                std::int64_t offset = 0;
                for (std::size_t i = 0; i < in.size(); ++i) {
                    const std::int64_t len = shape(in[i]).back();
                    if (needs(in[i]))
                        contribute(in[i], emit(OpKind::slice, fmt::format("{}{}", n, i), {dy[0]}, {in[i]},
                                               {{"axis", -1.0}, {"start", static_cast<double>(offset)}, {"length", static_cast<double>(len)}})
                                              .front());
                    offset += len;
                }
                break;
            }
            case OpKind::slice: contribute(in[0], emit(OpKind::slice_backward, n, {dy[0]}, {in[0]}, op.attrs).front()); break;
            case OpKind::dropout:
                // Its own backward form: the same attrs give the same mask in the same step.
                contribute(in[0], emit(OpKind::dropout, n, {dy[0]}, {in[0]}, op.attrs).front());
                break;
            case OpKind::cross_entropy:
                contribute(in[0], emit(OpKind::cross_entropy_backward, n, {dy[0], in[0], in[1]}, {in[0]}).front());
                break;
            default:
                throw PluginError(fmt::format("op '{}' ({}): a forward graph may not contain this op kind", op.name, to_string(op.kind)));
        }
    }

    // C = op(A)·op(B). See graph.hpp for the shapes; B is shared ([k, n]) or batched like A.
    void matmul_backward(const OpDesc& op, TensorId dc) {
        const TensorId a = op.inputs[0], b = op.inputs[1];
        const bool ta = op.attr("transpose_a") != 0.0, tb = op.attr("transpose_b") != 0.0;
        const bool b_shared = shape(b).size() == 2 && shape(a).size() > 2;
        if (op.attr("batch_reduce") != 0.0)
            throw PluginError(fmt::format("op '{}' (matmul): batch_reduce appears only in derived weight gradients", op.name));
        const auto f = [](bool x) { return x ? 1.0 : 0.0; };
        if (needs(a)) {
            if (!ta) {
                contribute(a, emit(OpKind::matmul, op.name + ".bwd_a", {dc, b}, {a}, {{"transpose_b", f(!tb)}}).front());
            } else if (!b_shared) {
                contribute(a, emit(OpKind::matmul, op.name + ".bwd_a", {b, dc}, {a}, {{"transpose_a", f(tb)}, {"transpose_b", 1.0}}).front());
            } else {
                throw PluginError(fmt::format("op '{}' (matmul): transpose_a with a shared B has no backward form here; transpose the operand instead",
                                              op.name));
            }
        }
        if (needs(b)) {
            std::map<std::string, double> attrs;
            std::vector<TensorId> inputs;
            if (!tb) {
                inputs = {a, dc};
                attrs = {{"transpose_a", f(!ta)}};
            } else {
                inputs = {dc, a};
                attrs = {{"transpose_a", 1.0}, {"transpose_b", f(ta)}};
            }
            if (b_shared) attrs["batch_reduce"] = 1.0;
            contribute(b, emit(OpKind::matmul, op.name + ".bwd_b", inputs, {b}, attrs).front());
        }
    }
};

}  // namespace

ModelGraph make_training_graph(const ModelGraph& forward, const OptimizerSettings& optimizer) {
    Derivation d(forward);
    ModelGraph g = d.run(optimizer);
    check_graph(g, "training graph");
    return g;
}

}  // namespace transcode::engine
