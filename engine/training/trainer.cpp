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

bool is_pruning_point(const ModelGraph& g, const OpDesc& op) {
    if (op.phase != Phase::forward || op.outputs.empty()) return false;
    const TensorDesc& out = g.tensors[static_cast<std::size_t>(op.outputs[0])];
    if (out.is_integer || out.role != TensorRole::activation || static_cast<TensorId>(op.outputs[0]) == g.loss) return false;
    switch (op.kind) {
        case OpKind::matmul:
        case OpKind::softmax: return true;
        case OpKind::add:  // a bias add: the output of a dense layer
            return op.inputs.size() == 2 && is_weight(g, op.inputs[1]) && g.tensors[static_cast<std::size_t>(op.inputs[1])].shape.size() == 1;
        default: return false;
    }
}

TrainingReport train(ModelGraph step, const Dataset& data, const PruningStrategy& pruning, const TrainingSettings& settings,
                     const TrainingProgress& progress) {
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
    if (settings.threads > 0) ex.set_threads(settings.threads);
    ex.init_weights(settings.seed);
    if (position_ids >= 0) {
        auto& p = ex.ids(position_ids);
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::int32_t>(static_cast<std::int64_t>(i) % S);
    }
    if (loss_grad >= 0) std::fill(ex.values(loss_grad).begin(), ex.values(loss_grad).end(), 1.0f);

    TrainingReport report;
    report.tensor_sparsity.assign(step.tensors.size(), 0.0);
    std::vector<double> zero_sum(step.tensors.size(), 0.0);
    std::int64_t measured_steps = 0;
    bool measuring = false;
    RunMode mode = RunMode::training;

    // After each op: prune at the published points and every gradient; count zeros.
    const Executor::Hook hook = [&](std::size_t i) {
        const OpDesc& op = step.ops[i];
        for (TensorId t : op.outputs) {
            const TensorDesc& d = step.tensors[static_cast<std::size_t>(t)];
            if (d.is_integer || d.role == TensorRole::weight || d.role == TensorRole::optimizer_state || t == step.loss) continue;
            const bool gradient = d.role == TensorRole::activation_gradient || d.role == TensorRole::weight_gradient;
            auto& v = ex.values(t);
            std::int64_t zeros = 0;
            if (gradient || is_pruning_point(step, op)) {
                const std::int64_t cols = d.shape.empty() ? 1 : d.shape.back();
                TensorView view{v.data(), static_cast<std::int64_t>(v.size()) / std::max<std::int64_t>(cols, 1), cols, d.role, d.name};
                zeros = call_plugin("pruning", "prune", [&] { return pruning.prune(view, mode); }).zeros;
                if (measuring) {
                    RoleCount& rc = report.sparsity[d.role];
                    rc.zeros += zeros;
                    rc.elements += static_cast<std::int64_t>(v.size());
                }
            } else if (measuring) {
                zeros = count_zeros(v);
            }
            if (measuring) zero_sum[static_cast<std::size_t>(t)] += static_cast<double>(zeros) / static_cast<double>(std::max<std::size_t>(v.size(), 1));
        }
    };

    auto load_batch = [&](const std::vector<Example>& split, const std::vector<std::size_t>& order, std::int64_t b) {
        auto& ids = ex.ids(input_ids);
        auto& lab = ex.ids(labels);
        for (std::int64_t r = 0; r < B; ++r) {
            const Example& e = split[order[static_cast<std::size_t>(b * B + r)]];
            std::copy(e.ids.begin(), e.ids.end(), ids.begin() + r * S);
            lab[static_cast<std::size_t>(r)] = e.label;
            if (segment_ids >= 0) {
                auto row = ex.ids(segment_ids).begin() + r * S;
                if (e.segments.empty())
                    std::fill(row, row + S, 0);
                else
                    std::copy(e.segments.begin(), e.segments.end(), row);
            }
            if (attention_mask >= 0) {
                auto row = ex.ids(attention_mask).begin() + r * S;
                const std::int64_t real = e.length > 0 ? std::min<std::int64_t>(e.length, S) : S;
                std::fill(row, row + real, 1);
                std::fill(row + real, row + S, 0);
            }
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
        measuring = epoch == settings.epochs;
        mode = RunMode::training;
        ex.set_training(true);  // dropout masks on
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
            if (measuring) ++measured_steps;
            if (progress) progress(epoch, s + 1, steps_per_epoch, loss_sum / static_cast<double>(s + 1), static_cast<double>(correct) / static_cast<double>((s + 1) * B));
        }
        er.train_loss = loss_sum / static_cast<double>(steps_per_epoch);
        er.train_accuracy = static_cast<double>(correct) / static_cast<double>(steps_per_epoch * B);
        // Validation: the forward ops only, inference thresholds, nothing measured.
        const bool was_measuring = measuring;
        measuring = false;
        mode = RunMode::inference;
        ex.set_training(false);  // dropout is the identity
        double vloss = 0;
        std::int64_t vcorrect = 0;
        for (std::int64_t b = 0; b < valid_batches; ++b) {
            load_batch(data.validation, valid_order, b);
            ex.run(0, forward_end, hook);
            vloss += ex.values(step.loss)[0];
            vcorrect += batch_accuracy();
        }
        measuring = was_measuring;
        er.validation_loss = vloss / static_cast<double>(valid_batches);
        er.validation_accuracy = static_cast<double>(vcorrect) / static_cast<double>(valid_batches * B);
        er.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        report.epochs.push_back(er);
    }
    report.steps = global;
    report.validation_examples = valid_batches * B;
    for (std::size_t t = 0; t < zero_sum.size(); ++t) report.tensor_sparsity[t] = measured_steps > 0 ? zero_sum[t] / static_cast<double>(measured_steps) : 0.0;
    return report;
}

}  // namespace transcode::engine
