// Training with run-time pruning (engine/training): DynaProp at tau = 0 is exactly no pruning,
// sparsity grows with tau, divergence is caught, and the data must fit the model.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "config/schema_validation.hpp"
#include "graph/training_graph.hpp"
#include "training/calibration.hpp"
#include "training/trainer.hpp"
#include "transcode/model.hpp"

using namespace transcode;
using namespace transcode::engine;

namespace {

// A small FlexiBERT (one layer, hidden 32, an attention and a DFT head) on 8-token sequences.
ModelGraph small_step(double learning_rate = 2e-3, std::int64_t vocab = 128, std::int64_t batch = 8, OptimizerSettings opt = {}) {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("flexibert", PluginKind::model);
    const std::string yaml = "layers: 1\nhidden: [32]\nheads: [[sa-sdp, l-dft]]\nff: [[64]]\nsequence_length: 8\nbatch_size: " + std::to_string(batch) +
                             "\nmax_position: 8\nvocab_size: " + std::to_string(vocab);
    const auto family = host.create<ModelFamily>(info, config::parse_params(info.schema, yaml));
    opt.learning_rate = learning_rate;
    return make_training_graph(family->build_forward(), opt);
}

PluginPtr<PruningStrategy> strategy(const std::string& name, const std::string& yaml) {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find(name, PluginKind::pruning);
    return host.create<PruningStrategy>(info, config::parse_params(info.schema, yaml));
}

Dataset small_data() {
    SyntheticTask task;
    task.train = 64;
    task.validation = 16;
    task.seed = 5;
    return make_synthetic_sentiment(task, 8);
}

TrainingSettings settings(std::int64_t epochs = 1) {
    TrainingSettings s;
    s.epochs = epochs;
    s.seed = 9;
    return s;
}

}  // namespace

TEST_CASE("training: dynaprop with thresholds 0 gives bit for bit the loss trajectory of none") {
    const Dataset data = small_data();
    const auto none = train(small_step(), data, *strategy("none", ""), settings(2));
    const auto zero = train(small_step(), data, *strategy("dynaprop", "tau_i_train: 0\ntau_i_infer: 0\ntau_t: 0"), settings(2));
    REQUIRE(none.step_losses.size() == 16);
    CHECK(none.step_losses == zero.step_losses);
    CHECK(none.epochs.back().validation_accuracy == zero.epochs.back().validation_accuracy);
    // The run is reproducible.
    CHECK(train(small_step(), data, *strategy("none", ""), settings(2)).step_losses == none.step_losses);
}

TEST_CASE("training: dropout is on in the training steps and the identity in validation") {
    // Learning rate 0 keeps the weights at their initial values (AdamW: w - 0 · (...) = w), so the
    // model with dropout and the one without differ only by the dropout ops: in training their
    // losses differ, in validation (dropout the identity) they agree bit for bit.
    const auto step = [](const std::string& dropout) {
        PluginHost& host = test::builtin_plugins();
        const PluginInfo& info = *host.find("flexibert", PluginKind::model);
        const std::string yaml = "layers: 1\nhidden: [32]\nheads: [[sa-sdp, l-dft]]\nff: [[64]]\nsequence_length: 8\nbatch_size: 8\nmax_position: 8\n"
                                 "vocab_size: 128\n" + dropout;
        OptimizerSettings opt;
        opt.learning_rate = 0.0;
        return make_training_graph(host.create<ModelFamily>(info, config::parse_params(info.schema, yaml))->build_forward(), opt);
    };
    const Dataset data = small_data();
    const auto plain = train(step(""), data, *strategy("none", ""), settings(1));
    const auto dropped = train(step("hidden_dropout: 0.3\nattention_dropout: 0.3"), data, *strategy("none", ""), settings(1));
    REQUIRE(plain.step_losses.size() == dropped.step_losses.size());
    for (std::size_t i = 0; i < plain.step_losses.size(); ++i) {
        CAPTURE(i);
        CHECK(plain.step_losses[i] != dropped.step_losses[i]);
    }
    CHECK(plain.epochs.back().validation_loss == dropped.epochs.back().validation_loss);
    CHECK(plain.epochs.back().validation_accuracy == dropped.epochs.back().validation_accuracy);
    // The masks change from step to step but not from run to run.
    CHECK(train(step("hidden_dropout: 0.3\nattention_dropout: 0.3"), data, *strategy("none", ""), settings(1)).step_losses == dropped.step_losses);
}

TEST_CASE("training: measured sparsity does not decrease as the thresholds grow") {
    const Dataset data = small_data();
    double last_act = -1, last_grad = -1;
    for (double tau : {0.0, 0.01, 0.05, 0.2}) {
        CAPTURE(tau);
        const auto r = train(small_step(), data, *strategy("dynaprop", "tau_i_train: " + std::to_string(tau) + "\ntau_t: " + std::to_string(tau / 100)), settings());
        const double act = r.sparsity.at(TensorRole::activation).sparsity();
        const double grad = r.sparsity.at(TensorRole::weight_gradient).sparsity();
        CHECK(act >= last_act);
        CHECK(grad >= last_grad);
        last_act = act;
        last_grad = grad;
    }
    CHECK(last_act > 0.1);
}

TEST_CASE("training: per-tensor sparsity for the simulator covers the pruned activations and gradients") {
    const ModelGraph step = small_step();
    const auto r = train(step, small_data(), *strategy("dynaprop", "tau_i_train: 0.05\ntau_t: 0.0001"), settings());
    REQUIRE(r.tensor_sparsity.size() == step.tensors.size());
    int measured = 0;
    for (std::size_t t = 0; t < step.tensors.size(); ++t) {
        CHECK(r.tensor_sparsity[t] >= 0.0);
        CHECK(r.tensor_sparsity[t] <= 1.0);
        measured += r.tensor_sparsity[t] > 0 ? 1 : 0;
        if (step.tensors[t].role == TensorRole::weight) CHECK(r.tensor_sparsity[t] == 0.0);
    }
    CHECK(measured > 10);
}

TEST_CASE("training: a loss that becomes NaN stops the run with a message naming the step") {
    try {
        train(small_step(1e30), small_data(), *strategy("none", ""), settings(3));
        FAIL("no error");
    } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(m.rfind("training diverged: the loss is ", 0) == 0);
        CHECK(m.find(" at epoch 1, step ") != std::string::npos);
        CHECK(m.find("lower the learning rate or the pruning thresholds. No results were written.") != std::string::npos);
    }
}

TEST_CASE("training: data that does not fit the model is a clear error") {
    CHECK_THROWS_WITH_AS(train(small_step(2e-3, 64), small_data(), *strategy("none", ""), settings()),
                         "the data has a vocabulary of 122 ids but the model's token embedding has 64 rows: set the model's vocab_size to at least 122",
                         ConfigError);
    Dataset empty = small_data();
    empty.train.clear();
    CHECK_THROWS_WITH_AS(train(small_step(), empty, *strategy("none", ""), settings()),
                         "the data has 0 training and 16 validation examples: each split needs at least one", ConfigError);
    CHECK_THROWS_WITH_AS(train(small_step(), make_synthetic_sentiment(SyntheticTask{}, 16), *strategy("none", ""), settings()),
                         "the data's sequences have 16 tokens but the model's sequence_length is 8", ConfigError);
}

TEST_CASE("train_and_simulate and dynaprop_sweep: results, sparsity profile and sweep.csv") {
    const std::string configs = TRANSCODE_SOURCE_DIR "/configs/experiments/";
    // A small model (the task model's vocabulary and sequence, one narrow layer), so that the case
    // stays fast under AddressSanitizer too.
    const std::string small =
        " -q --set training.epochs=1 --set training.max_steps_per_epoch=2 --set data.synthetic.train=64 --set data.synthetic.validation=32"
        " --set \"model.params={layers: 1, hidden: [32], heads: [[sa-sdp]], ff: [[64]], sequence_length: 16, max_position: 16, batch_size: 8, "
        "vocab_size: 128}\"";
    test::TempDir a;
    REQUIRE(test::run_cli("run " + configs + "bert-tiny-train.yaml" + small + " --out " + a.path().string()).exit_code == 0);
    const auto doc = nlohmann::json::parse(test::read_file(a.path() / "results.json"));
    CHECK(doc["status"] == "ok");
    CHECK(doc["accuracy"]["source"] == "trained");
    CHECK(doc["accuracy"]["validation_examples"] == 32);
    CHECK(doc["sparsity"]["source"] == "measured");
    CHECK(doc["sparsity"]["activation"]["elements"].get<std::int64_t>() > 0);
    CHECK(doc["latency"]["cycles"].get<std::int64_t>() > doc["inference"]["latency"]["cycles"].get<std::int64_t>());
    CHECK(doc["phases"].size() == 3);
    CHECK(test::read_file(a.path() / "sparsity_profile.yaml").find("points:\n  - params: {") != std::string::npos);

    test::TempDir b;
    const auto r = test::run_cli("run " + configs + "dynaprop-sweep.yaml" + small + " --set \"sweep.params={tau_i_train: [0.0, 0.2], tau_t: [0.0, 0.01]}\" --out " +
                                 b.path().string());
    REQUIRE(r.exit_code == 0);
    const std::string csv = test::read_file(b.path() / "sweep.csv");
    CHECK(csv.rfind("tau_i_train,tau_t,activation_sparsity,activation_gradient_sparsity,weight_gradient_sparsity,validation_accuracy,training_latency_s,"
                    "training_energy_j\r\n",
                    0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 5);
    const auto sweep = nlohmann::json::parse(test::read_file(b.path() / "results.json"))["sweep"];
    REQUIRE(sweep.size() == 4);  // (0, 0), (0, 0.01), (0.2, 0), (0.2, 0.01): the first key varies slowest
    auto at = [&](int i, const char* key) { return sweep[i][key].get<double>(); };
    auto sparsity = [&](int i, const char* role) { return sweep[i]["sparsity"][role]["sparsity"].get<double>(); };
    // Gradient pruning raises gradient sparsity and saves energy; activation pruning also shrinks the
    // activations the backward pass re-reads from main memory, so latency falls too.
    CHECK(sparsity(1, "weight_gradient") > sparsity(0, "weight_gradient"));
    CHECK(at(1, "training_energy_j") < at(0, "training_energy_j"));
    CHECK(sparsity(2, "activation") > sparsity(0, "activation"));
    CHECK(at(2, "training_latency_s") < at(0, "training_latency_s"));
    CHECK(at(2, "training_energy_j") < at(0, "training_energy_j"));
    CHECK(at(3, "training_energy_j") < at(2, "training_energy_j"));

    const auto bad = test::run_cli("run " + configs + "dynaprop-sweep.yaml --set \"sweep.params={tau_tt: [0.1]}\" --out " + b.path().string());
    CHECK(bad.exit_code == 2);
    CHECK(bad.output == "--set:1:15: error: sweep.params.tau_tt: 'tau_tt' is not a parameter of pruning.dynaprop; did you mean 'tau_t'? (unknown-key)\n");
    const auto nan = test::run_cli("run " + configs + "dynaprop-sweep.yaml --set \"sweep.params={tau_t: [.nan]}\" --out " + b.path().string());
    CHECK(nan.exit_code == 2);
    CHECK(nan.output.find("sweep.params.tau_t[0]") != std::string::npos);
}

TEST_CASE("training: the thread count never changes a result, with padded sequences") {
    // Wide enough (hidden 128, 32 tokens) that the executor's products and row-wise kernels split
    // over threads; the built-in task's sentences are shorter than 32 tokens, so masks are partial.
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("flexibert", PluginKind::model);
    const auto family = host.create<ModelFamily>(
        info, config::parse_params(info.schema, "layers: 1\nhidden: [128]\nheads: [[sa-sdp, c-5]]\nff: [[256]]\nsequence_length: 32\nbatch_size: 8\n"
                                                 "max_position: 32\nvocab_size: 128"));
    const ModelGraph step = make_training_graph(family->build_forward(), OptimizerSettings{});
    SyntheticTask task;
    task.train = 32;
    task.validation = 8;
    task.seed = 5;
    const Dataset data = make_synthetic_sentiment(task, 32);
    REQUIRE(std::any_of(data.train.begin(), data.train.end(), [](const Example& e) { return e.length < 32; }));
    TrainingSettings one = settings(1), two = settings(1);
    one.threads = 1;
    two.threads = 2;
    const auto a = train(step, data, *strategy("none", ""), one);
    const auto b = train(step, data, *strategy("none", ""), two);
    REQUIRE(a.step_losses.size() == 4);
    CHECK(a.step_losses == b.step_losses);
    CHECK(a.epochs.back().validation_loss == b.epochs.back().validation_loss);
}

namespace {

// One layer with an attention head, a DFT head and a convolution head, for the point classification.
ModelGraph three_head_step() {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("flexibert", PluginKind::model);
    const std::string yaml = "layers: 1\nhidden: [48]\nheads: [[sa-sdp, l-dft, c-5]]\nff: [[64]]\nsequence_length: 8\nbatch_size: 8\nmax_position: 8\nvocab_size: 128";
    const auto family = host.create<ModelFamily>(info, config::parse_params(info.schema, yaml));
    return make_training_graph(family->build_forward(), OptimizerSettings{});
}

PruningPoint point_of(const ModelGraph& g, const std::vector<PruningPoint>& points, const std::string& name) {
    for (std::size_t t = 0; t < g.tensors.size(); ++t)
        if (g.tensors[t].name == name) return points[t];
    FAIL("no tensor named " << name);
    return PruningPoint::unspecified;
}

}  // namespace

TEST_CASE("training: pruning points are classified from the graph's structure") {
    const ModelGraph g = three_head_step();
    const auto points = pruning_points(g);
    REQUIRE(points.size() == g.tensors.size());
    auto at = [&](const std::string& name) { return std::string(to_string(point_of(g, points, name))); };
    CHECK(at("layer0.head0.q.matmul") == "dense");
    CHECK(at("layer0.head0.q") == "dense");
    CHECK(at("layer0.head0.scores") == "attention_scores");
    CHECK(at("layer0.head0.probs") == "attention_probabilities");
    CHECK(at("layer0.head0.context") == "dense");
    // The convolution head's kernel: a dense layer feeding a softmax over the taps.
    CHECK(at("layer0.head2.kernel_logits.matmul") == "attention_scores");
    CHECK(at("layer0.head2.kernel_logits") == "attention_scores");
    CHECK(at("layer0.head2.kernel") == "attention_probabilities");
    // Not pruning points: transforms, convolutions, layer norms, GELU, tanh, inputs, the loss.
    for (const char* name : {"layer0.head1.transform", "layer0.head2.conv", "pooler.tanh", "input_ids", "loss", "loss.grad"}) {
        CAPTURE(name);
        CHECK(at(name) == "unspecified");
    }
    // The classifier's matmul and bias add are the logits; their gradient is the logits' gradient.
    CHECK(at("classifier.matmul") == "logits");
    CHECK(at("classifier") == "logits");
    CHECK(at("loss.bwd") == "logits_gradient");
    CHECK(at("classifier.matmul.bwd_b") == "weight_gradient");
    CHECK(at("layer0.head0.context.bwd_a") == "activation_gradient");  // the gradient of the probabilities
    // is_pruning_point is true for the pruned forward points only.
    int pruned = 0;
    for (const auto& op : g.ops) {
        if (!is_pruning_point(g, op)) continue;
        const PruningPoint p = points[static_cast<std::size_t>(op.outputs[0])];
        CHECK((p == PruningPoint::dense || p == PruningPoint::attention_scores || p == PruningPoint::attention_probabilities));
        ++pruned;
    }
    CHECK(pruned > 10);
}

namespace {

// Zeroes every tensor it is handed, and records the points it saw.
class ZeroEverything final : public PruningStrategy {
public:
    bool prunes(TensorRole, RunMode) const override { return true; }
    PruneStats prune(TensorView t, RunMode) const override {
        seen.insert(t.point);
        std::fill(t.data, t.data + t.size(), 0.0f);
        return {t.size(), t.size()};
    }
    mutable std::set<PruningPoint> seen;
};

}  // namespace

TEST_CASE("training: the engine never hands the logits or their gradient to the strategy") {
    ZeroEverything zero;
    const auto r = train(small_step(), small_data(), zero, settings());
    CHECK(zero.seen == std::set<PruningPoint>{PruningPoint::dense, PruningPoint::attention_scores, PruningPoint::attention_probabilities,
                                              PruningPoint::activation_gradient, PruningPoint::weight_gradient});
    // Still measured: two logits tensors (the classifier's matmul and bias add) of [8, 2] in each of 8 steps.
    CHECK(r.point_sparsity.at(PruningPoint::logits).elements == 2 * 8 * 2 * 8);
    CHECK(r.point_sparsity.at(PruningPoint::logits_gradient).elements == 8 * 2 * 8);
    CHECK(r.point_sparsity.at(PruningPoint::logits_gradient).zeros < r.point_sparsity.at(PruningPoint::logits_gradient).elements);
    CHECK(r.point_sparsity.at(PruningPoint::dense).sparsity() == 1.0);
}

TEST_CASE("training: sparsity is reported per point, and per role as the sum of its points") {
    const auto r = train(small_step(), small_data(), *strategy("dynaprop", "tau_i_train: 0.1\ntau_i_infer: 0.1\ntau_t: 0\ntau_weight_gradient: 1.0e-4"), settings());
    for (const char* name : {"dense", "attention_scores", "attention_probabilities", "logits", "activation_gradient", "weight_gradient", "logits_gradient"}) {
        CAPTURE(name);
        bool found = false;
        for (const auto& [p, c] : r.point_sparsity)
            if (to_string(p) == std::string(name)) found = c.elements > 0;
        CHECK(found);
    }
    const auto& ps = r.point_sparsity;
    CHECK(ps.at(PruningPoint::dense).sparsity() > 0.1);
    CHECK(ps.at(PruningPoint::weight_gradient).sparsity() > ps.at(PruningPoint::activation_gradient).sparsity());
    CHECK(r.sparsity.at(TensorRole::activation).elements ==
          ps.at(PruningPoint::dense).elements + ps.at(PruningPoint::attention_scores).elements + ps.at(PruningPoint::attention_probabilities).elements +
              ps.at(PruningPoint::logits).elements);
    CHECK(r.sparsity.at(TensorRole::activation).zeros ==
          ps.at(PruningPoint::dense).zeros + ps.at(PruningPoint::attention_scores).zeros + ps.at(PruningPoint::attention_probabilities).zeros +
              ps.at(PruningPoint::logits).zeros);
    CHECK(r.sparsity.at(TensorRole::activation_gradient).elements ==
          ps.at(PruningPoint::activation_gradient).elements + ps.at(PruningPoint::logits_gradient).elements);
}

TEST_CASE("training: inference sparsity is measured on the validation batches with the inference thresholds") {
    const ModelGraph step = small_step();
    const Dataset data = small_data();
    const auto same = train(step, data, *strategy("dynaprop", "tau_i_train: 0\ntau_i_infer: 0\ntau_t: 0"), settings());
    const auto pruned = train(step, data, *strategy("dynaprop", "tau_i_train: 0\ntau_i_infer: 0.1\ntau_t: 0"), settings());
    // Training is the same; only the inference pass prunes.
    CHECK(same.step_losses == pruned.step_losses);
    CHECK(pruned.sparsity.at(TensorRole::activation).sparsity() == same.sparsity.at(TensorRole::activation).sparsity());
    const double natural = same.inference_sparsity.at(TensorRole::activation).sparsity();
    const double inferred = pruned.inference_sparsity.at(TensorRole::activation).sparsity();
    CHECK(inferred > natural + 0.1);
    CHECK(pruned.inference_sparsity.at(TensorRole::activation).elements == 2 * same.sparsity.at(TensorRole::activation).elements / 8);  // 2 validation batches, 8 training steps
    CHECK(pruned.inference_sparsity.count(TensorRole::activation_gradient) == 0);
    // Per tensor: forward tensors carry the inference sparsity, backward ones nothing.
    REQUIRE(pruned.inference_tensor_sparsity.size() == step.tensors.size());
    const auto points = pruning_points(step);
    double forward_sum = 0;
    for (std::size_t t = 0; t < step.tensors.size(); ++t) {
        CAPTURE(step.tensors[t].name);
        if (points[t] == PruningPoint::activation_gradient || points[t] == PruningPoint::weight_gradient) CHECK(pruned.inference_tensor_sparsity[t] == 0.0);
        if (points[t] == PruningPoint::dense) forward_sum += pruned.inference_tensor_sparsity[t] - same.inference_tensor_sparsity[t];
    }
    CHECK(forward_sum > 0.5);
}

TEST_CASE("calibration: after calibrating, the measured sparsity of each point is within 0.02 of its target") {
    // Learning rate 0: the weights stay at their initial values, so the training steps after
    // calibration see the same model; 8 batches of 8, calibrated on 4 of them.
    const ModelGraph step = small_step(0.0);
    const Dataset data = small_data();
    CalibrationSettings cal;
    cal.batches = 4;
    cal.targets = {{PruningPoint::dense, 0.5},
                   {PruningPoint::attention_scores, 0.3},
                   {PruningPoint::attention_probabilities, 0.6},
                   {PruningPoint::activation_gradient, 0.9},
                   {PruningPoint::weight_gradient, 0.7}};
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& dynaprop = *host.find("dynaprop", PluginKind::pruning);
    const Params defaults = config::parse_params(dynaprop.schema, "");
    const CalibratedStrategy make = [&](const CalibrationReport& c) { return host.create<PruningStrategy>(dynaprop, Params(apply_calibration(defaults.values(), c))); };
    auto measure = [&](const CalibrationReport& c) { return train(step, data, *make(c), settings()).point_sparsity; };

    cal.rounds = 1;  // unpruned values only
    const CalibrationReport one = calibrate(step, data, cal, settings(), make);
    cal.rounds = 6;  // then pruned with the previous round's thresholds; the iteration settles
    const CalibrationReport c = calibrate(step, data, cal, settings(), make);
    CHECK(c.batches == 4);
    CHECK(c.rounds == 6);
    REQUIRE(c.points.size() == 5);
    const auto measured_one = measure(one);
    const auto measured = measure(c);
    for (const auto& [point, p] : c.points) {
        CAPTURE(std::string(to_string(point)));
        CHECK(p.values > 0);
        CHECK(p.threshold > 0);
        CHECK(std::abs(p.sparsity - p.target) <= 0.001);  // on the collected values: the exact quantile
        INFO("measured ", measured.at(point).sparsity(), " after one round ", measured_one.at(point).sparsity(), " target ", p.target);
        CHECK(std::abs(measured.at(point).sparsity() - p.target) <= 0.02);
    }
    // One unpruned round misses: pruning activation gradients makes many weight gradients exactly 0.
    CHECK(std::abs(measured_one.at(PruningPoint::weight_gradient).sparsity() - 0.7) > 0.05);
    // Calibration is reproducible, and a larger target gives a larger threshold.
    CHECK(calibrate(step, data, cal, settings(), make).points.at(PruningPoint::dense).threshold == c.points.at(PruningPoint::dense).threshold);
    CalibrationSettings more = cal;
    more.targets[PruningPoint::dense] = 0.8;
    CHECK(calibrate(step, data, more, settings(), make).points.at(PruningPoint::dense).threshold > c.points.at(PruningPoint::dense).threshold);

    const ValueMap params = apply_calibration(defaults.values(), c);
    CHECK(params.at("tau_dense_train").as_float() == c.points.at(PruningPoint::dense).threshold);
    CHECK(params.at("tau_dense_infer").as_float() == c.points.at(PruningPoint::dense).threshold);
    CHECK(params.at("tau_weight_gradient").as_float() == c.points.at(PruningPoint::weight_gradient).threshold);
    CHECK(params.count("tau_attention_scores_infer") == 1);
    CHECK(params.count("tau_activation_gradient_infer") == 0);
}

TEST_CASE("train_and_simulate: calibrated thresholds and per-point sparsity in results.json, and inference simulated with the inference sparsity") {
    const std::string configs = TRANSCODE_SOURCE_DIR "/configs/experiments/";
    const std::string small =
        " -q --set training.epochs=1 --set training.max_steps_per_epoch=2 --set data.synthetic.train=64 --set data.synthetic.validation=32"
        " --set \"model.params={layers: 1, hidden: [32], heads: [[sa-sdp]], ff: [[64]], sequence_length: 16, max_position: 16, batch_size: 8, "
        "vocab_size: 128}\"";
    test::TempDir a, b;
    REQUIRE(test::run_cli("run " + configs + "bert-tiny-train.yaml" + small +
                          " --set \"pruning.calibration={batches: 2, targets: {dense: 0.5, attention_probabilities: 0.3}}\" --out " + a.path().string())
                .exit_code == 0);
    const auto doc = nlohmann::json::parse(test::read_file(a.path() / "results.json"));
    const auto& cal = doc["pruning"]["calibration"];
    CHECK(cal["batches"] == 2);
    CHECK(cal["quantile"] == "exact");
    REQUIRE(cal["points"].size() == 2);
    const double dense = cal["points"]["dense"]["threshold"].get<double>();
    CHECK(dense > 0);
    CHECK(std::abs(cal["points"]["dense"]["sparsity"].get<double>() - 0.5) <= 0.001);
    CHECK(doc["pruning"]["params"]["tau_dense_train"].get<double>() == dense);
    CHECK(doc["pruning"]["params"]["tau_dense_infer"].get<double>() == dense);
    CHECK(doc["pruning"]["params"]["tau_attention_probabilities_train"].get<double>() == cal["points"]["attention_probabilities"]["threshold"].get<double>());
    const auto& sp = doc["sparsity"];
    for (const char* point : {"dense", "attention_scores", "attention_probabilities", "logits", "activation_gradient", "weight_gradient", "logits_gradient"}) {
        CAPTURE(point);
        CHECK(sp["points"][point]["elements"].get<std::int64_t>() > 0);
    }
    CHECK(sp["points"]["logits"]["zeros"] == 0);
    CHECK(sp["inference"]["examples"] == 32);
    CHECK(sp["inference"]["points"]["dense"]["sparsity"].get<double>() > 0.3);
    CHECK(sp["inference"]["activation_gradient"]["elements"] == 0);

    // Inference thresholds change the inference pass (simulated with the sparsity measured on the
    // validation batches), not the training step.
    test::TempDir c;
    REQUIRE(test::run_cli("run " + configs + "bert-tiny-train.yaml" + small + " --out " + b.path().string()).exit_code == 0);
    REQUIRE(test::run_cli("run " + configs + "bert-tiny-train.yaml" + small + " --set pruning.params.tau_i_infer=0.5 --out " + c.path().string()).exit_code == 0);
    const auto base = nlohmann::json::parse(test::read_file(b.path() / "results.json"));
    const auto sparse = nlohmann::json::parse(test::read_file(c.path() / "results.json"));
    CHECK(sparse["latency"]["cycles"] == base["latency"]["cycles"]);
    CHECK(sparse["sparsity"]["activation"] == base["sparsity"]["activation"]);
    CHECK(sparse["sparsity"]["inference"]["activation"]["sparsity"].get<double>() > base["sparsity"]["inference"]["activation"]["sparsity"].get<double>() + 0.3);
    CHECK(sparse["inference"]["latency"]["cycles"].get<std::int64_t>() < base["inference"]["latency"]["cycles"].get<std::int64_t>());
}

TEST_CASE("pruning.calibration: a strategy without per-point thresholds, a threshold given twice and a kind that does not train are located errors") {
    const std::string configs = TRANSCODE_SOURCE_DIR "/configs/experiments/";
    test::TempDir out;
    const auto topk = test::run_cli("run " + configs + "bert-tiny-train.yaml --set \"pruning={plugin: topk, params: {k: 4}, calibration: {targets: {dense: 0.5}}}\" --out " +
                                    out.path().string());
    CHECK(topk.exit_code == 2);
    CHECK(topk.output ==
          "--set:1:71: error: pruning.calibration.targets.dense: pruning.topk has no parameter 'tau_dense_train' for calibration to set; calibration "
          "needs a strategy with a threshold per point (tau_<point>_train and tau_<point>_infer, or tau_<point> for a gradient) (calibration)\n");
    const auto twice = test::run_cli("run " + configs + "bert-tiny-train.yaml --set pruning.params.tau_weight_gradient=0.1 --set "
                                     "\"pruning.calibration.targets={weight_gradient: 0.5}\" --out " + out.path().string());
    CHECK(twice.exit_code == 2);
    CHECK(twice.output ==
          "--set:1:47: error: pruning.calibration.targets.weight_gradient: calibration sets tau_weight_gradient, which pruning.params also gives; give one "
          "or the other (conflict)\n");
    const auto kind = test::run_cli("run " + configs + "quickstart.yaml --set \"pruning.calibration.targets={dense: 0.5}\" --out " + out.path().string());
    CHECK(kind.exit_code == 2);
    CHECK(kind.output ==
          "--set:1:29: error: pruning.calibration: kind simulate does not train; calibration applies to kinds train, train_and_simulate, "
          "dynaprop_sweep and codesign (accuracy.trained) (kind)\n");
    CHECK_FALSE(std::filesystem::exists(out.path() / "results.json"));
}

namespace {

// The small model of small_step with dropout, so that a calibration pass that drew the wrong masks
// would show.
ModelGraph dropout_step(double learning_rate) {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("flexibert", PluginKind::model);
    const std::string yaml = "layers: 1\nhidden: [32]\nheads: [[sa-sdp, l-dft]]\nff: [[64]]\nsequence_length: 8\nbatch_size: 8\nmax_position: 8\n"
                             "vocab_size: 128\nhidden_dropout: 0.2\nattention_dropout: 0.2";
    OptimizerSettings opt;
    opt.learning_rate = learning_rate;
    return make_training_graph(host.create<ModelFamily>(info, config::parse_params(info.schema, yaml))->build_forward(), opt);
}

// Calibrated pruning with dynaprop's defaults (tau_t = 1e-4 for the gradient points left out).
CalibratedPruning calibrated_dynaprop(std::map<PruningPoint, double> targets, std::int64_t every_steps, const std::string& yaml = "") {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& dynaprop = *host.find("dynaprop", PluginKind::pruning);
    const Params base = config::parse_params(dynaprop.schema, yaml);
    CalibratedPruning c;
    c.settings.batches = 2;
    c.settings.rounds = 3;
    c.settings.every_steps = every_steps;
    c.settings.targets = std::move(targets);
    c.make = [&host, &dynaprop, base](const CalibrationReport& r) { return host.create<PruningStrategy>(dynaprop, Params(apply_calibration(base.values(), r))); };
    return c;
}

}  // namespace

TEST_CASE("calibration: train() calibrates before its first step exactly as calibrate() does, and then trains as the fixed calibrated strategy") {
    const ModelGraph step = dropout_step(2e-3);
    const Dataset data = small_data();
    const CalibratedPruning cal = calibrated_dynaprop({{PruningPoint::dense, 0.5}, {PruningPoint::attention_probabilities, 0.4}, {PruningPoint::weight_gradient, 0.6}}, 0);
    const auto r = train(step, data, cal, settings(2));
    REQUIRE(r.calibrations.size() == 1);
    CHECK(r.calibrations[0].step == 0);
    CHECK(r.calibrations[0].epoch == 1);
    const CalibrationReport standalone = calibrate(step, data, cal.settings, settings(2), cal.make);
    const CalibrationReport& inside = r.calibrations[0].report;
    CHECK(inside.batches == standalone.batches);
    CHECK(inside.rounds == 3);
    for (const auto& [point, p] : standalone.points) {
        CAPTURE(std::string(to_string(point)));
        CHECK(inside.points.at(point).threshold == p.threshold);
        CHECK(inside.points.at(point).sparsity == p.sparsity);
        CHECK(inside.points.at(point).values == p.values);
    }
    // every_steps 0: the thresholds stay put, so training equals training with the strategy made
    // from calibrate(), bit for bit, and each epoch records the same thresholds.
    const auto fixed = train(step, data, *cal.make(standalone), settings(2));
    CHECK(r.step_losses == fixed.step_losses);
    CHECK(r.epochs.back().validation_loss == fixed.epochs.back().validation_loss);
    REQUIRE(r.epochs.size() == 2);
    for (const auto& e : r.epochs) CHECK(e.thresholds.at(PruningPoint::dense) == standalone.points.at(PruningPoint::dense).threshold);
    CHECK(fixed.epochs.back().thresholds.empty());
    // Per-epoch sparsity: epoch 2's counts are the last epoch's.
    CHECK(r.epochs.back().point_sparsity.at(PruningPoint::dense).zeros == r.point_sparsity.at(PruningPoint::dense).zeros);
    CHECK(r.epochs.back().validation_point_sparsity.at(PruningPoint::dense).zeros == r.inference_point_sparsity.at(PruningPoint::dense).zeros);
    CHECK(r.epochs.front().point_sparsity.at(PruningPoint::dense).elements == r.point_sparsity.at(PruningPoint::dense).elements);
}

TEST_CASE("recalibration changes no weight, batch order or dropout mask of training") {
    // A strategy maker that ignores the thresholds (always pruning.none): recalibrating every 3
    // steps then trains exactly as pruning.none, with dropout on, bit for bit.
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& none = *host.find("none", PluginKind::pruning);
    CalibratedPruning cal = calibrated_dynaprop({{PruningPoint::dense, 0.5}, {PruningPoint::weight_gradient, 0.5}}, 3);
    cal.make = [&](const CalibrationReport&) { return host.create<PruningStrategy>(none, Params{}); };
    const ModelGraph step = dropout_step(2e-3);
    const Dataset data = small_data();
    const auto recalibrated = train(step, data, cal, settings(2));
    const auto plain = train(step, data, *strategy("none", ""), settings(2));
    CHECK(recalibrated.step_losses == plain.step_losses);
    CHECK(recalibrated.step_grad_norms == plain.step_grad_norms);
    CHECK(recalibrated.epochs.back().validation_loss == plain.epochs.back().validation_loss);
    CHECK(recalibrated.tensor_sparsity == plain.tensor_sparsity);  // calibration passes are not measured
    // 16 steps: before steps 1, 4, 7, 10, 13 and 16 (after 0, 3, 6, 9, 12 and 15 steps).
    REQUIRE(recalibrated.calibrations.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) CHECK(recalibrated.calibrations[i].step == static_cast<std::int64_t>(3 * i));
    CHECK(recalibrated.calibrations[3].epoch == 2);
}

TEST_CASE("recalibration holds the measured training sparsity near its targets, where thresholds calibrated once drift") {
    // A model that changes fast (learning rate 1e-2, 8 epochs of 8 steps): the values at the pruning
    // points grow away from those the first calibration saw. The other points are left unpruned
    // (thresholds 0). Measured: the last epoch's dense sparsity is 10.4% with thresholds calibrated
    // once and 49.9% recalibrated every 4 steps (the threshold grew from 0.045 to 0.236); weight
    // gradients 59.7% and 50.3%; recalibrated, every epoch is within 0.046 of both targets.
    const ModelGraph step = dropout_step(1e-2);
    const Dataset data = small_data();
    const std::map<PruningPoint, double> targets{{PruningPoint::dense, 0.5}, {PruningPoint::weight_gradient, 0.5}};
    const std::string others = "tau_i_train: 0\ntau_i_infer: 0\ntau_t: 0";
    const auto once = train(step, data, calibrated_dynaprop(targets, 0, others), settings(8));
    const auto recalibrated = train(step, data, calibrated_dynaprop(targets, 4, others), settings(8));
    CHECK(once.calibrations.size() == 1);
    CHECK(recalibrated.calibrations.size() == 16);
    for (const auto& [point, target] : targets) {
        CAPTURE(std::string(to_string(point)));
        for (const auto& e : recalibrated.epochs) {
            CAPTURE(e.epoch);
            INFO("calibrated once: ", once.epochs[static_cast<std::size_t>(e.epoch - 1)].point_sparsity.at(point).sparsity());
            CHECK(std::abs(e.point_sparsity.at(point).sparsity() - target) <= 0.06);
        }
    }
    CHECK(std::abs(once.point_sparsity.at(PruningPoint::dense).sparsity() - 0.5) > 0.3);
    CHECK(recalibrated.epochs.back().thresholds.at(PruningPoint::dense) > 4 * once.epochs.back().thresholds.at(PruningPoint::dense));
}

TEST_CASE("dynaprop_sweep with sweep.matched: DynaProp calibrated to each target against top-k keeping 1 - target at the same points, and the baseline") {
    // The shipped SST-2 sweep, cut to the small model on the built-in task, 2 targets, 1 epoch of 3
    // steps, recalibrating after every step.
    const std::string small =
        " -q --set training.epochs=1 --set training.max_steps_per_epoch=3 --set \"data={source: synthetic, synthetic: {train: 64, validation: 32}}\""
        " --set \"model.params={layers: 1, hidden: [32], heads: [[sa-sdp]], ff: [[64]], sequence_length: 16, max_position: 16, batch_size: 8, "
        "vocab_size: 128}\" --set \"sweep.matched.targets=[0.3, 0.7]\" --set pruning.calibration.every_steps=1 --set pruning.calibration.batches=2";
    test::TempDir out;
    const auto r = test::run_cli("run " TRANSCODE_SOURCE_DIR "/configs/experiments/sst2-dynaprop-sweep.yaml" + small + " --out " + out.path().string());
    REQUIRE(r.exit_code == 0);
    const std::string csv = test::read_file(out.path() / "sweep.csv");
    CHECK(csv.rfind("run,strategy,target_sparsity_fraction,train_sparsity_matched_fraction,inference_sparsity_matched_fraction,train_sparsity_dense_fraction,"
                    "train_sparsity_attention_scores_fraction,train_sparsity_attention_probabilities_fraction,train_sparsity_activation_gradient_fraction,"
                    "train_sparsity_weight_gradient_fraction,inference_sparsity_dense_fraction,inference_sparsity_attention_scores_fraction,"
                    "inference_sparsity_attention_probabilities_fraction,validation_accuracy_fraction,validation_f1_fraction,validation_loss_nats,"
                    "training_latency_s,training_energy_j,inference_latency_s,inference_energy_j,calibrations,seconds\r\nbaseline,pruning.none,,",
                    0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);
    const auto doc = nlohmann::json::parse(test::read_file(out.path() / "results.json"));
    const auto& sweep = doc["sweep"];
    REQUIRE(sweep.size() == 5);
    const std::vector<std::string> labels{"baseline", "dynaprop-0.3", "topk-0.3", "dynaprop-0.7", "topk-0.7"};
    for (std::size_t i = 0; i < labels.size(); ++i) {
        CAPTURE(labels[i]);
        CHECK(sweep[i]["run"] == labels[i]);
        CHECK(std::filesystem::exists(out.path() / "runs" / labels[i] / "curves.csv"));
        CHECK(sweep[i]["training_latency_s"].get<double>() > 0);
        CHECK(sweep[i]["inference_latency_s"].get<double>() > 0);
    }
    CHECK(sweep[0]["strategy"] == "pruning.none");
    CHECK(sweep[0]["target"].is_null());
    // Top-k keeps 1 - target of each row at the matched points, and prunes no gradient.
    CHECK(sweep[2]["strategy"] == "pruning.topk");
    CHECK(sweep[2]["params"]["keep_fraction"].get<double>() == 1.0 - 0.3);
    CHECK(sweep[4]["params"]["keep_fraction"].get<double>() == 1.0 - 0.7);
    CHECK(sweep[4]["params"]["points"] == nlohmann::json{"dense", "attention_scores", "attention_probabilities"});
    CHECK(sweep[4]["params"]["targets"] == nlohmann::json{"activation"});
    // DynaProp is calibrated to the target at every matched point, before each of the 3 steps.
    for (int i : {1, 3}) {
        CAPTURE(i);
        const double target = i == 1 ? 0.3 : 0.7;
        const auto& cal = sweep[i]["calibration"];
        CHECK(cal["calibrations"] == 3);
        CHECK(cal["every_steps"] == 1);
        REQUIRE(cal["points"].size() == 3);
        for (const char* point : {"dense", "attention_scores", "attention_probabilities"}) CHECK(cal["points"][point]["target"].get<double>() == target);
        CHECK(sweep[i]["params"]["targets"] == nlohmann::json::array());
        // The measured training sparsity of each point is near the target (attention probabilities
        // hold padding zeros, so they may exceed it); top-k's is 1 - ceil((1 - target) · cols) / cols.
        const auto& points = sweep[i]["sparsity"]["points"];
        CHECK(std::abs(points["dense"]["sparsity"].get<double>() - target) < 0.05);
        CHECK(std::abs(points["attention_scores"]["sparsity"].get<double>() - target) < 0.05);
        CHECK(points["attention_probabilities"]["sparsity"].get<double>() > target - 0.05);
        const auto& topk = sweep[i + 1]["sparsity"]["points"];
        CHECK(std::abs(topk["dense"]["sparsity"].get<double>() - target) < 0.05);
        // Per-epoch sparsity against the targets, in results.json and in the run's curves.
        CHECK(sweep[i]["accuracy"]["epochs"][0]["sparsity"]["dense"]["target"].get<double>() == target);
        CHECK(test::read_file(out.path() / "runs" / labels[static_cast<std::size_t>(i)] / "curves.csv").find(",target_sparsity_dense_fraction,threshold_dense,") !=
              std::string::npos);
        CHECK(sweep[i]["matched_sparsity"]["training"].get<double>() > target - 0.05);
    }
    // Sparser as the target grows, for both.
    CHECK(sweep[3]["matched_sparsity"]["inference"].get<double>() > sweep[1]["matched_sparsity"]["inference"].get<double>() + 0.2);
    CHECK(sweep[4]["matched_sparsity"]["inference"].get<double>() > sweep[2]["matched_sparsity"]["inference"].get<double>() + 0.2);
    // The comparison: one row per top-k run.
    const auto& comparison = doc["comparison"];
    CHECK(comparison["tolerance"] == 0.005);
    REQUIRE(comparison["rows"].size() == 2);
    CHECK(comparison["rows"][0]["compared"] == "topk-0.3");
}

TEST_CASE("sweep.matched and keep_fraction: each rule is a located error") {
    const std::string configs = TRANSCODE_SOURCE_DIR "/configs/experiments/";
    const std::string sst2 = configs + "sst2-dynaprop-sweep.yaml";
    const auto validate = [](const std::string& args) {
        const auto r = test::run_cli("validate " + args);
        CHECK(r.exit_code == 2);
        return r.output;
    };
    CHECK(validate(configs + "dynaprop-sweep.yaml --set \"sweep.matched={targets: [0.5]}\"") ==
          "--set:1:15: error: sweep.matched: give sweep.params (every combination of pruning parameters) or sweep.matched (a comparison at matched "
          "sparsity), not both (conflict)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"sweep.matched={points: [dense]}\"") ==
          "--set:1:15: error: sweep.matched.targets: sweep.matched needs targets: a list of target sparsities (e.g. [0.3, 0.5, 0.7, 0.9]) (required)\n"
          "1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set sweep.matched.compare.plugin=none") ==
          "--set:1:30: error: sweep.matched.compare.plugin: pruning.none has no parameter 'keep_fraction' for the sweep to set; the compared strategy "
          "needs keep_fraction (the fraction of each row kept) and points (the activation points pruned), as pruning.topk has (matched)\n"
          "1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set sweep.matched.compare.params.keep_fraction=0.5") ==
          "--set:1:44: error: sweep.matched.compare.params.keep_fraction: the sweep sets keep_fraction (keep_fraction = 1 - target, points = "
          "sweep.matched.points); leave it out of compare.params (conflict)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set sweep.matched.compare.params.k=4") ==
          "--set:1:32: error: sweep.matched.compare.params.k: give k or keep_fraction, not both: k keeps a fixed number of entries per row, "
          "keep_fraction a fraction of each row's columns (pruning.topk)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"pruning.calibration.targets={dense: 0.5}\"") ==
          "--set:1:29: error: pruning.calibration.targets: sweep.matched sets the calibration targets (each target at each of sweep.matched.points); "
          "leave pruning.calibration.targets out (conflict)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"sweep.matched.points=[dense, attention_scores, dense]\"") ==
          "--set:1:48: error: sweep.matched.points[2]: point dense is listed twice (duplicate)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"pruning={plugin: topk}\" --set \"sweep.matched.points=[dense]\"") ==
          "--set:1:23: error: sweep.matched.points[0]: pruning.topk has no parameter 'tau_dense_train' for calibration to set; calibration needs a "
          "strategy with a threshold per point (tau_<point>_train and tau_<point>_infer, or tau_<point> for a gradient) (calibration)\n"
          "1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"sweep.matched.points=[dense]\" --set pruning.params.tau_dense_infer=0.1") ==
          "--set:1:23: error: sweep.matched.points[0]: calibration sets tau_dense_infer, which pruning.params also gives; give one or the other "
          "(conflict)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set \"sweep.matched.targets=[1.0]\"") ==
          "--set:1:24: error: sweep.matched.targets[0]: value 1 is above the maximum 0.999 (range)\n1 of 1 file(s) invalid\n");
    CHECK(validate(configs + "bert-tiny-train.yaml --set pruning.calibration.every_steps=10") ==
          "--set:1:33: error: pruning.calibration.every_steps: every_steps recalibrates the thresholds of pruning.calibration.targets, which is empty: "
          "give targets (or use sweep.matched, which sets them) (calibration)\n1 of 1 file(s) invalid\n");
    CHECK(validate(sst2 + " --set pruning.calibration.every_steps=-1") ==
          "--set:1:33: error: pruning.calibration.every_steps: value -1 is below the minimum 0 (range)\n1 of 1 file(s) invalid\n");
    CHECK(validate(configs + "bert-tiny-train.yaml --set \"pruning={plugin: topk, params: {k: 4, keep_fraction: 0.5}}\"") ==
          "--set:1:36: error: pruning.params.k: give k or keep_fraction, not both: k keeps a fixed number of entries per row, keep_fraction a fraction "
          "of each row's columns (pruning.topk)\n1 of 1 file(s) invalid\n");
    CHECK(validate(configs + "bert-tiny-train.yaml --set \"pruning={plugin: topk, params: {keep_fraction: 0}}\"") ==
          "--set:1:48: error: pruning.params.keep_fraction: value 0 must be greater than 0 (range)\n1 of 1 file(s) invalid\n");
}
