#include "training/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "common/random.hpp"
#include "executor/executor.hpp"
#include "plugin_host/plugin_host.hpp"

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

TrainingReport train(ModelGraph step, const Dataset& data, const PruningStrategy& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress) {
    const TensorId input_ids = find_tensor(step, "input_ids");
    const TensorId labels = find_tensor(step, "labels");
    if (input_ids < 0 || labels < 0)
        throw ConfigError("training needs a model with inputs named input_ids [batch, sequence] and labels [batch] (a sequence-classification model)");
    const TensorId segment_ids = find_tensor(step, "segment_ids");
    const TensorId position_ids = find_tensor(step, "position_ids");
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
    const std::int64_t train_batches = static_cast<std::int64_t>(data.train.size()) / B;
    const std::int64_t valid_batches = static_cast<std::int64_t>(data.validation.size()) / B;
    if (train_batches == 0 || valid_batches == 0)
        throw ConfigError(fmt::format("the data has {} training and {} validation examples: each split needs at least one batch of {}", data.train.size(),
                                      data.validation.size(), B));
    const std::int64_t steps_per_epoch = settings.max_steps_per_epoch > 0 ? std::min(settings.max_steps_per_epoch, train_batches) : train_batches;
    const std::int64_t total_steps = steps_per_epoch * settings.epochs;

    // Phase ranges: forward ops, then backward, then update (make_training_graph's order).
    std::size_t forward_end = 0, backward_end = 0;
    while (forward_end < step.ops.size() && step.ops[forward_end].phase == Phase::forward) ++forward_end;
    backward_end = forward_end;
    while (backward_end < step.ops.size() && step.ops[backward_end].phase == Phase::backward) ++backward_end;
    std::vector<std::size_t> update_ops;
    std::vector<double> base_lr;
    for (std::size_t i = backward_end; i < step.ops.size(); ++i) {
        if (step.ops[i].kind != OpKind::optimizer_update) continue;
        update_ops.push_back(i);
        base_lr.push_back(step.ops[i].attr("lr"));
    }

    Executor ex(step);
    ex.init_weights(settings.seed);
    if (segment_ids >= 0) std::fill(ex.ids(segment_ids).begin(), ex.ids(segment_ids).end(), 0);
    if (position_ids >= 0) {
        auto& p = ex.ids(position_ids);
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::int32_t>(static_cast<std::int64_t>(i) % S);
    }
    if (loss_grad >= 0) std::fill(ex.values(loss_grad).begin(), ex.values(loss_grad).end(), 1.0f);

    TrainingReport report;
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
    std::int64_t measured_steps = 0;
    RunMode mode = RunMode::training;

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
                    zeros = call_plugin("pruning", "prune", [&] { return pruning.prune(view, mode); }).zeros;
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

    auto load_batch = [&](const std::vector<Example>& split, const std::vector<std::size_t>& order, std::int64_t b) {
        auto& ids = ex.ids(input_ids);
        auto& lab = ex.ids(labels);
        for (std::int64_t r = 0; r < B; ++r) {
            const Example& e = split[order[static_cast<std::size_t>(b * B + r)]];
            std::copy(e.ids.begin(), e.ids.end(), ids.begin() + r * S);
            lab[static_cast<std::size_t>(r)] = e.label;
        }
    };
    auto batch_accuracy = [&]() {
        const auto& lg = ex.values(logits);
        const auto& lab = ex.ids(labels);
        std::int64_t correct = 0;
        for (std::int64_t r = 0; r < B; ++r) {
            const float* row = lg.data() + r * classes;
            correct += (std::max_element(row, row + classes) - row) == lab[static_cast<std::size_t>(r)] ? 1 : 0;
        }
        return correct;
    };

    SplitMix64 shuffle(settings.seed ^ 0x7a11u);
    std::vector<std::size_t> order(data.train.size());
    std::vector<std::size_t> valid_order(data.validation.size());
    for (std::size_t i = 0; i < valid_order.size(); ++i) valid_order[i] = i;
    std::int64_t global = 0;
    for (std::int64_t epoch = 1; epoch <= settings.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(shuffle.next() % i)]);
        const bool last_epoch = epoch == settings.epochs;
        tally = last_epoch ? &training_tally : nullptr;
        mode = RunMode::training;
        EpochReport er{epoch};
        std::int64_t correct = 0;
        double loss_sum = 0;
        for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
            ++global;
            // Learning rate: linear warm-up, then linear decay to 0; or constant.
            double scale = 1.0;
            if (settings.schedule == TrainingSettings::Schedule::linear) {
                const double warm = std::max(1.0, settings.warmup_fraction * static_cast<double>(total_steps));
                const double t = static_cast<double>(global);
                scale = t <= warm ? t / warm : std::max(0.0, (static_cast<double>(total_steps) - t + 1) / (static_cast<double>(total_steps) - warm + 1));
            }
            for (std::size_t k = 0; k < update_ops.size(); ++k) step.ops[update_ops[k]].attrs["lr"] = base_lr[k] * scale;
            load_batch(data.train, order, s);
            ex.set_step(global);
            ex.run(0, step.ops.size(), hook);
            const double loss = ex.values(step.loss)[0];
            if (!std::isfinite(loss))
                throw Error(fmt::format("training diverged: the loss is {} at epoch {}, step {} (global step {}); lower the learning rate or the "
                                        "pruning thresholds. No results were written.",
                                        loss, epoch, s + 1, global));
            ex.commit_update();
            report.step_losses.push_back(loss);
            loss_sum += loss;
            correct += batch_accuracy();
            if (tally != nullptr) ++measured_steps;
            if (progress) progress(epoch, s + 1, steps_per_epoch, loss_sum / static_cast<double>(s + 1), static_cast<double>(correct) / static_cast<double>((s + 1) * B));
        }
        er.train_loss = loss_sum / static_cast<double>(steps_per_epoch);
        er.train_accuracy = static_cast<double>(correct) / static_cast<double>(steps_per_epoch * B);
        // Validation: the forward ops only, inference thresholds; the last epoch's is measured.
        tally = last_epoch ? &inference_tally : nullptr;
        mode = RunMode::inference;
        double vloss = 0;
        std::int64_t vcorrect = 0;
        for (std::int64_t b = 0; b < valid_batches; ++b) {
            load_batch(data.validation, valid_order, b);
            ex.run(0, forward_end, hook);
            vloss += ex.values(step.loss)[0];
            vcorrect += batch_accuracy();
        }
        tally = nullptr;
        er.validation_loss = vloss / static_cast<double>(valid_batches);
        er.validation_accuracy = static_cast<double>(vcorrect) / static_cast<double>(valid_batches * B);
        er.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report.epochs.push_back(er);
    }
    report.steps = global;
    report.validation_examples = valid_batches * B;
    for (std::size_t t = 0; t < step.tensors.size(); ++t) {
        report.tensor_sparsity[t] = measured_steps > 0 ? training_tally.zero_sum[t] / static_cast<double>(measured_steps) : 0.0;
        report.inference_tensor_sparsity[t] = inference_tally.zero_sum[t] / static_cast<double>(valid_batches);
    }
    return report;
}

}  // namespace transcode::engine
