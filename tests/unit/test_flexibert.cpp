// The built-in "models" plugin library (models.flexibert), loaded through the real plugin host and
// configured through the real schema validation.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema_validation.hpp"
#include "graph/graph_check.hpp"
#include "graph/model_summary.hpp"
#include "graph/training_graph.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/model.hpp"

namespace {

using transcode::ConfigError;
using transcode::ModelFamily;
using transcode::ModelGraph;
using transcode::OpDesc;
using transcode::OpKind;
using transcode::Shape;
using transcode::TensorDesc;
using transcode::TensorId;
using transcode::TensorRole;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;
using transcode::engine::PluginPtr;

const PluginHost& host() { return transcode::test::builtin_plugins(); }

const PluginInfo& flexibert_info() {
    const PluginInfo* info = host().find("flexibert", transcode::PluginKind::model);
    REQUIRE_MESSAGE(info != nullptr, "model plugin 'flexibert' is not loaded");
    return *info;
}

PluginPtr<ModelFamily> make_model(std::string_view yaml) {
    const PluginInfo& info = flexibert_info();
    return host().create<ModelFamily>(info, transcode::config::parse_params(info.schema, yaml));
}

ModelGraph build(std::string_view yaml) { return make_model(yaml)->build_forward(); }

/// The ConfigError the factory throws for `yaml` (fails the test when there is none).
ConfigError create_error(std::string_view yaml) {
    try {
        make_model(yaml);
    } catch (const ConfigError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("expected a ConfigError, got another exception: " << e.what());
    }
    FAIL("expected a ConfigError for:\n" << yaml);
    return ConfigError("");
}

/// The layer (OpDesc::layer) of the op that consumes each weight; every weight must be consumed
/// by exactly one forward op.
std::map<TensorId, int> weight_layers(const ModelGraph& g) {
    std::map<TensorId, int> layer_of;
    for (const OpDesc& op : g.ops)
        for (TensorId t : op.inputs)
            if (g.tensors[static_cast<std::size_t>(t)].role == TensorRole::weight) {
                CHECK_MESSAGE(!layer_of.contains(t), "weight '" << g.tensors[static_cast<std::size_t>(t)].name << "' is used twice");
                layer_of[t] = op.layer;
            }
    for (std::size_t t = 0; t < g.tensors.size(); ++t)
        if (g.tensors[t].role == TensorRole::weight)
            CHECK_MESSAGE(layer_of.contains(static_cast<TensorId>(t)), "weight '" << g.tensors[t].name << "' is never used");
    return layer_of;
}

/// Published-style parameter count: every weight except the task head's (classifier).
std::int64_t parameter_count(const ModelGraph& g) {
    std::int64_t n = 0;
    for (const auto& [t, layer] : weight_layers(g))
        if (layer != transcode::model_section::task_head(g.layers)) n += g.tensors[static_cast<std::size_t>(t)].elements();
    return n;
}

const TensorDesc* find_tensor(const ModelGraph& g, std::string_view name) {
    for (const auto& t : g.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

Shape shape_of(const ModelGraph& g, std::string_view name) {
    const TensorDesc* t = find_tensor(g, name);
    REQUIRE_MESSAGE(t != nullptr, "no tensor '" << std::string(name) << "'");
    return t->shape;
}

/// Op kind -> count, over the ops whose name starts with `prefix`.
std::map<OpKind, int> op_kinds(const ModelGraph& g, const std::string& prefix) {
    std::map<OpKind, int> n;
    for (const auto& op : g.ops)
        if (op.name.rfind(prefix, 0) == 0) ++n[op.kind];
    return n;
}

const OpDesc& find_op(const ModelGraph& g, std::string_view name) {
    for (const auto& op : g.ops)
        if (op.name == name) return op;
    FAIL("no op '" << std::string(name) << "'");
    return g.ops.front();
}

/// Checks each forward op's output shape against the semantics graph.hpp documents, literally.
/// (The one extension: slice with attr squeeze = 1 drops the sliced axis, which must have length 1.)
void check_shapes(const ModelGraph& g) {
    auto sh = [&](TensorId t) -> const Shape& { return g.tensors.at(static_cast<std::size_t>(t)).shape; };
    for (const OpDesc& op : g.ops) {
        CAPTURE(op.name);
        REQUIRE(op.outputs.size() == 1);
        const Shape& out = sh(op.outputs[0]);
        const Shape& a = sh(op.inputs.at(0));
        switch (op.kind) {
            case OpKind::matmul: {
                REQUIRE(op.inputs.size() == 2);
                Shape b = sh(op.inputs[1]);
                REQUIRE(a.size() >= 2);
                REQUIRE(b.size() >= 2);
                Shape at = a;
                if (op.attr("transpose_a") != 0) std::swap(at[at.size() - 1], at[at.size() - 2]);
                if (op.attr("transpose_b") != 0) std::swap(b[b.size() - 1], b[b.size() - 2]);
                CHECK(at.back() == b[b.size() - 2]);
                if (b.size() > 2) CHECK(Shape(b.begin(), b.end() - 2) == Shape(at.begin(), at.end() - 2));
                Shape want = at;
                want.back() = b.back();
                CHECK(out == want);
                break;
            }
            case OpKind::add: {
                const Shape& b = sh(op.inputs.at(1));
                CHECK((b == a || (b.size() == 1 && b[0] == a.back())));
                CHECK(out == a);
                break;
            }
            case OpKind::layer_norm:
                REQUIRE(op.inputs.size() == 3);
                CHECK(sh(op.inputs[1]) == Shape{a.back()});
                CHECK(sh(op.inputs[2]) == Shape{a.back()});
                CHECK(op.attr("eps") > 0);
                CHECK(out == a);
                break;
            case OpKind::softmax:
            case OpKind::seq_transform:
                // Attention and the linear transforms take the padding mask; the kernel softmax of a
                // convolution head normalises over taps, not positions, and takes none.
                if (op.inputs.size() == 2) {
                    const TensorDesc& mask = g.tensors.at(static_cast<std::size_t>(op.inputs[1]));
                    CHECK(mask.name == "attention_mask");
                    CHECK(mask.is_integer);
                    CHECK(mask.shape == Shape{a[0], a[a.size() - 2]});
                } else {
                    CHECK(op.inputs.size() == 1);
                    CHECK(op.name.find(".kernel") != std::string::npos);
                }
                CHECK(out == a);
                break;
            case OpKind::gelu:
            case OpKind::tanh:
                CHECK(op.inputs.size() == 1);
                CHECK(out == a);
                break;
            case OpKind::embedding: {
                const TensorDesc& ids = g.tensors.at(static_cast<std::size_t>(op.inputs.at(0)));
                const Shape& table = sh(op.inputs.at(1));
                CHECK(ids.is_integer);
                REQUIRE(ids.shape.size() == 2);
                REQUIRE(table.size() == 2);
                CHECK(out == Shape{ids.shape[0], ids.shape[1], table[1]});
                break;
            }
            case OpKind::conv1d: {
                REQUIRE(op.inputs.size() == 3);
                CHECK(g.tensors.at(static_cast<std::size_t>(op.inputs[2])).name == "attention_mask");
                const Shape& w = sh(op.inputs.at(1));
                REQUIRE(a.size() == 3);
                REQUIRE(w.size() == 3);
                CHECK(w[0] == a[0]);
                CHECK(w[1] == a[1]);
                CHECK(w[2] % 2 == 1);
                CHECK(out == a);
                break;
            }
            case OpKind::concat: {
                std::int64_t width = 0;
                for (TensorId t : op.inputs) {
                    CHECK(Shape(sh(t).begin(), sh(t).end() - 1) == Shape(a.begin(), a.end() - 1));
                    width += sh(t).back();
                }
                Shape want = a;
                want.back() = width;
                CHECK(out == want);
                break;
            }
            case OpKind::slice: {
                const auto axis = static_cast<std::size_t>(op.attr("axis"));
                const auto start = static_cast<std::int64_t>(op.attr("start"));
                const auto length = static_cast<std::int64_t>(op.attr("length"));
                CHECK(start + length <= a.at(axis));
                Shape want = a;
                want[axis] = length;
                if (op.attr("squeeze") != 0) {
                    CHECK(length == 1);
                    want.erase(want.begin() + static_cast<std::ptrdiff_t>(axis));
                }
                CHECK(out == want);
                break;
            }
            case OpKind::cross_entropy: {
                const TensorDesc& labels = g.tensors.at(static_cast<std::size_t>(op.inputs.at(1)));
                REQUIRE(a.size() == 2);
                CHECK(labels.is_integer);
                CHECK(labels.shape == Shape{a[0]});
                CHECK(out == Shape{1});
                break;
            }
            default: FAIL("unexpected op kind in a forward graph: " << transcode::to_string(op.kind));
        }
    }
}

/// Unique names, topological order, one producer per activation, a loss at the end.
void check_well_formed(const ModelGraph& g) {
    std::set<std::string> names;
    for (const auto& t : g.tensors) CHECK_MESSAGE(names.insert(t.name).second, "tensor name '" << t.name << "' is not unique");
    std::set<std::string> op_names;
    for (const auto& op : g.ops) CHECK_MESSAGE(op_names.insert(op.name).second, "op name '" << op.name << "' is not unique");

    std::vector<bool> available(g.tensors.size(), false);
    for (std::size_t t = 0; t < g.tensors.size(); ++t) available[t] = g.tensors[t].is_input || g.tensors[t].role == TensorRole::weight;
    for (const auto& op : g.ops) {
        CAPTURE(op.name);
        CHECK(op.phase == transcode::Phase::forward);
        CHECK(op.layer >= transcode::model_section::embeddings);
        CHECK(op.layer <= transcode::model_section::task_head(g.layers));
        for (TensorId t : op.inputs)
            CHECK_MESSAGE(available.at(static_cast<std::size_t>(t)),
                          "input '" << g.tensors[static_cast<std::size_t>(t)].name << "' is used before it is produced");
        for (TensorId t : op.outputs) {
            CHECK_MESSAGE(!available.at(static_cast<std::size_t>(t)), "output '" << g.tensors[static_cast<std::size_t>(t)].name << "' is produced twice");
            available[static_cast<std::size_t>(t)] = true;
        }
    }
    for (std::size_t t = 0; t < g.tensors.size(); ++t) CHECK_MESSAGE(available[t], "tensor '" << g.tensors[t].name << "' is never produced");
    REQUIRE(g.loss >= 0);
    CHECK(g.tensors[static_cast<std::size_t>(g.loss)].shape == Shape{1});
    CHECK(g.ops.back().outputs.front() == g.loss);
    CHECK(g.ops.back().kind == OpKind::cross_entropy);
}

// A heterogeneous model with all seven head variants and three widths. Layer 1 has 3 heads over
// hidden 256: 256 = 3·85 + 1, so the dims are 86, 85, 85.
constexpr std::string_view heterogeneous_yaml = R"(
layers: 4
hidden: [128, 256, 256, 192]
heads:
  - [sa-sdp, sa-wma, l-dft, l-dct]
  - [c-5, c-9, c-13]
  - [sa-wma]
  - [sa-sdp, c-9]
ff:
  - [512]
  - [1024, 512]
  - [256, 256, 256]
  - [768]
sequence_length: 64
batch_size: 2
)";

}  // namespace

TEST_SUITE("flexibert") {

TEST_CASE("models.flexibert is a model plugin of the models library") {
    const PluginInfo& info = flexibert_info();
    CHECK(info.name == "models.flexibert");
    CHECK(info.kind == transcode::PluginKind::model);
    CHECK(info.library == "models");
    CHECK(info.doc.find("hidden mod heads") != std::string::npos);
}

// Hand arithmetic of the published counts (embeddings + layer-norm, L encoder layers, pooler;
// no classifier). With hidden h, feed-forward f, vocab 30522, 512 positions, 2 segments:
//   embeddings = (30522 + 512 + 2)·h + 2h = 31036·h + 2h
//   layer      = 4·(h·h + h)  [Q, K, V over all heads, and the output projection]
//              + 2h           [attention layer-norm]
//              + (h·f + f) + (f·h + h) + 2h   [feed-forward and its layer-norm]
//   pooler     = h·h + h
// bert-tiny   h=128, f=512,  L=2:  3,972,864 + 2·198,272   +   16,512 =   4,385,920
// bert-mini   h=256, f=1024, L=4:  7,945,728 + 4·789,760   +   65,792 =  11,170,560
// bert-small  h=512, f=2048, L=4: 15,891,456 + 4·3,152,384 +  262,656 =  28,763,648
// bert-medium h=512, f=2048, L=8: 15,891,456 + 8·3,152,384 +  262,656 =  41,373,184
// bert-base   h=768, f=3072, L=12: 23,837,184 + 12·7,087,872 + 590,592 = 109,482,240
TEST_CASE("the BERT presets have their published parameter counts") {
    const std::pair<const char*, std::int64_t> presets[] = {
        {"bert-tiny", 4'385'920}, {"bert-mini", 11'170'560}, {"bert-small", 28'763'648}, {"bert-medium", 41'373'184}, {"bert-base", 109'482'240},
    };
    for (const auto& [name, count] : presets) {
        CAPTURE(name);
        const ModelGraph g = build(std::string("preset: ") + name);
        CHECK(parameter_count(g) == count);
    }
}

TEST_CASE("bert-base: the graph's structure, shapes and defaults") {
    const ModelGraph g = build("preset: bert-base");
    check_well_formed(g);
    check_shapes(g);
    CHECK(g.layers == 12);
    // Defaults: batch 4, sequence 128, vocab 30522, 512 positions, 2 segments, 2 classes.
    CHECK(shape_of(g, "input_ids") == Shape{4, 128});
    CHECK(shape_of(g, "segment_ids") == Shape{4, 128});
    CHECK(shape_of(g, "position_ids") == Shape{4, 128});
    CHECK(shape_of(g, "labels") == Shape{4});
    CHECK(shape_of(g, "embeddings.token.table") == Shape{30522, 768});
    CHECK(shape_of(g, "embeddings.position.table") == Shape{512, 768});
    CHECK(shape_of(g, "embeddings.segment.table") == Shape{2, 768});
    CHECK(shape_of(g, "layer11.head11.q.w") == Shape{768, 64});
    CHECK(shape_of(g, "layer0.head0.scores") == Shape{4, 128, 128});
    CHECK(shape_of(g, "layer0.attention.concat") == Shape{4, 128, 768});
    CHECK(shape_of(g, "layer0.ff.0.w") == Shape{768, 3072});
    CHECK(shape_of(g, "layer0.ff.1.w") == Shape{3072, 768});
    CHECK(shape_of(g, "pooler.first_token") == Shape{4, 768});
    CHECK(shape_of(g, "classifier") == Shape{4, 2});
    CHECK(find_tensor(g, "layer0.projection.w") == nullptr);
    CHECK(find_op(g, "layer0.head0.probs").attr("scale") == doctest::Approx(0.125));
    CHECK(find_op(g, "embeddings.norm").attr("eps") == doctest::Approx(1e-12));
    CHECK(find_op(g, "pooler.first_token").layer == transcode::model_section::pooler(12));
    CHECK(find_op(g, "classifier.matmul").layer == transcode::model_section::task_head(12));
    CHECK(find_op(g, "loss").layer == transcode::model_section::task_head(12));
    CHECK(find_op(g, "embeddings.token").layer == transcode::model_section::embeddings);
    CHECK(find_op(g, "layer7.ff.norm").layer == 7);
    CHECK(shape_of(g, "classifier.w") == Shape{768, 2});
}

TEST_CASE("every preset builds a well-formed graph") {
    for (const char* name : {"bert-tiny", "bert-mini", "bert-small", "bert-medium"}) {
        CAPTURE(name);
        const ModelGraph g = build(std::string("preset: ") + name);
        check_well_formed(g);
        check_shapes(g);
    }
}

TEST_CASE("a heterogeneous model with all seven head variants and differing widths builds") {
    const ModelGraph g = build(heterogeneous_yaml);
    check_well_formed(g);
    check_shapes(g);
    CHECK(g.layers == 4);

    SUBCASE("a projection joins layers of different widths, and only those") {
        CHECK(find_tensor(g, "layer0.projection.w") == nullptr);
        CHECK(shape_of(g, "layer1.projection.w") == Shape{128, 256});
        CHECK(shape_of(g, "layer1.projection.b") == Shape{256});
        CHECK(find_tensor(g, "layer2.projection.w") == nullptr);
        CHECK(shape_of(g, "layer3.projection.w") == Shape{256, 192});
        CHECK(find_op(g, "layer1.projection.matmul").layer == 1);
    }

    SUBCASE("head dimensions: hidden / heads, the remainder to the first heads") {
        CHECK(shape_of(g, "layer0.head0.q.w") == Shape{128, 32});
        CHECK(shape_of(g, "layer0.head3.v.w") == Shape{128, 32});
        CHECK(shape_of(g, "layer1.head0.v.w") == Shape{256, 86});
        CHECK(shape_of(g, "layer1.head1.v.w") == Shape{256, 85});
        CHECK(shape_of(g, "layer1.head2.v.w") == Shape{256, 85});
        CHECK(shape_of(g, "layer2.head0.q.w") == Shape{256, 256});
        CHECK(shape_of(g, "layer3.head0.q.w") == Shape{192, 96});
        CHECK(shape_of(g, "layer1.attention.concat") == Shape{2, 64, 256});
        CHECK(shape_of(g, "layer1.attention.out.w") == Shape{256, 256});
        // A single head needs no concat.
        CHECK(find_tensor(g, "layer2.attention.concat") == nullptr);
    }

    SUBCASE("the ops of each head type") {
        using K = OpKind;
        const std::map<K, int> sdp{{K::matmul, 5}, {K::add, 3}, {K::softmax, 1}};
        const std::map<K, int> wma{{K::matmul, 6}, {K::add, 3}, {K::softmax, 1}};
        const std::map<K, int> linear{{K::matmul, 1}, {K::add, 1}, {K::seq_transform, 1}};
        const std::map<K, int> conv{{K::matmul, 2}, {K::add, 2}, {K::softmax, 1}, {K::conv1d, 1}};
        CHECK(op_kinds(g, "layer0.head0.") == sdp);
        CHECK(op_kinds(g, "layer0.head1.") == wma);
        CHECK(op_kinds(g, "layer0.head2.") == linear);
        CHECK(op_kinds(g, "layer0.head3.") == linear);
        CHECK(op_kinds(g, "layer1.head0.") == conv);
        CHECK(op_kinds(g, "layer1.head1.") == conv);
        CHECK(op_kinds(g, "layer1.head2.") == conv);
        CHECK(op_kinds(g, "layer2.head0.") == wma);
        CHECK(op_kinds(g, "layer3.head0.") == sdp);
        CHECK(op_kinds(g, "layer3.head1.") == conv);

        CHECK(shape_of(g, "layer0.head1.wm") == Shape{32, 32});
        CHECK(find_tensor(g, "layer0.head1.wm.b") == nullptr);
        CHECK(find_op(g, "layer0.head0.scores").attr("transpose_b") == 1);
        CHECK(find_op(g, "layer0.head1.scores").attr("transpose_b") == 1);
        CHECK(find_op(g, "layer0.head1.probs").attr("scale") == doctest::Approx(1.0 / std::sqrt(32.0)));
        CHECK(find_op(g, "layer0.head2.transform").attr("variant", -1) == 0);
        CHECK(find_op(g, "layer0.head3.transform").attr("variant", -1) == 1);
        CHECK(shape_of(g, "layer1.head0.kernel_logits.w") == Shape{86, 5});
        CHECK(shape_of(g, "layer1.head1.kernel_logits.w") == Shape{85, 9});
        CHECK(shape_of(g, "layer1.head2.kernel_logits.w") == Shape{85, 13});
        CHECK(shape_of(g, "layer1.head2.kernel") == Shape{2, 64, 13});
        CHECK(find_op(g, "layer1.head2.kernel").attr("scale") == 1);
        CHECK(shape_of(g, "layer1.head2.conv") == Shape{2, 64, 85});
    }

    SUBCASE("feed-forward stacks: h -> f1 -> ... -> fm -> h, GELU after each fi") {
        CHECK(shape_of(g, "layer1.ff.0.w") == Shape{256, 1024});
        CHECK(shape_of(g, "layer1.ff.1.w") == Shape{1024, 512});
        CHECK(shape_of(g, "layer1.ff.2.w") == Shape{512, 256});
        CHECK(op_kinds(g, "layer1.ff.").at(OpKind::gelu) == 2);
        CHECK(op_kinds(g, "layer2.ff.").at(OpKind::gelu) == 3);
        CHECK(shape_of(g, "layer3.ff.1.w") == Shape{768, 192});
        CHECK(shape_of(g, "pooler.dense.w") == Shape{192, 192});
    }

    SUBCASE("the parameter count, by hand") {
        auto dense = [](std::int64_t in, std::int64_t out) { return in * out + out; };
        std::int64_t n = (30522 + 512 + 2) * 128 + 2 * 128;
        // layer 0: 2 sa heads (q,k,v), wma's extra 32x32, 2 linear heads (v); out; LN; ff; LN
        n += 2 * 3 * dense(128, 32) + 32 * 32 + 2 * dense(128, 32) + dense(128, 128) + 256 + dense(128, 512) + dense(512, 128) + 256;
        // layer 1: projection, 3 conv heads (v and kernel logits), out, LN, ff 256->1024->512->256, LN
        n += dense(128, 256) + dense(256, 86) + dense(86, 5) + dense(256, 85) + dense(85, 9) + dense(256, 85) + dense(85, 13) +
             dense(256, 256) + 512 + dense(256, 1024) + dense(1024, 512) + dense(512, 256) + 512;
        // layer 2: one wma head of dim 256
        n += 3 * dense(256, 256) + 256 * 256 + dense(256, 256) + 512 + 3 * dense(256, 256) + dense(256, 256) + 512;
        // layer 3: projection, sdp head 96 and c-9 head 96, out, LN, ff 192->768->192, LN
        n += dense(256, 192) + 3 * dense(192, 96) + dense(192, 96) + dense(96, 9) + dense(192, 192) + 384 + dense(192, 768) +
             dense(768, 192) + 384;
        n += dense(192, 192);  // pooler
        CHECK(parameter_count(g) == n);
    }
}

TEST_CASE("the engine validates the graphs, derives their training steps and counts the same parameters") {
    const std::pair<std::string, std::int64_t> models[] = {
        {"preset: bert-tiny", 4'385'920}, {"preset: bert-base", 109'482'240}, {std::string(heterogeneous_yaml), -1}};
    for (const auto& [yaml, count] : models) {
        CAPTURE(yaml);
        const ModelGraph g = build(yaml);
        CHECK_NOTHROW(transcode::engine::check_graph(g, "model 'models.flexibert'"));
        const auto summary = transcode::engine::summarize(g);
        CHECK(summary.parameters_without_head == parameter_count(g));
        if (count > 0) CHECK(summary.parameters_without_head == count);
        if (yaml.find("bert-base") != std::string::npos) continue;  // the training graph of the small ones suffices
        const ModelGraph training = transcode::engine::make_training_graph(g, {});
        CHECK_NOTHROW(transcode::engine::check_graph(training, "training graph of 'models.flexibert'"));
    }
}

TEST_CASE("head_dim sets each head's dimension, the output projection maps their sum to hidden") {
    const ModelGraph g = build(R"(
layers: 2
hidden: [64, 64]
heads: [[sa-sdp, l-dct, c-13], [sa-wma]]
head_dim: [[16, 40, 8], [100]]
ff: [[128], [128]]
)");
    check_well_formed(g);
    check_shapes(g);
    CHECK(shape_of(g, "layer0.head0.q.w") == Shape{64, 16});
    CHECK(shape_of(g, "layer0.head1.v.w") == Shape{64, 40});
    CHECK(shape_of(g, "layer0.head2.v.w") == Shape{64, 8});
    CHECK(shape_of(g, "layer0.attention.concat") == Shape{4, 128, 64});
    CHECK(shape_of(g, "layer0.attention.out.w") == Shape{64, 64});
    CHECK(shape_of(g, "layer1.head0.wm") == Shape{100, 100});
    CHECK(shape_of(g, "layer1.attention.out.w") == Shape{100, 64});
    CHECK(find_op(g, "layer1.head0.probs").attr("scale") == doctest::Approx(0.1));
}

TEST_CASE("sizes come from the parameters") {
    const ModelGraph g = build("preset: bert-tiny\nsequence_length: 32\nbatch_size: 8\nvocab_size: 1000\nmax_position: 64\n"
                               "type_vocab: 3\nnum_classes: 5\nlayer_norm_eps: 1e-5");
    check_shapes(g);
    CHECK(shape_of(g, "input_ids") == Shape{8, 32});
    CHECK(shape_of(g, "embeddings.token.table") == Shape{1000, 128});
    CHECK(shape_of(g, "embeddings.position.table") == Shape{64, 128});
    CHECK(shape_of(g, "embeddings.segment.table") == Shape{3, 128});
    CHECK(shape_of(g, "classifier") == Shape{8, 5});
    CHECK(find_op(g, "layer1.ff.norm").attr("eps") == doctest::Approx(1e-5));
    // sequence_length equal to max_position is fine.
    CHECK_NOTHROW(make_model("preset: bert-tiny\nsequence_length: 512"));
}

TEST_CASE("factory errors name the parameter path") {
    struct Case {
        const char* yaml;
        const char* path;
        const char* message;
    };
    const Case cases[] = {
        {"preset: bert-base\nlayers: 2", "preset", "give either preset or layers/hidden/heads/ff, not both (layers is also given)"},
        {"preset: bert-base\nhidden: [128]\nhead_dim: [[64]]", "preset",
         "give either preset or layers/hidden/heads/ff, not both (hidden, head_dim are also given)"},
        {"sequence_length: 64", "preset", "give either preset or layers/hidden/heads/ff; neither is given"},
        {"layers: 2\nhidden: [128, 128]\nheads: [[sa-sdp], [sa-sdp]]", "ff",
         "ff is missing: without a preset, give all of layers, hidden, heads and ff"},
        {"layers: 2\nhidden: [128, 128, 128]\nheads: [[sa-sdp], [sa-sdp]]\nff: [[512], [512]]", "hidden",
         "hidden has 3 entries but layers is 2"},
        {"layers: 2\nhidden: [128, 128]\nheads: [[sa-sdp]]\nff: [[512], [512]]", "heads", "heads has 1 entry but layers is 2"},
        {"layers: 2\nhidden: [128, 128]\nheads: [[sa-sdp], [sa-sdp]]\nff: [[512], [512], [512]]", "ff", "ff has 3 entries but layers is 2"},
        {"layers: 2\nhidden: [128, 128]\nheads: [[sa-sdp], [sa-sdp]]\nff: [[512], [512]]\nhead_dim: [[64]]", "head_dim",
         "head_dim has 1 entry but layers is 2"},
        {"layers: 2\nhidden: [128, 128]\nheads: [[sa-sdp], [sa-sdp, l-dft]]\nff: [[512], [512]]\nhead_dim: [[64], [64, 32, 32]]",
         "head_dim[1]", "head_dim[1] has 3 entries but heads[1] has 2 entries"},
        {"layers: 1\nhidden: [2]\nheads: [[sa-sdp, c-5, c-9]]\nff: [[8]]", "heads[0]",
         "heads[0] has 3 heads but hidden[0] is 2: the default head dimension hidden / heads would be 0; give fewer heads or head_dim"},
        {"preset: bert-tiny\nsequence_length: 1024", "sequence_length",
         "sequence_length 1024 exceeds max_position 512: there is no position embedding beyond max_position"},
        {"preset: bert-tiny\nsequence_length: 65\nmax_position: 64", "sequence_length",
         "sequence_length 65 exceeds max_position 64: there is no position embedding beyond max_position"},
        {"preset: bert-tiny\nhidden_dropout: 1", "hidden_dropout", "hidden_dropout must be below 1: a rate of 1 would drop every element"},
        {"preset: bert-tiny\nattention_dropout: 1.0", "attention_dropout", "attention_dropout must be below 1: a rate of 1 would drop every element"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.yaml);
        CHECK_THROWS_WITH_AS(make_model(c.yaml), c.message, ConfigError);
        const ConfigError e = create_error(c.yaml);
        CHECK(std::string(e.what()) == c.message);
        CHECK(e.path() == c.path);
    }
}

TEST_CASE("the schema refuses unknown variants, empty layers and non-positive sizes with file:line:col") {
    const PluginInfo& info = flexibert_info();
    auto schema_error = [&](std::string_view yaml) -> std::string {
        try {
            transcode::config::parse_params(info.schema, yaml, "model.yaml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        FAIL("expected a schema error for:\n" << yaml);
        return {};
    };
    const std::string variant = schema_error("layers: 1\nhidden: [64]\nheads: [[sa-sdp, c-7]]\nff: [[128]]");
    CHECK(variant.find("model.yaml:3:") != std::string::npos);
    CHECK(variant.find("heads[0][1]") != std::string::npos);
    CHECK(variant.find("'c-7'") != std::string::npos);

    const std::string preset = schema_error("preset: bert-large");
    CHECK(preset.find("model.yaml:1:") != std::string::npos);
    CHECK(preset.find("'bert-large'") != std::string::npos);

    const std::string empty = schema_error("layers: 2\nhidden: [64, 64]\nheads: [[sa-sdp], []]\nff: [[128], [128]]");
    CHECK(empty.find("heads[1]") != std::string::npos);

    const std::string zero = schema_error("layers: 1\nhidden: [0]\nheads: [[sa-sdp]]\nff: [[128]]");
    CHECK(zero.find("model.yaml:2:") != std::string::npos);
    CHECK(zero.find("hidden[0]") != std::string::npos);

    const std::string negative = schema_error("layers: 1\nhidden: [64]\nheads: [[sa-sdp]]\nff: [[-4]]");
    CHECK(negative.find("ff[0][0]") != std::string::npos);

    const std::string dim = schema_error("layers: 1\nhidden: [64]\nheads: [[sa-sdp]]\nhead_dim: [[0]]\nff: [[128]]");
    CHECK(dim.find("head_dim[0][0]") != std::string::npos);

    CHECK(schema_error("layers: 0").find("layers") != std::string::npos);
    CHECK(schema_error("layers: 49").find("layers") != std::string::npos);
    CHECK(schema_error("preset: bert-tiny\nnum_classes: 1").find("num_classes") != std::string::npos);
    CHECK(schema_error("preset: bert-tiny\nlayer_norm_eps: 0").find("layer_norm_eps") != std::string::npos);
    CHECK(schema_error("preset: bert-tiny\nsequence_length: 0").find("sequence_length") != std::string::npos);
    CHECK(schema_error("preset: bert-tiny\nhidden_dropout: -0.1").find("hidden_dropout") != std::string::npos);
    CHECK(schema_error("preset: bert-tiny\nattention_dropout: 1.5").find("attention_dropout") != std::string::npos);
}

TEST_CASE("hidden_dropout and attention_dropout put dropout ops at BERT's four points, each with its own seed, at 0 there are none") {
    const std::string model = "layers: 2\nhidden: [32, 48]\nheads: [[sa-sdp, sa-wma], [l-dft, c-5, sa-sdp]]\nff: [[64], [64, 96]]\n"
                              "sequence_length: 8\nbatch_size: 2\nvocab_size: 50\nmax_position: 8\n";
    const ModelGraph plain = build(model);
    const ModelGraph plain_explicit = build(model + "hidden_dropout: 0\nattention_dropout: 0.0");
    CHECK(plain_explicit.ops.size() == plain.ops.size());
    for (const auto& op : plain.ops) CHECK(op.kind != OpKind::dropout);

    const ModelGraph g = build(model + "hidden_dropout: 0.1\nattention_dropout: 0.2");
    transcode::engine::check_graph(g, "test");
    const auto producer = [&](const std::string& tensor) -> const OpDesc* {
        for (const auto& op : g.ops)
            for (TensorId t : op.outputs)
                if (g.tensors[static_cast<std::size_t>(t)].name == tensor) return &op;
        return nullptr;
    };
    const auto name_of = [&](TensorId t) { return g.tensors[static_cast<std::size_t>(t)].name; };
    // (dropout op, the tensor it reads, its rate, the op that reads its output, that op's input index)
    struct Point {
        std::string op, reads;
        double p;
        std::string consumer;
    };
    const std::vector<Point> points{
        {"embeddings.dropout", "embeddings.norm", 0.1, "layer0.head0.q.matmul"},
        {"layer0.head0.dropout", "layer0.head0.probs", 0.2, "layer0.head0.context"},
        {"layer0.head1.dropout", "layer0.head1.probs", 0.2, "layer0.head1.context"},
        {"layer0.attention.dropout", "layer0.attention.out", 0.1, "layer0.attention.residual"},
        {"layer0.ff.dropout", "layer0.ff.1", 0.1, "layer0.ff.residual"},
        {"layer1.head2.dropout", "layer1.head2.probs", 0.2, "layer1.head2.context"},
        {"layer1.attention.dropout", "layer1.attention.out", 0.1, "layer1.attention.residual"},
        {"layer1.ff.dropout", "layer1.ff.2", 0.1, "layer1.ff.residual"},
    };
    std::set<double> seeds;
    std::size_t dropouts = 0;
    for (const auto& op : g.ops) dropouts += op.kind == OpKind::dropout ? 1 : 0;
    CHECK(dropouts == points.size());  // none on the l-dft and c-5 heads, which have no attention probabilities
    CHECK(g.ops.size() == plain.ops.size() + points.size());
    for (const Point& pt : points) {
        CAPTURE(pt.op);
        const OpDesc* d = producer(pt.op);
        REQUIRE(d != nullptr);
        CHECK(d->kind == OpKind::dropout);
        CHECK(d->attr("p") == pt.p);
        REQUIRE(d->inputs.size() == 1);
        CHECK(name_of(d->inputs[0]) == pt.reads);
        const OpDesc* consumer = producer(pt.consumer);
        REQUIRE(consumer != nullptr);
        CHECK(consumer->inputs[0] == d->outputs[0]);
        seeds.insert(d->attr("seed", -1.0));
    }
    CHECK(seeds.size() == points.size());
    // The residual adds read the dropped-out branch and the undropped skip connection.
    CHECK(name_of(producer("layer0.attention.residual")->inputs[1]) == "embeddings.dropout");
    // Seeds are the op name's FNV-1a, top 53 bits: the same model gives the same seeds.
    const ModelGraph again = build(model + "hidden_dropout: 0.1\nattention_dropout: 0.2");
    for (std::size_t i = 0; i < g.ops.size(); ++i) CHECK(again.ops[i].attrs == g.ops[i].attrs);
    // Only one of the two rates: its points only.
    std::size_t attention_only = 0;
    for (const auto& op : build(model + "attention_dropout: 0.1").ops) attention_only += op.kind == OpKind::dropout ? 1 : 0;
    CHECK(attention_only == 3);
}

}  // TEST_SUITE
