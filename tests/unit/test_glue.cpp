// The GLUE reader (engine/training/glue.hpp): the real SST-2 dev split, sentence pairs with named
// labels, every malformed-file error with its exact message, and the `glue` data source of an
// experiment end to end (validate and a one-epoch run on tests/fixtures/glue).
#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "test_support.hpp"
#include "training/glue.hpp"
#include "transcode/errors.hpp"

using namespace transcode;
using namespace transcode::engine;

namespace {

const std::string fixtures = TRANSCODE_TEST_FIXTURES "/glue/";

const WordPieceTokenizer& bert() {
    static const WordPieceTokenizer t(Vocabulary::load(TRANSCODE_SOURCE_DIR "/data/wordpiece/bert-base-uncased-vocab.txt"));
    return t;
}

const WordPieceTokenizer& tiny() {
    static const WordPieceTokenizer t(Vocabulary::load(fixtures + "vocab.txt"));
    return t;
}

GlueSplit parse(const std::string& text, const GlueFormat& format = {}, std::int64_t S = 16, std::int64_t classes = 2) {
    return parse_glue_split(text, "d.tsv", tiny(), format, S, classes);
}

}  // namespace

TEST_CASE("glue: the SST-2 dev split reads: 872 examples, 444 positive, none truncated at 64 tokens") {
    const std::string dev = TRANSCODE_SOURCE_DIR "/data/sst2/dev.tsv";
    const Dataset d = read_glue(dev, dev, bert(), GlueFormat{}, 64, 2);
    REQUIRE(d.validation.size() == 872);
    CHECK(std::count_if(d.validation.begin(), d.validation.end(), [](const Example& e) { return e.label == 1; }) == 444);
    CHECK(d.truncated_validation == 0);  // the longest sentence has 58 pieces
    CHECK(d.vocab_size == 30522);
    // The first line: "one long string of cliches ." -> one long string of cl ##iche ##s .
    const Example& first = d.validation.front();
    CHECK(std::vector<std::int32_t>(first.ids.begin(), first.ids.begin() + 11) ==
          std::vector<std::int32_t>{101, 2028, 2146, 5164, 1997, 18856, 17322, 2015, 1012, 102, 0});
    CHECK(first.length == 10);
    CHECK(first.label == 0);
    CHECK(first.segments.empty());  // one sentence: all segment 0
    // At 16 tokens most sentences lose pieces, and are counted.
    CHECK(read_glue(dev, dev, bert(), GlueFormat{}, 16, 2).truncated_train == 676);
}

TEST_CASE("glue: sentence pairs get segment ids and named labels their position") {
    GlueFormat pairs;
    pairs.text_columns = {"sentence1", "sentence2"};
    pairs.label_names = {"entailment", "not_entailment"};
    const std::string text = test::read_file(fixtures + "pairs.tsv");
    const GlueSplit s = parse_glue_split(text, "pairs.tsv", tiny(), pairs, 12, 2);
    REQUIRE(s.examples.size() == 2);
    // [CLS]=2 the=5 movie=7 is=9 good=11 [SEP]=3 a=6 great=12 film=8 [SEP]=3 [PAD]=0 [PAD]
    CHECK(s.examples[0].ids == std::vector<std::int32_t>{2, 5, 7, 9, 11, 3, 6, 12, 8, 3, 0, 0});
    CHECK(s.examples[0].segments == std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0});
    CHECK(s.examples[0].label == 0);
    // "The plot was boring." (5 pieces) and "the acting is great and the film is fun" (9): room
    // for 9, so b shrinks to 5, then b (tie) to 4: the plot was boring . [SEP] the acting is great [SEP].
    CHECK(s.examples[1].ids == std::vector<std::int32_t>{2, 5, 25, 10, 18, 20, 3, 5, 26, 9, 12, 3});
    CHECK(s.examples[1].label == 1);
    CHECK(s.examples[1].length == 12);
    CHECK(s.truncated == 1);
}

TEST_CASE("glue: malformed files are errors naming the file and line") {
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t1\n", GlueFormat{{"text"}, "label", {}}),
                         "d.tsv:1: error: no column 'text' in the header (columns: sentence, label) (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentense\tlabel\nthe movie\t1\n"),
                         "d.tsv:1: error: no column 'sentence' in the header; did you mean 'sentense'? (columns: sentense, label) (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\tlabel\n"), "d.tsv:1: error: column 'label' appears twice in the header (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t1\nthe film\tgood\n"), "d.tsv:3: error: label 'good' is not an integer (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t2\n"), "d.tsv:2: error: label 2 is out of range: the model has 2 classes, labels are 0..1 (glue)",
                         ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t-1\n"), "d.tsv:2: error: label -1 is out of range: the model has 2 classes, labels are 0..1 (glue)",
                         ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t1\nthe\tfilm\t0\n"), "d.tsv:3: error: 3 field(s), but the header has 2 columns (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie 1\n"), "d.tsv:2: error: 1 field(s), but the header has 2 columns (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("\xEF\xBB\xBFsentence\tlabel\nthe movie\t1\n"),
                         "d.tsv:1: error: the file starts with a UTF-8 byte-order mark (EF BB BF); save it as UTF-8 without one (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\r\nthe movie\t1\r\n"),
                         "d.tsv:1: error: the line ends with CR LF (Windows line ends); convert the file to LF line ends (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\t1\n \t0\n"), "d.tsv:3: error: column 'sentence' is empty (no tokens) (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe mo\xC3vie\t1\n"), "d.tsv:2: error: not valid UTF-8 (byte 7 of the line is 0xC3) (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse(""), "d.tsv:1: error: no header line: the first line names the columns, e.g. sentence<TAB>label (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\n\n"), "d.tsv: error: no examples (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\tyes\n", GlueFormat{{"sentence"}, "label", {"no", "maybe"}}),
                         "d.tsv:2: error: label 'yes' is not one of: no, maybe (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(parse("sentence\tlabel\nthe movie\tc\n", GlueFormat{{"sentence"}, "label", {"a", "b", "c"}}),
                         "d.tsv:2: error: label 2 is out of range: the model has 2 classes, labels are 0..1 (glue)", ConfigError);
    CHECK_THROWS_WITH_AS(read_glue("/nonexistent/train.tsv", "/nonexistent/dev.tsv", tiny(), GlueFormat{}, 16, 2),
                         "/nonexistent/train.tsv: error: cannot open the data file (file)", ConfigError);
    // Blank lines and a missing final newline are fine; words outside the vocabulary are [UNK] (1).
    const GlueSplit ok = parse("sentence\tlabel\n\nthe movie\t1\n\nzebra\t0");
    REQUIRE(ok.examples.size() == 2);
    CHECK(ok.examples[1].ids == std::vector<std::int32_t>{2, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("glue data source: validate checks the files, and a run trains and reports the truncated examples") {
    const std::string exp = fixtures + "experiment.yaml";
    const auto ok = test::run_cli("validate " + exp);
    CHECK(ok.exit_code == 0);
    CHECK(ok.output == exp + ": ok (experiment 'glue-fixture', kind train)\n");
    // A missing vocabulary, a vocabulary larger than the model's embedding, a missing data file.
    const auto missing = test::run_cli("validate " + exp + " --set data.glue.vocabulary=nope.txt --set data.validation=nope.tsv");
    CHECK(missing.exit_code == 2);
    CHECK(missing.output ==
          "--set:1:17: error: data.validation: data file 'nope.tsv' not found (looked for nope.tsv) (file)\n"
          "--set:1:22: error: data.glue.vocabulary: vocabulary file 'nope.txt' not found (looked for nope.txt) (file)\n"
          "1 of 1 file(s) invalid\n");
    const auto small = test::run_cli("validate " + exp + " --set model.params.vocab_size=20");
    CHECK(small.exit_code == 2);
    CHECK(small.output.find(exp +
                            ":17:22: error: data.glue.vocabulary: the vocabulary has 28 tokens but the model's token embedding has 20 rows: set the "
                            "model's vocab_size to at least 28 (range)") != std::string::npos);
    test::TempDir dir;
    const auto dup = dir.write("dup.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nthe\n");
    const auto bad_vocab = test::run_cli("validate " + exp + " --set data.glue.vocabulary=" + dup.string());
    CHECK(bad_vocab.exit_code == 2);
    CHECK(bad_vocab.output.find("error: data.glue.vocabulary: " + dup.string() + ":6: error: duplicate token 'the' (first on line 5) (vocabulary)\n") !=
          std::string::npos);

    const auto run = test::run_cli("run " + exp + " -q --out " + (dir.path() / "out").string());
    REQUIRE(run.exit_code == 0);
    const auto doc = nlohmann::json::parse(test::read_file(dir.path() / "out" / "results.json"));
    CHECK(doc["data"]["train_examples"] == 8);
    CHECK(doc["data"]["validation_examples"] == 4);
    CHECK(doc["data"]["vocab_size"] == 28);
    CHECK(doc["data"]["truncated_train"] == 1);  // "great acting and a good plot and it is fun": 10 pieces, room for 6
    CHECK(doc["data"]["truncated_validation"] == 0);
    CHECK(doc["accuracy"]["validation_examples"] == 4);
    CHECK(doc["config"]["data"]["glue"]["text"] == nlohmann::json::array({"sentence"}));
}
