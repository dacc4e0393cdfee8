#include "surrogate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <Eigen/Cholesky>
#include <yaml-cpp/yaml.h>

namespace transcode::plugins::accuracy {

namespace {

constexpr const char* plugin_name = "accuracy.surrogate";
constexpr const char* prefix = "accuracy surrogate: ";

ParamSchema surrogate_schema() {
    return {
        ParamSpec::string("csv",
                          "CSV of measured accuracies: a header row, an `accuracy` column (fraction in [0, 1]) and a `model` "
                          "column with the model's FlexiBERT parameters in YAML flow style, e.g. \"{preset: bert-tiny}\"; "
                          "other columns are ignored. A relative path is relative to the YAML file that names it")
            .file_path()
            .required(),
        ParamSpec::floating("ridge",
                            "kernel ridge regulariser, about (noise variance) / (variance of the accuracies): larger "
                            "smooths more and trusts single rows less")
            .greater_than(0.0)
            .default_value(0.01),
        ParamSpec::floating("length_scale",
                            "RBF kernel length in standardised feature units; 0 takes the median distance between "
                            "distinct training models")
            .min(0.0)
            .default_value(0.0),
        ParamSpec::boolean("within_table",
                           "clamp predictions to the lowest and highest accuracy of the table: a surrogate fitted on "
                           "measured models never promises more (or less) than was measured; false clamps to [0, 1] only")
            .default_value(true),
    };
}

// ---- CSV (RFC 4180) --------------------------------------------------------------------------

struct Record {
    std::size_t line = 0;  ///< the 1-based line the record starts on
    std::vector<std::string> fields;
};

std::string at_line(const std::string& path, std::size_t line) { return prefix + std::string("'") + path + "' line " + std::to_string(line) + ": "; }

// RFC 4180: fields separated by commas, records by CRLF or LF; a field in double quotes may hold
// commas, line breaks and "" (one quote). A quote anywhere else is refused rather than guessed at,
// because a model field that lost its quotes is the likeliest mistake. Empty lines are skipped.
std::vector<Record> parse_csv(std::string_view text, const std::string& path) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark, as spreadsheets write
    std::vector<Record> records;
    std::size_t i = 0, line = 1;
    const std::size_t n = text.size();
    auto at_record_end = [&](std::size_t k) { return k >= n || text[k] == '\n' || (text[k] == '\r' && k + 1 < n && text[k + 1] == '\n'); };
    while (i < n) {
        Record record{line, {}};
        bool quoted_any = false;
        for (;;) {
            std::string field;
            if (i < n && text[i] == '"') {
                quoted_any = true;
                const std::size_t opened = line;
                ++i;
                for (;;) {
                    if (i >= n) throw ConfigError("csv", at_line(path, opened) + "a quoted field is never closed (missing '\"')");
                    if (text[i] == '"') {
                        if (i + 1 < n && text[i + 1] == '"') {
                            field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (text[i] == '\n') ++line;
                    field += text[i++];
                }
                if (!at_record_end(i) && text[i] != ',')
                    throw ConfigError("csv", at_line(path, line) + "text after the closing quote of a quoted field");
            } else {
                while (!at_record_end(i) && text[i] != ',') {
                    if (text[i] == '"')
                        throw ConfigError("csv", at_line(path, line) +
                                                     "a '\"' inside an unquoted field; quote the whole field and write each '\"' in it as '\"\"'");
                    field += text[i++];
                }
            }
            record.fields.push_back(std::move(field));
            if (i < n && text[i] == ',') {
                ++i;
                continue;
            }
            break;
        }
        if (i < n) {  // the line break ending the record
            i += text[i] == '\r' ? 2 : 1;
            ++line;
        }
        const bool blank = record.fields.size() == 1 && record.fields.front().empty() && !quoted_any;
        if (!blank) records.push_back(std::move(record));
    }
    return records;
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

// ---- the model column ------------------------------------------------------------------------

// YAML -> Value with the types models.flexibert's schema would give: plain scalars that are whole
// numbers become ints, everything else stays a string (the feature code checks the types).
Value to_value(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: return Value{};
        case YAML::NodeType::Scalar: {
            const std::string& s = node.Scalar();
            if (node.Tag() != "!") {  // "!" marks a quoted scalar, which stays a string
                std::int64_t i = 0;
                const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
                if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) return Value{i};
            }
            return Value{s};
        }
        case YAML::NodeType::Sequence: {
            ValueList list;
            for (const auto& item : node) list.push_back(to_value(item));
            return Value{std::move(list)};
        }
        case YAML::NodeType::Map: {
            ValueMap map;
            for (const auto& kv : node) map.insert_or_assign(kv.first.Scalar(), to_value(kv.second));
            return Value{std::move(map)};
        }
    }
    return Value{};
}

Features row_features(const std::string& text, const std::string& path, std::size_t line) {
    YAML::Node node;
    try {
        node = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ConfigError("csv", at_line(path, line) + "model '" + text + "' is not valid YAML: " + e.msg);
    }
    const Value model = to_value(node);
    if (model.is_map())
        for (const auto& [key, value] : model.as_map())
            if (!is_flexibert_key(key))
                throw ConfigError("csv", at_line(path, line) + "model: unknown key '" + key +
                                             "' (models.flexibert takes preset, layers, hidden, heads, ff, head_dim and the "
                                             "non-architecture keys sequence_length, batch_size, vocab_size, max_position, "
                                             "type_vocab, num_classes, layer_norm_eps, hidden_dropout, attention_dropout)");
    try {
        return flexibert_features(model);
    } catch (const ConfigError& e) {
        throw ConfigError("csv", at_line(path, line) + "model: " + e.what());
    }
}

// ---- the accuracy column ---------------------------------------------------------------------

double row_accuracy(std::string_view field, const std::string& path, std::size_t line) {
    const std::string_view s = trim(field);
    double a = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), a);
    // from_chars also reads "nan" and "inf", which are no measurement.
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(a))
        throw ConfigError("csv", at_line(path, line) + "accuracy '" + std::string(field) + "' is not a number");
    if (a < 0.0 || a > 1.0)
        throw ConfigError("csv", at_line(path, line) + "accuracy " + std::string(s) + " is outside [0, 1]; give a fraction, not a percentage");
    return a;
}

struct TrainingSet {
    std::vector<Features> x;
    std::vector<double> y;
};

TrainingSet read_training_set(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    // An ifstream opens a directory on Linux and fails only at the first read; refuse it here.
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) throw ConfigError("csv", prefix + std::string("cannot read '") + path + "'");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw ConfigError("csv", prefix + std::string("cannot read '") + path + "'");

    const std::vector<Record> records = parse_csv(text, path);
    if (records.empty())
        throw ConfigError("csv", prefix + std::string("'") + path + "' is empty; it needs a header row with 'accuracy' and 'model' columns");

    const Record& header = records.front();
    std::vector<std::string> names;
    for (const auto& f : header.fields) names.emplace_back(trim(f));
    auto column = [&](const char* name) {
        const auto first = std::find(names.begin(), names.end(), name);
        if (first == names.end())
            throw ConfigError("csv", prefix + std::string("'") + path + "' has no '" + name + "' column (the header names: " + join(names) + ")");
        if (std::find(first + 1, names.end(), name) != names.end())
            throw ConfigError("csv", at_line(path, header.line) + "the header names column '" + name + "' twice");
        return static_cast<std::size_t>(first - names.begin());
    };
    const std::size_t accuracy_col = column("accuracy");
    const std::size_t model_col = column("model");

    TrainingSet set;
    for (std::size_t r = 1; r < records.size(); ++r) {
        const Record& row = records[r];
        if (row.fields.size() != names.size())
            throw ConfigError("csv", at_line(path, row.line) + std::to_string(row.fields.size()) + (row.fields.size() == 1 ? " field" : " fields") +
                                         " but the header has " + std::to_string(names.size()) +
                                         " columns (a model field holds commas, so it must be in double quotes)");
        const double a = row_accuracy(row.fields[accuracy_col], path, row.line);
        set.x.push_back(row_features(row.fields[model_col], path, row.line));
        set.y.push_back(a);
    }
    if (set.y.size() < 3)
        throw ConfigError("csv", prefix + std::string("'") + path + "' has " + std::to_string(set.y.size()) + (set.y.size() == 1 ? " row" : " rows") +
                                     "; at least 3 are needed to fit and cross-validate");
    return set;
}

KernelRidge fit(const Params& params) {
    const TrainingSet set = read_training_set(params.get_string("csv"));
    return KernelRidge(set.x, set.y, params.get_float("ridge"), params.get_float("length_scale"));
}

std::string fixed4(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", x);
    return buf;
}

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

}  // namespace

// ---- kernel ridge regression -----------------------------------------------------------------

KernelRidge::KernelRidge(const std::vector<Features>& x, const std::vector<double>& y, double ridge, double length_scale) {
    const auto n = static_cast<Eigen::Index>(x.size());
    const auto f = static_cast<Eigen::Index>(feature_count);
    if (n < 2 || y.size() != x.size() || !(ridge > 0) || !(length_scale >= 0))
        throw InternalError(std::string(plugin_name) + ": KernelRidge needs >= 2 rows, as many targets, ridge > 0 and length_scale >= 0");

    Eigen::MatrixXd raw(n, f);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < f; ++j) raw(i, j) = x[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
    mean_ = raw.colwise().mean();
    scale_ = Eigen::RowVectorXd::Zero(f);
    for (Eigen::Index j = 0; j < f; ++j) {
        const double sd = std::sqrt((raw.col(j).array() - mean_(j)).square().mean());
        // A feature the training rows never vary says nothing about accuracy: leave it out of the
        // distance rather than divide by (nearly) zero.
        if (sd > 1e-12 * std::max(1.0, std::abs(mean_(j)))) scale_(j) = 1.0 / sd;
    }
    train_ = (raw.rowwise() - mean_).array().rowwise() * scale_.array();

    Eigen::MatrixXd sq(n, n);  // squared distances
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < n; ++j) sq(i, j) = (train_.row(i) - train_.row(j)).squaredNorm();
    if (length_scale > 0) {
        length_scale_ = length_scale;
    } else {
        // The median heuristic, over distinct pairs only: repeated measurements of one model
        // (distance 0) would otherwise pull the length towards 0 and the fit towards a lookup table.
        std::vector<double> d;
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = i + 1; j < n; ++j)
                if (sq(i, j) > 0) d.push_back(std::sqrt(sq(i, j)));
        if (d.empty()) {
            length_scale_ = 1.0;  // every row is the same model: the kernel is constant whatever the length
        } else {
            auto mid = d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2);
            std::nth_element(d.begin(), mid, d.end());
            length_scale_ = *mid;
        }
    }

    const Eigen::Map<const Eigen::VectorXd> yv(y.data(), n);
    y_mean_ = yv.mean();
    y_min_ = yv.minCoeff();
    y_max_ = yv.maxCoeff();
    const double y_sd = std::sqrt((yv.array() - y_mean_).square().mean());
    y_scale_ = y_sd > 0 ? y_sd : 1.0;
    const Eigen::VectorXd t = (yv.array() - y_mean_) / y_scale_;

    // The least-squares SVM system [K + ridge I, 1; 1ᵀ, 0] [alpha; b] = [t; 0], solved through the
    // positive definite block M = K + ridge I: b = 1ᵀM⁻¹t / 1ᵀM⁻¹1, alpha = M⁻¹(t - b 1).
    const Eigen::MatrixXd m = (-sq.array() / (2 * length_scale_ * length_scale_)).exp().matrix() + ridge * Eigen::MatrixXd::Identity(n, n);
    const Eigen::LLT<Eigen::MatrixXd> llt(m);
    if (llt.info() != Eigen::Success) throw InternalError(std::string(plugin_name) + ": the kernel matrix is not positive definite");
    const Eigen::MatrixXd m_inv = llt.solve(Eigen::MatrixXd::Identity(n, n));
    const Eigen::VectorXd u = m_inv.rowwise().sum();  // M⁻¹1
    const double s = u.sum();                         // 1ᵀM⁻¹1
    bias_ = u.dot(t) / s;
    alpha_ = m_inv * (t.array() - bias_).matrix();

    // Leave-one-out residuals without refitting (Cawley & Talbot 2004): y_i minus the prediction of
    // the model fitted without row i is alpha_i / (C⁻¹)_ii, C the whole system matrix above, whose
    // inverse's top-left block is M⁻¹ - uuᵀ/s.
    double abs_sum = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
        const double c_inv_ii = m_inv(i, i) - u(i) * u(i) / s;
        const double residual = alpha_(i) / c_inv_ii * y_scale_;
        const double y_i = y[static_cast<std::size_t>(i)];
        abs_sum += std::abs(y_i - clamp01(y_i - residual));
    }
    loo_mae_ = abs_sum / static_cast<double>(n);
}

Eigen::RowVectorXd KernelRidge::standardise(const Features& f) const {
    const Eigen::Map<const Eigen::RowVectorXd> raw(f.data(), static_cast<Eigen::Index>(f.size()));
    return (raw - mean_).array() * scale_.array();
}

double KernelRidge::predict(const Features& f, bool within_table) const {
    const Eigen::RowVectorXd z = standardise(f);
    const Eigen::VectorXd sq = (train_.rowwise() - z).rowwise().squaredNorm();
    const Eigen::VectorXd k = (-sq.array() / (2 * length_scale_ * length_scale_)).exp();
    const double y = clamp01(y_mean_ + y_scale_ * (bias_ + k.dot(alpha_)));
    return within_table ? std::clamp(y, y_min_, y_max_) : y;
}

// ---- the plugin ------------------------------------------------------------------------------

Surrogate::Surrogate(const Params& params) : model_(fit(params)), within_table_(params.get_bool("within_table")) {
    source_ = "surrogate: " + std::filesystem::path(params.get_string("csv")).filename().string() + " (" + std::to_string(model_.rows()) +
              " rows, leave-one-out MAE " + fixed4(model_.loo_mae()) + ")";
}

AccuracyEstimate Surrogate::estimate(const AccuracyRequest& request) const {
    if (request.family != "models.flexibert" && request.family != "flexibert")
        throw ConfigError(prefix + std::string("it was fitted on FlexiBERT models and cannot estimate a model of family '") + request.family + "'");
    Features f;
    try {
        f = flexibert_features(request.model_params);
    } catch (const ConfigError& e) {
        throw ConfigError(prefix + std::string("cannot estimate this model: ") + e.what());
    }
    return AccuracyEstimate{model_.predict(f, within_table_), source_};
}

Factory surrogate_factory() {
    return Factory{
        PluginKind::accuracy,
        plugin_name,
        "Surrogate: accuracy predicted from architecture features by kernel ridge regression on measured accuracies (CSV)\n"
        "Reads `csv` when created (header row; an `accuracy` column in [0, 1] and a `model` column of FlexiBERT parameters\n"
        "in YAML flow style, quoted) and fits an RBF kernel ridge regression on 12 standardised architecture features\n"
        "(layers, widths, head counts and the share of each head family, feed-forward width and depth, log10 weights).\n"
        "Predictions are clamped to the table's accuracy range (within_table) or to [0, 1]. The source reports the file, its rows and the leave-one-out mean absolute\n"
        "error, which says how far to trust it; far from every training model the prediction falls back to about the\n"
        "mean accuracy. FlexiBERT models only.",
        surrogate_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Surrogate>(params); },
    };
}

}  // namespace transcode::plugins::accuracy
