// The baselines a trained model is judged against (engine/training/baseline.hpp): the bag-of-words
// model solves a task decided by which words occur, and cannot beat chance on one decided by order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/random.hpp"
#include "training/baseline.hpp"

using namespace transcode::engine;

namespace {

/// [CLS] words... [SEP] padded to 12 tokens (ids: 0 pad, 1 cls, 2 sep).
Example framed(const std::vector<std::int32_t>& words, std::int32_t label) {
    Example e;
    e.ids.assign(12, 0);
    e.ids[0] = 1;
    for (std::size_t i = 0; i < words.size(); ++i) e.ids[i + 1] = words[i];
    e.ids[words.size() + 1] = 2;
    e.length = static_cast<std::int32_t>(words.size() + 2);
    e.label = label;
    return e;
}

}  // namespace

TEST_CASE("the bag-of-words baseline learns a task decided by which words occur") {
    // Label 1 exactly when word 7 occurs among 5 random words from ids 4..19.
    SplitMix64 rng(3);
    Dataset d;
    d.vocab_size = 20;
    for (int i = 0; i < 1200; ++i) {
        std::vector<std::int32_t> words;
        for (int j = 0; j < 5; ++j) words.push_back(static_cast<std::int32_t>(4 + rng.next() % 16));
        const bool has7 = std::find(words.begin(), words.end(), 7) != words.end();
        (i < 1000 ? d.train : d.validation).push_back(framed(words, has7 ? 1 : 0));
    }
    const BaselineReport r = run_baselines(d);
    CHECK(r.bag_of_words >= 0.97);
    CHECK(r.bag_of_words_train >= 0.97);
    CHECK(r.features == 16);
    // P(no 7 in 5 draws) = (15/16)^5 = 0.724: the majority class is 0 and scores about that.
    CHECK(r.majority_class == doctest::Approx(0.724).epsilon(0.08));
}

TEST_CASE("the bag-of-words baseline stays at chance on a task decided by word order") {
    // "4 5" is positive and "5 4" negative: both have the same bag, so any bag model predicts one
    // class for both, and a balanced validation split scores exactly one half.
    Dataset d;
    d.vocab_size = 8;
    for (int i = 0; i < 200; ++i) d.train.push_back(i % 2 == 0 ? framed({4, 5}, 1) : framed({5, 4}, 0));
    for (int i = 0; i < 40; ++i) d.validation.push_back(i % 2 == 0 ? framed({4, 5}, 1) : framed({5, 4}, 0));
    const BaselineReport r = run_baselines(d);
    CHECK(r.bag_of_words == 0.5);
    CHECK(r.majority_class == 0.5);
    CHECK(r.features == 2);
}
