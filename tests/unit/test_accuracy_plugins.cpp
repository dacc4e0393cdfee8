// The built-in "accuracy" plugin library (accuracy.trained, accuracy.surrogate), loaded through the
// real plugin host and configured through the real schema validation.
#include <doctest/doctest.h>

#include "test_support.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/accuracy.hpp"

namespace {

using transcode::AccuracyEstimate;
using transcode::AccuracyEstimator;
using transcode::AccuracyRequest;
using transcode::ConfigError;
using transcode::ModelTrainer;
using transcode::TrainingOutcome;
using transcode::Value;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;
using transcode::engine::PluginPtr;
using transcode::test::TempDir;

const PluginHost& host() { return transcode::test::builtin_plugins(); }

const PluginInfo& accuracy_info(std::string_view name) {
    const PluginInfo* info = host().find(name, transcode::PluginKind::accuracy);
    REQUIRE_MESSAGE(info != nullptr, "accuracy plugin '" << std::string(name) << "' is not loaded");
    return *info;
}

/// Creates an estimator from YAML parameters, validated against its schema like a config file.
PluginPtr<AccuracyEstimator> make_estimator(std::string_view name, std::string_view yaml = "") {
    const PluginInfo& info = accuracy_info(name);
    return host().create<AccuracyEstimator>(info, transcode::config::parse_params(info.schema, yaml));
}

PluginPtr<AccuracyEstimator> make_surrogate(const std::filesystem::path& csv, const std::string& extra = "") {
    return make_estimator("surrogate", "csv: '" + csv.string() + "'" + (extra.empty() ? "" : "\n" + extra));
}

/// The ConfigError creating a surrogate on `csv` throws (fails the test when there is none).
ConfigError surrogate_error(const std::filesystem::path& csv) {
    try {
        make_surrogate(csv);
    } catch (const ConfigError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("expected a ConfigError, got another exception: " << e.what());
    }
    FAIL("expected a ConfigError for " << csv.string());
    return ConfigError("");
}

/// FlexiBERT parameters as the engine hands them over: validated by models.flexibert's own schema
/// (so they carry its defaults, sequence_length and the rest).
Value flexibert(std::string_view yaml) {
    const PluginInfo* info = host().find("flexibert", transcode::PluginKind::model);
    REQUIRE(info != nullptr);
    return Value(transcode::config::parse_params(info->schema, yaml).values());
}

const std::string family = "models.flexibert";

/// An outcome with only an accuracy and a task (the budget and sparsity left at their defaults).
TrainingOutcome outcome_of(double accuracy, std::string task) {
    TrainingOutcome o;
    o.validation_accuracy = accuracy;
    o.task = std::move(task);
    return o;
}

/// A trainer that records its calls and answers with a fixed outcome, or throws.
class FakeTrainer final : public ModelTrainer {
public:
    struct Call {
        Value params;
        std::int64_t epochs = 0;
        std::uint64_t seed = 0;
    };

    TrainingOutcome outcome = outcome_of(0.8125, "synthetic sentiment");
    bool refuse = false;
    mutable std::vector<Call> calls;

    TrainingOutcome train(const Value& model_params, std::int64_t epochs, std::uint64_t seed) const override {
        calls.push_back({model_params, epochs, seed});
        if (refuse) throw ConfigError("heads[0]", "heads[0] has 3 heads but hidden[0] is 2");
        return outcome;
    }
};

AccuracyEstimate estimate(const AccuracyEstimator& e, const Value& model, std::uint64_t seed = 0, const ModelTrainer* trainer = nullptr) {
    static const FakeTrainer unused;
    return e.estimate(AccuracyRequest{model, family, seed, trainer != nullptr ? trainer : &unused});
}

// ---- synthetic measurements ---------------------------------------------------------------------

/// A homogeneous model in YAML flow style: `layers` layers of width `hidden`, each with `heads` heads
/// of operation `head` and one feed-forward layer of 4 x hidden (the BERT presets are of this shape).
std::string uniform_model(int layers, int hidden, const std::string& head = "sa-sdp", int heads = 2) {
    std::string layer_heads = "[";
    for (int i = 0; i < heads; ++i) layer_heads += (i ? ", " : "") + head;
    layer_heads += "]";
    std::string h, all_heads, ff;
    for (int l = 0; l < layers; ++l) {
        const std::string sep = l ? ", " : "";
        h += sep + std::to_string(hidden);
        all_heads += sep + layer_heads;
        ff += sep + "[" + std::to_string(4 * hidden) + "]";
    }
    return "{layers: " + std::to_string(layers) + ", hidden: [" + h + "], heads: [" + all_heads + "], ff: [" + ff + "]}";
}

/// The same model as uniform_model(layers, hidden) as the co-design engine writes it to its
/// accuracy.csv: the family-validated parameters as JSON, defaults included.
std::string json_model(int layers, int hidden) {
    std::string h, heads, ff;
    for (int l = 0; l < layers; ++l) {
        const std::string sep = l ? "," : "";
        h += sep + std::to_string(hidden);
        heads += sep + "[\"sa-sdp\",\"sa-sdp\"]";
        ff += sep + "[" + std::to_string(4 * hidden) + "]";
    }
    return "{\"attention_dropout\":0.0,\"batch_size\":4,\"ff\":[" + ff + "],\"heads\":[" + heads + "],\"hidden\":[" + h +
           "],\"hidden_dropout\":0.0,\"layer_norm_eps\":1e-12,\"layers\":" + std::to_string(layers) +
           ",\"max_position\":512,\"num_classes\":2,\"sequence_length\":128,\"type_vocab\":2,\"vocab_size\":30522}";
}

/// `text` as one RFC 4180 field: in double quotes, each quote doubled.
std::string csv_quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

/// The "measured" accuracy: smooth and increasing in both depth and width.
double truth(int layers, int hidden) { return 0.6 + 0.04 * layers + 0.0003 * hidden; }

std::string number(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", x);
    return buf;
}

struct Point {
    int layers;
    int hidden;
};

std::vector<Point> grid() {
    std::vector<Point> points;
    for (int layers = 1; layers <= 4; ++layers)
        for (int hidden : {128, 256, 384, 512}) points.push_back({layers, hidden});
    return points;
}

/// A CSV of `points` with an extra leading column the surrogate must ignore (it holds a quoted
/// comma and an escaped quote), accuracy before model, CRLF line ends.
std::string synthetic_csv(const std::vector<Point>& points) {
    std::string csv = "run,accuracy,model\r\n";
    for (std::size_t i = 0; i < points.size(); ++i)
        csv += "\"run " + std::to_string(i) + ", seed \"\"a\"\"\"," + number(truth(points[i].layers, points[i].hidden)) + ",\"" +
               uniform_model(points[i].layers, points[i].hidden) + "\"\r\n";
    return csv;
}

double loo_mae_of(const std::string& source) {
    const std::string key = "leave-one-out MAE ";
    const auto at = source.find(key);
    REQUIRE(at != std::string::npos);
    return std::stod(source.substr(at + key.size()));
}

}  // namespace

TEST_CASE("accuracy plugins: the library registers trained and surrogate with documented schemas") {
    for (const char* name : {"trained", "surrogate"}) {
        CAPTURE(name);
        const PluginInfo& info = accuracy_info(name);
        CHECK(info.kind == transcode::PluginKind::accuracy);
        CHECK(info.name == std::string("accuracy.") + name);
        CHECK(info.library == "accuracy");
        CHECK(info.version == "0.1.0");
        CHECK_FALSE(info.doc.empty());
        for (const transcode::ParamSpec& spec : info.schema) {
            CAPTURE(spec.name());
            CHECK_FALSE(spec.doc().empty());
        }
    }
    const auto trained = transcode::config::parse_params(accuracy_info("trained").schema, "");
    CHECK(trained.get_int("epochs") == 2);
    CHECK_THROWS_AS(transcode::config::parse_params(accuracy_info("trained").schema, "epochs: 0"), ConfigError);

    const auto& schema = accuracy_info("surrogate").schema;
    CHECK_THROWS_AS(transcode::config::parse_params(schema, ""), ConfigError);  // csv is required
    const auto surrogate = transcode::config::parse_params(schema, "csv: /data/acc.csv");
    CHECK(surrogate.get_string("kernel") == "isotropic");
    CHECK(surrogate.get_string("prior_mean") == "linear");
    CHECK(surrogate.get_string("outside") == "flag");
    CHECK(surrogate.get_float("outside_threshold") == 0.5);
    CHECK_FALSE(surrogate.has("ridge"));
    CHECK_FALSE(surrogate.has("within_table"));
    CHECK_THROWS_AS(transcode::config::parse_params(schema, "csv: a.csv\noutside: ignore"), ConfigError);
    CHECK_THROWS_AS(transcode::config::parse_params(schema, "csv: a.csv\noutside_threshold: -1"), ConfigError);
}

TEST_CASE("accuracy plugins: the surrogate refuses the removed ridge, length_scale and within_table with the reason") {
    TempDir dir;
    const auto csv = dir.write("synthetic.csv", synthetic_csv(grid()));
    auto refused = [&](const std::string& extra) {
        try {
            make_surrogate(csv, extra);
        } catch (const ConfigError& e) {
            return std::pair<std::string, std::string>{e.path(), e.what()};
        }
        FAIL("expected a ConfigError for " << extra);
        return std::pair<std::string, std::string>{};
    };
    CHECK(refused("within_table: true") ==
          std::pair<std::string, std::string>{"within_table",
                                              "within_table was removed: predictions are no longer capped at the table's accuracy range, because the "
                                              "cap made every model larger than the table look equally good; a model outside the table is flagged as "
                                              "extrapolated instead (outside: refuse rejects it); delete the key"});
    CHECK(refused("ridge: 0.01").first == "ridge");
    CHECK(refused("length_scale: 1").first == "length_scale");
}

TEST_CASE("accuracy plugins: the surrogate's csv is resolved against the YAML file that names it") {
    const auto& schema = accuracy_info("surrogate").schema;
    CHECK(transcode::config::parse_params(schema, "csv: data/acc.csv", "/work/exp/search.yaml").get_string("csv") == "/work/exp/data/acc.csv");
    CHECK(transcode::config::parse_params(schema, "csv: /abs/acc.csv", "/work/exp/search.yaml").get_string("csv") == "/abs/acc.csv");
}

TEST_CASE("accuracy plugins: trained asks the engine's trainer and reports its validation accuracy") {
    const Value model = flexibert("preset: bert-tiny");
    FakeTrainer trainer;

    const auto three = make_estimator("trained", "epochs: 3");
    const AccuracyEstimate e = estimate(*three, model, 42, &trainer);
    CHECK(e.accuracy == 0.8125);
    CHECK(e.source == "trained: 3 epochs on synthetic sentiment");
    REQUIRE(trainer.calls.size() == 1);
    CHECK(trainer.calls[0].params == model);
    CHECK(trainer.calls[0].epochs == 3);
    CHECK(trainer.calls[0].seed == 42);

    trainer.outcome = outcome_of(0.5, "synthetic parity");
    CHECK(estimate(*make_estimator("trained"), model, 7, &trainer).source == "trained: 2 epochs on synthetic parity");
    CHECK(trainer.calls.back().epochs == 2);
    CHECK(trainer.calls.back().seed == 7);
    CHECK(estimate(*make_estimator("trained", "epochs: 1"), model, 0, &trainer).source == "trained: 1 epoch on synthetic parity");
}

TEST_CASE("accuracy plugins: trained passes the trainer's ConfigError on and refuses accuracies outside [0, 1]") {
    const Value model = flexibert("preset: bert-tiny");
    const auto trained = make_estimator("trained");
    FakeTrainer trainer;
    trainer.refuse = true;
    try {
        estimate(*trained, model, 1, &trainer);
        FAIL("expected the trainer's ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "heads[0] has 3 heads but hidden[0] is 2");
        CHECK(e.path() == "heads[0]");
    }
    CHECK(trainer.calls.size() == 1);

    trainer.refuse = false;
    trainer.outcome = outcome_of(1.5, "broken");
    CHECK_THROWS_AS(estimate(*trained, model, 1, &trainer), transcode::InternalError);
    trainer.outcome = outcome_of(std::nan(""), "broken");
    CHECK_THROWS_AS(estimate(*trained, model, 1, &trainer), transcode::InternalError);
}

TEST_CASE("accuracy plugins: the surrogate fits a smooth function of depth and width") {
    TempDir dir;
    const auto csv = dir.write("synthetic.csv", synthetic_csv(grid()));
    const auto surrogate = make_surrogate(csv);

    auto predict = [&](int layers, int hidden) { return estimate(*surrogate, flexibert(uniform_model(layers, hidden))).accuracy; };
    for (const Point& p : grid()) {
        CAPTURE(p.layers);
        CAPTURE(p.hidden);
        CHECK(std::abs(predict(p.layers, p.hidden) - truth(p.layers, p.hidden)) < 0.01);
    }
    // Between the training models: close to the truth, and in the right order.
    CHECK(std::abs(predict(2, 320) - truth(2, 320)) < 0.01);
    CHECK(std::abs(predict(3, 192) - truth(3, 192)) < 0.01);
    CHECK(predict(1, 128) < predict(2, 256));
    CHECK(predict(2, 256) < predict(2, 320));
    CHECK(predict(2, 320) < predict(2, 384));
    CHECK(predict(2, 384) < predict(4, 512));

    const AccuracyEstimate e = estimate(*surrogate, flexibert(uniform_model(2, 320)));
    CHECK(e.source.rfind("surrogate: synthetic.csv (16 rows, leave-one-out MAE 0.", 0) == 0);
    CHECK(e.source.back() == ')');
    const double loo = loo_mae_of(e.source);
    CHECK(loo > 0.0);
    CHECK(loo < 0.01);
}

TEST_CASE("accuracy plugins: the surrogate reads the accuracy.csv a co-design run writes (JSON models)") {
    // Co-design runs write `model,accuracy,source` with the model as JSON, which is YAML flow too.
    TempDir dir;
    std::string json = "model,accuracy,source\n";
    for (const Point& p : grid())
        json += csv_quoted(json_model(p.layers, p.hidden)) + "," + number(truth(p.layers, p.hidden)) + "," +
                csv_quoted("trained: 2 epochs on synthetic sentiment") + "\n";
    const auto from_json = make_surrogate(dir.write("accuracy.csv", json));
    const auto from_yaml = make_surrogate(dir.write("synthetic.csv", synthetic_csv(grid())));
    for (const Point& p : {Point{1, 128}, Point{2, 320}, Point{4, 512}}) {
        const Value model = flexibert(uniform_model(p.layers, p.hidden));
        CHECK(estimate(*from_json, model).accuracy == estimate(*from_yaml, model).accuracy);
    }
    CHECK(estimate(*from_json, flexibert("preset: bert-tiny")).source.rfind("surrogate: accuracy.csv (16 rows, leave-one-out MAE 0.", 0) == 0);
}

TEST_CASE("accuracy plugins: no cap - where accuracy grows with size, a larger model is predicted above the table and flagged") {
    TempDir dir;
    double hi = 0;
    for (const auto& p : grid()) hi = std::max(hi, truth(p.layers, p.hidden));
    const auto surrogate = make_surrogate(dir.write("synthetic.csv", synthetic_csv(grid())));
    const AccuracyEstimate inside = estimate(*surrogate, flexibert(uniform_model(2, 320)));
    const AccuracyEstimate larger = estimate(*surrogate, flexibert(uniform_model(5, 512)));
    CHECK_FALSE(inside.extrapolated);
    CHECK(inside.source.find("extrapolated") == std::string::npos);
    CHECK(larger.accuracy > hi + 0.02);  // the table's best is 0.9136; the trend says about 0.95
    CHECK(larger.accuracy <= 1.0);
    CHECK(larger.extrapolated);
    CHECK(larger.source.find("; extrapolated: layers is 5, 0.89 table standard deviations above the largest in the table (4)") != std::string::npos);
    // Farther out the prediction is clipped at 1, never above, and its standard deviation keeps growing.
    const AccuracyEstimate deep = estimate(*surrogate, flexibert(uniform_model(12, 768)));
    CHECK(deep.accuracy == 1.0);
    CHECK(deep.stddev > larger.stddev);
    CHECK(larger.stddev > inside.stddev);
    CHECK(inside.sparsity.empty());
}

TEST_CASE("accuracy plugins: outside refuse rejects a model beyond outside_threshold, naming the feature and how far") {
    TempDir dir;
    const auto csv = dir.write("synthetic.csv", synthetic_csv(grid()));
    const auto refusing = make_surrogate(csv, "outside: refuse");
    CHECK_THROWS_WITH_AS(estimate(*refusing, flexibert(uniform_model(6, 768))),
                         "accuracy surrogate: the model is outside the table 'synthetic.csv': layers is 6, 1.79 table standard deviations above "
                         "the largest in the table (4); outside: refuse allows 0.5",
                         ConfigError);
    // A feature the table holds constant may not move at all: the table has no ReLU feed-forward.
    transcode::ValueMap relu = flexibert(uniform_model(2, 256)).as_map();
    relu.insert_or_assign("ff_activation", Value{std::string("relu")});
    CHECK_THROWS_WITH_AS(estimate(*refusing, Value(relu)),
                         "accuracy surrogate: the model is outside the table 'synthetic.csv': ff_relu is 1 but every table row has 0; outside: "
                         "refuse allows 0.5",
                         ConfigError);
    // Inside the threshold it estimates; a wider threshold lets layers 6 through, flagged.
    CHECK_FALSE(estimate(*refusing, flexibert(uniform_model(4, 600))).extrapolated);
    const auto wide = make_surrogate(csv, "outside: refuse\noutside_threshold: 2");
    CHECK_FALSE(estimate(*wide, flexibert(uniform_model(6, 768))).extrapolated);
}

namespace {

double wave(int hidden) { return 0.75 + 0.1 * std::sin(1.3 * std::log2(static_cast<double>(hidden))); }

/// 24 two-layer models of hidden 64 .. 64 * 2^(23/6) ~ 916 and a smooth function of log2(hidden),
/// plus a fixed pseudo-noise uniform in [-0.01, 0.01] (standard deviation 0.0058).
std::string wave_csv() {
    std::string csv = "accuracy,model\n";
    for (int i = 0; i < 24; ++i) {
        const int h = static_cast<int>(std::lround(64 * std::pow(2.0, i / 6.0)));
        const double noise = 0.02 * (((i * 7919) % 17) / 16.0 - 0.5);
        csv += number(wave(h) + noise) + ",\"" + uniform_model(2, h) + "\"\n";
    }
    return csv;
}

}  // namespace

TEST_CASE("accuracy plugins: the Gaussian process recovers a smooth function with a calibrated standard deviation") {
    TempDir dir;
    const auto surrogate = make_surrogate(dir.write("wave.csv", wave_csv()));
    for (int h : {70, 100, 150, 200, 300, 450, 700}) {  // between the rows
        CAPTURE(h);
        const AccuracyEstimate e = estimate(*surrogate, flexibert(uniform_model(2, h)));
        CHECK(std::abs(e.accuracy - wave(h)) < 3 * e.stddev);
        CHECK(e.stddev < 0.02);
        CHECK_FALSE(e.extrapolated);
    }
    const transcode::HeldOutReport r = surrogate->held_out(5, 1);
    CHECK(r.rows == 24);
    CHECK(r.folds == 5);
    CHECK(r.model.mae < r.constant.mae / 4);
    CHECK(r.model.spearman > 0.8);
    CHECK(r.within_1_stddev > 0.4);
    CHECK(r.within_2_stddev > 0.85);
}

TEST_CASE("accuracy plugins: the standard deviation grows away from the data") {
    TempDir dir;
    const auto surrogate = make_surrogate(dir.write("wave.csv", wave_csv()));
    double previous = 0;
    for (int h : {600, 1400, 2000, 4000, 16000}) {
        CAPTURE(h);
        const AccuracyEstimate e = estimate(*surrogate, flexibert(uniform_model(2, h)));
        CHECK(e.stddev > previous);
        previous = e.stddev;
    }
    CHECK(estimate(*surrogate, flexibert(uniform_model(2, 4000))).extrapolated);
}

TEST_CASE("accuracy plugins: on the shipped SST-2 table the surrogate beats the constant predictor by 30% in held-out MAE, Spearman >= 0.6") {
    // configs/accuracy/flexibert2-sst2.csv: FlexiBERT 2.0 models trained on GLUE SST-2 by this
    // project (configs/accuracy/README.md). 5-fold held-out, hyper-parameters refitted per fold.
    const std::string csv = std::string(TRANSCODE_SOURCE_DIR) + "/configs/accuracy/flexibert2-sst2.csv";
    const auto surrogate = make_surrogate(csv);
    const transcode::HeldOutReport r = surrogate->held_out(5, 1);
    MESSAGE("flexibert2-sst2.csv, " << r.rows << " rows, 5 folds, seed 1: GP MAE " << r.model.mae << " RMSE " << r.model.rmse << " Spearman "
                                    << r.model.spearman << "; constant MAE " << r.constant.mae << " RMSE " << r.constant.rmse << "; within 1/2 std "
                                    << r.within_1_stddev << " / " << r.within_2_stddev);
    CHECK(r.rows >= 64);
    CHECK(r.model.mae <= 0.7 * r.constant.mae);
    CHECK(r.model.spearman >= 0.6);
    // Other fold splits hold the bar too, so it is not one lucky split.
    for (std::uint64_t seed : {2u, 3u}) {
        CAPTURE(seed);
        const transcode::HeldOutReport other = surrogate->held_out(5, seed);
        CHECK(other.model.mae <= 0.7 * other.constant.mae);
        CHECK(other.model.spearman >= 0.6);
    }
}

TEST_CASE("accuracy plugins: held-out report of the shipped flexibert2-sentiment.csv against the constant predictor") {
    const std::string csv = std::string(TRANSCODE_SOURCE_DIR) + "/configs/accuracy/flexibert2-sentiment.csv";
    const auto surrogate = make_surrogate(csv);
    const transcode::HeldOutReport r = surrogate->held_out(5, 1);
    MESSAGE("flexibert2-sentiment.csv, 5 folds, seed 1: GP MAE " << r.model.mae << " RMSE " << r.model.rmse << " Spearman " << r.model.spearman
                                                                 << "; constant MAE " << r.constant.mae << " RMSE " << r.constant.rmse
                                                                 << "; within 1/2 std " << r.within_1_stddev << " / " << r.within_2_stddev);
    CHECK(r.rows == 32);
    CHECK(r.folds == 5);
    CHECK(r.seed == 1);
    CHECK(r.description ==
          "accuracy.surrogate on flexibert2-sentiment.csv: Gaussian process, isotropic RBF kernel on 12 features, prior mean linear in log10_parameters");
    for (double x : {r.model.mae, r.model.rmse, r.constant.mae, r.constant.rmse}) {
        CHECK(std::isfinite(x));
        CHECK(x > 0.0);
        CHECK(x < 0.5);
    }
    CHECK(r.within_1_stddev <= r.within_2_stddev);
    // The same seed gives the same folds and the same figures.
    CHECK(surrogate->held_out(5, 1).model.mae == r.model.mae);
    // Measured: it does NOT beat the constant predictor on this table (README, "Held-out report");
    // a warning, not a failure, so the suite states the fact without being tuned to it.
    WARN(r.model.mae < r.constant.mae);
}

TEST_CASE("accuracy plugins: held_out refuses too few folds or rows, and trained has no held-out report") {
    TempDir dir;
    const auto csv = dir.write("five.csv", "accuracy,model\n0.5,{preset: bert-tiny}\n0.6,{preset: bert-mini}\n0.7,{preset: bert-small}\n"
                                           "0.8,{preset: bert-medium}\n0.52,{preset: bert-tiny}\n");
    const auto surrogate = make_surrogate(csv);
    CHECK_THROWS_WITH_AS(surrogate->held_out(1, 1), "accuracy surrogate: folds must be at least 2, got 1", ConfigError);
    CHECK_THROWS_WITH_AS(surrogate->held_out(5, 1),
                         ("accuracy surrogate: '" + csv.string() +
                          "' has 5 rows of 4 distinct models, too few for 5 folds (each fold needs a model of its own)")
                             .c_str(),
                         ConfigError);
    CHECK(surrogate->held_out(2, 1).rows == 5);
    try {
        make_estimator("trained")->held_out(5, 1);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(e.path() == "held_out");
        CHECK(std::string(e.what()) == "has no held-out report: it fits nothing it could cross-validate");
    }
    make_estimator("trained")->check_models({flexibert("preset: bert-tiny")});  // the default accepts everything
}

TEST_CASE("accuracy plugins: check_models refuses a design space that varies what the table holds constant") {
    TempDir dir;
    const auto csv = dir.write("synthetic.csv", synthetic_csv(grid()));
    const auto surrogate = make_surrogate(csv);
    std::vector<Value> sample{flexibert(uniform_model(2, 256)), flexibert(uniform_model(3, 384)), flexibert(uniform_model(6, 1024))};
    surrogate->check_models(sample);  // deeper and wider than the table is extrapolation, not a domain error

    transcode::ValueMap relu = flexibert(uniform_model(2, 256)).as_map();
    relu.insert_or_assign("ff_activation", Value{std::string("relu")});
    sample.push_back(Value(relu));
    try {
        surrogate->check_models(sample);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(e.path() == "csv");
        CHECK(std::string(e.what()) == "accuracy surrogate: '" + csv.string() +
                                           "' holds ff_relu at 0 in every row, but the design space asks for 1 (1 of 4 sampled models); the table "
                                           "cannot tell how ff_relu changes accuracy: add measured models that vary it, or hold it at 0 in the space");
    }
    const std::vector<Value> dft{flexibert(uniform_model(2, 256)), flexibert(uniform_model(2, 256, "l-dft")),
                                 flexibert("{layers: 1, hidden: [128], heads: [[sa-sdp, l-dft, l-dft, c-9]], ff: [[512]]}")};
    CHECK_THROWS_WITH_AS(surrogate->check_models(dft),
                         ("accuracy surrogate: '" + csv.string() +
                          "' holds share_sa_sdp at 1 in every row, but the design space asks for 0, 0.25 (2 of 3 sampled models); the table "
                          "cannot tell how share_sa_sdp changes accuracy: add measured models that vary it, or hold it at 1 in the space")
                             .c_str(),
                         ConfigError);
}

TEST_CASE("accuracy plugins: the surrogate predicts per-role sparsity from optional CSV columns") {
    TempDir dir;
    std::string csv = "accuracy,model,sparsity_activation,sparsity_weight_gradient\n";
    int row = 0;
    for (const Point& p : grid()) {
        const double act = 0.2 + 0.05 * p.layers;
        csv += number(truth(p.layers, p.hidden)) + ",\"" + uniform_model(p.layers, p.hidden) + "\"," + number(act) + "," +
               (row++ % 2 == 0 ? number(0.4) : std::string()) + "\n";
    }
    const auto surrogate = make_surrogate(dir.write("sparsity.csv", csv));
    const AccuracyEstimate e = estimate(*surrogate, flexibert(uniform_model(3, 320)));
    REQUIRE(e.sparsity.size() == 2);
    CHECK(e.sparsity.at("activation") == doctest::Approx(0.35).epsilon(0.03));
    CHECK(e.sparsity.at("weight_gradient") == doctest::Approx(0.4).epsilon(0.02));
    CHECK(e.sparsity.count("activation_gradient") == 0);

    const std::string good = "\"" + uniform_model(1, 128) + "\"";
    const auto bad = dir.write("bad.csv", "accuracy,model,sparsity_activation\n0.5," + good + ",0.1\n0.6," + good + ",\n0.7," + good + ",55\n");
    CHECK(std::string(surrogate_error(bad).what()) ==
          "accuracy surrogate: '" + bad.string() + "' line 4: sparsity_activation 55 is outside [0, 1]; give a fraction, not a percentage");
    const auto few = dir.write("few.csv", "accuracy,model,sparsity_activation\n0.5," + good + ",0.1\n0.6," + good + ",\n0.7," + good + ",\n");
    CHECK(std::string(surrogate_error(few).what()) ==
          "accuracy surrogate: '" + few.string() + "' column 'sparsity_activation' has 1 value; at least 3 are needed to fit it (or leave the column empty)");
    const auto empty = dir.write("empty.csv", "accuracy,model,sparsity_activation\n0.5," + good + ",\n0.6," + good + ",\n0.7," + good + ",\n");
    CHECK(estimate(*make_surrogate(empty), flexibert(uniform_model(1, 128))).sparsity.empty());
}

TEST_CASE("accuracy plugins: the surrogate tells head families apart and expands presets") {
    // Accuracy depends on the share of self-attention heads; presets appear in the CSV as such.
    TempDir dir;
    std::string csv = "model,accuracy\n";
    for (int layers : {2, 4})
        for (int hidden : {128, 256}) {
            csv += "\"" + uniform_model(layers, hidden, "sa-sdp") + "\"," + number(truth(layers, hidden)) + "\n";
            csv += "\"" + uniform_model(layers, hidden, "l-dft") + "\"," + number(truth(layers, hidden) - 0.1) + "\n";
        }
    csv += "{preset: bert-mini}," + number(truth(4, 256)) + "\n";  // no commas: no quotes needed
    const auto surrogate = make_surrogate(dir.write("families.csv", csv));
    auto predict = [&](const std::string& yaml) { return estimate(*surrogate, flexibert(yaml)).accuracy; };

    CHECK(predict(uniform_model(2, 128, "sa-sdp")) > predict(uniform_model(2, 128, "l-dft")) + 0.05);
    CHECK(predict(uniform_model(4, 256, "sa-sdp")) > predict(uniform_model(4, 256, "l-dft")) + 0.05);

    // A preset is exactly its explicit form: same features, same prediction.
    CHECK(predict("preset: bert-tiny") == predict(uniform_model(2, 128)));
    CHECK(predict("preset: bert-mini") == predict(uniform_model(4, 256, "sa-sdp", 4)));
    CHECK(predict("preset: bert-base") == predict(uniform_model(12, 768, "sa-sdp", 12)));

    // A CSV naming the same models by preset fits the same surrogate as one spelling them out.
    const std::string rows[][2] = {{"bert-tiny", "0.70"}, {"bert-mini", "0.76"}, {"bert-small", "0.80"}, {"bert-medium", "0.82"}};
    const std::string explicit_forms[] = {uniform_model(2, 128, "sa-sdp", 2), uniform_model(4, 256, "sa-sdp", 4),
                                          uniform_model(4, 512, "sa-sdp", 8), uniform_model(8, 512, "sa-sdp", 8)};
    std::string by_preset = "accuracy,model\n", spelled = "accuracy,model\n";
    for (std::size_t i = 0; i < 4; ++i) {
        by_preset += rows[i][1] + ",\"{preset: " + rows[i][0] + "}\"\n";
        spelled += rows[i][1] + ",\"" + explicit_forms[i] + "\"\n";
    }
    const auto a = make_surrogate(dir.write("presets.csv", by_preset));
    const auto b = make_surrogate(dir.write("spelled.csv", spelled));
    const char* queries[] = {"preset: bert-tiny", "preset: bert-base",
                             "{layers: 3, hidden: [256, 256, 256], heads: [[sa-sdp], [c-9], [l-dct]], ff: [[512], [512], [512]]}"};
    for (const char* query : queries) {
        CAPTURE(query);
        const AccuracyEstimate ea = estimate(*a, flexibert(query));
        const AccuracyEstimate eb = estimate(*b, flexibert(query));
        CHECK(ea.accuracy == eb.accuracy);
        CHECK(loo_mae_of(ea.source) == loo_mae_of(eb.source));
    }
}

TEST_CASE("accuracy plugins: surrogate predictions stay in [0, 1], refuse other families, and agree across threads") {
    TempDir dir;
    const auto surrogate = make_surrogate(dir.write("synthetic.csv", synthetic_csv(grid())));
    // Far outside the data the prediction falls back towards the mean, and never leaves [0, 1].
    const double deep = estimate(*surrogate, flexibert(uniform_model(40, 1024))).accuracy;
    CHECK(deep >= 0.0);
    CHECK(deep <= 1.0);

    const Value model = flexibert(uniform_model(3, 300));
    const std::string other = "models.gpt";
    const FakeTrainer trainer;
    CHECK_THROWS_WITH_AS(surrogate->estimate(AccuracyRequest{model, other, 0, &trainer}),
                         "accuracy surrogate: it was fitted on FlexiBERT models and cannot estimate a model of family 'models.gpt'", ConfigError);

    const double expected = estimate(*surrogate, model).accuracy;
    std::vector<double> seen(2, -1.0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < seen.size(); ++t)
        threads.emplace_back([&, t] {
            double last = 0;
            for (int i = 0; i < 200; ++i) last = surrogate->estimate(AccuracyRequest{model, family, static_cast<std::uint64_t>(i), &trainer}).accuracy;
            seen[t] = last;
        });
    for (auto& th : threads) th.join();
    CHECK(seen[0] == expected);
    CHECK(seen[1] == expected);
}

TEST_CASE("accuracy plugins: surrogate CSV errors are ConfigErrors at load time, with the line") {
    TempDir dir;
    const std::string good = "\"" + uniform_model(1, 128) + "\"";
    auto error_for = [&](const std::string& name, const std::string& text) {
        const auto path = dir.write(name, text);
        const ConfigError e = surrogate_error(path);
        CHECK(e.path() == "csv");
        return std::pair<std::string, std::string>{e.what(), path.string()};
    };
    auto quoted = [](const std::string& p) { return "accuracy surrogate: '" + p + "'"; };

    SUBCASE("missing file") {
        const auto missing = dir.path() / "missing.csv";
        const ConfigError e = surrogate_error(missing);
        CHECK(std::string(e.what()) == "accuracy surrogate: cannot read '" + missing.string() + "'");
        CHECK(e.path() == "csv");
        CHECK(std::string(surrogate_error(dir.path()).what()) == "accuracy surrogate: cannot read '" + dir.path().string() + "'");
    }
    SUBCASE("empty file") {
        const auto [what, path] = error_for("empty.csv", "\n\n");
        CHECK(what == quoted(path) + " is empty; it needs a header row with 'accuracy' and 'model' columns");
    }
    SUBCASE("no accuracy column") {
        const auto [what, path] = error_for("noacc.csv", "model, acc\n" + good + ",0.5\n");
        CHECK(what == quoted(path) + " has no 'accuracy' column (the header names: model, acc)");
    }
    SUBCASE("no model column") {
        const auto [what, path] = error_for("nomodel.csv", "accuracy,arch\n0.5,x\n");
        CHECK(what == quoted(path) + " has no 'model' column (the header names: accuracy, arch)");
    }
    SUBCASE("a column named twice") {
        const auto [what, path] = error_for("twice.csv", "accuracy,model,accuracy\n");
        CHECK(what == quoted(path) + " line 1: the header names column 'accuracy' twice");
    }
    SUBCASE("a bad number") {
        const auto [what, path] = error_for("nan.csv", "accuracy,model\n0.5," + good + "\n\n0.6," + good + "\nhigh," + good + "\n");
        CHECK(what == quoted(path) + " line 5: accuracy 'high' is not a number");
        const auto [what2, path2] = error_for("nan2.csv", "accuracy,model\nnan," + good + "\n");
        CHECK(what2 == quoted(path2) + " line 2: accuracy 'nan' is not a number");
        const auto [what3, path3] = error_for("nan3.csv", "accuracy,model\n0.5x," + good + "\n");
        CHECK(what3 == quoted(path3) + " line 2: accuracy '0.5x' is not a number");
    }
    SUBCASE("accuracy outside [0, 1]") {
        const auto [what, path] = error_for("percent.csv", "accuracy,model\n85.5," + good + "\n");
        CHECK(what == quoted(path) + " line 2: accuracy 85.5 is outside [0, 1]; give a fraction, not a percentage");
        const auto [what2, path2] = error_for("negative.csv", "accuracy,model\n-0.1," + good + "\n");
        CHECK(what2 == quoted(path2) + " line 2: accuracy -0.1 is outside [0, 1]; give a fraction, not a percentage");
    }
    SUBCASE("a model that is not YAML") {
        const auto [what, path] = error_for("yaml.csv", "accuracy,model\n0.5,\"{layers: 2, hidden: [128, 128]\"\n");
        const std::string head = quoted(path) + " line 2: model '{layers: 2, hidden: [128, 128]' is not valid YAML: ";
        CHECK(what.rfind(head, 0) == 0);
        CHECK(what.size() > head.size());
    }
    SUBCASE("a model FlexiBERT would refuse") {
        const std::string shape = "\"{layers: 2, hidden: [128, 128, 128], heads: [[sa-sdp], [sa-sdp]], ff: [[512], [512]]}\"";
        const auto [what, path] = error_for("shape.csv", "accuracy,model\n0.5," + good + "\n0.6," + shape + "\n");
        CHECK(what == quoted(path) + " line 3: model: hidden has 3 entries but layers is 2");
        const auto [what2, path2] = error_for("op.csv", "accuracy,model\n0.5,\"{layers: 1, hidden: [128], heads: [[sa-sdp, c-7]], ff: [[512]]}\"\n");
        CHECK(what2 == quoted(path2) + " line 2: model: 'c-7' is not a head operation (sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13)");
        const auto [what3, path3] = error_for("preset.csv", "accuracy,model\n0.5,{preset: bert-huge}\n");
        CHECK(what3 == quoted(path3) + " line 2: model: 'bert-huge' is not a preset (bert-tiny, bert-mini, bert-small, bert-medium, bert-base)");
        const auto [what4, path4] = error_for("key.csv", "accuracy,model\n0.5,{preset: bert-tiny}\n0.5,{layer: 2}\n");
        CHECK(what4.rfind(quoted(path4) + " line 3: model: unknown key 'layer' (models.flexibert takes preset, layers, ", 0) == 0);
        const auto [what5, path5] = error_for("both.csv", "accuracy,model\n0.5,\"{preset: bert-tiny, layers: 2}\"\n");
        CHECK(what5 == quoted(path5) + " line 2: model: give either preset or layers/hidden/heads/ff, not both (layers is also given)");
        const auto [what6, path6] = error_for("blank.csv", "accuracy,model\n0.5,\n");
        CHECK(what6 == quoted(path6) + " line 2: model: the model must be a map of FlexiBERT parameters, got null");
        const auto [what7, path7] = error_for("type.csv", "accuracy,model\n0.5,\"{layers: 1, hidden: [wide], heads: [[sa-sdp]], ff: [[512]]}\"\n");
        CHECK(what7 == quoted(path7) + " line 2: model: hidden[0] must be a positive integer, got wide");
    }
    SUBCASE("a model field without quotes") {
        const auto [what, path] = error_for("unquoted.csv", "accuracy,model\n0.5,{layers: 1, hidden: [128], heads: [[sa-sdp]], ff: [[512]]}\n");
        CHECK(what == quoted(path) + " line 2: 5 fields but the header has 2 columns (a model field holds commas, so it must be in double quotes)");
    }
    SUBCASE("broken quoting") {
        const auto [what, path] = error_for("open.csv", "accuracy,model\n0.5," + good + "\n0.6,\"{preset: bert-tiny}\n");
        CHECK(what == quoted(path) + " line 3: a quoted field is never closed (missing '\"')");
        const auto [what2, path2] = error_for("after.csv", "accuracy,model\n0.5,\"{preset: bert-tiny}\"x\n");
        CHECK(what2 == quoted(path2) + " line 2: text after the closing quote of a quoted field");
        const auto [what3, path3] = error_for("inner.csv", "accuracy,model\n0.5,{preset: \"bert-tiny\"}\n");
        CHECK(what3 == quoted(path3) +
                           " line 2: a '\"' inside an unquoted field; quote the whole field and write each '\"' in it as '\"\"'");
    }
    SUBCASE("line numbers count the lines inside quoted fields") {
        const std::string three_lines = "\"{layers: 1,\nhidden: [128],\nheads: [[sa-sdp]], ff: [[512]]}\"";
        const auto [what, path] = error_for("multiline.csv", "accuracy,model\n0.5," + three_lines + "\n2," + good + "\n");
        CHECK(what == quoted(path) + " line 5: accuracy 2 is outside [0, 1]; give a fraction, not a percentage");
    }
    SUBCASE("fewer than 3 rows") {
        const auto [what, path] = error_for("two.csv", "accuracy,model\n0.5," + good + "\n0.6,{preset: bert-tiny}\n");
        CHECK(what == quoted(path) + " has 2 rows; at least 3 are needed to fit and cross-validate");
        const auto [what1, path1] = error_for("header.csv", "accuracy,model\n");
        CHECK(what1 == quoted(path1) + " has 0 rows; at least 3 are needed to fit and cross-validate");
    }
}
