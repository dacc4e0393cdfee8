#include "training/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "common/deadline.hpp"
#include "common/random.hpp"
#include "executor/executor.hpp"
#include "plugin_host/plugin_host.hpp"
#include "training/checkpoint.hpp"

namespace transcode::engine {

namespace {

TensorId find_tensor(const ModelGraph& g, const std::string& name) {
    for (std::size_t t = 0; t < g.tensors.size(); ++t)
        if (g.tensors[t].name == name && g.tensors[t].is_input) return static_cast<TensorId>(t);
    return -1;
}

bool is_weight(const ModelGraph& g, TensorId t) { return g.tensors[static_cast<std::size_t>(t)].role == TensorRole::weight; }

std::int64_t count_zeros(const std::vector<float>& v) {
    std::int64_t z = 0;
    for (float x : v) z += x == 0.0f ? 1 : 0;
    return z;
}

}  // namespace

std::vector<PruningPoint> pruning_points(const ModelGraph& g) {
    std::vector<PruningPoint> points(g.tensors.size(), PruningPoint::unspecified);
    // Consumers of each tensor: (op, input position).
    std::vector<std::vector<std::pair<std::size_t, std::size_t>>> consumers(g.tensors.size());
    for (std::size_t i = 0; i < g.ops.size(); ++i)
        for (std::size_t k = 0; k < g.ops[i].inputs.size(); ++k) consumers[static_cast<std::size_t>(g.ops[i].inputs[k])].emplace_back(i, k);
    auto is_bias_add = [&](const OpDesc& op) {
        return op.kind == OpKind::add && op.inputs.size() == 2 && is_weight(g, op.inputs[1]) &&
               g.tensors[static_cast<std::size_t>(op.inputs[1])].shape.size() == 1;
    };
    // Forward ops in reverse order: a bias add is classified before the matmul that feeds it.
    for (std::size_t i = g.ops.size(); i-- > 0;) {
        const OpDesc& op = g.ops[i];
        if (op.phase == Phase::backward) {
            for (TensorId t : op.outputs) {
                const TensorRole role = g.tensors[static_cast<std::size_t>(t)].role;
                if (op.kind == OpKind::cross_entropy_backward)
                    points[static_cast<std::size_t>(t)] = PruningPoint::logits_gradient;
                else if (role == TensorRole::activation_gradient)
                    points[static_cast<std::size_t>(t)] = PruningPoint::activation_gradient;
                else if (role == TensorRole::weight_gradient)
                    points[static_cast<std::size_t>(t)] = PruningPoint::weight_gradient;
            }
            continue;
        }
        if (op.phase != Phase::forward || op.outputs.empty()) continue;
        const auto t = static_cast<std::size_t>(op.outputs[0]);
        const TensorDesc& out = g.tensors[t];
        if (out.is_integer || out.role != TensorRole::activation || static_cast<TensorId>(t) == g.loss) continue;
        bool feeds_loss = false, feeds_softmax = false;
        PruningPoint through_bias = PruningPoint::unspecified;
        for (const auto& [c, k] : consumers[t]) {
            const OpDesc& user = g.ops[c];
            if (user.phase != Phase::forward) continue;
            feeds_loss = feeds_loss || (user.kind == OpKind::cross_entropy && k == 0);
            feeds_softmax = feeds_softmax || user.kind == OpKind::softmax;
            if (k == 0 && is_bias_add(user)) {
                const PruningPoint p = points[static_cast<std::size_t>(user.outputs[0])];
                if (p == PruningPoint::logits || p == PruningPoint::attention_scores) through_bias = p;
            }
        }
        if (feeds_loss) {
            points[t] = PruningPoint::logits;
        } else if (op.kind == OpKind::softmax) {
            points[t] = PruningPoint::attention_probabilities;
        } else if (op.kind == OpKind::matmul || is_bias_add(op)) {
            points[t] = feeds_softmax ? PruningPoint::attention_scores
                        : through_bias != PruningPoint::unspecified ? through_bias
                                                                    : PruningPoint::dense;
        }
    }
    return points;
}

bool is_pruning_point(const ModelGraph& g, const OpDesc& op) {
    if (op.phase != Phase::forward || op.outputs.empty()) return false;
    const PruningPoint p = pruning_points(g)[static_cast<std::size_t>(op.outputs[0])];
    return p != PruningPoint::unspecified && !never_pruned(p);
}

namespace {

// The tensors a checkpoint holds: every weight and optimizer state no op writes (what the update
// ops read and commit_update refreshes), in graph order.
std::vector<TensorId> checkpoint_tensors(const ModelGraph& g) {
    std::vector<bool> written(g.tensors.size(), false);
    for (const auto& op : g.ops)
        for (TensorId t : op.outputs) written[static_cast<std::size_t>(t)] = true;
    std::vector<TensorId> out;
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
        const TensorDesc& d = g.tensors[t];
        if ((d.role == TensorRole::weight || d.role == TensorRole::optimizer_state) && !d.is_integer && !written[t]) out.push_back(static_cast<TensorId>(t));
    }
    return out;
}

std::string shape_text(const Shape& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", s[i]);
    return out + "]";
}

// Loads a checkpoint's tensors into the executor; a checkpoint of another model is an error naming
// the first tensor that differs.
void load_tensors(Executor& ex, const ModelGraph& g, const Checkpoint& c, const std::filesystem::path& file) {
    std::map<std::string, const CheckpointTensor*> by_name;
    for (const auto& t : c.tensors) by_name[t.name] = &t;
    const auto fail = [&](const std::string& what) {
        throw ConfigError(fmt::format("{}: error: the checkpoint does not fit the model: {} (checkpoint)", file.string(), what));
    };
    const std::vector<TensorId> mine = checkpoint_tensors(g);
    for (TensorId t : mine) {
        const TensorDesc& d = g.tensors[static_cast<std::size_t>(t)];
        const auto it = by_name.find(d.name);
        if (it == by_name.end()) fail(fmt::format("the model's tensor '{}' {} is not in the checkpoint", d.name, shape_text(d.shape)));
        if (it->second->shape != d.shape)
            fail(fmt::format("tensor '{}' is {} in the checkpoint but {} in the model", d.name, shape_text(it->second->shape), shape_text(d.shape)));
        ex.values(t) = it->second->data;
    }
    if (c.tensors.size() != mine.size()) {
        std::map<std::string, bool> in_model;
        for (TensorId t : mine) in_model[g.tensors[static_cast<std::size_t>(t)].name] = true;
        for (const auto& t : c.tensors)
            if (!in_model.count(t.name)) fail(fmt::format("the checkpoint's tensor '{}' {} is not in the model", t.name, shape_text(t.shape)));
    }
}

}  // namespace

namespace {

// train() with a fixed strategy (`fixed`) or calibrated pruning (`calibrated`): exactly one is set.
TrainingReport run_training(ModelGraph step, const Dataset& data, const PruningStrategy* fixed, const CalibratedPruning* calibrated,
                            const TrainingSettings& settings, const TrainingProgress& progress) {
    const TensorId input_ids = find_tensor(step, "input_ids");
    const TensorId labels = find_tensor(step, "labels");
    if (input_ids < 0 || labels < 0)
        throw ConfigError("training needs a model with inputs named input_ids [batch, sequence] and labels [batch] (a sequence-classification model)");
    const TensorId segment_ids = find_tensor(step, "segment_ids");
    const TensorId position_ids = find_tensor(step, "position_ids");
    const TensorId attention_mask = find_tensor(step, "attention_mask");
    const TensorId loss_grad = find_tensor(step, "loss.grad");
    const Shape& ids_shape = step.tensors[static_cast<std::size_t>(input_ids)].shape;
    if (ids_shape.size() != 2) throw ConfigError("training: input_ids must be [batch, sequence]");
    const std::int64_t B = ids_shape[0], S = ids_shape[1];
    TensorId logits = -1;
    std::int64_t table_rows = -1;
    for (const auto& op : step.ops) {
        if (op.kind == OpKind::cross_entropy) logits = op.inputs[0];
        if (op.kind == OpKind::embedding && op.inputs[0] == input_ids) table_rows = step.tensors[static_cast<std::size_t>(op.inputs[1])].shape[0];
    }
    if (logits < 0 || step.loss < 0) throw ConfigError("training needs a model that ends in a cross_entropy loss");
    const std::int64_t classes = step.tensors[static_cast<std::size_t>(logits)].shape.back();
    if (table_rows >= 0 && data.vocab_size > table_rows)
        throw ConfigError(fmt::format("the data has a vocabulary of {} ids but the model's token embedding has {} rows: set the model's vocab_size to at "
                                      "least {}",
                                      data.vocab_size, table_rows, data.vocab_size));
    if (data.num_classes > classes)
        throw ConfigError(fmt::format("the data has {} classes but the model's classifier has {}: set the model's num_classes", data.num_classes, classes));
    for (const auto* split : {&data.train, &data.validation})
        if (!split->empty() && static_cast<std::int64_t>(split->front().ids.size()) != S)
            throw ConfigError(fmt::format("the data's sequences have {} tokens but the model's sequence_length is {}", split->front().ids.size(), S));
    if (data.train.empty() || data.validation.empty())
        throw ConfigError(fmt::format("the data has {} training and {} validation examples: each split needs at least one", data.train.size(),
                                      data.validation.size()));
    // Every example counts: the last batch of a split may be partial (padded with ignored rows).
    const auto batches = [&](std::size_t n) { return (static_cast<std::int64_t>(n) + B - 1) / B; };
    const std::int64_t train_batches = batches(data.train.size());
    const std::int64_t valid_batches = batches(data.validation.size());
    const std::int64_t steps_per_epoch = settings.max_steps_per_epoch > 0 ? std::min(settings.max_steps_per_epoch, train_batches) : train_batches;
    const std::int64_t total_steps = steps_per_epoch * settings.epochs;

    // Phase ranges: forward ops, then backward, then update (make_training_graph's order).
    std::size_t forward_end = 0, backward_end = 0;
    while (forward_end < step.ops.size() && step.ops[forward_end].phase == Phase::forward) ++forward_end;
    backward_end = forward_end;
    while (backward_end < step.ops.size() && step.ops[backward_end].phase == Phase::backward) ++backward_end;
    std::vector<std::size_t> update_ops;
    std::vector<double> base_lr;
    std::vector<TensorId> weight_gradients;  // what the update ops read: clipped together
    for (std::size_t i = backward_end; i < step.ops.size(); ++i) {
        if (step.ops[i].kind != OpKind::optimizer_update) continue;
        update_ops.push_back(i);
        base_lr.push_back(step.ops[i].attr("lr"));
        weight_gradients.push_back(step.ops[i].inputs[1]);
    }

    Executor ex(step);
    if (settings.threads > 0) ex.set_threads(settings.threads);
    ex.init_weights(settings.seed);
    ex.set_dropout_seed(settings.seed);
    if (position_ids >= 0) {
        auto& p = ex.ids(position_ids);
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::int32_t>(static_cast<std::int64_t>(i) % S);
    }
    if (loss_grad >= 0) std::fill(ex.values(loss_grad).begin(), ex.values(loss_grad).end(), 1.0f);

    TrainingReport report;
    report.binary = classes == 2;
    report.tensor_sparsity.assign(step.tensors.size(), 0.0);
    report.inference_tensor_sparsity.assign(step.tensors.size(), 0.0);
    const std::vector<PruningPoint> points = pruning_points(step);
    // Where the hook counts zeros: the last epoch's training steps, then its validation batches.
    struct Tally {
        std::map<TensorRole, RoleCount>* roles;
        std::map<PruningPoint, RoleCount>* points;
        std::vector<double> zero_sum;
    };
    Tally training_tally{&report.sparsity, &report.point_sparsity, std::vector<double>(step.tensors.size(), 0.0)};
    Tally inference_tally{&report.inference_sparsity, &report.inference_point_sparsity, std::vector<double>(step.tensors.size(), 0.0)};
    Tally* tally = nullptr;
    std::map<PruningPoint, RoleCount>* epoch_points = nullptr;  // the current epoch's per-point counts (training or validation)
    std::int64_t measured_steps = 0;
    RunMode mode = RunMode::training;
    // The strategy the hook prunes with: `fixed`, the calibrated one, or a calibration's collector.
    const PruningStrategy* active = fixed;

    // After each op: prune at the pruning points (the strategy sees each one's PruningPoint; the
    // logits and their gradient are never pruned); count zeros.
    const Executor::Hook hook = [&](std::size_t i) {
        const OpDesc& op = step.ops[i];
        for (TensorId t : op.outputs) {
            const TensorDesc& d = step.tensors[static_cast<std::size_t>(t)];
            if (d.is_integer || d.role == TensorRole::weight || d.role == TensorRole::optimizer_state || t == step.loss) continue;
            const PruningPoint point = points[static_cast<std::size_t>(t)];
            auto& v = ex.values(t);
            std::int64_t zeros = 0;
            if (point != PruningPoint::unspecified) {
                if (never_pruned(point)) {
                    zeros = count_zeros(v);
                } else {
                    const std::int64_t cols = d.shape.empty() ? 1 : d.shape.back();
                    TensorView view{v.data(), static_cast<std::int64_t>(v.size()) / std::max<std::int64_t>(cols, 1), cols, d.role, d.name, point};
                    zeros = call_plugin("pruning", "prune", [&] { return active->prune(view, mode); }).zeros;
                }
                if (epoch_points != nullptr) {
                    RoleCount& rc = (*epoch_points)[point];
                    rc.zeros += zeros;
                    rc.elements += static_cast<std::int64_t>(v.size());
                }
                if (tally != nullptr) {
                    for (RoleCount* rc : {&(*tally->roles)[d.role], &(*tally->points)[point]}) {
                        rc->zeros += zeros;
                        rc->elements += static_cast<std::int64_t>(v.size());
                    }
                }
            } else if (tally != nullptr) {
                zeros = count_zeros(v);
            }
            if (tally != nullptr)
                tally->zero_sum[static_cast<std::size_t>(t)] += static_cast<double>(zeros) / static_cast<double>(std::max<std::size_t>(v.size(), 1));
        }
    };

    // Fills batch b of `split` (in `order`); returns how many rows are real examples. The rows
    // past the end of the split repeat the batch's first example with label -1 (ignored).
    auto load_batch = [&](const std::vector<Example>& split, const std::vector<std::size_t>& order, std::int64_t b) {
        auto& ids = ex.ids(input_ids);
        auto& lab = ex.ids(labels);
        const std::int64_t real = std::min<std::int64_t>(B, static_cast<std::int64_t>(split.size()) - b * B);
        for (std::int64_t r = 0; r < B; ++r) {
            const Example& e = split[order[static_cast<std::size_t>(b * B + (r < real ? r : 0))]];
            std::copy(e.ids.begin(), e.ids.end(), ids.begin() + r * S);
            lab[static_cast<std::size_t>(r)] = r < real ? e.label : -1;
            if (segment_ids >= 0) {
                auto row = ex.ids(segment_ids).begin() + r * S;
                if (e.segments.empty())
                    std::fill(row, row + S, 0);
                else
                    std::copy(e.segments.begin(), e.segments.end(), row);
            }
            if (attention_mask >= 0) {
                auto row = ex.ids(attention_mask).begin() + r * S;
                const std::int64_t tokens = e.length > 0 ? std::min<std::int64_t>(e.length, S) : S;
                std::fill(row, row + tokens, 1);
                std::fill(row + tokens, row + S, 0);
            }
        }
        return real;
    };
    // Correct predictions among the real rows; confusion counts for a binary task.
    auto batch_accuracy = [&](BinaryCounts* counts) {
        const auto& lg = ex.values(logits);
        const auto& lab = ex.ids(labels);
        std::int64_t correct = 0;
        for (std::int64_t r = 0; r < B; ++r) {
            const std::int32_t label = lab[static_cast<std::size_t>(r)];
            if (label < 0) continue;
            const float* row = lg.data() + r * classes;
            const auto predicted = std::max_element(row, row + classes) - row;
            correct += predicted == label ? 1 : 0;
            if (counts != nullptr && classes == 2) {
                const bool p = predicted == 1, l = label == 1;
                (p ? (l ? counts->tp : counts->fp) : (l ? counts->fn : counts->tn)) += 1;
            }
        }
        return correct;
    };
    std::vector<std::size_t> valid_order(data.validation.size());
    for (std::size_t i = 0; i < valid_order.size(); ++i) valid_order[i] = i;
    // Validation: the forward ops only, inference thresholds; measured into `measure` when given.
    auto validate = [&](EpochReport& er, Tally* measure) {
        Tally* const was = tally;
        tally = measure;
        epoch_points = &er.validation_point_sparsity;
        mode = RunMode::inference;
        ex.set_training(false);  // dropout is the identity
        double vloss = 0;
        std::int64_t vcorrect = 0, vexamples = 0;
        BinaryCounts counts;
        for (std::int64_t b = 0; b < valid_batches; ++b) {
            check_deadline();
            const std::int64_t real = load_batch(data.validation, valid_order, b);
            ex.run(0, forward_end, hook);
            vloss += static_cast<double>(ex.values(step.loss)[0]) * static_cast<double>(real);
            vcorrect += batch_accuracy(&counts);
            vexamples += real;
        }
        tally = was;
        epoch_points = nullptr;
        er.validation_examples = vexamples;
        er.validation_loss = vloss / static_cast<double>(vexamples);
        er.validation_accuracy = static_cast<double>(vcorrect) / static_cast<double>(vexamples);
        if (report.binary) {
            er.validation_precision = counts.precision();
            er.validation_recall = counts.recall();
            er.validation_f1 = counts.f1();
        }
    };

    SplitMix64 shuffle(settings.seed ^ 0x7a11u);
    std::int64_t global = 0;
    std::int64_t first_epoch = 1;
    std::string last_good;  // where the last good checkpoint is, for the divergence message

    // Calibrated pruning: the thresholds in effect and the strategy made from them.
    std::optional<CalibrationReport> in_effect;
    PluginPtr<PruningStrategy> calibrated_strategy;
    auto take_calibration = [&](const CalibrationReport& c) {
        in_effect = c;
        calibrated_strategy = calibrated->make(c);
        active = &*calibrated_strategy;
    };

    if (!settings.resume_from.empty()) {
        const Checkpoint c = read_checkpoint(settings.resume_from);
        load_tensors(ex, step, c, settings.resume_from);
        const auto where = [&] { return settings.resume_from.string() + ": error: "; };
        if (c.train_examples != static_cast<std::int64_t>(data.train.size()) || c.steps_per_epoch != steps_per_epoch)
            throw ConfigError(fmt::format("{}the checkpoint was written by a run of {} training examples and {} steps per epoch; this run has {} and {}: "
                                          "resume with the same data and training settings (checkpoint)",
                                          where(), c.train_examples, c.steps_per_epoch, data.train.size(), steps_per_epoch));
        if (settings.epochs > 0 && settings.epochs < c.epoch)
            throw ConfigError(fmt::format("{}the checkpoint has trained {} epochs, more than training.epochs = {}: set training.epochs to at least {} "
                                          "(or 0 to evaluate the checkpoint) (checkpoint)",
                                          where(), c.epoch, settings.epochs, c.epoch));
        shuffle = SplitMix64(c.shuffle_state);
        global = c.global_step;
        first_epoch = c.epoch + 1;
        report.epochs = c.epochs;
        report.resumed_from_epoch = c.epoch;
        last_good = fmt::format(" The last good checkpoint (epoch {}) is kept in {}.", c.epoch, settings.resume_from.string());
        // The thresholds the interrupted run was pruning with, if they were calibrated for this
        // run's targets; otherwise this run calibrates before its first step.
        if (calibrated != nullptr && c.calibration) {
            bool same = c.calibration->points.size() == calibrated->settings.targets.size();
            for (const auto& [point, target] : calibrated->settings.targets) {
                const auto it = c.calibration->points.find(point);
                same = same && it != c.calibration->points.end() && it->second.target == target;
            }
            if (same) take_calibration(*c.calibration);
        }
    }

    // Calibrates before the step that trains on batch `s` of `order` (the next step is global + 1):
    // `rounds` passes over the next batches with the current weights, no update and nothing
    // measured; the first pass of the first calibration unpruned, of a recalibration pruned with
    // the thresholds in effect.
    auto calibrate_before = [&](const std::vector<std::size_t>& order, std::int64_t epoch, std::int64_t s) {
        const CalibrationSettings& cs = calibrated->settings;
        const std::int64_t n = std::min(std::max<std::int64_t>(cs.batches, 1), train_batches);
        Tally* const was_tally = tally;
        std::map<PruningPoint, RoleCount>* const was_points = epoch_points;
        const RunMode was_mode = mode;
        tally = nullptr;
        epoch_points = nullptr;
        mode = RunMode::training;
        ex.set_training(true);
        CalibrationReport c;
        const bool warm = in_effect.has_value();
        if (warm) c = *in_effect;
        for (std::int64_t round = 0; round < std::max<std::int64_t>(cs.rounds, 1); ++round) {
            PluginPtr<PruningStrategy> inner;
            if (round > 0 || warm) inner = calibrated->make(c);
            CalibrationCollector collector(cs.targets, inner ? &*inner : nullptr);
            active = &collector;
            for (std::int64_t i = 0; i < n; ++i) {
                load_batch(data.train, order, (s + i) % train_batches);
                ex.set_step(global + 1 + i);
                ex.run(0, backward_end, hook);
            }
            c.points = collector.thresholds();
            c.batches = n;
            c.rounds = round + 1;
        }
        tally = was_tally;
        epoch_points = was_points;
        mode = was_mode;
        take_calibration(c);
        report.calibrations.push_back({global, epoch, c});
    };
    const auto calibration_due = [&] {
        if (calibrated == nullptr) return false;
        if (!in_effect) return true;
        const std::int64_t every = calibrated->settings.every_steps;
        return every > 0 && global > 0 && global % every == 0;
    };
    auto shuffled = [&](SplitMix64& generator, std::vector<std::size_t>& order) {
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(generator.next() % i)]);
    };

    std::vector<std::size_t> order(data.train.size());
    for (std::int64_t epoch = first_epoch; epoch <= settings.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        shuffled(shuffle, order);
        const bool last_epoch = epoch == settings.epochs;
        mode = RunMode::training;
        ex.set_training(true);  // dropout masks on
        EpochReport er;
        er.epoch = epoch;
        er.steps = steps_per_epoch;
        std::int64_t correct = 0, examples = 0;
        double loss_sum = 0, norm_sum = 0;
        for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
            check_deadline();  // a co-design evaluation's budget (search.evaluation_timeout_s)
            if (calibration_due()) calibrate_before(order, epoch, s);
            tally = last_epoch ? &training_tally : nullptr;
            epoch_points = &er.point_sparsity;
            ++global;
            // Learning rate: linear warm-up, then linear decay to 0; or constant.
            double scale = 1.0;
            if (settings.schedule == TrainingSettings::Schedule::linear) {
                const double warm = std::max(1.0, settings.warmup_fraction * static_cast<double>(total_steps));
                const double t = static_cast<double>(global);
                scale = t <= warm ? t / warm : std::max(0.0, (static_cast<double>(total_steps) - t + 1) / (static_cast<double>(total_steps) - warm + 1));
            }
            for (std::size_t k = 0; k < update_ops.size(); ++k) step.ops[update_ops[k]].attrs["lr"] = base_lr[k] * scale;
            er.learning_rate = base_lr.empty() ? 0.0 : base_lr[0] * scale;
            const std::int64_t real = load_batch(data.train, order, s);
            ex.set_step(global);
            ex.run(0, backward_end, hook);
            const double loss = ex.values(step.loss)[0];
            const auto diverged = [&](const char* what, double value) {
                return Error(fmt::format("training diverged: the {} is {} at epoch {}, step {} (global step {}); lower the learning rate or the "
                                         "pruning thresholds. No results were written.{}",
                                         what, value, epoch, s + 1, global, last_good));
            };
            if (!std::isfinite(loss)) throw diverged("loss", loss);
            // Global gradient norm over every weight gradient (in double, in graph order); clip.
            double sq = 0;
            for (TensorId g : weight_gradients)
                for (float x : ex.values(g)) sq += static_cast<double>(x) * static_cast<double>(x);
            const double norm = std::sqrt(sq);
            if (!std::isfinite(norm)) throw diverged("gradient norm", norm);
            if (settings.clip_grad_norm > 0 && norm > settings.clip_grad_norm) {
                const auto factor = static_cast<float>(settings.clip_grad_norm / norm);
                for (TensorId g : weight_gradients)
                    for (float& x : ex.values(g)) x *= factor;
                ++er.clipped_steps;
            }
            ex.run(backward_end, step.ops.size(), hook);
            ex.commit_update();
            epoch_points = nullptr;
            report.step_losses.push_back(loss);
            report.step_grad_norms.push_back(norm);
            norm_sum += norm;
            loss_sum += loss * static_cast<double>(real);
            correct += batch_accuracy(nullptr);
            examples += real;
            if (tally != nullptr) ++measured_steps;
            if (progress) progress(epoch, s + 1, steps_per_epoch, loss_sum / static_cast<double>(examples), static_cast<double>(correct) / static_cast<double>(examples));
        }
        tally = nullptr;
        er.train_examples = examples;
        er.train_loss = loss_sum / static_cast<double>(examples);
        er.train_accuracy = static_cast<double>(correct) / static_cast<double>(examples);
        er.grad_norm = norm_sum / static_cast<double>(steps_per_epoch);
        if (in_effect)
            for (const auto& [point, c] : in_effect->points) er.thresholds[point] = c.threshold;
        // The last epoch's validation measures the inference sparsity.
        validate(er, last_epoch ? &inference_tally : nullptr);
        er.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report.epochs.push_back(er);
        if (!settings.checkpoint_file.empty()) {
            Checkpoint c;
            c.epoch = epoch;
            c.global_step = global;
            c.train_examples = static_cast<std::int64_t>(data.train.size());
            c.steps_per_epoch = steps_per_epoch;
            c.shuffle_state = shuffle.state();
            c.epochs = report.epochs;
            c.calibration = in_effect;
            for (TensorId t : checkpoint_tensors(step)) {
                const TensorDesc& d = step.tensors[static_cast<std::size_t>(t)];
                c.tensors.push_back({d.name, d.shape, ex.values(t)});
            }
            write_checkpoint(settings.checkpoint_file, c);
            last_good = fmt::format(" The last good checkpoint (epoch {}) is kept in {}.", epoch, settings.checkpoint_file.string());
        }
    }
    report.steps = global;
    if (first_epoch > settings.epochs) {
        // Nothing left to train: evaluate the checkpoint's weights (calibrating first, on the
        // batches the next epoch would take, when the checkpoint has no thresholds for this run).
        if (calibrated != nullptr && !in_effect) {
            SplitMix64 next = shuffle;
            shuffled(next, order);
            calibrate_before(order, first_epoch, 0);
        }
        report.evaluated_only = true;
        report.validation.epoch = first_epoch - 1;
        validate(report.validation, &inference_tally);
        if (in_effect)
            for (const auto& [point, c] : in_effect->points) report.validation.thresholds[point] = c.threshold;
    } else {
        report.validation = report.epochs.back();
    }
    report.calibration = in_effect;
    report.validation_examples = report.validation.validation_examples;
    for (std::size_t t = 0; t < step.tensors.size(); ++t) {
        report.tensor_sparsity[t] = measured_steps > 0 ? training_tally.zero_sum[t] / static_cast<double>(measured_steps) : 0.0;
        report.inference_tensor_sparsity[t] = inference_tally.zero_sum[t] / static_cast<double>(valid_batches);
    }
    return report;
}

}  // namespace

TrainingReport train(ModelGraph step, const Dataset& data, const PruningStrategy& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress) {
    return run_training(std::move(step), data, &pruning, nullptr, settings, progress);
}

TrainingReport train(ModelGraph step, const Dataset& data, const CalibratedPruning& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress) {
    if (!pruning.make) throw InternalError("train: calibrated pruning without a strategy maker");
    for (const auto& [point, target] : pruning.settings.targets)
        if (std::find(calibratable_points().begin(), calibratable_points().end(), point) == calibratable_points().end() || !(target >= 0.0 && target <= 1.0))
            throw InternalError(fmt::format("train: calibration of point {} with target {} (the experiment loader checks these)", to_string(point), target));
    return run_training(std::move(step), data, nullptr, &pruning, settings, progress);
}

}  // namespace transcode::engine
