// nm_pruning.nm: N:M structured sparsity as a transcode pruning plugin, built out of tree against
// the installed SDK. In every group of m consecutive elements of a row, the n of largest magnitude
// are kept and the others are zeroed (2:4 is the pattern sparse tensor cores accelerate).
//
// This file includes only SDK headers. It is the source of several snippets of
// docs/plugin-guide.md: the regions between `[guide:NAME]` markers are copied there verbatim, and
// scripts/test-install.sh checks that they still match.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "transcode/sdk.hpp"

namespace example_nm {
namespace {

using namespace transcode;

constexpr const char* plugin_name = "nm_pruning.nm";

// [guide:pruning-schema]
ParamSchema nm_schema() {
    return {
        ParamSpec::integer("n", "elements kept in each group: the n of largest magnitude").unit("elements").min(1).default_value(2),
        ParamSpec::integer("m", "group size: consecutive elements of a row").unit("elements").min(2).max(256).default_value(4),
        ParamSpec::list("targets", "tensor roles to prune; gradient roles are pruned in training only",
                        ParamSpec::enumeration("target", "a tensor role", {"activation", "activation_gradient", "weight_gradient"}))
            .min(1)
            .default_value(ValueList{Value("activation"), Value("activation_gradient"), Value("weight_gradient")}),
    };
}
// [/guide:pruning-schema]

bool is_gradient(TensorRole role) { return role == TensorRole::activation_gradient || role == TensorRole::weight_gradient; }

TensorRole parse_role(const std::string& s) {
    for (TensorRole r : {TensorRole::activation, TensorRole::activation_gradient, TensorRole::weight_gradient})
        if (s == to_string(r)) return r;
    throw ConfigError("targets", std::string(plugin_name) + ": '" + s + "' is not a prunable tensor role");
}

// Orders like |x|, with ties going to the lower index: the magnitude bits of the float in the high
// half (a NaN ranks above infinity, so it is always kept), the inverted index in the low half.
std::uint64_t rank_key(float x, std::uint32_t index) {
    const std::uint64_t magnitude = std::bit_cast<std::uint32_t>(x) & 0x7fffffffu;
    return (magnitude << 32) | (std::numeric_limits<std::uint32_t>::max() - index);
}

std::int64_t count_zeros(const float* data, std::int64_t n) {
    return std::count_if(data, data + n, [](float x) { return x == 0.0f; });
}

// [guide:pruning-class]
class NmPruning final : public PruningStrategy {
public:
    explicit NmPruning(const Params& params) : n_(params.get_int("n")), m_(params.get_int("m")) {
        // A rule between two parameters, which the schema cannot express: a ConfigError with the
        // path of the parameter to blame ("n"), relative to the plugin's params.
        if (n_ >= m_)
            throw ConfigError("n", "n (" + std::to_string(n_) + ") must be less than m (" + std::to_string(m_) +
                                       "): keeping n of every m elements would prune nothing");
        for (const Value& v : params.get_list("targets")) roles_.push_back(parse_role(v.as_string()));
    }

    bool prunes(TensorRole role, RunMode mode) const override {
        if (std::find(roles_.begin(), roles_.end(), role) == roles_.end()) return false;
        return !is_gradient(role) || mode == RunMode::training;
    }

    PruneStats prune(TensorView t, RunMode mode) const override {
        if (t.rows < 0 || t.cols < 0 || (t.data == nullptr && t.size() != 0))
            throw PluginError(std::string(plugin_name) + ": tensor '" + std::string(t.name) + "' has an invalid shape");
        if (t.size() == 0) return {};
        if (prunes(t.role, mode))
            for (std::int64_t r = 0; r < t.rows; ++r) prune_row(t.row(r), t.cols);
        return {count_zeros(t.data, t.size()), t.size()};
    }
    // [/guide:pruning-class]

private:
    // Keeps the n largest magnitudes of each group of m (of a trailing group of g < m elements:
    // the min(n, g) largest).
    void prune_row(float* row, std::int64_t cols) const {
        std::vector<std::uint64_t> keys;
        for (std::int64_t start = 0; start < cols; start += m_) {
            const std::int64_t size = std::min(m_, cols - start);
            if (size <= n_) continue;
            float* group = row + start;
            keys.resize(static_cast<std::size_t>(size));
            for (std::int64_t i = 0; i < size; ++i) keys[static_cast<std::size_t>(i)] = rank_key(group[i], static_cast<std::uint32_t>(i));
            std::nth_element(keys.begin(), keys.begin() + (n_ - 1), keys.end(), std::greater<>{});
            const std::uint64_t cut = keys[static_cast<std::size_t>(n_ - 1)];
            for (std::int64_t i = 0; i < size; ++i)
                if (rank_key(group[i], static_cast<std::uint32_t>(i)) < cut) group[i] = 0.0f;
        }
    }

    std::int64_t n_;
    std::int64_t m_;
    std::vector<TensorRole> roles_;
};

// [guide:pruning-factory]
const FactoryList* factories() {
    static const FactoryList list{Factory{
        PluginKind::pruning,
        plugin_name,
        "N:M structured sparsity: keep the n largest magnitudes in every group of m consecutive elements of a row\n"
        "Groups start at column 0; a trailing group of g < m elements keeps its min(n, g) largest. Ties in magnitude go\n"
        "to the lower column, and a NaN is always kept. Gradient roles are pruned in training only. Zeros already in a\n"
        "tensor count toward its sparsity.",
        nm_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<NmPruning>(params); },
    }};
    return &list;
}

}  // namespace
}  // namespace example_nm

TRANSCODE_PLUGIN("nm_pruning", "0.1.0", &example_nm::factories)
// [/guide:pruning-factory]
