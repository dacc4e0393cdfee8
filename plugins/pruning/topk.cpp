#include "topk.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace transcode::plugins::pruning {

namespace {

constexpr const char* plugin_name = "pruning.topk";

// Entries kept per row when neither `k` nor `keep_fraction` is given (the published setting). Stated
// here only: `k` cannot carry it as a schema default, or giving keep_fraction alone would be
// indistinguishable from giving both.
constexpr std::int64_t k_when_neither_given = 32;

ParamSchema topk_schema() {
    return {
        ParamSpec::integer("k", "entries kept in each row: the k of largest magnitude (give k or keep_fraction, not both; when neither is "
                                "given, k = " + std::to_string(k_when_neither_given) + ")")
            .unit("elements")
            .min(1),
        ParamSpec::floating("keep_fraction",
                            "entries kept in each row as a fraction of its columns: k = ceil(keep_fraction * cols) per tensor, so one "
                            "value gives the same sparsity to rows of 128 and of 512 (1 - keep_fraction, up to the rounding); instead "
                            "of k")
            .unit("fraction")
            .greater_than(0.0)
            .max(1.0),
        ParamSpec::list("targets",
                        "tensor roles to prune (at least one; for no pruning at all use pruning.none). Gradient roles "
                        "are pruned in training only",
                        ParamSpec::enumeration("target", "a tensor role",
                                               {"activation", "activation_gradient", "weight_gradient"}))
            .min(1)
            .default_value(ValueList{Value("activation")}),
        ParamSpec::list("points",
                        "activation pruning points pruned (when `targets` has activation); the logits never are. All three by "
                        "default; leave out attention_probabilities to keep every softmax row whole",
                        ParamSpec::enumeration("point", "an activation pruning point", {"dense", "attention_scores", "attention_probabilities"}))
            .default_value(ValueList{Value("dense"), Value("attention_scores"), Value("attention_probabilities")}),
    };
}

// The magnitude of x as an integer that orders like |x|: the bits of a non-negative float compare
// like the float itself. -0.0 and +0.0 map to the same key, and every NaN ranks above infinity, so
// a NaN is always kept (never hidden by pruning). Any two floats compare, so the order is total.
inline std::uint64_t magnitude_key(float x) { return std::bit_cast<std::uint32_t>(x) & 0x7fffffffu; }

// One key per column: the magnitude in the high half, the inverted column index in the low half.
// Keys are distinct, and a larger key means a larger magnitude or, on a tie, a lower column.
inline std::uint64_t rank_key(float x, std::uint32_t col) {
    return (magnitude_key(x) << 32) | (std::numeric_limits<std::uint32_t>::max() - col);
}

// Column indices must fit the low half of a key, and the loops below count in 32 bits.
constexpr std::int64_t max_cols = std::numeric_limits<std::uint32_t>::max();

// ceil(fraction * cols), but a product a rounding error above an integer counts as that integer
// ((1 - 0.7) * 10 = 3.0000000000000004 keeps 3): the relative tolerance is 1e-9.
std::int64_t kept_of(double fraction, std::int64_t cols) {
    const double exact = fraction * static_cast<double>(cols);
    const auto k = static_cast<std::int64_t>(std::ceil(exact - 1e-9 * exact));
    return std::clamp<std::int64_t>(k, 1, cols);
}

std::int64_t read_k(const Params& params) {
    if (params.has("k") && params.has("keep_fraction"))
        throw ConfigError("k", "give k or keep_fraction, not both: k keeps a fixed number of entries per row, keep_fraction a fraction of each "
                               "row's columns");
    return params.has("k") ? params.get_int("k") : params.has("keep_fraction") ? 0 : k_when_neither_given;
}

double read_keep_fraction(const Params& params) {
    if (!params.has("keep_fraction")) return 0.0;
    const double f = params.get_float("keep_fraction");
    if (!(f > 0.0 && f <= 1.0)) throw ConfigError("keep_fraction", "keep_fraction must be in (0, 1], got " + std::to_string(f));
    return f;
}

}  // namespace

TopK::TopK(const Params& params)
    : k_(read_k(params)),
      keep_fraction_(read_keep_fraction(params)),
      targets_(read_roles(params, "targets",
                          {TensorRole::activation, TensorRole::activation_gradient, TensorRole::weight_gradient}, plugin_name)) {
    if (keep_fraction_ == 0.0 && k_ < 1) throw ConfigError(std::string(plugin_name) + ": k must be >= 1, got " + std::to_string(k_));
    if (targets_.empty())
        throw ConfigError(std::string(plugin_name) + ": targets is empty; name at least one role, or use pruning.none");
    for (const Value& item : params.get_list("points")) {
        bool found = false;
        for (PruningPoint p : {PruningPoint::dense, PruningPoint::attention_scores, PruningPoint::attention_probabilities}) {
            if (item.as_string() != to_string(p)) continue;
            points_ |= std::uint32_t{1} << static_cast<unsigned>(p);
            found = true;
        }
        if (!found)
            throw ConfigError("points", "unknown point '" + item.as_string() + "'; expected one of dense, attention_scores, attention_probabilities");
    }
}

bool TopK::prunes(TensorRole role, RunMode mode) const {
    if (!targets_.contains(role)) return false;
    return !is_gradient(role) || mode == RunMode::training;
}

std::int64_t TopK::kept(std::int64_t cols) const { return keep_fraction_ > 0.0 ? kept_of(keep_fraction_, cols) : k_; }

bool TopK::prunes_point(PruningPoint point) const {
    return point != PruningPoint::unspecified && !never_pruned(point) && (points_ & (std::uint32_t{1} << static_cast<unsigned>(point))) != 0;
}

PruneStats TopK::prune(TensorView t, RunMode mode) const {
    const std::int64_t n = element_count(t);
    if (n == 0) return {};
    const PruningPoint point = t.resolved_point();
    const bool pruned = prunes(t.role, mode) && !never_pruned(point) && (t.role != TensorRole::activation || prunes_point(point));
    const std::int64_t k = kept(t.cols);
    if (!pruned || t.cols <= k) return {count_zeros(t.data, n), n};
    if (t.cols > max_cols)
        throw PluginError(std::string(plugin_name) + ": tensor '" + std::string(t.name) + "' has rows of " +
                          std::to_string(t.cols) + " columns; at most " + std::to_string(max_cols) + " are supported");

    const auto cols = static_cast<std::uint32_t>(t.cols);
    std::vector<std::uint64_t> keys(cols);
    const auto kth = static_cast<std::ptrdiff_t>(k - 1);
    std::int64_t zeros = 0;
    for (std::int64_t r = 0; r < t.rows; ++r) {
        float* row = t.row(r);
        for (std::uint32_t c = 0; c < cols; ++c) keys[c] = rank_key(row[c], c);
        std::nth_element(keys.begin(), keys.begin() + kth, keys.end(), std::greater<>{});
        // The k kept entries are exactly those whose key is at least the k-th largest key.
        const std::uint64_t cut = keys[static_cast<std::size_t>(kth)];
        for (std::uint32_t c = 0; c < cols; ++c) row[c] = rank_key(row[c], c) >= cut ? row[c] : 0.0f;
        zeros += count_zeros(row, t.cols);
    }
    return {zeros, n};
}

Factory topk_factory() {
    return Factory{
        PluginKind::pruning,
        plugin_name,
        "Top-k: keep the k largest magnitudes of each row and zero the rest (the published baseline)\n"
        "Exactly k entries of each row are kept; ties in magnitude go to the lower column index. Rows of at most k\n"
        "columns are kept whole. k is absolute (`k`), or relative to the row width (`keep_fraction`: k = ceil(fraction *\n"
        "cols), the same sparsity for rows of any width, so top-k can be set to a target sparsity).\n"
        "A NaN ranks above every number, so it is kept. Gradient roles are pruned in training\n"
        "only. Activations are pruned at the points in `points`; the logits and their gradient never are.\n"
        "Zeros already in a tensor count toward its sparsity, also in tensors that are not pruned.",
        topk_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<TopK>(params); },
    };
}

}  // namespace transcode::plugins::pruning
