#include "simulator/prepared_graph.hpp"

#include <algorithm>
#include <cstring>

#include "transcode/errors.hpp"

namespace transcode::engine {

namespace {

// FNV-1a over 64-bit words: the keys below are short, and every hit is confirmed by comparing
// the actual fields, so the hash only has to spread.
constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
std::uint64_t mix(std::uint64_t h, std::uint64_t v) { return (h ^ v) * 0x100000001b3ULL; }

std::uint64_t bits_of(double d) {
    std::uint64_t u = 0;
    std::memcpy(&u, &d, sizeof u);
    return u;
}

// An open-addressing hash index (power-of-two slots, linear probing) from a 64-bit hash to the
// entries that have it. The graph has far fewer types, classes and patterns than tensors and ops,
// so nearly every lookup is a hit on a short probe.
class InternTable {
public:
    explicit InternTable(std::size_t expected) {
        std::size_t n = 64;
        while (n < 2 * expected) n *= 2;
        slots_.assign(n, Slot{});
    }
    // The entry equal to the candidate (same hash, then `same(id)`), or `next`, which it adds.
    template <typename Same>
    std::uint32_t intern(std::uint64_t h, std::uint32_t next, Same same) {
        std::size_t i = home(h);
        for (;; i = (i + 1) & (slots_.size() - 1)) {
            Slot& s = slots_[i];
            if (s.id == empty) break;
            if (s.hash == h && same(s.id)) return s.id;
        }
        slots_[i] = {h, next};
        if (++used_ * 2 > slots_.size()) grow();
        return next;
    }

private:
    static constexpr std::uint32_t empty = 0xffffffffu;
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t id = empty;
    };
    // The first slot to probe for hash h (its high bits folded in: the low bits of an FNV-1a
    // product depend only on the low bits of what it mixed).
    std::size_t home(std::uint64_t h) const { return static_cast<std::size_t>(h ^ (h >> 29)) & (slots_.size() - 1); }
    void grow() {
        std::vector<Slot> old(slots_.size() * 2, Slot{});
        old.swap(slots_);
        for (const Slot& s : old) {
            if (s.id == empty) continue;
            std::size_t i = home(s.hash);
            while (slots_[i].id != empty) i = (i + 1) & (slots_.size() - 1);
            slots_[i] = s;
        }
    }
    std::vector<Slot> slots_;
    std::size_t used_ = 0;
};

}  // namespace

double input_fetch_fraction(const ModelGraph& g, const OpDesc& op, std::size_t k) {
    if (op.kind == OpKind::optimizer_update && op.attr("rows_fraction") > 0) return std::min(1.0, op.attr("rows_fraction"));
    if (op.kind == OpKind::embedding && op.inputs.size() == 2 && k == 1) {
        const double ids = static_cast<double>(g.tensors[static_cast<std::size_t>(op.inputs[0])].elements());
        const double rows = static_cast<double>(g.tensors[static_cast<std::size_t>(op.inputs[1])].shape.front());
        return std::min(1.0, ids / rows);
    }
    return 1.0;
}

double output_write_fraction(const OpDesc& op) {
    const double f = op.attr("rows_fraction");
    return f > 0 && (op.kind == OpKind::optimizer_update || op.kind == OpKind::embedding_backward) ? std::min(1.0, f) : 1.0;
}

namespace {

// A dropout's seed picks its mask, never its cost (graph.hpp): it is not part of the op's class,
// so the dropouts of a model, each with its own seed, share classes.
bool class_attr(const OpDesc& op, const std::string& key) { return !(op.kind == OpKind::dropout && key == "seed"); }

bool same_class_attrs(const OpDesc& a, const OpDesc& b) {
    if (a.kind != OpKind::dropout) return a.attrs == b.attrs;
    auto costed = [](std::map<std::string, double> m) {
        m.erase("seed");
        return m;
    };
    return costed(a.attrs) == costed(b.attrs);
}

}  // namespace

PreparedGraph::PreparedGraph(const ModelGraph& g, std::vector<double> tensor_sparsity) : g_(&g), sparsity_(std::move(tensor_sparsity)) {
    const std::size_t n = g.tensors.size();
    if (sparsity_.empty()) sparsity_.assign(n, 0.0);
    if (sparsity_.size() != n) throw InternalError("simulate: tensor_sparsity has the wrong size");

    // Tensor types.
    InternTable types(64);
    tensor_type_.reserve(n);
    for (std::size_t t = 0; t < n; ++t) {
        const TensorDesc& d = g.tensors[t];
        std::uint64_t h = mix(mix(fnv_offset, static_cast<std::uint64_t>(d.role)), static_cast<std::uint64_t>(d.bits) * 2 + (d.is_integer ? 1 : 0));
        h = mix(h, bits_of(sparsity_[t]));
        for (std::int64_t dim : d.shape) h = mix(h, static_cast<std::uint64_t>(dim));
        const std::uint32_t type = types.intern(h, static_cast<std::uint32_t>(type_rep_.size()), [&](std::uint32_t other) {
            const std::size_t r = static_cast<std::size_t>(type_rep_[other]);
            const TensorDesc& o = g.tensors[r];
            return o.role == d.role && o.bits == d.bits && o.is_integer == d.is_integer && bits_of(sparsity_[r]) == bits_of(sparsity_[t]) && o.shape == d.shape;
        });
        if (type == type_rep_.size()) type_rep_.push_back(static_cast<TensorId>(t));
        tensor_type_.push_back(type);
    }

    // Op classes and touch intervals.
    InternTable classes(256);
    op_class_.reserve(g.ops.size());
    phase_.reserve(g.ops.size());
    first_touch_.assign(n, -1);
    last_touch_.assign(n, -1);
    consumers_.assign(n, 0);
    for (std::size_t i = 0; i < g.ops.size(); ++i) {
        const OpDesc& op = g.ops[i];
        std::uint64_t h = mix(mix(fnv_offset, static_cast<std::uint64_t>(op.kind)), op.inputs.size() * 1024 + op.outputs.size());
        for (TensorId t : op.inputs) h = mix(h, tensor_type(t));
        for (TensorId t : op.outputs) h = mix(h, tensor_type(t));
        for (const auto& [key, value] : op.attrs)
            if (class_attr(op, key)) h = mix(mix(h, key.size()), bits_of(value));
        auto same_types = [&](const std::vector<TensorId>& a, const std::vector<TensorId>& b) {
            return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](TensorId x, TensorId y) { return tensor_type(x) == tensor_type(y); });
        };
        const std::uint32_t cls = classes.intern(h, static_cast<std::uint32_t>(class_rep_.size()), [&](std::uint32_t other) {
            const OpDesc& o = g.ops[static_cast<std::size_t>(class_rep_[other])];
            return o.kind == op.kind && same_types(o.inputs, op.inputs) && same_types(o.outputs, op.outputs) && same_class_attrs(o, op);
        });
        if (cls == class_rep_.size()) {
            class_rep_.push_back(static_cast<OpId>(i));
            class_ops_.push_back(0);
        }
        ++class_ops_[cls];
        op_class_.push_back(cls);
        phase_.push_back(op.phase);
        auto touch = [&](TensorId t) {
            const std::size_t ti = static_cast<std::size_t>(t);
            if (first_touch_[ti] < 0) first_touch_[ti] = static_cast<std::int32_t>(i);
            last_touch_[ti] = static_cast<std::int32_t>(i);
        };
        for (TensorId t : op.inputs) {
            touch(t);
            ++consumers_[static_cast<std::size_t>(t)];
        }
        for (TensorId t : op.outputs) touch(t);
        operand_begin_.push_back(static_cast<std::uint32_t>(operands_.size()));
        inputs_.push_back(static_cast<std::uint32_t>(op.inputs.size()));
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
            const TensorId t = op.inputs[k];
            const bool repeat = std::find(op.inputs.begin(), op.inputs.begin() + static_cast<std::ptrdiff_t>(k), t) != op.inputs.begin() + static_cast<std::ptrdiff_t>(k);
            operands_.push_back({t, tensor_type(t), static_cast<std::uint8_t>(k), repeat, input_fetch_fraction(g, op, k)});
        }
        for (TensorId t : op.outputs) operands_.push_back({t, tensor_type(t), 0, false, output_write_fraction(op)});
    }
    operand_begin_.push_back(static_cast<std::uint32_t>(operands_.size()));
    // Live elements per buffer and width group (and mask bytes): a difference array, summed.
    for (auto& l : live_) l.assign(g.ops.size() + 1, 0.0);
    for (std::size_t t = 0; t < n; ++t) {
        if (first_touch_[t] < 0) continue;
        const TensorDesc& d = g.tensors[t];
        const double s = std::clamp(sparsity_[t], 0.0, 1.0);
        const double e = static_cast<double>(d.elements());
        const double amount = d.is_integer ? e * d.bits / 8.0 : e * (1.0 - s);
        const std::size_t a = static_cast<std::size_t>(first_touch_[t]), b = static_cast<std::size_t>(last_touch_[t]) + 1;
        auto& data = live_[static_cast<std::size_t>(buffer_class_of(d.role)) * 4 + static_cast<std::size_t>(width_group(d))];
        data[a] += amount;
        data[b] -= amount;
        if (s > 0) {
            live_[8][a] += e / 8.0;
            live_[8][b] -= e / 8.0;
        }
    }
    for (auto& l : live_)
        for (std::size_t i = 1; i < l.size(); ++i) l[i] += l[i - 1];
}

}  // namespace transcode::engine
