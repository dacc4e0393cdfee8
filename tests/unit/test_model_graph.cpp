// The model graph: shape checks, FLOPs, the derived training step, model files and the importer.
#include <doctest/doctest.h>

#include <functional>
#include <set>

#include "config/node.hpp"
#include "graph/graph_check.hpp"
#include "graph/model_summary.hpp"
#include "graph/op_costs.hpp"
#include "graph/training_graph.hpp"
#include "importers/acceltran_model.hpp"
#include "model/model_file.hpp"
#include "test_support.hpp"

using namespace transcode;
using transcode::test::TempDir;

namespace {


const std::string source_dir = TRANSCODE_SOURCE_DIR;
const std::string fixtures = TRANSCODE_TEST_FIXTURES;

double phase_flops(const ModelGraph& g, Phase p) {
    double f = 0;
    for (const auto& op : g.ops)
        if (op.phase == p) f += engine::op_cost(g, op).flops;
    return f;
}

// A forward graph with every forward op kind, small enough to read.
ModelGraph every_op_kind() {
    GraphBuilder b;
    const TensorId ids = b.input("ids", {2, 4}, true);
    const TensorId labels = b.input("labels", {2}, true);
    const TensorId table = b.weight("table", {10, 6});
    const TensorId gamma = b.weight("gamma", {6}), beta = b.weight("beta", {6});
    const TensorId w = b.weight("w", {6, 6}), bias = b.weight("bias", {6}), wk = b.weight("wk", {6, 3}), cls = b.weight("cls_w", {6, 3});
    const TensorId x = b.op1(OpKind::embedding, "emb", {ids, table}, {2, 4, 6});
    const TensorId n = b.op1(OpKind::layer_norm, "ln", {x, gamma, beta}, {2, 4, 6});
    const TensorId h = b.op1(OpKind::add, "bias_add", {b.op1(OpKind::matmul, "dense", {n, w}, {2, 4, 6}), bias}, {2, 4, 6});
    const TensorId g1 = b.op1(OpKind::gelu, "gelu", {h}, {2, 4, 6});
    const TensorId r = b.op1(OpKind::relu, "relu", {h}, {2, 4, 6});
    const TensorId s = b.op1(OpKind::softmax, "softmax", {g1}, {2, 4, 6}, {{"scale", 0.5}});
    const TensorId t = b.op1(OpKind::seq_transform, "dct", {r}, {2, 4, 6}, {{"variant", 1}});
    const TensorId kern = b.op1(OpKind::softmax, "kern", {b.op1(OpKind::matmul, "kern_logits", {n, wk}, {2, 4, 3})}, {2, 4, 3});
    const TensorId c = b.op1(OpKind::conv1d, "conv", {t, kern}, {2, 4, 6});
    const TensorId cat = b.op1(OpKind::concat, "cat", {s, c}, {2, 4, 12});
    const TensorId first = b.op1(OpKind::slice, "first", {cat}, {2, 4, 6}, {{"axis", -1}, {"start", 3}, {"length", 6}});
    const TensorId cls_tok = b.op1(OpKind::slice, "cls_tok", {first}, {2, 6}, {{"axis", 1}, {"start", 0}, {"length", 1}, {"squeeze", 1}});
    const TensorId pooled = b.op1(OpKind::tanh, "tanh", {cls_tok}, {2, 6});
    const TensorId dropped = b.op1(OpKind::dropout, "drop", {pooled}, {2, 6}, {{"p", 0.25}, {"seed", 7}});
    const TensorId logits = b.op1(OpKind::matmul, "cls", {dropped, cls}, {2, 3});
    b.set_loss(b.op1(OpKind::cross_entropy, "loss", {logits, labels}, {1}));
    return b.take();
}

}  // namespace

TEST_CASE("a single matmul: FLOPs are the closed form, and backward FLOPs are twice forward") {
    GraphBuilder b;
    const TensorId a = b.weight("a", {3, 5, 7});  // batched: 3 x (5x7)
    const TensorId w = b.weight("w", {7, 11});    // shared
    b.op1(OpKind::matmul, "c", {a, w}, {3, 5, 11});
    const ModelGraph fwd = b.take();
    engine::check_graph(fwd, "test");
    CHECK(engine::op_cost(fwd, fwd.ops[0]).flops == 2.0 * 3 * 5 * 11 * 7);
    const ModelGraph train = engine::make_training_graph(fwd, {});
    CHECK(phase_flops(train, Phase::backward) == 2 * phase_flops(train, Phase::forward));
    // dA = dC·Wᵀ and dW = Σ Aᵀ·dC (batch-reduced), and one AdamW update per weight.
    int updates = 0;
    for (const auto& op : train.ops) updates += op.kind == OpKind::optimizer_update ? 1 : 0;
    CHECK(updates == 2);
}

TEST_CASE("matmul-only chains with transposes: backward FLOPs are twice forward, shapes check") {
    GraphBuilder b;
    const TensorId x = b.weight("x", {2, 8, 16});
    const TensorId w1 = b.weight("w1", {32, 16});  // used transposed
    const TensorId h = b.op1(OpKind::matmul, "h", {x, w1}, {2, 8, 32}, {{"transpose_b", 1}});
    const TensorId k = b.weight("k", {2, 8, 32});
    const TensorId s = b.op1(OpKind::matmul, "scores", {h, k}, {2, 8, 8}, {{"transpose_b", 1}});
    const TensorId v = b.weight("v", {2, 8, 4});
    b.op1(OpKind::matmul, "ctx", {s, v}, {2, 8, 4});
    const TensorId y = b.weight("y", {2, 8, 4}), z = b.weight("z", {2, 8, 4});
    b.op1(OpKind::matmul, "gram", {y, z}, {2, 4, 4}, {{"transpose_a", 1}});
    const ModelGraph train = engine::make_training_graph(b.take(), {});
    CHECK(phase_flops(train, Phase::backward) == 2 * phase_flops(train, Phase::forward));
}

TEST_CASE("every op kind has a backward form, and every weight has a gradient path from the loss") {
    const ModelGraph fwd = every_op_kind();
    engine::check_graph(fwd, "test");
    const ModelGraph train = engine::make_training_graph(fwd, {});

    std::set<OpKind> forward_kinds, derived_from;
    for (const auto& op : fwd.ops) forward_kinds.insert(op.kind);
    for (const auto& op : train.ops)
        if (op.phase == Phase::backward)
            for (const auto& f : fwd.ops)
                if (op.name.rfind(f.name + ".bwd", 0) == 0) derived_from.insert(f.kind);
    CHECK(forward_kinds.size() == 14);  // every forward kind of graph.hpp
    for (OpKind k : forward_kinds) {
        const std::string kind = to_string(k);
        CAPTURE(kind);
        CHECK(derived_from.count(k) == 1);
    }

    // Walk from the loss gradient through backward ops; every weight's update must be reached.
    std::vector<bool> reached(train.tensors.size(), false);
    for (std::size_t t = 0; t < train.tensors.size(); ++t) reached[t] = train.tensors[t].name == "loss.grad";
    for (bool changed = true; changed;) {
        changed = false;
        for (const auto& op : train.ops) {
            if (op.phase != Phase::backward) continue;
            bool from_loss = false;
            for (TensorId i : op.inputs) from_loss = from_loss || reached[static_cast<std::size_t>(i)];
            if (!from_loss) continue;
            for (TensorId o : op.outputs)
                if (!reached[static_cast<std::size_t>(o)]) changed = reached[static_cast<std::size_t>(o)] = true;
        }
    }
    int weights = 0;
    for (std::size_t t = 0; t < fwd.tensors.size(); ++t) {
        if (fwd.tensors[t].role != TensorRole::weight) continue;
        ++weights;
        CAPTURE(fwd.tensors[t].name);
        const auto update = std::find_if(train.ops.begin(), train.ops.end(), [&](const OpDesc& op) {
            return op.kind == OpKind::optimizer_update && op.inputs[0] == static_cast<TensorId>(t);
        });
        REQUIRE(update != train.ops.end());
        CHECK(reached[static_cast<std::size_t>(update->inputs[1])]);
        CHECK(train.tensors[static_cast<std::size_t>(update->inputs[1])].role == TensorRole::weight_gradient);
    }
    CHECK(weights == 7);
}

TEST_CASE("dropout is its own backward form: the derived op is a dropout of the gradient with the same p and seed") {
    GraphBuilder b;
    const TensorId x = b.weight("x", {3, 4});
    const TensorId y = b.op1(OpKind::dropout, "drop", {x}, {3, 4}, {{"p", 0.1}, {"seed", 42}});
    b.op1(OpKind::tanh, "t", {y}, {3, 4});
    const ModelGraph fwd = b.take();
    const ModelGraph train = engine::make_training_graph(fwd, {});
    const auto bwd = std::find_if(train.ops.begin(), train.ops.end(), [](const OpDesc& op) { return op.name == "drop.bwd"; });
    REQUIRE(bwd != train.ops.end());
    CHECK(bwd->kind == OpKind::dropout);
    CHECK(bwd->phase == Phase::backward);
    CHECK(bwd->attrs == fwd.ops[0].attrs);
    REQUIRE(bwd->inputs.size() == 1);
    CHECK(train.tensors[static_cast<std::size_t>(bwd->inputs[0])].name == "t.bwd");  // tanh's dx: the gradient of the dropout's output
    CHECK(train.tensors[static_cast<std::size_t>(bwd->outputs[0])].role == TensorRole::weight_gradient);  // x is a weight
    // One FLOP per element each way: x times 0 or 1/(1 − p).
    CHECK(engine::op_cost(fwd, fwd.ops[0]).flops == 12);
    CHECK(engine::op_cost(train, *bwd).flops == 12);
}

TEST_CASE("a dropout of integers, with a rate of 1 or below 0, or a seed that is not a whole number below 2^53, and an op kind the engine does not know, are PluginErrors") {
    const auto with = [](std::map<std::string, double> attrs) {
        GraphBuilder b;
        b.op1(OpKind::dropout, "d", {b.weight("x", {2, 3})}, {2, 3}, std::move(attrs));
        return b.take();
    };
    CHECK_NOTHROW(engine::check_graph(with({{"p", 0.0}, {"seed", 0}}), "m"));
    CHECK_NOTHROW(engine::check_graph(with({{"p", 0.999}, {"seed", 0x1p53 - 1}}), "m"));
    CHECK_THROWS_WITH_AS(engine::check_graph(with({{"p", 1.0}, {"seed", 1}}), "m"), "m: op 'd' (dropout): attribute p must be in [0, 1), got 1",
                         PluginError);
    CHECK_THROWS_WITH_AS(engine::check_graph(with({{"p", -0.1}, {"seed", 1}}), "m"), "m: op 'd' (dropout): attribute p must be in [0, 1), got -0.1",
                         PluginError);
    CHECK_THROWS_WITH_AS(engine::check_graph(with({{"p", 0.1}, {"seed", 2.5}}), "m"),
                         "m: op 'd' (dropout): attribute seed must be an integer in [0, 2^53), got 2.5", PluginError);
    CHECK_THROWS_WITH_AS(engine::check_graph(with({{"p", 0.1}, {"seed", -1}}), "m"),
                         "m: op 'd' (dropout): attribute seed must be an integer in [0, 2^53), got -1", PluginError);
    CHECK_THROWS_WITH_AS(engine::check_graph(with({{"p", 0.1}, {"seed", 0x1p53}}), "m"),
                         doctest::Contains("m: op 'd' (dropout): attribute seed must be an integer in [0, 2^53), got 9"), PluginError);

    GraphBuilder ids;
    ids.op1(OpKind::dropout, "d", {ids.input("ids", {2, 3}, true)}, {2, 3}, {{"p", 0.1}, {"seed", 1}});
    CHECK_THROWS_WITH_AS(engine::check_graph(ids.take(), "m"), "m: op 'd' (dropout): input 0 must be a float tensor", PluginError);

    // A model plugin built against a newer SDK, whose OpKind has kinds appended after dropout.
    ModelGraph future = with({});
    future.ops[0].kind = static_cast<OpKind>(static_cast<int>(OpKind::dropout) + 1);
    CHECK_THROWS_WITH_AS(engine::check_graph(future, "m"),
                         ("m: op 'd' (?): op kind number " + std::to_string(static_cast<int>(OpKind::dropout) + 1) +
                          " is unknown to this engine; was the plugin built against a newer SDK?")
                             .c_str(),
                         PluginError);
}

TEST_CASE("input gradients are computed too: h feeds gelu and relu, so its gradient is accumulated") {
    const ModelGraph train = engine::make_training_graph(every_op_kind(), {});
    const auto acc = std::find_if(train.ops.begin(), train.ops.end(), [](const OpDesc& op) { return op.name == "bias_add.grad"; });
    REQUIRE(acc != train.ops.end());
    CHECK(acc->kind == OpKind::add);
    CHECK(acc->phase == Phase::backward);
}

TEST_CASE("a malformed graph from a plugin is a PluginError naming the op and the mismatch") {
    GraphBuilder b;
    const TensorId a = b.weight("a", {4, 8});
    const TensorId w = b.weight("w", {9, 2});
    b.op1(OpKind::matmul, "bad", {a, w}, {4, 2});
    CHECK_THROWS_WITH_AS(engine::check_graph(b.take(), "model 'x'"),
                         "model 'x': op 'bad' (matmul): inner dimensions differ: A [4,8] has k = 8, B [9,2] has k = 9", PluginError);

    GraphBuilder d;
    const TensorId x = d.weight("x", {4, 8});
    d.op1(OpKind::gelu, "g", {x}, {4, 9});
    CHECK_THROWS_WITH_AS(engine::check_graph(d.take(), "m"), "m: op 'g' (gelu): output 'g' is declared [4,9] but the inputs give [4,8]", PluginError);

    // A padding mask must be an integer [batch, length] tensor matching the op's sequences.
    GraphBuilder m;
    const TensorId scores = m.weight("scores", {2, 5, 5});
    const TensorId wrong = m.input("mask", {2, 4}, true);
    m.op1(OpKind::softmax, "probs", {scores, wrong}, {2, 5, 5});
    CHECK_THROWS_WITH_AS(engine::check_graph(m.take(), "m"),
                         "m: op 'probs' (softmax): input 1 (the padding mask) must be an integer tensor [2, 5], got [2,4]", PluginError);
    GraphBuilder f;
    const TensorId v = f.weight("v", {2, 5, 3});
    const TensorId float_mask = f.input("mask", {2, 5}, false);
    f.op1(OpKind::seq_transform, "t", {v, float_mask}, {2, 5, 3});
    CHECK_THROWS_WITH_AS(engine::check_graph(f.take(), "m"),
                         "m: op 't' (seq_transform): input 1 (the padding mask) must be an integer tensor [2, 5], got a float tensor [2,5]",
                         PluginError);

    ModelGraph cyc;  // r0 reads r1's output and r1 reads r0's
    for (const char* name : {"t0", "t1"}) {
        TensorDesc t;
        t.name = name;
        t.shape = {2};
        cyc.tensors.push_back(t);
    }
    for (int i = 0; i < 2; ++i) {
        OpDesc op;
        op.kind = OpKind::relu;
        op.name = "r" + std::to_string(i);
        op.inputs = {1 - i};
        op.outputs = {i};
        cyc.ops.push_back(op);
    }
    CHECK_THROWS_WITH_AS(engine::check_graph(cyc, "m"), "m: the graph has a cycle through op 'r0'", PluginError);
}

TEST_CASE("model files: presets (and BERT-Large, in the explicit form) have their published parameter counts") {
    // BERT-Large by hand: embeddings 30522·1024 + 512·1024 + 2·1024 + 2·1024 = 31,782,912; a layer
    // 4·(1024² + 1024) + 2·1024·4096 + 4096 + 1024 + 2·2·1024 = 12,596,224; pooler 1024² + 1024.
    const std::pair<const char*, std::int64_t> presets[] = {{"bert-tiny", 4385920},    {"bert-mini", 11170560}, {"bert-small", 28763648},
                                                            {"bert-medium", 41373184}, {"bert-base", 109482240},
                                                            {"bert-large", 31782912 + 24 * 12596224 + 1049600}};
    for (const auto& [name, count] : presets) {
        CAPTURE(name);
        const auto m = engine::load_model_file(source_dir + "/configs/models/" + name + ".yaml", {}, test::builtin_plugins());
        CHECK(engine::summarize(m.forward).parameters_without_head == count);
    }
}

TEST_CASE("a heterogeneous model with all seven head variants builds, trains and is described") {
    const auto m = engine::load_model_file(source_dir + "/configs/models/flexibert-hetero.yaml", {}, test::builtin_plugins());
    std::set<OpKind> kinds;
    for (const auto& op : m.forward.ops) kinds.insert(op.kind);
    for (OpKind k : {OpKind::seq_transform, OpKind::conv1d, OpKind::softmax, OpKind::concat}) CHECK(kinds.count(k) == 1);
    const ModelGraph train = engine::make_training_graph(m.forward, {});
    const auto s = engine::summarize(train);
    CHECK(s.training);
    CHECK(s.sections.size() == 6);  // embeddings, 3 layers, pooler, task head
    CHECK(s.total.backward_flops > s.total.forward_flops);
    const auto r = test::run_cli("model describe " + source_dir + "/configs/models/flexibert-hetero.yaml --training");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("flexibert-hetero (models.flexibert), training step: ") == 0);
    CHECK(r.output.find("\n  layer 2 ") != std::string::npos);
}

TEST_CASE("bad model files get file:line:col errors") {
    const std::string dir = fixtures + "/models/";
    auto errors = [&](const std::string& f) {
        try {
            engine::load_model_file(dir + f, {}, test::builtin_plugins());
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(valid)");
    };
    CHECK(errors("bad_variant.yaml") == dir +
                                            "bad_variant.yaml:6:22: error: params.heads[1][0]: 'sa-sdq' is not one of: sa-sdp, sa-wma, l-dft, l-dct, "
                                            "c-5, c-9, c-13; did you mean 'sa-sdp'? (choice)");
    CHECK(errors("bad_layer_count.yaml") == dir + "bad_layer_count.yaml:5:11: error: params.hidden: hidden has 3 entries but layers is 2 (models.flexibert)");
    CHECK(errors("bad_size.yaml") == dir + "bad_size.yaml:5:17: error: params.hidden[1]: value -64 must be greater than 0 (range)\n" + dir +
                                         "bad_size.yaml:7:16: error: params.ff[1][0]: value 0 must be greater than 0 (range)");
}

TEST_CASE("import acceltran-model round-trips BERT-Tiny and BERT-Base with the presets' parameter counts") {
    const std::pair<const char*, std::int64_t> cases[] = {{"bert_tiny", 4385920}, {"bert_base", 109482240}};
    for (const auto& [name, count] : cases) {
        CAPTURE(name);
        const std::string json = fixtures + "/acceltran/" + name + ".json";
        const auto r = test::run_cli("import acceltran-model " + json);
        REQUIRE(r.exit_code == 0);
        TempDir dir;
        const auto yaml = dir.write(std::string(name) + ".yaml", r.output);
        const auto m = engine::load_model_file(yaml, {}, test::builtin_plugins());
        CHECK(engine::summarize(m.forward).parameters_without_head == count);
        // The YAML carries the dictionary's numbers back: same layers, widths, head dims, ff sizes.
        config::Diagnostics d;
        const config::Node orig = config::load_file(json, d), ours = config::load_file(yaml, d);
        REQUIRE(d.empty());
        const config::Node& p = *ours.find("params");
        CHECK(p.find("layers")->scalar == orig.find("l")->scalar);
        for (std::size_t i = 0; i < orig.find("h")->items.size(); ++i) {
            CHECK(p.find("hidden")->items[i].scalar == orig.find("h")->items[i].scalar);
            CHECK(p.find("ff")->items[i].items[0].scalar == orig.find("f")->items[i].items[0].scalar);
            for (std::size_t j = 0; j < orig.find("o")->items[i].items.size(); ++j) {
                const std::string& op = orig.find("o")->items[i].items[j].scalar;
                CHECK(op == "sa_sdp_" + p.find("head_dim")->items[i].items[j].scalar);
                CHECK(p.find("heads")->items[i].items[j].scalar == "sa-sdp");
            }
        }
    }
}

TEST_CASE("import acceltran-model: bad dictionaries are located errors") {
    TempDir dir;
    const auto f = dir.write("bad.json", R"({"l": 2, "o": [["sa_sdp_64"], ["sa_xx_64"]], "h": [128, -1], "f": [[512], [512]]})");
    CHECK_THROWS_WITH_AS(engine::import_acceltran_model(f),
                         (f.string() + ":1:32: error: o[1][0]: unknown head op 'sa_xx_64'; expected type_variant_headdim with type_variant one of sa_sdp, "
                                       "sa_wma, l_dft, l_dct, c_5, c_9, c_13 (e.g. sa_sdp_64) (import)\n" +
                          f.string() + ":1:57: error: h[1]: expected a positive integer, got '-1' (import)")
                             .c_str(),
                         ConfigError);
    const auto g = dir.write("short.json", R"({"l": 2, "o": [["sa_sdp_64"]], "h": [128, 128], "f": [[512], [512]], "x": 1})");
    CHECK_THROWS_WITH_AS(engine::import_acceltran_model(g),
                         (g.string() + ":1:15: error: o: has 1 entries but l is 2 (import)\n" + g.string() +
                          ":1:75: error: x: unknown key 'x'; a model dictionary has l, o, h and f (import)")
                             .c_str(),
                         ConfigError);
}

TEST_CASE("an experiment of kind model_report writes the model's figures into results.json") {
    TempDir dir;
    const auto exp = dir.write("exp.yaml", "experiment: report\nkind: model_report\nmodel:\n  include: " + source_dir +
                                               "/configs/models/bert-tiny.yaml\n");
    const auto r = test::run_cli("run " + exp.string() + " -q --out " + (dir.path() / "out").string());
    REQUIRE(r.exit_code == 0);
    const std::string results = test::read_file(dir.path() / "out" / "results.json");
    CHECK(results.find("\"parameters_without_head\": 4385920") != std::string::npos);
    CHECK(results.find("\"family\": \"models.flexibert\"") != std::string::npos);

    const auto bad = dir.write("bad.yaml", "experiment: report\nkind: model_report\n");
    const auto rb = test::run_cli("validate " + bad.string());
    CHECK(rb.exit_code == 2);
    CHECK(rb.output.find(bad.string() + ":1:1: error: model: kind model_report needs a model section (e.g. model: {include: ../models/bert-tiny.yaml}) (required)") == 0);
}

TEST_CASE("model files: an unknown family, and a file validate cannot classify") {
    TempDir dir;
    const auto f = dir.write("m.yaml", "name: m\nfamily: flexibrt\n");
    CHECK_THROWS_WITH_AS(engine::load_model_file(f, {}, test::builtin_plugins()),
                         (f.string() + ":2:9: error: family: unknown model family 'flexibrt'; did you mean 'flexibert'? (unknown-plugin)").c_str(), ConfigError);
    const auto u = dir.write("u.yaml", "name: what\n");
    const auto r = test::run_cli("validate " + u.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == u.string() +
                          ":1:1: error: (document): cannot tell what this file is: an experiment has an `experiment:` key, a model a `family:` key, an accelerator `processing_elements:` or `units:`, a design space `target:` and `knobs:` (kind)\n"
                          "1 of 1 file(s) invalid\n");
}
