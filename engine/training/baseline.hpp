// Baselines a trained model is judged against, computed on the same token ids as the model sees:
// the majority class, and a bag-of-words logistic regression over token unigrams.
//
// The bag-of-words model: each example is the set of distinct token ids among its real tokens
// (between [CLS] and [SEP]: positions 1 .. length-2), a binary feature each; a multinomial logistic
// regression (one weight per class and token id, one bias per class) is trained with AdaGrad on
// the training split, examples in a seeded shuffled order, for a fixed number of epochs, and
// scored on the validation split. It sees no order, so a task it solves needs no attention.
#pragma once

#include <cstdint>

#include "training/dataset.hpp"

namespace transcode::engine {

struct BagOfWordsSettings {
    std::int64_t epochs = 3;
    double learning_rate = 0.5;  ///< AdaGrad's base rate
    std::uint64_t seed = 0;      ///< the shuffle
};

struct BaselineReport {
    double majority_class = 0;          ///< validation accuracy of predicting the training split's most frequent label
    double bag_of_words = 0;            ///< validation accuracy of the bag-of-words model
    double bag_of_words_train = 0;      ///< its accuracy on the training split
    std::int64_t features = 0;          ///< distinct token ids seen in training
    double seconds = 0;
};

/// Trains and scores both baselines. Deterministic for a seed; takes about a second on SST-2.
BaselineReport run_baselines(const Dataset& data, const BagOfWordsSettings& settings = {});

}  // namespace transcode::engine
