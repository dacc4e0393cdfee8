// The built-in "pruning" plugin library (pruning.dynaprop, pruning.topk, pruning.none), loaded
// through the real plugin host and configured through the real schema validation.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/pruning.hpp"

namespace {

using transcode::PruneStats;
using transcode::PruningStrategy;
using transcode::RunMode;
using transcode::TensorRole;
using transcode::TensorView;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;
using transcode::engine::PluginPtr;

constexpr TensorRole all_roles[] = {TensorRole::weight, TensorRole::activation, TensorRole::activation_gradient,
                                    TensorRole::weight_gradient, TensorRole::optimizer_state};
constexpr RunMode all_modes[] = {RunMode::inference, RunMode::training};

const PluginHost& host() { return transcode::test::builtin_plugins(); }

const PluginInfo& pruning_info(std::string_view name) {
    const PluginInfo* info = host().find(name, transcode::PluginKind::pruning);
    REQUIRE_MESSAGE(info != nullptr, "pruning plugin '" << std::string(name) << "' is not loaded");
    return *info;
}

/// Creates a pruning strategy from YAML parameters, validated against its schema like a config file.
PluginPtr<PruningStrategy> make_pruning(std::string_view name, std::string_view yaml = "") {
    const PluginInfo& info = pruning_info(name);
    return host().create<PruningStrategy>(info, transcode::config::parse_params(info.schema, yaml));
}

struct Tensor {
    std::vector<float> data;
    std::int64_t rows = 0;
    std::int64_t cols = 0;

    TensorView view(TensorRole role) { return TensorView{data.data(), rows, cols, role, "test"}; }
};

Tensor make_tensor(std::int64_t rows, std::int64_t cols, std::vector<float> data) {
    REQUIRE(static_cast<std::int64_t>(data.size()) == rows * cols);
    return Tensor{std::move(data), rows, cols};
}

/// Standard normal values with no exact zero, from a fixed seed.
Tensor gaussian(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    Tensor t{std::vector<float>(static_cast<std::size_t>(rows * cols)), rows, cols};
    for (float& x : t.data) {
        do x = normal(rng);
        while (x == 0.0f);
    }
    return t;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::int64_t zeros_in(const std::vector<float>& v) {
    return std::count_if(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

TEST_CASE("pruning plugins: the library registers dynaprop, topk and none with documented schemas") {
    for (const char* name : {"dynaprop", "topk", "none"}) {
        CAPTURE(name);
        const PluginInfo& info = pruning_info(name);
        CHECK(info.kind == transcode::PluginKind::pruning);
        CHECK(info.name == std::string("pruning.") + name);
        CHECK(info.library == "pruning");
        CHECK(info.version == "0.1.0");
        CHECK(&info == host().find(std::string("pruning.") + name, transcode::PluginKind::pruning));
        CHECK_FALSE(info.doc.empty());
        CHECK(info.doc.front() != '\n');
        for (const transcode::ParamSpec& spec : info.schema) {
            CAPTURE(spec.name());
            CHECK_FALSE(spec.doc().empty());
            // dynaprop's per-point thresholds are optional: a point without one uses tau_i_* or tau_t.
            // topk's k and keep_fraction are optional too: each excludes the other.
            const bool per_point = std::string(name) == "dynaprop" && spec.name() != "tau_i_train" && spec.name() != "tau_i_infer" &&
                                   spec.name() != "tau_t" && spec.name() != "targets";
            const bool exclusive = std::string(name) == "topk" && (spec.name() == "k" || spec.name() == "keep_fraction");
            CHECK(spec.default_value().has_value() != (per_point || exclusive));
        }
    }
    CHECK(pruning_info("none").schema.empty());

    const auto dynaprop = transcode::config::parse_params(pruning_info("dynaprop").schema, "");
    CHECK(dynaprop.get_float("tau_i_train") == 0.01);
    CHECK(dynaprop.get_float("tau_i_infer") == 0.01);
    CHECK(dynaprop.get_float("tau_t") == 1e-4);
    CHECK(dynaprop.get_list("targets") ==
          transcode::ValueList{transcode::Value("weight_gradient"), transcode::Value("activation_gradient")});

    const auto topk = transcode::config::parse_params(pruning_info("topk").schema, "");
    CHECK_FALSE(topk.has("k"));  // neither k nor keep_fraction: k = 32, the published setting
    CHECK_FALSE(topk.has("keep_fraction"));
    CHECK(topk.get_list("targets") == transcode::ValueList{transcode::Value("activation")});
}

TEST_CASE("pruning plugins: the schemas reject negative thresholds, k < 1, unknown targets and empty topk targets") {
    const auto& dynaprop = pruning_info("dynaprop").schema;
    CHECK_THROWS_AS(transcode::config::parse_params(dynaprop, "tau_t: -0.001"), transcode::ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(dynaprop, "tau_i_train: -1"), transcode::ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(dynaprop, "targets: [activation]"), transcode::ConfigError);
    CHECK_NOTHROW(transcode::config::parse_params(dynaprop, "targets: []"));

    const auto& topk = pruning_info("topk").schema;
    CHECK_THROWS_AS(transcode::config::parse_params(topk, "k: 0"), transcode::ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(topk, "targets: []"), transcode::ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(topk, "targets: [weight]"), transcode::ConfigError);
}

TEST_CASE("pruning.dynaprop: a threshold of 0 leaves nonzero data bit-identical in every role and mode") {
    const auto p = make_pruning("dynaprop", "tau_i_train: 0\ntau_i_infer: 0\ntau_t: 0");
    const Tensor original = gaussian(16, 64, 7);
    for (TensorRole role : all_roles) {
        for (RunMode mode : all_modes) {
            CAPTURE(to_string(role));
            CAPTURE(static_cast<int>(mode));
            Tensor t = original;
            const PruneStats stats = p->prune(t.view(role), mode);
            CHECK(bit_identical(t.data, original.data));
            CHECK(stats.zeros == 0);
            CHECK(stats.elements == 16 * 64);
        }
    }
}

TEST_CASE("pruning.dynaprop: sparsity grows with tau and matches the Gaussian mass below tau") {
    const Tensor original = gaussian(128, 128, 2024);
    const double n = 128.0 * 128.0;
    double previous = -1.0;
    for (const char* tau : {"0", "0.001", "0.01", "0.05", "0.1", "0.3", "0.5", "1", "2", "4"}) {
        CAPTURE(tau);
        const auto p = make_pruning("dynaprop", std::string("tau_i_train: ") + tau);
        Tensor t = original;
        const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
        REQUIRE(stats.elements == 128 * 128);
        CHECK(stats.zeros == zeros_in(t.data));
        const double sparsity = static_cast<double>(stats.zeros) / n;
        CHECK(sparsity >= previous);
        previous = sparsity;
        // P(|x| <= tau) for a standard normal x is erf(tau / sqrt(2)).
        const double threshold = std::stod(tau);
        CHECK(std::fabs(sparsity - std::erf(threshold / std::sqrt(2.0))) < 0.02);
        // Survivors are exactly the values with |x| > tau (compared exactly, in double), unchanged.
        for (std::size_t i = 0; i < t.data.size(); ++i) {
            if (std::fabs(static_cast<double>(original.data[i])) > threshold) {
                REQUIRE(t.data[i] == original.data[i]);
            } else {
                REQUIRE(t.data[i] == 0.0f);
            }
        }
    }
    CHECK(previous > 0.99);
}

TEST_CASE("pruning.dynaprop: exact result on a hand-computed example, with NaN left untouched") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const auto p = make_pruning("dynaprop", "tau_i_infer: 0.01");
    // |x| <= 0.01 goes: -0.01, 0.0, 0.005, -0.0 and 0.01; 0.0100001 and the rest stay; NaN stays.
    Tensor t = make_tensor(2, 5, {0.5f, -0.01f, 0.0f, 0.02f, -0.3f, 0.005f, nan, -0.0f, 0.01f, 0.0100001f});
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::inference);
    CHECK(stats.zeros == 5);
    CHECK(stats.elements == 10);
    const std::vector<float> expected{0.5f, 0.0f, 0.0f, 0.02f, -0.3f, 0.0f, nan, 0.0f, 0.0f, 0.0100001f};
    for (std::size_t i = 0; i < expected.size(); ++i) {
        CAPTURE(i);
        if (std::isnan(expected[i])) {
            CHECK(std::isnan(t.data[i]));
        } else {
            CHECK(t.data[i] == expected[i]);
        }
    }
}

TEST_CASE("pruning.dynaprop: |x| equal to tau is pruned, the next float above it is kept") {
    const auto p = make_pruning("dynaprop", "tau_t: 0.5");
    const float above = std::nextafter(0.5f, 1.0f);
    Tensor t = make_tensor(1, 4, {0.5f, -0.5f, above, -above});
    const PruneStats stats = p->prune(t.view(TensorRole::weight_gradient), RunMode::training);
    CHECK(stats.zeros == 2);
    CHECK(t.data == std::vector<float>{0.0f, 0.0f, above, -above});
}

TEST_CASE("pruning.dynaprop: thresholds compare exactly, so a float just above a decimal tau is kept") {
    // The float nearest to 0.1 is 0.100000001490116..., which is above the real number 0.1.
    const auto p = make_pruning("dynaprop", "tau_i_train: 0.1");
    const float below = std::nextafter(0.1f, 0.0f);
    REQUIRE(static_cast<double>(0.1f) > 0.1);
    REQUIRE(static_cast<double>(below) < 0.1);
    Tensor t = make_tensor(1, 4, {0.1f, -0.1f, below, -below});
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
    CHECK(stats.zeros == 2);
    CHECK(t.data == std::vector<float>{0.1f, -0.1f, 0.0f, 0.0f});
}

TEST_CASE("pruning.dynaprop: training and inference use their own activation thresholds") {
    const auto p = make_pruning("dynaprop", "tau_i_train: 0.5\ntau_i_infer: 0.05");
    const Tensor original = make_tensor(1, 4, {0.01f, 0.1f, 0.4f, 0.9f});

    Tensor training = original;
    CHECK(p->prune(training.view(TensorRole::activation), RunMode::training).zeros == 3);
    CHECK(training.data == std::vector<float>{0.0f, 0.0f, 0.0f, 0.9f});

    Tensor inference = original;
    CHECK(p->prune(inference.view(TensorRole::activation), RunMode::inference).zeros == 1);
    CHECK(inference.data == std::vector<float>{0.0f, 0.1f, 0.4f, 0.9f});
}

TEST_CASE("pruning.dynaprop: gradients are pruned in training only, and their natural zeros are still counted") {
    const auto p = make_pruning("dynaprop", "tau_t: 0.5");
    const Tensor original = make_tensor(2, 3, {0.1f, 0.0f, -0.2f, 0.7f, 0.3f, -0.9f});
    for (TensorRole role : {TensorRole::activation_gradient, TensorRole::weight_gradient}) {
        CAPTURE(to_string(role));
        CHECK_FALSE(p->prunes(role, RunMode::inference));
        CHECK(p->prunes(role, RunMode::training));

        Tensor inference = original;
        const PruneStats untouched = p->prune(inference.view(role), RunMode::inference);
        CHECK(bit_identical(inference.data, original.data));
        CHECK(untouched.zeros == 1);
        CHECK(untouched.elements == 6);

        Tensor training = original;
        const PruneStats pruned = p->prune(training.view(role), RunMode::training);
        CHECK(training.data == std::vector<float>{0.0f, 0.0f, 0.0f, 0.7f, 0.0f, -0.9f});
        CHECK(pruned.zeros == 4);
    }
}

TEST_CASE("pruning.dynaprop: targets choose which gradient roles are pruned") {
    const Tensor original = make_tensor(1, 4, {1e-5f, -2e-5f, 0.5f, 0.0f});
    struct Case {
        const char* yaml;
        bool weight_gradient;
        bool activation_gradient;
    };
    for (const Case& c : {Case{"", true, true}, Case{"targets: [weight_gradient]", true, false},
                          Case{"targets: [activation_gradient]", false, true}, Case{"targets: []", false, false}}) {
        CAPTURE(c.yaml);
        const auto p = make_pruning("dynaprop", c.yaml);
        CHECK(p->prunes(TensorRole::activation, RunMode::training));
        CHECK(p->prunes(TensorRole::weight_gradient, RunMode::training) == c.weight_gradient);
        CHECK(p->prunes(TensorRole::activation_gradient, RunMode::training) == c.activation_gradient);
        for (auto [role, pruned] : {std::pair{TensorRole::weight_gradient, c.weight_gradient},
                                    std::pair{TensorRole::activation_gradient, c.activation_gradient}}) {
            Tensor t = original;
            const PruneStats stats = p->prune(t.view(role), RunMode::training);
            CHECK(stats.zeros == (pruned ? 3 : 1));
            CHECK(bit_identical(t.data, original.data) == !pruned);
        }
    }
}

TEST_CASE("pruning.dynaprop: weights and optimizer state are never pruned, but their zeros are counted") {
    const auto p = make_pruning("dynaprop", "tau_i_train: 10\ntau_i_infer: 10\ntau_t: 10");
    const Tensor original = make_tensor(2, 2, {0.0f, 1.0f, -0.0f, 2.0f});
    for (TensorRole role : {TensorRole::weight, TensorRole::optimizer_state}) {
        for (RunMode mode : all_modes) {
            CAPTURE(to_string(role));
            CHECK_FALSE(p->prunes(role, mode));
            Tensor t = original;
            const PruneStats stats = p->prune(t.view(role), mode);
            CHECK(bit_identical(t.data, original.data));
            CHECK(stats.zeros == 2);
            CHECK(stats.elements == 4);
        }
    }
}

TEST_CASE("pruning.dynaprop: zeros already in a pruned tensor count toward its sparsity") {
    const auto p = make_pruning("dynaprop", "tau_i_train: 0.1");
    Tensor t = make_tensor(1, 6, {0.0f, 0.0f, 0.0f, 0.05f, 3.0f, -4.0f});
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
    CHECK(stats.zeros == 4);
    CHECK(stats.elements == 6);
}

TEST_CASE("pruning plugins: empty tensors give zero counts") {
    for (const char* name : {"dynaprop", "topk", "none"}) {
        CAPTURE(name);
        const auto p = make_pruning(name);
        for (auto [rows, cols] : {std::pair<std::int64_t, std::int64_t>{0, 7}, {5, 0}, {0, 0}}) {
            const PruneStats stats = p->prune(TensorView{nullptr, rows, cols, TensorRole::activation, "empty"}, RunMode::training);
            CHECK(stats.zeros == 0);
            CHECK(stats.elements == 0);
        }
    }
}

TEST_CASE("pruning.topk: keeps the k largest magnitudes of each row") {
    const auto p = make_pruning("topk", "k: 2");
    Tensor t = make_tensor(2, 4, {1.0f, -5.0f, 3.0f, 0.5f, 0.25f, 0.125f, -8.0f, 7.0f});
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::inference);
    CHECK(t.data == std::vector<float>{0.0f, -5.0f, 3.0f, 0.0f, 0.0f, 0.0f, -8.0f, 7.0f});
    CHECK(stats.zeros == 4);
    CHECK(stats.elements == 8);
}

TEST_CASE("pruning.topk: ties go to the lower column index, keeping exactly k") {
    const auto p = make_pruning("topk", "k: 3");
    Tensor t = make_tensor(3, 5, {
                                     2.0f, -1.0f, 1.0f, -2.0f, 1.0f,  // the two 2s, then the first 1
                                     1.0f, 1.0f,  1.0f, 1.0f,  1.0f,  // all equal: the first three
                                     0.0f, -0.0f, 0.0f, 5.0f,  0.0f,  // 5, then the first two zeros
                                 });
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
    const std::vector<float> expected{2.0f, -1.0f, 0.0f, -2.0f, 0.0f,  //
                                      1.0f, 1.0f,  1.0f, 0.0f,  0.0f,  //
                                      0.0f, -0.0f, 0.0f, 5.0f,  0.0f};
    CHECK(t.data == expected);
    CHECK(std::signbit(t.data[11]));  // a kept -0.0 is kept as it was
    CHECK(stats.zeros == 2 + 2 + 4);
}

TEST_CASE("pruning.topk: on random rows exactly k survive, and they are the largest") {
    const std::int64_t rows = 50;
    const std::int64_t cols = 100;
    const auto p = make_pruning("topk", "k: 32");
    const Tensor original = gaussian(rows, cols, 99);
    Tensor t = original;
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::inference);
    CHECK(stats.elements == rows * cols);
    CHECK(stats.zeros == rows * (cols - 32));
    for (std::int64_t r = 0; r < rows; ++r) {
        CAPTURE(r);
        float min_kept = std::numeric_limits<float>::infinity();
        float max_dropped = 0.0f;
        std::int64_t kept = 0;
        for (std::int64_t c = 0; c < cols; ++c) {
            const auto i = static_cast<std::size_t>(r * cols + c);
            if (t.data[i] != 0.0f) {
                REQUIRE(t.data[i] == original.data[i]);
                ++kept;
                min_kept = std::min(min_kept, std::fabs(original.data[i]));
            } else {
                max_dropped = std::max(max_dropped, std::fabs(original.data[i]));
            }
        }
        CHECK(kept == 32);
        CHECK(min_kept >= max_dropped);
    }
}

TEST_CASE("pruning.topk: rows of at most k columns are kept whole, and their zeros counted") {
    for (const char* yaml : {"k: 4", "k: 5", "k: 1000"}) {
        CAPTURE(yaml);
        const auto p = make_pruning("topk", yaml);
        const Tensor original = make_tensor(2, 4, {0.0f, 1e-9f, -3.0f, 2.0f, 4.0f, 0.0f, 0.0f, 1.0f});
        Tensor t = original;
        const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
        CHECK(bit_identical(t.data, original.data));
        CHECK(stats.zeros == 3);
        CHECK(stats.elements == 8);
    }
}

TEST_CASE("pruning.topk: NaN ranks above every number, so it is kept") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const auto p = make_pruning("topk", "k: 2");
    Tensor t = make_tensor(1, 5, {1.0f, nan, -inf, 100.0f, 2.0f});
    const PruneStats stats = p->prune(t.view(TensorRole::activation), RunMode::training);
    CHECK(stats.zeros == 3);
    CHECK(std::isnan(t.data[1]));
    CHECK(t.data[2] == -inf);
    CHECK(t.data[0] == 0.0f);
    CHECK(t.data[3] == 0.0f);
    CHECK(t.data[4] == 0.0f);
}

TEST_CASE("pruning.topk: targets choose the roles, and gradients are pruned in training only") {
    const Tensor original = make_tensor(1, 3, {1.0f, 2.0f, 3.0f});
    const auto pruned_zeros = [&](const PluginPtr<PruningStrategy>& p, TensorRole role, RunMode mode) {
        Tensor t = original;
        return p->prune(t.view(role), mode).zeros;
    };

    const auto by_default = make_pruning("topk", "k: 1");
    CHECK(by_default->prunes(TensorRole::activation, RunMode::inference));
    CHECK(by_default->prunes(TensorRole::activation, RunMode::training));
    CHECK(pruned_zeros(by_default, TensorRole::activation, RunMode::inference) == 2);
    for (TensorRole role : {TensorRole::weight, TensorRole::activation_gradient, TensorRole::weight_gradient,
                            TensorRole::optimizer_state}) {
        CAPTURE(to_string(role));
        CHECK_FALSE(by_default->prunes(role, RunMode::training));
        CHECK(pruned_zeros(by_default, role, RunMode::training) == 0);
    }

    const auto gradients = make_pruning("topk", "k: 1\ntargets: [weight_gradient, activation_gradient]");
    CHECK_FALSE(gradients->prunes(TensorRole::activation, RunMode::training));
    CHECK(pruned_zeros(gradients, TensorRole::activation, RunMode::training) == 0);
    for (TensorRole role : {TensorRole::activation_gradient, TensorRole::weight_gradient}) {
        CAPTURE(to_string(role));
        CHECK(gradients->prunes(role, RunMode::training));
        CHECK_FALSE(gradients->prunes(role, RunMode::inference));
        CHECK(pruned_zeros(gradients, role, RunMode::training) == 2);
        CHECK(pruned_zeros(gradients, role, RunMode::inference) == 0);
    }
}

TEST_CASE("pruning.topk: the factory refuses empty targets that bypass the schema") {
    const PluginInfo& info = pruning_info("topk");
    const transcode::Params params(transcode::ValueMap{{"k", transcode::Value(2)}, {"targets", transcode::Value(transcode::ValueList{})}});
    CHECK_THROWS_WITH_AS(host().create<PruningStrategy>(info, params), "pruning.topk: targets is empty; name at least one role, or use pruning.none",
                         transcode::ConfigError);
}

TEST_CASE("pruning.none: changes nothing in any role or mode, and counts the zeros already there") {
    const auto p = make_pruning("none");
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor original = make_tensor(2, 4, {0.0f, 1e-30f, -0.0f, nan, 0.5f, 0.0f, -7.0f, 1e-8f});
    for (TensorRole role : all_roles) {
        for (RunMode mode : all_modes) {
            CAPTURE(to_string(role));
            CHECK_FALSE(p->prunes(role, mode));
            Tensor t = original;
            const PruneStats stats = p->prune(t.view(role), mode);
            CHECK(bit_identical(t.data, original.data));
            CHECK(stats.zeros == 3);
            CHECK(stats.elements == 8);
        }
    }
}

namespace {

using transcode::PruningPoint;

TensorView at_point(Tensor& t, TensorRole role, PruningPoint point) {
    TensorView v = t.view(role);
    v.point = point;
    return v;
}

}  // namespace

TEST_CASE("pruning points: names, the points never pruned, and the point a role implies") {
    CHECK(std::string(to_string(PruningPoint::attention_probabilities)) == "attention_probabilities");
    CHECK(std::string(to_string(PruningPoint::logits_gradient)) == "logits_gradient");
    CHECK(transcode::never_pruned(PruningPoint::logits));
    CHECK(transcode::never_pruned(PruningPoint::logits_gradient));
    CHECK_FALSE(transcode::never_pruned(PruningPoint::dense));
    Tensor t = make_tensor(1, 1, {1.0f});
    CHECK(t.view(TensorRole::activation).resolved_point() == PruningPoint::dense);
    CHECK(t.view(TensorRole::activation_gradient).resolved_point() == PruningPoint::activation_gradient);
    CHECK(t.view(TensorRole::weight_gradient).resolved_point() == PruningPoint::weight_gradient);
    CHECK(t.view(TensorRole::weight).resolved_point() == PruningPoint::unspecified);
    CHECK(at_point(t, TensorRole::activation, PruningPoint::attention_scores).resolved_point() == PruningPoint::attention_scores);
}

TEST_CASE("pruning.dynaprop: each point uses its own threshold, and a point without one falls back to tau_i or tau_t") {
    // |x| = 0.05, 0.15, 0.25, 0.35: a threshold between two of them prunes a known count.
    const std::vector<float> values{0.05f, -0.15f, 0.25f, -0.35f};
    auto zeros_after = [&](const PruningStrategy& p, TensorRole role, PruningPoint point, RunMode mode) {
        Tensor t = make_tensor(1, 4, values);
        return p.prune(at_point(t, role, point), mode).zeros;
    };
    const auto fallback = make_pruning("dynaprop", "tau_i_train: 0.2\ntau_i_infer: 0.3\ntau_t: 0.1");
    for (PruningPoint point : {PruningPoint::dense, PruningPoint::attention_scores, PruningPoint::attention_probabilities, PruningPoint::unspecified}) {
        CAPTURE(to_string(point));
        CHECK(zeros_after(*fallback, TensorRole::activation, point, RunMode::training) == 2);
        CHECK(zeros_after(*fallback, TensorRole::activation, point, RunMode::inference) == 3);
    }
    CHECK(zeros_after(*fallback, TensorRole::activation_gradient, PruningPoint::activation_gradient, RunMode::training) == 1);
    CHECK(zeros_after(*fallback, TensorRole::weight_gradient, PruningPoint::weight_gradient, RunMode::training) == 1);

    const auto own = make_pruning("dynaprop",
                                  "tau_i_train: 0.2\ntau_i_infer: 0.3\ntau_t: 0.1\n"
                                  "tau_dense_train: 0\ntau_dense_infer: 0.4\n"
                                  "tau_attention_scores_train: 0.1\ntau_attention_probabilities_infer: 0.01\n"
                                  "tau_activation_gradient: 0.3\ntau_weight_gradient: 0.4");
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::dense, RunMode::training) == 0);
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::dense, RunMode::inference) == 4);
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::attention_scores, RunMode::training) == 1);
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::attention_scores, RunMode::inference) == 3);  // tau_i_infer
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::attention_probabilities, RunMode::training) == 2);  // tau_i_train
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::attention_probabilities, RunMode::inference) == 0);
    CHECK(zeros_after(*own, TensorRole::activation_gradient, PruningPoint::activation_gradient, RunMode::training) == 3);
    CHECK(zeros_after(*own, TensorRole::weight_gradient, PruningPoint::weight_gradient, RunMode::training) == 4);
    // A view without a point goes by its role: an activation is dense.
    CHECK(zeros_after(*own, TensorRole::activation, PruningPoint::unspecified, RunMode::inference) == 4);
    CHECK_THROWS_WITH(make_pruning("dynaprop", "tau_dense_train: -0.5"), doctest::Contains("tau_dense_train"));
}

TEST_CASE("pruning strategies never prune the logits or their gradient, even when handed them") {
    const auto dynaprop = make_pruning("dynaprop", "tau_i_train: 10\ntau_i_infer: 10\ntau_t: 10");
    const auto topk = make_pruning("topk", "k: 1\ntargets: [activation, activation_gradient]");
    for (const PruningStrategy* p : {dynaprop.get(), topk.get()}) {
        for (RunMode mode : all_modes) {
            Tensor logits = make_tensor(2, 3, {0.5f, -1.0f, 0.0f, 2.0f, 0.25f, -0.125f});
            const std::vector<float> before = logits.data;
            const PruneStats s = p->prune(at_point(logits, TensorRole::activation, PruningPoint::logits), mode);
            CHECK(bit_identical(logits.data, before));
            CHECK(s.zeros == 1);
            CHECK(s.elements == 6);
            Tensor grad = make_tensor(2, 3, {0.5f, -1.0f, 0.0f, 2.0f, 0.25f, -0.125f});
            CHECK(p->prune(at_point(grad, TensorRole::activation_gradient, PruningPoint::logits_gradient), mode).zeros == 1);
            CHECK(bit_identical(grad.data, before));
        }
    }
}

TEST_CASE("pruning.topk: points choose which activation points are pruned") {
    const auto topk = make_pruning("topk", "k: 1\npoints: [dense, attention_scores]");
    Tensor probs = make_tensor(1, 4, {0.1f, 0.2f, 0.3f, 0.4f});
    CHECK(topk->prune(at_point(probs, TensorRole::activation, PruningPoint::attention_probabilities), RunMode::training).zeros == 0);
    Tensor scores = make_tensor(1, 4, {0.1f, 0.2f, 0.3f, 0.4f});
    CHECK(topk->prune(at_point(scores, TensorRole::activation, PruningPoint::attention_scores), RunMode::training).zeros == 3);
    Tensor dense = make_tensor(1, 4, {0.1f, 0.2f, 0.3f, 0.4f});
    CHECK(topk->prune(at_point(dense, TensorRole::activation, PruningPoint::unspecified), RunMode::inference).zeros == 3);
    // By default every activation point is pruned.
    const auto all = make_pruning("topk", "k: 1");
    Tensor p2 = make_tensor(1, 4, {0.1f, 0.2f, 0.3f, 0.4f});
    CHECK(all->prune(at_point(p2, TensorRole::activation, PruningPoint::attention_probabilities), RunMode::training).zeros == 3);
    CHECK_THROWS_WITH(make_pruning("topk", "points: [logits]"), doctest::Contains("logits"));
}

TEST_CASE("pruning.topk: keep_fraction keeps ceil(fraction · cols) of each row, so one value gives rows of any width the same sparsity") {
    // 1 - 0.7 is 0.30000000000000004 in double, as a sweep computes it from a target of 0.7.
    const auto topk = make_pruning("topk", "keep_fraction: 0.30000000000000004");
    for (const std::int64_t cols : {128, 512, 10, 1}) {
        CAPTURE(cols);
        // ceil(0.3 · 128) = ceil(38.4) = 39, ceil(0.3 · 512) = ceil(153.6) = 154, 0.3 · 10 = 3 (the
        // double product 3.0000000000000004 counts as 3), and a row of one column keeps it.
        const std::int64_t kept = cols == 128 ? 39 : cols == 512 ? 154 : cols == 10 ? 3 : 1;
        Tensor t = gaussian(16, cols, 11);
        const PruneStats stats = topk->prune(t.view(TensorRole::activation), RunMode::training);
        CHECK(stats.zeros == 16 * (cols - kept));
        for (std::int64_t r = 0; r < 16; ++r) {
            CAPTURE(r);
            CHECK(std::count_if(t.data.begin() + r * cols, t.data.begin() + (r + 1) * cols, [](float x) { return x != 0.0f; }) == kept);
        }
    }
    // Rows of 128 and 512 end up within a rounding of the same sparsity, 1 - 0.3 = 0.7; k = 32 gives
    // them 0.75 and 0.9375.
    CHECK(std::abs((128.0 - 39.0) / 128.0 - (512.0 - 154.0) / 512.0) < 1.0 / 128.0);
    // The same as the k it amounts to, entry for entry.
    Tensor a = gaussian(8, 128, 3), b = a;
    topk->prune(a.view(TensorRole::activation), RunMode::inference);
    make_pruning("topk", "k: 39")->prune(b.view(TensorRole::activation), RunMode::inference);
    CHECK(bit_identical(a.data, b.data));
    // keep_fraction 1 keeps everything; neither k nor keep_fraction keeps 32.
    Tensor whole = gaussian(4, 64, 5);
    const std::vector<float> before = whole.data;
    CHECK(make_pruning("topk", "keep_fraction: 1")->prune(whole.view(TensorRole::activation), RunMode::training).zeros == 0);
    CHECK(bit_identical(whole.data, before));
    Tensor by_default = gaussian(4, 64, 5);
    CHECK(make_pruning("topk")->prune(by_default.view(TensorRole::activation), RunMode::training).zeros == 4 * 32);
}

TEST_CASE("pruning.topk: k and keep_fraction exclude each other, and keep_fraction is above 0 and at most 1") {
    const PluginInfo& info = pruning_info("topk");
    try {
        make_pruning("topk", "k: 4\nkeep_fraction: 0.5");
        FAIL("no error");
    } catch (const transcode::ConfigError& e) {
        CHECK(e.path() == "k");
        CHECK(std::string(e.what()) ==
              "give k or keep_fraction, not both: k keeps a fixed number of entries per row, keep_fraction a fraction of each row's columns");
    }
    CHECK_THROWS_AS(transcode::config::parse_params(info.schema, "keep_fraction: 0"), transcode::ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(info.schema, "keep_fraction: 1.5"), transcode::ConfigError);
    CHECK_NOTHROW(transcode::config::parse_params(info.schema, "keep_fraction: 1"));
}
