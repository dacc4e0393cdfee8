#include "training/baseline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "common/random.hpp"
#include "transcode/errors.hpp"

namespace transcode::engine {

namespace {

/// The distinct token ids between [CLS] and [SEP].
std::vector<std::int32_t> bag(const Example& e) {
    const auto real = static_cast<std::int64_t>(e.length > 0 ? e.length : static_cast<std::int32_t>(e.ids.size()));
    std::vector<std::int32_t> ids;
    for (std::int64_t i = 1; i + 1 < real; ++i) ids.push_back(e.ids[static_cast<std::size_t>(i)]);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

class LogisticRegression {
public:
    LogisticRegression(std::int64_t classes, std::int64_t vocab)
        : classes_(classes), vocab_(vocab), w_(static_cast<std::size_t>(classes * vocab), 0.0), g2_(w_.size(), 0.0), b_(static_cast<std::size_t>(classes), 0.0),
          b2_(b_.size(), 0.0), p_(b_.size()) {}

    /// Class probabilities of a bag, in p_.
    const std::vector<double>& probabilities(const std::vector<std::int32_t>& ids) {
        double mx = -1e300;
        for (std::int64_t c = 0; c < classes_; ++c) {
            double z = b_[static_cast<std::size_t>(c)];
            for (std::int32_t id : ids) z += w_[static_cast<std::size_t>(c * vocab_ + id)];
            p_[static_cast<std::size_t>(c)] = z;
            mx = std::max(mx, z);
        }
        double sum = 0.0;
        for (double& z : p_) sum += (z = std::exp(z - mx));
        for (double& z : p_) z /= sum;
        return p_;
    }

    std::int64_t predict(const std::vector<std::int32_t>& ids) {
        const auto& p = probabilities(ids);
        return std::max_element(p.begin(), p.end()) - p.begin();
    }

    /// One AdaGrad step on the cross-entropy of one example.
    void step(const std::vector<std::int32_t>& ids, std::int64_t label, double lr) {
        probabilities(ids);
        for (std::int64_t c = 0; c < classes_; ++c) {
            const double g = p_[static_cast<std::size_t>(c)] - (c == label ? 1.0 : 0.0);
            if (g == 0.0) continue;
            update(b_[static_cast<std::size_t>(c)], b2_[static_cast<std::size_t>(c)], g, lr);
            for (std::int32_t id : ids) {
                const auto k = static_cast<std::size_t>(c * vocab_ + id);
                update(w_[k], g2_[k], g, lr);
            }
        }
    }

private:
    static void update(double& w, double& g2, double g, double lr) {
        g2 += g * g;
        w -= lr * g / (std::sqrt(g2) + 1e-8);
    }

    std::int64_t classes_, vocab_;
    std::vector<double> w_, g2_, b_, b2_, p_;
};

}  // namespace

BaselineReport run_baselines(const Dataset& data, const BagOfWordsSettings& settings) {
    const auto t0 = std::chrono::steady_clock::now();
    if (data.train.empty() || data.validation.empty()) throw InternalError("run_baselines: both splits need examples");
    BaselineReport r;
    const auto classes = data.num_classes;
    const auto score = [&](const std::vector<Example>& split, const auto& predict) {
        std::int64_t correct = 0;
        for (const Example& e : split) correct += predict(e) == e.label ? 1 : 0;
        return static_cast<double>(correct) / static_cast<double>(split.size());
    };

    std::vector<std::int64_t> counts(static_cast<std::size_t>(classes), 0);
    for (const Example& e : data.train) ++counts[static_cast<std::size_t>(e.label)];
    const std::int64_t majority = std::max_element(counts.begin(), counts.end()) - counts.begin();
    r.majority_class = score(data.validation, [&](const Example&) { return majority; });

    std::vector<std::vector<std::int32_t>> bags;
    bags.reserve(data.train.size());
    std::vector<bool> seen(static_cast<std::size_t>(data.vocab_size), false);
    for (const Example& e : data.train) {
        bags.push_back(bag(e));
        for (std::int32_t id : bags.back()) seen[static_cast<std::size_t>(id)] = true;
    }
    r.features = std::count(seen.begin(), seen.end(), true);

    LogisticRegression model(classes, data.vocab_size);
    SplitMix64 shuffle(settings.seed ^ 0xba6u);
    std::vector<std::size_t> order(bags.size());
    for (std::int64_t epoch = 0; epoch < settings.epochs; ++epoch) {
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(shuffle.next() % i)]);
        for (std::size_t i : order) model.step(bags[i], data.train[i].label, settings.learning_rate);
    }
    std::int64_t correct = 0;  // on the training split, from the bags already made
    for (std::size_t i = 0; i < bags.size(); ++i) correct += model.predict(bags[i]) == data.train[i].label ? 1 : 0;
    r.bag_of_words_train = static_cast<double>(correct) / static_cast<double>(bags.size());
    r.bag_of_words = score(data.validation, [&](const Example& e) { return model.predict(bag(e)); });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace transcode::engine
