// Training with run-time pruning (engine/training): DynaProp at tau = 0 is exactly no pruning,
// sparsity grows with tau, divergence is caught, and the data must fit the model.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "config/schema_validation.hpp"
#include "graph/training_graph.hpp"
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
                    "training_energy_j\n",
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
