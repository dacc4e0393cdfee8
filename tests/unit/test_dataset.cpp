// The training data: the built-in sentiment task and the TSV reader, with its error messages.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "training/dataset.hpp"
#include "transcode/errors.hpp"

using namespace transcode;
using namespace transcode::engine;

TEST_CASE("dataset: the built-in sentiment task is seeded, framed, balanced and uses its whole vocabulary") {
    SyntheticTask task;
    task.train = 2000;
    task.validation = 500;
    task.seed = 3;
    const Dataset a = make_synthetic_sentiment(task, 32);
    const Dataset b = make_synthetic_sentiment(task, 32);
    REQUIRE(a.train.size() == 2000);
    REQUIRE(a.validation.size() == 500);
    CHECK(a.vocab_size == 4 + 3 + 3 + 24 + 24 + 64);
    std::map<int, int> labels;
    std::set<std::int32_t> used;
    bool same = true;
    for (std::size_t i = 0; i < a.train.size(); ++i) {
        same = same && a.train[i].ids == b.train[i].ids && a.train[i].label == b.train[i].label;
        CHECK(a.train[i].ids.size() == 32);
        CHECK(a.train[i].ids[0] == cls_id);
        ++labels[a.train[i].label];
        for (auto id : a.train[i].ids) used.insert(id);
    }
    CHECK(same);
    CHECK(labels[0] > 800);  // both classes well represented
    CHECK(labels[1] > 800);
    CHECK(static_cast<std::int64_t>(used.size()) == a.vocab_size - 1);  // every id but [UNK]
    task.seed = 4;
    CHECK(make_synthetic_sentiment(task, 32).train[0].ids != a.train[0].ids);
}

TEST_CASE("dataset: negation flips a phrase and intensifiers double it") {
    // Ids after the specials: negators 4-6, intensifiers 7-9, positive 10-33, negative 34-57, filler 58+.
    SyntheticTask task;
    task.train = 3000;
    task.validation = 1;
    const Dataset d = make_synthetic_sentiment(task, 32);
    int checked = 0;
    for (const auto& e : d.train) {
        int score = 0;
        for (std::size_t i = 1; i < e.ids.size(); ++i) {
            const auto id = e.ids[i];
            if (id < 10 || id > 57) continue;
            int s = id <= 33 ? 1 : -1;
            if (e.ids[i - 1] >= 7 && e.ids[i - 1] <= 9) s *= 2;
            for (std::size_t back = 1; back <= 2 && back + 1 <= i; ++back)
                if (e.ids[i - back] >= 4 && e.ids[i - back] <= 6) s = -s;
            score += s;
        }
        CHECK(score != 0);
        CHECK((score > 0 ? 1 : 0) == e.label);
        ++checked;
    }
    CHECK(checked == 3000);
}

TEST_CASE("dataset: a TSV builds its vocabulary from the training split, unknown validation words are [UNK]") {
    const Dataset d = parse_tsv("1\tgood movie\n0\tbad movie\n\n", "train.tsv", "1\tgood film\n", "valid.tsv", 6, 2);
    REQUIRE(d.train.size() == 2);
    CHECK(d.vocab_size == 4 + 3);  // good, movie, bad
    CHECK(d.train[0].ids == std::vector<std::int32_t>{cls_id, 4, 5, sep_id, pad_id, pad_id});
    CHECK(d.train[1].ids == std::vector<std::int32_t>{cls_id, 6, 5, sep_id, pad_id, pad_id});
    CHECK(d.validation[0].ids == std::vector<std::int32_t>{cls_id, 4, unk_id, sep_id, pad_id, pad_id});
    // Truncation keeps [SEP].
    CHECK(parse_tsv("0\ta b c d e f g\n", "t", "0\ta\n", "v", 4, 2).train[0].ids == std::vector<std::int32_t>{cls_id, 4, 5, sep_id});
}

TEST_CASE("dataset: malformed TSV lines and labels out of range are errors naming the file and line") {
    auto error = [](const std::string& train, const std::string& valid = "0\tx\n") {
        try {
            parse_tsv(train, "train.tsv", valid, "valid.tsv", 8, 2);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error("1\tgood\n0 bad\n") == "train.tsv:2: error: expected `label<TAB>tokens`, found no tab (tsv)");
    CHECK(error("x\tgood\n") == "train.tsv:1: error: label 'x' is not an integer (tsv)");
    CHECK(error("1\tgood\n2\tbad\n") == "train.tsv:2: error: label 2 is out of range: the model has 2 classes, labels are 0..1 (tsv)");
    CHECK(error("-1\tgood\n") == "train.tsv:1: error: label -1 is out of range: the model has 2 classes, labels are 0..1 (tsv)");
    CHECK(error("1\t   \n") == "train.tsv:1: error: no tokens after the label (tsv)");
    CHECK(error("\n\n") == "train.tsv: error: no examples (tsv)");
    CHECK(error("1\tgood\n", "1\tok\n1\n") == "valid.tsv:2: error: expected `label<TAB>tokens`, found no tab (tsv)");
    CHECK_THROWS_WITH_AS(read_tsv("/nonexistent/train.tsv", "/nonexistent/valid.tsv", 8, 2), "/nonexistent/train.tsv: error: cannot open the data file (file)",
                         ConfigError);
}
