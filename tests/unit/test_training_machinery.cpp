// The training machinery around the step (engine/training): partial batches padded with ignored
// rows, gradient clipping by global norm, validation metrics (F1 of class 1), per-epoch curves,
// and checkpoints (resume bit for bit, evaluate only, located errors for a wrong or damaged file).
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/schema_validation.hpp"
#include "executor/executor.hpp"
#include "graph/training_graph.hpp"
#include "training/calibration.hpp"
#include "training/checkpoint.hpp"
#include "training/trainer.hpp"
#include "transcode/model.hpp"

using namespace transcode;
using namespace transcode::engine;
namespace fs = std::filesystem;

namespace {

// The small FlexiBERT of test_training.cpp (one layer, hidden 32, an attention and a DFT head, 8
// tokens), with a chosen batch size and optimizer.
ModelGraph step_graph(std::int64_t batch = 8, OptimizerSettings opt = {}, std::int64_t vocab = 128) {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("flexibert", PluginKind::model);
    const std::string yaml = "layers: 1\nhidden: [32]\nheads: [[sa-sdp, l-dft]]\nff: [[64]]\nsequence_length: 8\nmax_position: 8\nbatch_size: " +
                             std::to_string(batch) + "\nvocab_size: " + std::to_string(vocab);
    const auto family = host.create<ModelFamily>(info, config::parse_params(info.schema, yaml));
    return make_training_graph(family->build_forward(), opt);
}

OptimizerSettings adamw(double lr = 2e-3) {
    OptimizerSettings o;
    o.learning_rate = lr;
    return o;
}

PluginPtr<PruningStrategy> none() {
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& info = *host.find("none", PluginKind::pruning);
    return host.create<PruningStrategy>(info, config::parse_params(info.schema, ""));
}

// 60 training and 13 validation examples: at batch 8 both splits end in a partial batch.
Dataset ragged_data() {
    SyntheticTask task;
    task.train = 60;
    task.validation = 13;
    task.seed = 5;
    return make_synthetic_sentiment(task, 8);
}

TrainingSettings run_settings(std::int64_t epochs) {
    TrainingSettings s;
    s.epochs = epochs;
    s.seed = 9;
    return s;
}

std::size_t first_update(const ModelGraph& g) {
    std::size_t i = 0;
    while (i < g.ops.size() && g.ops[i].phase != Phase::update) ++i;
    return i;
}

// One forward and backward pass of `g` on the given rows (labels -1 mark ignored rows): the loss
// and every weight's gradient, by weight name.
struct StepResult {
    double loss = 0;
    std::map<std::string, std::vector<float>> gradients;
};

StepResult forward_backward(const ModelGraph& g, const std::vector<const Example*>& rows, const std::vector<std::int32_t>& labels) {
    Executor ex(g);
    ex.init_weights(3);
    auto& ids = ex.ids(ex.find("input_ids"));
    const std::size_t S = rows.front()->ids.size();
    for (std::size_t r = 0; r < rows.size(); ++r) std::copy(rows[r]->ids.begin(), rows[r]->ids.end(), ids.begin() + static_cast<std::ptrdiff_t>(r * S));
    auto& pos = ex.ids(ex.find("position_ids"));
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<std::int32_t>(i % S);
    ex.ids(ex.find("labels")) = labels;
    ex.run(0, first_update(g));
    StepResult out;
    out.loss = ex.values(g.loss)[0];
    for (const auto& op : g.ops)
        if (op.kind == OpKind::optimizer_update) out.gradients[g.tensors[static_cast<std::size_t>(op.inputs[0])].name] = ex.values(op.inputs[1]);
    return out;
}

std::map<std::string, std::vector<float>> by_name(const Checkpoint& c) {
    std::map<std::string, std::vector<float>> m;
    for (const auto& t : c.tensors) m[t.name] = t.data;
    return m;
}

std::string bytes_of(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary | std::ios::trunc) << b; }

struct Interrupted {};

}  // namespace

TEST_CASE("a batch padded with ignored rows has the loss and gradients of the smaller batch of its real rows") {
    const Dataset data = ragged_data();
    const ModelGraph full = step_graph(8), small = step_graph(5);
    std::vector<const Example*> rows;
    std::vector<std::int32_t> labels;
    for (int r = 0; r < 5; ++r) {
        rows.push_back(&data.train[static_cast<std::size_t>(r)]);
        labels.push_back(data.train[static_cast<std::size_t>(r)].label);
    }
    const StepResult want = forward_backward(small, rows, labels);
    // Rows 5..7: other examples' tokens (their content must not matter), label -1.
    for (int r = 5; r < 8; ++r) {
        rows.push_back(&data.train[static_cast<std::size_t>(10 + r)]);
        labels.push_back(-1);
    }
    const StepResult got = forward_backward(full, rows, labels);
    CHECK(got.loss == doctest::Approx(want.loss).epsilon(1e-6));
    REQUIRE(got.gradients.size() == want.gradients.size());
    REQUIRE(got.gradients.size() > 10);
    for (const auto& [name, g] : want.gradients) {
        CAPTURE(name);
        const auto& h = got.gradients.at(name);
        REQUIRE(h.size() == g.size());
        double scale = 0, err = 0;
        for (std::size_t i = 0; i < g.size(); ++i) {
            scale = std::max(scale, static_cast<double>(std::abs(g[i])));
            err = std::max(err, static_cast<double>(std::abs(g[i] - h[i])));
        }
        CHECK(scale > 0);
        // The key biases' gradients are 0 in exact arithmetic (softmax ignores a constant added to
        // a row of scores), so they hold only rounding noise (about 1e-14): an absolute floor.
        CHECK(err <= 1e-5 * scale + 1e-9);
    }
}

TEST_CASE("training keeps the last partial batch of both splits and reports the true example counts") {
    const Dataset data = ragged_data();
    const auto r = train(step_graph(), data, *none(), run_settings(2));
    REQUIRE(r.epochs.size() == 2);
    CHECK(r.step_losses.size() == 16);  // ceil(60 / 8) = 8 steps per epoch
    CHECK(r.epochs[0].steps == 8);
    CHECK(r.epochs[0].train_examples == 60);
    CHECK(r.epochs[1].validation_examples == 13);
    CHECK(r.validation_examples == 13);
    // Accuracy is a count of real examples: a multiple of 1/13.
    const double correct = r.epochs[1].validation_accuracy * 13;
    CHECK(correct == doctest::Approx(std::round(correct)).epsilon(1e-9));
}

TEST_CASE("precision, recall and F1 of class 1 follow their definitions") {
    // tp 3, fp 1, fn 2: precision 3/4, recall 3/5, F1 = 2·3 / (2·3 + 1 + 2) = 2/3.
    const BinaryCounts c{3, 1, 2, 4};
    CHECK(c.precision() == doctest::Approx(0.75));
    CHECK(c.recall() == doctest::Approx(0.6));
    CHECK(c.f1() == doctest::Approx(2.0 / 3.0));
    CHECK(c.f1() == doctest::Approx(2 * c.precision() * c.recall() / (c.precision() + c.recall())));
    // Never a positive prediction nor a positive label: every score is 0, not NaN.
    const BinaryCounts empty{0, 0, 0, 7};
    CHECK(empty.precision() == 0.0);
    CHECK(empty.recall() == 0.0);
    CHECK(empty.f1() == 0.0);
    // Every positive predicted, none right.
    CHECK(BinaryCounts{0, 5, 3, 0}.f1() == 0.0);
    // A trained binary task reports them per epoch, consistently.
    const auto r = train(step_graph(), ragged_data(), *none(), run_settings(1));
    CHECK(r.binary);
    const EpochReport& e = r.epochs.back();
    if (e.validation_precision + e.validation_recall > 0)
        CHECK(e.validation_f1 == doctest::Approx(2 * e.validation_precision * e.validation_recall / (e.validation_precision + e.validation_recall)));
    CHECK(e.learning_rate > 0);
    CHECK(e.grad_norm > 0);
}

TEST_CASE("gradient clipping scales the whole update to the global norm limit") {
    // One SGD step at lr 1 without weight decay: the update is exactly minus the (clipped) gradient.
    test::TempDir dir;
    OptimizerSettings sgd;
    sgd.kind = OptimizerSettings::Kind::sgd;
    sgd.weight_decay = 0;
    const ModelGraph g = step_graph(8, sgd);
    auto one_step = [&](double clip, const fs::path& file) {
        TrainingSettings s = run_settings(1);
        s.max_steps_per_epoch = 1;
        s.schedule = TrainingSettings::Schedule::constant;
        s.clip_grad_norm = clip;
        s.checkpoint_file = file;
        ModelGraph step = g;
        for (auto& op : step.ops)
            if (op.kind == OpKind::optimizer_update) op.attrs["lr"] = 1.0;
        return train(step, ragged_data(), *none(), s);
    };
    const auto free = one_step(0, dir.path() / "free.bin");
    const double norm = free.step_grad_norms.at(0);
    REQUIRE(norm > 0);
    const double limit = norm / 4;
    const auto clipped = one_step(limit, dir.path() / "clipped.bin");
    CHECK(clipped.step_grad_norms.at(0) == norm);  // recorded before clipping
    CHECK(clipped.epochs[0].clipped_steps == 1);
    CHECK(free.epochs[0].clipped_steps == 0);
    // A limit above the norm changes nothing.
    CHECK(one_step(norm * 2, dir.path() / "loose.bin").step_losses == free.step_losses);
    CHECK(bytes_of(dir.path() / "loose.bin").size() == bytes_of(dir.path() / "free.bin").size());

    Executor start(g);
    start.init_weights(9);
    const auto w_free = by_name(read_checkpoint(dir.path() / "free.bin"));
    const auto w_clip = by_name(read_checkpoint(dir.path() / "clipped.bin"));
    double free_sq = 0, clip_sq = 0;
    for (const auto& op : g.ops) {
        if (op.kind != OpKind::optimizer_update) continue;
        const TensorId w = op.inputs[0];
        const std::string& name = g.tensors[static_cast<std::size_t>(w)].name;
        CAPTURE(name);
        const auto& w0 = start.values(w);
        const auto& a = w_free.at(name);
        const auto& b = w_clip.at(name);
        double worst = 0, scale = 1e-12;
        for (std::size_t i = 0; i < w0.size(); ++i) {
            const double d_free = static_cast<double>(w0[i]) - a[i], d_clip = static_cast<double>(w0[i]) - b[i];
            free_sq += d_free * d_free;
            clip_sq += d_clip * d_clip;
            worst = std::max(worst, std::abs(d_clip - d_free * limit / norm));
            scale = std::max(scale, std::abs(d_free * limit / norm));
        }
        // Floor: a few float32 ulps of the weights (|w| < 0.1), the rounding of w0 − w1.
        CHECK(worst <= 2e-3 * scale + 3e-8);
    }
    // The unclipped update's norm is the recorded gradient norm; the clipped one's is the limit.
    CHECK(std::sqrt(free_sq) == doctest::Approx(norm).epsilon(1e-3));
    CHECK(std::sqrt(clip_sq) == doctest::Approx(limit).epsilon(1e-3));
}

TEST_CASE("two epochs equal one epoch, an interruption and a resumed epoch, bit for bit") {
    test::TempDir dir;
    const Dataset data = ragged_data();
    const ModelGraph g = step_graph();
    const fs::path interrupted = dir.path() / "interrupted.bin", full_file = dir.path() / "full.bin", resumed_file = dir.path() / "resumed.bin";
    // The linear schedule spans both epochs, so the interrupted run is stopped inside epoch 2.
    TrainingSettings s = run_settings(2);
    s.checkpoint_file = interrupted;
    CHECK_THROWS_AS(train(g, data, *none(), s,
                          [](std::int64_t epoch, std::int64_t, std::int64_t, double, double) {
                              if (epoch == 2) throw Interrupted{};
                          }),
                    Interrupted);
    CHECK(read_checkpoint(interrupted).epoch == 1);
    // Written through a uniquely named temporary file and renamed: nothing else is left behind.
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename().string());
    CHECK(left == std::vector<std::string>{"interrupted.bin"});

    s.checkpoint_file = full_file;
    const auto full = train(g, data, *none(), s);
    s.checkpoint_file = resumed_file;
    s.resume_from = interrupted;
    const auto resumed = train(g, data, *none(), s);

    CHECK(resumed.resumed_from_epoch == 1);
    REQUIRE(full.step_losses.size() == 16);
    CHECK(resumed.step_losses == std::vector<double>(full.step_losses.begin() + 8, full.step_losses.end()));
    REQUIRE(resumed.epochs.size() == 2);
    for (std::size_t e = 0; e < 2; ++e) {
        CAPTURE(e);
        CHECK(resumed.epochs[e].train_loss == full.epochs[e].train_loss);
        CHECK(resumed.epochs[e].validation_loss == full.epochs[e].validation_loss);
        CHECK(resumed.epochs[e].validation_accuracy == full.epochs[e].validation_accuracy);
        CHECK(resumed.epochs[e].learning_rate == full.epochs[e].learning_rate);
    }
    CHECK(resumed.steps == full.steps);
    const Checkpoint a = read_checkpoint(full_file), b = read_checkpoint(resumed_file);
    CHECK(a.epoch == 2);
    CHECK(a.global_step == 16);
    CHECK(b.shuffle_state == a.shuffle_state);
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (std::size_t t = 0; t < a.tensors.size(); ++t) {
        CAPTURE(a.tensors[t].name);
        CHECK(a.tensors[t].name == b.tensors[t].name);
        CHECK(a.tensors[t].data == b.tensors[t].data);  // weights, m and v
    }

    SUBCASE("a checkpoint that has done its epochs is evaluated without training") {
        TrainingSettings e = run_settings(0);
        e.resume_from = full_file;
        const auto eval = train(g, data, *none(), e);
        CHECK(eval.evaluated_only);
        CHECK(eval.step_losses.empty());
        CHECK(eval.epochs.size() == 2);
        CHECK(eval.validation.epoch == 2);
        CHECK(eval.validation.validation_loss == full.epochs[1].validation_loss);
        CHECK(eval.validation.validation_accuracy == full.epochs[1].validation_accuracy);
        CHECK(eval.validation.validation_f1 == full.epochs[1].validation_f1);
        CHECK(eval.validation_examples == 13);
    }
    SUBCASE("a checkpoint of another model, other data or more epochs is a clear error") {
        TrainingSettings e = run_settings(2);
        e.resume_from = full_file;
        CHECK_THROWS_WITH_AS(train(step_graph(8, adamw(), 256), data, *none(), e),
                             (full_file.string() + ": error: the checkpoint does not fit the model: tensor 'embeddings.token.table' is [128, 32] in the checkpoint "
                                                   "but [256, 32] in the model (checkpoint)")
                                 .c_str(),
                             ConfigError);
        OptimizerSettings sgd;
        sgd.kind = OptimizerSettings::Kind::sgd;
        CHECK_THROWS_WITH_AS(train(step_graph(8, sgd), data, *none(), e),
                             doctest::Contains("the checkpoint does not fit the model: the checkpoint's tensor 'embeddings.token.table.adam_m' [128, 32] is not in "
                                               "the model (checkpoint)"),
                             ConfigError);
        SyntheticTask task;
        task.train = 64;
        task.validation = 13;
        task.seed = 5;
        CHECK_THROWS_WITH_AS(train(g, make_synthetic_sentiment(task, 8), *none(), e),
                             (full_file.string() + ": error: the checkpoint was written by a run of 60 training examples and 8 steps per epoch; this run "
                                                   "has 64 and 8: resume with the same data and training settings (checkpoint)")
                                 .c_str(),
                             ConfigError);
        e.epochs = 1;
        CHECK_THROWS_WITH_AS(train(g, data, *none(), e),
                             (full_file.string() + ": error: the checkpoint has trained 2 epochs, more than training.epochs = 1: set training.epochs to "
                                                   "at least 2 (or 0 to evaluate the checkpoint) (checkpoint)")
                                 .c_str(),
                             ConfigError);
    }
    SUBCASE("truncated, corrupt and foreign files are located errors") {
        const std::string good = bytes_of(full_file);
        const fs::path bad = dir.path() / "bad.bin";
        const std::string at = bad.string() + ": error: ";
        write_bytes(bad, good.substr(0, 5));
        CHECK_THROWS_WITH_AS(read_checkpoint(bad), (at + "byte 0: truncated: the magic needs 8 bytes, 5 are left (checkpoint)").c_str(), ConfigError);
        write_bytes(bad, good.substr(0, good.size() / 2));
        CHECK_THROWS_WITH_AS(read_checkpoint(bad),
                             (at + "byte " + std::to_string(good.size() / 2 - 8) +
                              ": the checksum does not match the contents: the file is truncated or corrupt (checkpoint)")
                                 .c_str(),
                             ConfigError);
        std::string flipped = good;
        flipped[good.size() / 3] = static_cast<char>(flipped[good.size() / 3] ^ 0x10);
        write_bytes(bad, flipped);
        CHECK_THROWS_WITH_AS(read_checkpoint(bad),
                             (at + "byte " + std::to_string(good.size() - 8) +
                              ": the checksum does not match the contents: the file is truncated or corrupt (checkpoint)")
                                 .c_str(),
                             ConfigError);
        write_bytes(bad, "epoch: 2\nweights: []\n");
        CHECK_THROWS_WITH_AS(read_checkpoint(bad),
                             (at + "byte 0: not a transcode checkpoint (the file does not start with the checkpoint magic) (checkpoint)").c_str(),
                             ConfigError);
        std::string v2 = good;
        v2[8] = 3;
        write_bytes(bad, v2);
        CHECK_THROWS_WITH_AS(read_checkpoint(bad), (at + "byte 8: format version 3; this engine reads version 2 (checkpoint)").c_str(), ConfigError);
        CHECK_THROWS_WITH_AS(read_checkpoint(dir.path() / "missing.bin"),
                             ((dir.path() / "missing.bin").string() + ": error: cannot open the file (checkpoint)").c_str(), ConfigError);
        // Resuming from a damaged file fails before any training.
        TrainingSettings e = run_settings(2);
        e.resume_from = bad;
        CHECK_THROWS_AS(train(g, data, *none(), e), ConfigError);
    }
    SUBCASE("a run that diverges after a checkpoint names it and leaves it intact") {
        const std::string before = bytes_of(interrupted);
        TrainingSettings e = run_settings(3);
        e.resume_from = interrupted;
        e.checkpoint_file = interrupted;
        try {
            train(step_graph(8, adamw(1e30)), data, *none(), e);
            FAIL("no error");
        } catch (const Error& err) {
            const std::string m = err.what();
            CHECK(m.rfind("training diverged: the loss is ", 0) == 0);
            CHECK(m.find(" at epoch 2, step ") != std::string::npos);
            CHECK(m.find("No results were written. The last good checkpoint (epoch 1) is kept in " + interrupted.string() + ".") != std::string::npos);
        }
        CHECK(bytes_of(interrupted) == before);
    }
}

TEST_CASE("with recalibration during training, a resumed run equals the uninterrupted one bit for bit") {
    // The thresholds in effect are saved in the checkpoint; recalibration happens after every
    // `every_steps` steps of the whole run, so the resumed run recalibrates where the uninterrupted
    // one did. Every 3 steps: at 0, 3, 6 | 9, 12, 15 (none at the epoch boundary, 8, so the resumed
    // run starts with the checkpoint's thresholds); every 4 steps: at 0, 4 | 8, 12 (one at the
    // boundary, which starts from the checkpoint's thresholds).
    test::TempDir dir;
    const Dataset data = ragged_data();
    PluginHost& host = test::builtin_plugins();
    const PluginInfo& dynaprop = *host.find("dynaprop", PluginKind::pruning);
    const Params base = config::parse_params(dynaprop.schema, "");
    OptimizerSettings opt = adamw(5e-3);
    PluginHost& models = test::builtin_plugins();
    const PluginInfo& flexibert = *models.find("flexibert", PluginKind::model);
    const ModelGraph g = make_training_graph(
        models.create<ModelFamily>(flexibert, config::parse_params(flexibert.schema, "layers: 1\nhidden: [32]\nheads: [[sa-sdp, l-dft]]\nff: [[64]]\n"
                                                                                     "sequence_length: 8\nmax_position: 8\nbatch_size: 8\nvocab_size: 128\n"
                                                                                     "hidden_dropout: 0.1\nattention_dropout: 0.1"))
            ->build_forward(),
        opt);
    for (const std::int64_t every : {3, 4}) {
        CAPTURE(every);
        CalibratedPruning cal;
        cal.settings.batches = 2;
        cal.settings.rounds = 2;
        cal.settings.every_steps = every;
        cal.settings.targets = {{PruningPoint::dense, 0.5}, {PruningPoint::attention_probabilities, 0.3}, {PruningPoint::weight_gradient, 0.6}};
        cal.make = [&](const CalibrationReport& c) { return host.create<PruningStrategy>(dynaprop, Params(apply_calibration(base.values(), c))); };
        const fs::path interrupted = dir.path() / fmt::format("interrupted-{}.bin", every), full_file = dir.path() / fmt::format("full-{}.bin", every),
                       resumed_file = dir.path() / fmt::format("resumed-{}.bin", every);
        TrainingSettings s = run_settings(2);
        s.checkpoint_file = interrupted;
        CHECK_THROWS_AS(train(g, data, cal, s,
                              [](std::int64_t epoch, std::int64_t, std::int64_t, double, double) {
                                  if (epoch == 2) throw Interrupted{};
                              }),
                        Interrupted);
        const Checkpoint at_one = read_checkpoint(interrupted);
        REQUIRE(at_one.calibration.has_value());
        CHECK(at_one.epochs.at(0).thresholds.at(PruningPoint::dense) == at_one.calibration->points.at(PruningPoint::dense).threshold);

        s.checkpoint_file = full_file;
        const auto full = train(g, data, cal, s);
        s.checkpoint_file = resumed_file;
        s.resume_from = interrupted;
        const auto resumed = train(g, data, cal, s);

        REQUIRE(full.step_losses.size() == 16);
        CHECK(resumed.step_losses == std::vector<double>(full.step_losses.begin() + 8, full.step_losses.end()));
        const std::vector<std::int64_t> expected = every == 3 ? std::vector<std::int64_t>{0, 3, 6, 9, 12, 15} : std::vector<std::int64_t>{0, 4, 8, 12};
        std::vector<std::int64_t> steps, resumed_steps;
        for (const auto& c : full.calibrations) steps.push_back(c.step);
        for (const auto& c : resumed.calibrations) resumed_steps.push_back(c.step);
        CHECK(steps == expected);
        CHECK(resumed_steps == std::vector<std::int64_t>(expected.begin() + (every == 3 ? 3 : 2), expected.end()));
        REQUIRE(resumed.epochs.size() == 2);
        for (std::size_t e = 0; e < 2; ++e) {
            CAPTURE(e);
            CHECK(resumed.epochs[e].train_loss == full.epochs[e].train_loss);
            CHECK(resumed.epochs[e].validation_loss == full.epochs[e].validation_loss);
            CHECK(resumed.epochs[e].thresholds == full.epochs[e].thresholds);
            for (auto which : {&EpochReport::point_sparsity, &EpochReport::validation_point_sparsity}) {
                const auto& want = full.epochs[e].*which;
                const auto& got = resumed.epochs[e].*which;
                CHECK(got.size() == want.size());
                for (const auto& [point, count] : want) {
                    CAPTURE(std::string(to_string(point)));
                    REQUIRE(got.count(point) == 1);
                    CHECK(got.at(point).zeros == count.zeros);
                    CHECK(got.at(point).elements == count.elements);
                }
            }
        }
        CHECK(resumed.tensor_sparsity == full.tensor_sparsity);
        const Checkpoint a = read_checkpoint(full_file), b = read_checkpoint(resumed_file);
        REQUIRE(a.calibration.has_value());
        REQUIRE(b.calibration.has_value());
        for (const auto& [point, p] : a.calibration->points) CHECK(b.calibration->points.at(point).threshold == p.threshold);
        REQUIRE(a.tensors.size() == b.tensors.size());
        for (std::size_t t = 0; t < a.tensors.size(); ++t) {
            CAPTURE(a.tensors[t].name);
            CHECK(a.tensors[t].data == b.tensors[t].data);
        }
        // Other targets than the checkpoint's: calibrated afresh before the first resumed step.
        CalibratedPruning other = cal;
        other.settings.targets[PruningPoint::dense] = 0.4;
        s.checkpoint_file.clear();
        const auto recalibrated = train(g, data, other, s);
        REQUIRE_FALSE(recalibrated.calibrations.empty());
        CHECK(recalibrated.calibrations.front().step == 8);
        CHECK(recalibrated.calibrations.front().report.points.at(PruningPoint::dense).target == 0.4);
        // Evaluating the checkpoint (nothing left to train) prunes with its thresholds.
        TrainingSettings e = run_settings(0);
        e.resume_from = full_file;
        const auto eval = train(g, data, cal, e);
        CHECK(eval.evaluated_only);
        CHECK(eval.calibrations.empty());
        CHECK(eval.validation.validation_loss == full.epochs[1].validation_loss);
    }
}

TEST_CASE("every truncation and every flipped byte of a checkpoint is a located error, and a forged count is caught behind the checksum") {
    test::TempDir dir;
    Checkpoint c;
    c.epoch = 1;
    c.global_step = 3;
    c.train_examples = 20;
    c.steps_per_epoch = 3;
    c.shuffle_state = 0x1234;
    EpochReport e;
    e.epoch = 1;
    e.validation_f1 = 0.5;
    e.point_sparsity = {{PruningPoint::dense, {5, 10}}, {PruningPoint::logits_gradient, {0, 4}}};
    e.validation_point_sparsity = {{PruningPoint::attention_probabilities, {3, 8}}};
    e.thresholds = {{PruningPoint::dense, 0.25}};
    c.epochs = {e};
    c.tensors = {{"w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {3}, {-1, 0, 1}}};
    CalibrationReport cal;
    cal.batches = 2;
    cal.rounds = 3;
    cal.points[PruningPoint::dense] = {0.5, 0.25, 0.5, 10};
    c.calibration = cal;
    const fs::path file = dir.path() / "c.bin";
    write_checkpoint(file, c);
    const Checkpoint back = read_checkpoint(file);
    CHECK(back.shuffle_state == 0x1234);
    REQUIRE(back.tensors.size() == 2);
    CHECK(back.tensors[1].name == "b");
    CHECK(back.tensors[1].data == std::vector<float>{-1, 0, 1});
    CHECK(back.epochs.at(0).validation_f1 == 0.5);
    CHECK(back.epochs.at(0).point_sparsity.at(PruningPoint::dense).zeros == 5);
    CHECK(back.epochs.at(0).point_sparsity.at(PruningPoint::logits_gradient).elements == 4);
    CHECK(back.epochs.at(0).validation_point_sparsity.at(PruningPoint::attention_probabilities).zeros == 3);
    CHECK(back.epochs.at(0).thresholds.at(PruningPoint::dense) == 0.25);
    REQUIRE(back.calibration.has_value());
    CHECK(back.calibration->rounds == 3);
    CHECK(back.calibration->points.at(PruningPoint::dense).threshold == 0.25);
    CHECK(back.calibration->points.at(PruningPoint::dense).values == 10);

    const std::string good = bytes_of(file);
    const fs::path bad = dir.path() / "bad.bin";
    for (std::size_t n = 0; n < good.size(); ++n) {
        CAPTURE(n);
        write_bytes(bad, good.substr(0, n));
        CHECK_THROWS_AS(read_checkpoint(bad), ConfigError);
    }
    for (std::size_t i = 0; i < good.size(); ++i) {
        CAPTURE(i);
        std::string flipped = good;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
        write_bytes(bad, flipped);
        CHECK_THROWS_AS(read_checkpoint(bad), ConfigError);
    }
    // A tensor count of 2^60 with a valid checksum (FNV-1a 64, recomputed here): refused before
    // any allocation. The count sits after the header (8 + 4 + 5·8 + 4 + 8 bytes) and one epoch.
    const std::size_t count_at = 8 + 4 + 5 * 8 + 4 + 8 + 15 * 8;
    std::string forged = good;
    const std::uint64_t huge = std::uint64_t{1} << 60;
    std::memcpy(forged.data() + count_at, &huge, sizeof huge);
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i + 8 < forged.size(); ++i) {
        h ^= static_cast<unsigned char>(forged[i]);
        h *= 0x100000001b3ull;
    }
    std::memcpy(forged.data() + forged.size() - 8, &h, sizeof h);
    write_bytes(bad, forged);
    const std::string want = bad.string() + ": error: byte " + std::to_string(count_at + 8) +
                             ": truncated: the headers of 1152921504606846976 tensors cannot fit in the " + std::to_string(good.size() - 8 - count_at - 8) +
                             " bytes left (checkpoint)";
    CHECK_THROWS_WITH_AS(read_checkpoint(bad), want.c_str(), ConfigError);

    // Behind a valid checksum, a stored pruning point outside the enum is refused too. The first
    // point of epoch 1's training sparsity follows the tensor data and the point count.
    const std::size_t point_at = good.size() - 8 - (8 + 2 * 20) - (8 + 20) - (8 + 12) - (1 + 8 + 8 + 8 + 36) + 8;
    std::string bad_point = good;
    const std::uint32_t nine = 9;
    std::memcpy(bad_point.data() + point_at, &nine, sizeof nine);
    h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i + 8 < bad_point.size(); ++i) {
        h ^= static_cast<unsigned char>(bad_point[i]);
        h *= 0x100000001b3ull;
    }
    std::memcpy(bad_point.data() + bad_point.size() - 8, &h, sizeof h);
    write_bytes(bad, bad_point);
    CHECK_THROWS_WITH_AS(read_checkpoint(bad),
                         (bad.string() + ": error: byte " + std::to_string(point_at + 4) +
                          ": a point of the training sparsity of epoch 1 is 9; pruning points are 0 to 7 (checkpoint)")
                             .c_str(),
                         ConfigError);
}

TEST_CASE("training kinds write curves.csv and checkpoint.bin, and evaluate a checkpoint with epochs 0") {
    const std::string config = TRANSCODE_SOURCE_DIR "/configs/experiments/bert-tiny-train.yaml";
    // The small model of test_training.cpp's CLI case; 30 validation examples at batch 8 end in a
    // partial batch of 6.
    const std::string small =
        " -q --set kind=train --set training.epochs=2 --set training.max_steps_per_epoch=2 --set data.synthetic.train=64"
        " --set data.synthetic.validation=30 --set \"model.params={layers: 1, hidden: [32], heads: [[sa-sdp]], ff: [[64]], sequence_length: 16, "
        "max_position: 16, batch_size: 8, vocab_size: 128}\"";
    test::TempDir a;
    REQUIRE(test::run_cli("run " + config + small + " --out " + a.path().string()).exit_code == 0);
    const auto doc = nlohmann::json::parse(test::read_file(a.path() / "results.json"));
    const auto& acc = doc["accuracy"];
    CHECK(acc["validation_examples"] == 30);
    CHECK(acc["evaluated_only"] == false);
    REQUIRE(acc["epochs"].size() == 2);
    for (const char* key : {"learning_rate", "grad_norm", "clipped_steps", "validation_f1", "validation_precision", "validation_recall", "train_examples"})
        CHECK_MESSAGE(acc["epochs"][1].contains(key), key);
    CHECK(acc["epochs"][1]["train_examples"] == 16);
    CHECK(acc["validation_f1"] == acc["epochs"][1]["validation_f1"]);
    const std::string curves = test::read_file(a.path() / "curves.csv");
    CHECK(curves.rfind("epoch,steps,train_examples,train_loss_nats,train_accuracy_fraction,learning_rate,grad_norm_before_clip,clipped_steps,"
                       "validation_examples,validation_loss_nats,validation_accuracy_fraction,validation_precision_fraction,validation_recall_fraction,"
                       "validation_f1_fraction,seconds,train_sparsity_dense_fraction,train_sparsity_attention_scores_fraction,"
                       "train_sparsity_attention_probabilities_fraction,train_sparsity_activation_gradient_fraction,train_sparsity_weight_gradient_fraction,"
                       "validation_sparsity_dense_fraction,validation_sparsity_attention_scores_fraction,validation_sparsity_attention_probabilities_fraction"
                       "\r\n1,2,16,",
                       0) == 0);
    CHECK(std::count(curves.begin(), curves.end(), '\n') == 3);
    const fs::path checkpoint = a.path() / "checkpoint.bin";
    CHECK(read_checkpoint(checkpoint).epoch == 2);

    test::TempDir b;
    const auto eval = test::run_cli("run " + config + small + " --set training.epochs=0 --set training.resume_from=" + checkpoint.string() + " --out " +
                                    b.path().string());
    REQUIRE(eval.exit_code == 0);
    const auto e = nlohmann::json::parse(test::read_file(b.path() / "results.json"))["accuracy"];
    CHECK(e["evaluated_only"] == true);
    CHECK(e["resumed_from_epoch"] == 2);
    CHECK(e["validation"] == acc["validation"]);
    CHECK(e["validation_loss"] == acc["validation_loss"]);
    CHECK_FALSE(fs::exists(b.path() / "checkpoint.bin"));

    const auto nothing_to_simulate = test::run_cli("run " + config + small + " --set kind=train_and_simulate --set training.resume_from=" +
                                                   checkpoint.string() + " --out " + b.path().string());
    CHECK(nothing_to_simulate.exit_code == 2);
    CHECK(nothing_to_simulate.output.find(config + ": error: training.resume_from: the checkpoint has done all 2 epochs, so nothing is trained and no "
                                          "sparsity is measured to simulate: raise training.epochs, or use kind train to evaluate the checkpoint "
                                          "(conflict)") != std::string::npos);
    const auto not_train = test::run_cli("run " + config + small + " --set kind=train_and_simulate --set training.epochs=0 --set training.resume_from=" +
                                         checkpoint.string() + " --out " + b.path().string());
    CHECK(not_train.exit_code == 2);
    CHECK(not_train.output.find("error: training.epochs: epochs 0 (evaluate a checkpoint) needs kind train, not train_and_simulate (conflict)") !=
          std::string::npos);
    const auto sweep = test::run_cli("run " TRANSCODE_SOURCE_DIR "/configs/experiments/dynaprop-sweep.yaml --set training.resume_from=" +
                                     checkpoint.string() + " --out " + b.path().string());
    CHECK(sweep.exit_code == 2);
    CHECK(sweep.output.find("error: training.resume_from: kind dynaprop_sweep trains every point afresh: resume_from is for kinds train and "
                            "train_and_simulate (conflict)") != std::string::npos);
    const auto no_file = test::run_cli("run " + config + small + " --set training.epochs=0 --out " + b.path().string());
    CHECK(no_file.exit_code == 2);
    CHECK(no_file.output.find("error: training.epochs: epochs 0 evaluates a checkpoint: give training.resume_from (required)") != std::string::npos);
    const auto missing = test::run_cli("run " + config + small + " --set training.resume_from=/nonexistent/checkpoint.bin --out " + b.path().string());
    CHECK(missing.exit_code == 2);
    CHECK(missing.output.find("error: training.resume_from: checkpoint '/nonexistent/checkpoint.bin' not found (file)") != std::string::npos);
    const auto wrong = test::run_cli("run " + config + small + " --set training.resume_from=" + (a.path() / "results.json").string() + " --out " +
                                     b.path().string());
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.output.find("results.json: error: byte 0: not a transcode checkpoint (the file does not start with the checkpoint magic) (checkpoint)") !=
          std::string::npos);
}
