#include "graph/graph_check.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace transcode::engine {

std::string shape_text(const Shape& s) {
    return fmt::format("[{}]", fmt::join(s, ","));
}

namespace {

struct OpContext {
    const ModelGraph& g;
    const OpDesc& op;

    [[noreturn]] void fail(const std::string& what) const { throw PluginError(fmt::format("op '{}' ({}): {}", op.name, to_string(op.kind), what)); }
    const Shape& in(std::size_t i) const { return g.tensors[static_cast<std::size_t>(op.inputs[i])].shape; }
    const TensorDesc& in_tensor(std::size_t i) const { return g.tensors[static_cast<std::size_t>(op.inputs[i])]; }
    void arity(std::size_t n_in, std::size_t n_out) const {
        if (op.inputs.size() != n_in || op.outputs.size() != n_out)
            fail(fmt::format("takes {} input(s) and gives {} output(s), got {} and {}", n_in, n_out, op.inputs.size(), op.outputs.size()));
    }
    void min_rank(std::size_t i, std::size_t r) const {
        if (in(i).size() < r) fail(fmt::format("input {} is {}, needs at least {} dimensions", i, shape_text(in(i)), r));
    }
    void same(std::size_t i, std::size_t j) const {
        if (in(i) != in(j)) fail(fmt::format("inputs {} and {} differ in shape: {} and {}", i, j, shape_text(in(i)), shape_text(in(j))));
    }
    void vector_of_last(std::size_t i, std::size_t j) const {
        if (in(i).size() != 1 || in(i)[0] != in(j).back())
            fail(fmt::format("input {} is {}, expected [{}] (the last dimension of input {})", i, shape_text(in(i)), in(j).back(), j));
    }
    // Input i is a padding mask: an integer tensor [batch, length].
    void key_mask(std::size_t i, std::int64_t batch, std::int64_t length) const {
        if (!in_tensor(i).is_integer || in(i) != Shape{batch, length})
            fail(fmt::format("input {} (the padding mask) must be an integer tensor [{}, {}], got {}{}", i, batch, length, in_tensor(i).is_integer ? "" : "a float tensor ",
                             shape_text(in(i))));
    }
    std::int64_t attr_int(const char* key, std::int64_t fallback) const { return static_cast<std::int64_t>(op.attr(key, static_cast<double>(fallback))); }
    bool flag(const char* key) const {
        const double v = op.attr(key, 0.0);
        if (v != 0.0 && v != 1.0) fail(fmt::format("attribute {} must be 0 or 1, got {}", key, v));
        return v == 1.0;
    }
};

std::vector<Shape> matmul_shapes(const OpContext& c) {
    c.arity(2, 1);
    c.min_rank(0, 2);
    c.min_rank(1, 2);
    const bool ta = c.flag("transpose_a"), tb = c.flag("transpose_b"), reduce = c.flag("batch_reduce");
    const Shape& a = c.in(0);
    const Shape& b = c.in(1);
    const std::size_t ra = a.size(), rb = b.size();
    const std::int64_t m = ta ? a[ra - 1] : a[ra - 2], ka = ta ? a[ra - 2] : a[ra - 1];
    const std::int64_t kb = tb ? b[rb - 1] : b[rb - 2], n = tb ? b[rb - 2] : b[rb - 1];
    if (ka != kb)
        c.fail(fmt::format("inner dimensions differ: A {}{} has k = {}, B {}{} has k = {}", shape_text(a), ta ? "ᵀ" : "", ka, shape_text(b), tb ? "ᵀ" : "",
                           kb));
    const Shape batch(a.begin(), a.end() - 2);
    if (rb > 2 && Shape(b.begin(), b.end() - 2) != batch)
        c.fail(fmt::format("batch dimensions differ: A {} and B {} (B is either [k, n] shared or batched like A)", shape_text(a), shape_text(b)));
    Shape out = reduce ? Shape{} : batch;
    out.push_back(m);
    out.push_back(n);
    return {out};
}

}  // namespace

std::vector<Shape> infer_output_shapes(const ModelGraph& g, const OpDesc& op) {
    const OpContext c{g, op};
    switch (op.kind) {
        case OpKind::matmul: return matmul_shapes(c);
        case OpKind::add:
            c.arity(2, 1);
            if (c.in(0) != c.in(1)) c.vector_of_last(1, 0);
            return {c.in(0)};
        case OpKind::layer_norm:
            c.arity(3, 1);
            c.min_rank(0, 1);
            c.vector_of_last(1, 0);
            c.vector_of_last(2, 0);
            return {c.in(0)};
        case OpKind::softmax:
            if (op.inputs.size() == 2) {
                // A key mask [N, keys]: N = the rows of x divided by its second-to-last dim.
                c.arity(2, 1);
                c.min_rank(0, 2);
                const Shape& x = c.in(0);
                std::int64_t groups = 1;
                for (std::size_t d = 0; d + 2 < x.size(); ++d) groups *= x[d];
                c.key_mask(1, groups, x.back());
            } else {
                c.arity(1, 1);
                c.min_rank(0, 1);
            }
            c.flag("causal");
            return {c.in(0)};
        case OpKind::gelu:
        case OpKind::relu:
        case OpKind::tanh:
            c.arity(1, 1);
            c.min_rank(0, 1);
            return {c.in(0)};
        case OpKind::embedding: {
            c.arity(2, 1);
            if (!c.in_tensor(0).is_integer) c.fail("input 0 (ids) must be an integer tensor");
            c.min_rank(1, 2);
            if (c.in(1).size() != 2) c.fail(fmt::format("input 1 (table) is {}, expected [rows, dim]", shape_text(c.in(1))));
            Shape out = c.in(0);
            out.push_back(c.in(1)[1]);
            return {out};
        }
        case OpKind::seq_transform: {
            c.arity(op.inputs.size() == 2 ? 2 : 1, 1);
            if (c.in(0).size() != 3) c.fail(fmt::format("input is {}, expected [batch, sequence, channels]", shape_text(c.in(0))));
            if (op.inputs.size() == 2) c.key_mask(1, c.in(0)[0], c.in(0)[1]);
            const auto v = op.attr("variant", 0.0);
            if (v != 0.0 && v != 1.0) c.fail(fmt::format("attribute variant must be 0 (dft) or 1 (dct), got {}", v));
            c.flag("transpose");
            return {c.in(0)};
        }
        case OpKind::conv1d: {
            c.arity(op.inputs.size() == 3 ? 3 : 2, 1);
            const Shape& x = c.in(0);
            const Shape& w = c.in(1);
            if (x.size() != 3 || w.size() != 3 || w[0] != x[0] || w[1] != x[1])
                c.fail(fmt::format("inputs are {} and {}, expected x [B, S, C] and per-position kernels [B, S, k]", shape_text(x), shape_text(w)));
            if (op.inputs.size() == 3) c.key_mask(2, x[0], x[1]);
            return {x};
        }
        case OpKind::concat: {
            if (op.inputs.empty() || op.outputs.size() != 1) c.fail("takes one or more inputs and gives one output");
            Shape out = c.in(0);
            if (out.empty()) c.fail("inputs must have at least one dimension");
            for (std::size_t i = 1; i < op.inputs.size(); ++i) {
                const Shape& s = c.in(i);
                if (s.size() != out.size() || !std::equal(s.begin(), s.end() - 1, out.begin()))
                    c.fail(fmt::format("input {} is {}, which differs from input 0 {} before the last dimension", i, shape_text(s), shape_text(c.in(0))));
                out.back() += s.back();
            }
            return {out};
        }
        case OpKind::slice:
        case OpKind::slice_backward: {
            c.arity(1, 1);
            const bool squeeze = c.flag("squeeze");
            // slice: the input is the full tensor. slice_backward: the input is the sliced gradient,
            // and the output keeps the full shape it was declared with (the sliced tensor's shape).
            if (op.kind == OpKind::slice_backward) return {g.tensors[static_cast<std::size_t>(op.outputs[0])].shape};
            const Shape& x = c.in(0);
            std::int64_t axis = c.attr_int("axis", -1);
            if (axis < 0) axis += static_cast<std::int64_t>(x.size());
            if (axis < 0 || axis >= static_cast<std::int64_t>(x.size())) c.fail(fmt::format("axis {} is outside input {}", op.attr("axis", -1), shape_text(x)));
            const std::int64_t start = c.attr_int("start", 0), length = c.attr_int("length", 0);
            const auto dim = x[static_cast<std::size_t>(axis)];
            if (start < 0 || length < 1 || start + length > dim)
                c.fail(fmt::format("range [{}, {}) is outside dimension {} of size {}", start, start + length, axis, dim));
            Shape out = x;
            if (squeeze) {
                if (length != 1) c.fail("squeeze needs length 1");
                out.erase(out.begin() + axis);
            } else {
                out[static_cast<std::size_t>(axis)] = length;
            }
            return {out};
        }
        case OpKind::cross_entropy: {
            c.arity(2, 1);
            if (c.in(0).size() != 2) c.fail(fmt::format("logits are {}, expected [batch, classes]", shape_text(c.in(0))));
            if (!c.in_tensor(1).is_integer || c.in(1) != Shape{c.in(0)[0]})
                c.fail(fmt::format("labels must be an integer tensor [{}], got {}", c.in(0)[0], shape_text(c.in(1))));
            return {Shape{1}};
        }
        case OpKind::layer_norm_backward:
            c.arity(3, 3);
            c.same(0, 1);
            c.vector_of_last(2, 0);
            return {c.in(0), c.in(2), c.in(2)};
        case OpKind::softmax_backward:
        case OpKind::gelu_backward:
        case OpKind::relu_backward:
        case OpKind::tanh_backward:
            c.arity(2, 1);
            c.same(0, 1);
            return {c.in(0)};
        case OpKind::embedding_backward:
            // (dout, ids) -> dtable: the table shape comes from the declared output.
            c.arity(2, 1);
            if (!c.in_tensor(1).is_integer) c.fail("input 1 (ids) must be an integer tensor");
            return {g.tensors[static_cast<std::size_t>(op.outputs[0])].shape};
        case OpKind::conv1d_backward:
            c.arity(op.inputs.size() == 4 ? 4 : 3, 2);
            c.same(0, 1);
            if (op.inputs.size() == 4) c.key_mask(3, c.in(1)[0], c.in(1)[1]);
            return {c.in(1), c.in(2)};
        case OpKind::cross_entropy_backward:
            c.arity(3, 1);
            if (c.in(0) != Shape{1}) c.fail("input 0 must be the loss gradient [1]");
            return {c.in(1)};
        case OpKind::reduce_sum:
            c.arity(1, 1);
            c.min_rank(0, 1);
            return {Shape{c.in(0).back()}};
        case OpKind::dropout: {
            c.arity(1, 1);
            if (c.in_tensor(0).is_integer) c.fail("input 0 must be a float tensor");
            const double p = op.attr("p", 0.0), seed = op.attr("seed", 0.0);
            if (!(p >= 0.0 && p < 1.0)) c.fail(fmt::format("attribute p must be in [0, 1), got {}", p));
            if (!(seed >= 0.0 && seed < 0x1p53 && seed == std::floor(seed)))
                c.fail(fmt::format("attribute seed must be an integer in [0, 2^53), got {}", seed));
            return {c.in(0)};
        }
        case OpKind::optimizer_update: {
            const auto opt = op.attr("optimizer", 0.0);
            const std::size_t states = opt == 0.0 ? 2 : 0;
            if (opt != 0.0 && opt != 1.0) c.fail(fmt::format("attribute optimizer must be 0 (adamw) or 1 (sgd), got {}", opt));
            c.arity(2 + states, 1 + states);
            for (std::size_t i = 1; i < op.inputs.size(); ++i) c.same(0, i);
            return std::vector<Shape>(1 + states, c.in(0));
        }
    }
    // A kind past the last one this engine knows: a plugin built against a newer SDK, whose
    // OpKind has more (appended) kinds.
    c.fail(fmt::format("op kind number {} is unknown to this engine; was the plugin built against a newer SDK?", static_cast<int>(op.kind)));
}

namespace {
using BoostGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
}

std::vector<OpId> topological_order(const ModelGraph& g, const std::string& who) {
    std::vector<OpId> producer(g.tensors.size(), -1);
    for (std::size_t i = 0; i < g.ops.size(); ++i)
        for (TensorId t : g.ops[i].outputs) producer[static_cast<std::size_t>(t)] = static_cast<OpId>(i);
    BoostGraph bg(g.ops.size());
    for (std::size_t i = 0; i < g.ops.size(); ++i)
        for (TensorId t : g.ops[i].inputs)
            if (const OpId p = producer[static_cast<std::size_t>(t)]; p >= 0) boost::add_edge(static_cast<std::size_t>(p), i, bg);
    std::vector<std::size_t> reversed;
    try {
        boost::topological_sort(bg, std::back_inserter(reversed));
    } catch (const boost::not_a_dag&) {
        // Peel off every op whose inputs can become ready (Kahn); what remains is on a cycle or
        // downstream of one. Name the first such op.
        std::vector<std::size_t> indegree(g.ops.size(), 0);
        for (std::size_t i = 0; i < g.ops.size(); ++i)
            for (auto [e, end] = boost::out_edges(i, bg); e != end; ++e) ++indegree[boost::target(*e, bg)];
        std::vector<std::size_t> ready;
        for (std::size_t i = 0; i < g.ops.size(); ++i)
            if (indegree[i] == 0) ready.push_back(i);
        while (!ready.empty()) {
            const std::size_t v = ready.back();
            ready.pop_back();
            for (auto [e, end] = boost::out_edges(v, bg); e != end; ++e)
                if (--indegree[boost::target(*e, bg)] == 0) ready.push_back(boost::target(*e, bg));
        }
        // Walk back through unpeeled producers until an op repeats: that op is on a cycle.
        auto v = static_cast<std::size_t>(std::find_if(indegree.begin(), indegree.end(), [](std::size_t d) { return d > 0; }) - indegree.begin());
        std::vector<bool> seen(g.ops.size(), false);
        while (!seen[v]) {
            seen[v] = true;
            for (TensorId t : g.ops[v].inputs)
                if (const OpId p = producer[static_cast<std::size_t>(t)]; p >= 0 && indegree[static_cast<std::size_t>(p)] > 0) {
                    v = static_cast<std::size_t>(p);
                    break;
                }
        }
        throw PluginError(fmt::format("{}: the graph has a cycle through op '{}'", who, g.ops[v].name));
    }
    return std::vector<OpId>(reversed.rbegin(), reversed.rend());
}

void check_graph(const ModelGraph& g, const std::string& who) {
    const auto n_t = static_cast<TensorId>(g.tensors.size());
    std::unordered_set<std::string> names;
    for (const auto& t : g.tensors) {
        if (t.name.empty()) throw PluginError(fmt::format("{}: a tensor has no name", who));
        if (!names.insert(t.name).second) throw PluginError(fmt::format("{}: two tensors are named '{}'", who, t.name));
        for (auto d : t.shape)
            if (d <= 0) throw PluginError(fmt::format("{}: tensor '{}' has shape {}; every dimension must be > 0", who, t.name, shape_text(t.shape)));
    }
    std::vector<int> produced(g.tensors.size(), 0);
    names.clear();
    for (const auto& op : g.ops) {
        if (!names.insert(op.name).second) throw PluginError(fmt::format("{}: two ops are named '{}'", who, op.name));
        for (TensorId t : op.inputs)
            if (t < 0 || t >= n_t) throw PluginError(fmt::format("{}: op '{}' reads tensor id {}, which does not exist", who, op.name, t));
        for (TensorId t : op.outputs) {
            if (t < 0 || t >= n_t) throw PluginError(fmt::format("{}: op '{}' writes tensor id {}, which does not exist", who, op.name, t));
            const auto& d = g.tensors[static_cast<std::size_t>(t)];
            if (d.is_input || (d.role == TensorRole::weight && op.kind != OpKind::optimizer_update))
                throw PluginError(fmt::format("{}: op '{}' writes '{}', which is a model {}", who, op.name, d.name, d.is_input ? "input" : "weight"));
            if (++produced[static_cast<std::size_t>(t)] > 1) throw PluginError(fmt::format("{}: tensor '{}' is written by two ops", who, d.name));
        }
    }
    for (const auto& op : g.ops)
        for (TensorId t : op.inputs) {
            const auto& d = g.tensors[static_cast<std::size_t>(t)];
            if (!produced[static_cast<std::size_t>(t)] && !d.is_input && d.role != TensorRole::weight && d.role != TensorRole::optimizer_state)
                throw PluginError(fmt::format("{}: op '{}' reads '{}', which no op writes and which is neither an input nor a weight", who, op.name, d.name));
        }
    for (const auto& op : g.ops) {
        std::vector<Shape> want;
        try {
            want = infer_output_shapes(g, op);
        } catch (const PluginError& e) {
            throw PluginError(fmt::format("{}: {}", who, e.what()));
        }
        for (std::size_t i = 0; i < want.size(); ++i) {
            const auto& d = g.tensors[static_cast<std::size_t>(op.outputs[i])];
            if (d.shape != want[i])
                throw PluginError(fmt::format("{}: op '{}' ({}): output '{}' is declared {} but the inputs give {}", who, op.name, to_string(op.kind), d.name,
                                              shape_text(d.shape), shape_text(want[i])));
        }
    }
    if (g.loss >= 0) {
        if (g.loss >= n_t) throw PluginError(fmt::format("{}: the loss tensor id {} does not exist", who, g.loss));
        if (g.tensors[static_cast<std::size_t>(g.loss)].shape != Shape{1})
            throw PluginError(fmt::format("{}: the loss '{}' must have shape [1]", who, g.tensors[static_cast<std::size_t>(g.loss)].name));
    }
    topological_order(g, who);
}

}  // namespace transcode::engine
