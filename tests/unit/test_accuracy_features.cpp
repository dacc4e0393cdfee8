// The accuracy surrogate's features (plugins/accuracy/features.cpp, compiled into the tests): the
// analytic FLOPs and weight count must equal what the engine counts on the graph models.flexibert
// builds for the same parameters.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <string_view>

#include "config/schema_validation.hpp"
#include "features.hpp"
#include "graph/op_costs.hpp"
#include "test_support.hpp"
#include "transcode/model.hpp"

namespace {

using transcode::ModelFamily;
using transcode::ModelGraph;
using transcode::Value;
using transcode::ValueMap;
namespace acc = transcode::plugins::accuracy;

struct Counted {
    Value params;
    double flops_per_sequence = 0;  ///< forward FLOPs of the encoder layers / batch
    double weights = 0;             ///< weight elements of the encoder layers
};

Counted count_graph(std::string_view yaml) {
    const auto& host = transcode::test::builtin_plugins();
    const auto* info = host.find("flexibert", transcode::PluginKind::model);
    REQUIRE(info != nullptr);
    const auto params = transcode::config::parse_params(info->schema, yaml);
    const ModelGraph g = host.create<ModelFamily>(*info, params)->build_forward();
    Counted c{Value(params.values())};
    for (const auto& op : g.ops)
        if (op.layer >= 0 && op.layer < g.layers) c.flops_per_sequence += transcode::engine::op_cost(g, op).flops;
    c.flops_per_sequence /= static_cast<double>(params.get_int("batch_size"));
    for (const auto& op : g.ops) {
        if (op.layer < 0 || op.layer >= g.layers) continue;
        for (auto t : op.inputs) {
            const auto& d = g.tensors[static_cast<std::size_t>(t)];
            if (d.role == transcode::TensorRole::weight) c.weights += static_cast<double>(d.elements());
        }
    }
    return c;
}

}  // namespace

TEST_CASE("accuracy features: the analytic encoder FLOPs equal the engine's graph cost of models.flexibert") {
    const char* models[] = {
        "preset: bert-tiny",
        "{preset: bert-mini, sequence_length: 64, batch_size: 3}",
        "{layers: 2, hidden: [128, 64], heads: [[c-9, c-9, c-5, sa-sdp], [sa-sdp, c-13]], ff: [[512], [512]], sequence_length: 16}",
        "{layers: 3, hidden: [64, 128, 96], heads: [[l-dft, sa-wma], [l-dct, c-13, sa-sdp], [sa-wma]], ff: [[256, 128], [512], [96, 96, 64]], "
        "head_dim: [[16, 48], [32, 32, 8], [24]], sequence_length: 32, batch_size: 2}",
        "{layers: 2, hidden: [128, 128], heads: [[sa-sdp, sa-wma], [c-5, l-dft]], ff: [[512], [256]], hidden_dropout: 0.1, attention_dropout: 0.1}",
        "{layers: 2, hidden: [128, 256], heads: [[sa-sdp, c-9], [l-dct, sa-wma, c-13]], ff: [[512, 256], [1024]], ff_activation: relu}",
    };
    for (const char* yaml : models) {
        CAPTURE(yaml);
        const Counted c = count_graph(yaml);
        REQUIRE(c.flops_per_sequence > 0);
        CHECK(acc::encoder_flops_per_sequence(c.params) == doctest::Approx(c.flops_per_sequence).epsilon(1e-12));
        CHECK(acc::encoder_parameters(c.params) == doctest::Approx(c.weights).epsilon(1e-12));
        const acc::Features f = acc::flexibert_features(c.params);
        CHECK(f[static_cast<std::size_t>(acc::Feature::log10_flops)] == doctest::Approx(std::log10(c.flops_per_sequence)));
    }
}

TEST_CASE("accuracy features: ff_activation relu is a feature and costs 1 FLOP per element instead of GELU's 8") {
    const Counted c = count_graph("{layers: 1, hidden: [64], heads: [[sa-sdp]], ff: [[256]], sequence_length: 8}");
    ValueMap relu = c.params.as_map();
    relu.insert_or_assign("ff_activation", Value{std::string("relu")});
    const double gelu_flops = acc::encoder_flops_per_sequence(c.params);
    // One feed-forward layer of 256 over 8 tokens: (8 - 1) FLOPs x 2048 elements fewer.
    CHECK(gelu_flops - acc::encoder_flops_per_sequence(Value(relu)) == 7.0 * 8 * 256);
    CHECK(acc::flexibert_features(c.params)[static_cast<std::size_t>(acc::Feature::ff_relu)] == 0.0);
    CHECK(acc::flexibert_features(Value(relu))[static_cast<std::size_t>(acc::Feature::ff_relu)] == 1.0);
    relu.insert_or_assign("ff_activation", Value{std::string("swish")});
    CHECK_THROWS_WITH_AS(acc::flexibert_features(Value(relu)), "ff_activation must be gelu or relu, got swish", transcode::ConfigError);
}
