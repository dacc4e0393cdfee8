#include "surrogate.hpp"

#include "transcode/input_file.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
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
                          "optional columns sparsity_activation, sparsity_activation_gradient, sparsity_weight_gradient "
                          "(fractions, may be empty); other columns are ignored. A relative path is relative to the YAML file "
                          "that names it")
            .file_path()
            .required(),
        ParamSpec::enumeration("kernel",
                               "isotropic: one RBF length scale for all standardised features; ard: one per feature, each "
                               "fitted (needs more rows than features: on the shipped 32-row table it overfits, see README)",
                               {"isotropic", "ard"})
            .default_value("isotropic"),
        ParamSpec::enumeration("prior_mean",
                               "the Gaussian process's prior mean: linear: a constant plus a slope in log10 of the encoder's "
                               "weight count (both with a Gaussian prior, fitted with the data), so far from the table the "
                               "prediction follows the size trend with a growing standard deviation; constant: far from the "
                               "table the prediction returns to about the mean accuracy",
                               {"linear", "constant"})
            .default_value("linear"),
        ParamSpec::enumeration("outside",
                               "what happens to a model farther outside the table than outside_threshold: flag: estimate it and "
                               "set extrapolated (the source says which feature and how far); refuse: a ConfigError (the "
                               "candidate is infeasible with that reason)",
                               {"flag", "refuse"})
            .default_value("flag"),
        ParamSpec::floating("outside_threshold",
                            "how far a feature may lie beyond the table's lowest or highest value before the model counts as "
                            "outside the table, in the table's standard deviations of that feature; a feature the table holds "
                            "constant may not change at all")
            .unit("table standard deviations")
            .min(0.0)
            .default_value(0.5),
        ParamSpec::floating("ridge", "removed: the noise variance is now fitted (maximum marginal likelihood); giving it is an error"),
        ParamSpec::floating("length_scale", "removed: the length scales are now fitted (maximum marginal likelihood); giving it is an error"),
        ParamSpec::boolean("within_table",
                           "removed: predictions are no longer capped at the table's range; a model outside the table is flagged "
                           "(or refused, see outside); giving it is an error"),
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

const std::array<const char*, 3> sparsity_roles{"activation", "activation_gradient", "weight_gradient"};

// A fraction in [0, 1] from a CSV field; `what` names the column in the messages.
double row_fraction(std::string_view field, const std::string& what, const std::string& path, std::size_t line) {
    const std::string_view s = trim(field);
    double a = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), a);
    // from_chars also reads "nan" and "inf", which are no measurement.
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(a))
        throw ConfigError("csv", at_line(path, line) + what + " '" + std::string(field) + "' is not a number");
    if (a < 0.0 || a > 1.0)
        throw ConfigError("csv", at_line(path, line) + what + " " + std::string(s) + " is outside [0, 1]; give a fraction, not a percentage");
    return a;
}

Table read_table(const std::string& path) {
    // Regular files of at most max_table_file_bytes: a FIFO or a device would block or never end.
    std::string text;
    if (const std::string problem = read_input_file(path, max_table_file_bytes, text); !problem.empty()) {
        if (problem == "not found" || problem == "is a directory, not a regular file" || problem.starts_with("cannot"))
            throw ConfigError("csv", prefix + std::string("cannot read '") + path + "'");
        throw ConfigError("csv", prefix + std::string("'") + path + "' " + problem);
    }

    const std::vector<Record> records = parse_csv(text, path);
    if (records.empty())
        throw ConfigError("csv", prefix + std::string("'") + path + "' is empty; it needs a header row with 'accuracy' and 'model' columns");

    const Record& header = records.front();
    std::vector<std::string> names;
    for (const auto& f : header.fields) names.emplace_back(trim(f));
    auto find_column = [&](const std::string& name) -> std::optional<std::size_t> {
        const auto first = std::find(names.begin(), names.end(), name);
        if (first == names.end()) return std::nullopt;
        if (std::find(first + 1, names.end(), name) != names.end())
            throw ConfigError("csv", at_line(path, header.line) + "the header names column '" + name + "' twice");
        return static_cast<std::size_t>(first - names.begin());
    };
    auto column = [&](const std::string& name) {
        const auto c = find_column(name);
        if (!c) throw ConfigError("csv", prefix + std::string("'") + path + "' has no '" + name + "' column (the header names: " + join(names) + ")");
        return *c;
    };
    const std::size_t accuracy_col = column("accuracy");
    const std::size_t model_col = column("model");
    std::vector<std::pair<std::string, std::size_t>> sparsity_cols;
    for (const char* role : sparsity_roles)
        if (const auto c = find_column(std::string("sparsity_") + role)) sparsity_cols.emplace_back(role, *c);

    Table table;
    table.path = path;
    for (std::size_t r = 1; r < records.size(); ++r) {
        const Record& row = records[r];
        if (row.fields.size() != names.size())
            throw ConfigError("csv", at_line(path, row.line) + std::to_string(row.fields.size()) + (row.fields.size() == 1 ? " field" : " fields") +
                                         " but the header has " + std::to_string(names.size()) +
                                         " columns (a model field holds commas, so it must be in double quotes)");
        const double a = row_fraction(row.fields[accuracy_col], "accuracy", path, row.line);
        table.x.push_back(row_features(row.fields[model_col], path, row.line));
        table.y.push_back(a);
        table.lines.push_back(row.line);
        for (const auto& [role, col] : sparsity_cols) {
            auto& values = table.sparsity[role];
            const std::string column_name = "sparsity_" + role;
            values.push_back(trim(row.fields[col]).empty() ? std::nullopt
                                                           : std::optional<double>(row_fraction(row.fields[col], column_name, path, row.line)));
        }
    }
    if (table.y.size() < 3)
        throw ConfigError("csv", prefix + std::string("'") + path + "' has " + std::to_string(table.y.size()) + (table.y.size() == 1 ? " row" : " rows") +
                                     "; at least 3 are needed to fit and cross-validate");
    for (auto it = table.sparsity.begin(); it != table.sparsity.end();) {
        const auto given = static_cast<std::size_t>(std::count_if(it->second.begin(), it->second.end(), [](const auto& v) { return v.has_value(); }));
        if (given == 0) {  // an empty column is no column
            it = table.sparsity.erase(it);
            continue;
        }
        if (given < 3)
            throw ConfigError("csv", prefix + std::string("'") + path + "' column 'sparsity_" + it->first + "' has " + std::to_string(given) +
                                         (given == 1 ? " value" : " values") + "; at least 3 are needed to fit it (or leave the column empty)");
        ++it;
    }
    return table;
}

std::string fixed4(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", x);
    return buf;
}

std::string fixed2(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", x);
    return buf;
}

std::string general(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", x);
    return buf;
}

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

Eigen::RowVectorXd kernel_row(const Features& f) {
    Eigen::RowVectorXd r(static_cast<Eigen::Index>(kernel_feature_count));
    for (std::size_t j = 0; j < kernel_feature_count; ++j) r(static_cast<Eigen::Index>(j)) = f[j];
    return r;
}

Eigen::MatrixXd kernel_rows(const std::vector<Features>& x, const std::vector<std::size_t>& rows) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(kernel_feature_count));
    for (std::size_t i = 0; i < rows.size(); ++i) m.row(static_cast<Eigen::Index>(i)) = kernel_row(x[rows[i]]);
    return m;
}

Eigen::VectorXd targets(const std::vector<double>& y, const std::vector<std::size_t>& rows) {
    Eigen::VectorXd v(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) v(static_cast<Eigen::Index>(i)) = y[rows[i]];
    return v;
}

std::vector<std::size_t> all_rows(std::size_t n) {
    std::vector<std::size_t> rows(n);
    for (std::size_t i = 0; i < n; ++i) rows[i] = i;
    return rows;
}

// Ranks with ties averaged (1-based), for Spearman's correlation.
std::vector<double> ranks(const std::vector<double>& v) {
    std::vector<std::size_t> order = all_rows(v.size());
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
        for (std::size_t k = i; k <= j; ++k) r[order[k]] = 0.5 * static_cast<double>(i + j) + 1;
        i = j + 1;
    }
    return r;
}

// Spearman's rank correlation; 0 when either side is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
    const std::vector<double> ra = ranks(a), rb = ranks(b);
    const auto n = static_cast<double>(a.size());
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

HeldOutMetrics metrics(const std::vector<double>& predicted, const std::vector<double>& measured) {
    HeldOutMetrics m;
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        const double e = predicted[i] - measured[i];
        m.mae += std::abs(e);
        m.rmse += e * e;
    }
    const auto n = static_cast<double>(predicted.size());
    m.mae /= n;
    m.rmse = std::sqrt(m.rmse / n);
    m.spearman = spearman(predicted, measured);
    return m;
}

// SplitMix64: a portable, seeded stream for the fold shuffle (std::shuffle's algorithm is not
// specified, so folds would differ between standard libraries).
std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

GpOptions gp_options(const Params& params) {
    GpOptions o;
    o.ard = params.get_string("kernel") == "ard";
    if (params.get_string("prior_mean") == "linear") o.trend_column = static_cast<std::size_t>(Feature::log10_parameters);
    return o;
}

void refuse_removed(const Params& params) {
    if (params.has("ridge"))
        throw ConfigError("ridge", "ridge was removed: accuracy.surrogate is a Gaussian process now and fits its noise variance to the "
                                   "table (maximum marginal likelihood); delete the key");
    if (params.has("length_scale"))
        throw ConfigError("length_scale", "length_scale was removed: accuracy.surrogate is a Gaussian process now and fits its length "
                                          "scales to the table (maximum marginal likelihood); delete the key");
    if (params.has("within_table"))
        throw ConfigError("within_table", "within_table was removed: predictions are no longer capped at the table's accuracy range, because "
                                          "the cap made every model larger than the table look equally good; a model outside the table is "
                                          "flagged as extrapolated instead (outside: refuse rejects it); delete the key");
}

}  // namespace

// ---- the plugin ------------------------------------------------------------------------------

Surrogate::Surrogate(const Params& params)
    : options_(gp_options(params)), refuse_(params.get_string("outside") == "refuse"), threshold_(params.get_float("outside_threshold")) {
    refuse_removed(params);
    table_ = read_table(params.get_string("csv"));
    file_name_ = std::filesystem::path(table_.path).filename().string();
    const std::size_t n = table_.y.size();
    const std::vector<std::size_t> rows = all_rows(n);
    const Eigen::MatrixXd x = kernel_rows(table_.x, rows);
    accuracy_.emplace(x, targets(table_.y, rows), options_);

    for (const auto& [role, values] : table_.sparsity) {
        std::vector<std::size_t> given;
        std::vector<double> y;
        for (std::size_t i = 0; i < n; ++i)
            if (values[i]) {
                given.push_back(i);
                y.push_back(*values[i]);
            }
        sparsity_.emplace(role, GaussianProcess(kernel_rows(table_.x, given), targets(y, all_rows(y.size())), *accuracy_));
    }

    for (std::size_t f = 0; f < feature_count; ++f) {
        FeatureRange& r = ranges_[f];
        r.lo = r.hi = table_.x[0][f];
        double mean = 0;
        for (const Features& row : table_.x) {
            r.lo = std::min(r.lo, row[f]);
            r.hi = std::max(r.hi, row[f]);
            mean += row[f] / static_cast<double>(n);
        }
        double var = 0;
        for (const Features& row : table_.x) var += (row[f] - mean) * (row[f] - mean) / static_cast<double>(n);
        r.stddev = r.hi - r.lo > 1e-12 ? std::sqrt(var) : 0.0;
    }

    // Leave-one-out MAE at the fitted hyper-parameters (each row predicted from the others).
    double abs_sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::size_t> rest;
        for (std::size_t j = 0; j < n; ++j)
            if (j != i) rest.push_back(j);
        const GaussianProcess fold(kernel_rows(table_.x, rest), targets(table_.y, rest), *accuracy_);
        abs_sum += std::abs(table_.y[i] - clamp01(fold.predict(kernel_row(table_.x[i])).mean));
    }
    source_ = "surrogate: " + file_name_ + " (" + std::to_string(n) + " rows, leave-one-out MAE " + fixed4(abs_sum / static_cast<double>(n)) + ")";
}

Surrogate::Outside Surrogate::outside(const Features& f) const {
    Outside worst;
    for (std::size_t j = 0; j < feature_count; ++j) {
        const FeatureRange& r = ranges_[j];
        double d = 0;
        if (r.stddev == 0)
            d = std::abs(f[j] - r.lo) > 1e-9 ? std::numeric_limits<double>::infinity() : 0.0;
        else
            d = std::max({r.lo - f[j], f[j] - r.hi, 0.0}) / r.stddev;
        if (d > worst.distance) worst = Outside{j, d, f[j]};
    }
    return worst;
}

std::string Surrogate::describe_outside(const Outside& o) const {
    const FeatureRange& r = ranges_[o.feature];
    const std::string name = feature_names()[o.feature];
    if (std::isinf(o.distance)) return name + " is " + general(o.value) + " but every table row has " + general(r.lo);
    const bool above = o.value > r.hi;
    return name + " is " + general(o.value) + ", " + fixed2(o.distance) + " table standard deviations " + (above ? "above the largest" : "below the smallest") +
           " in the table (" + general(above ? r.hi : r.lo) + ")";
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
    const Outside out = outside(f);
    const bool far = out.distance > threshold_;
    if (far && refuse_)
        throw ConfigError(prefix + std::string("the model is outside the table '") + file_name_ + "': " + describe_outside(out) +
                          "; outside: refuse allows " + general(threshold_));
    const Eigen::RowVectorXd x = kernel_row(f);
    const GpPrediction p = accuracy_->predict(x);
    AccuracyEstimate e;
    e.accuracy = clamp01(p.mean);
    e.stddev = p.stddev;
    e.extrapolated = far;
    e.source = far ? source_ + "; extrapolated: " + describe_outside(out) : source_;
    for (const auto& [role, gp] : sparsity_) e.sparsity.emplace(role, clamp01(gp.predict(x).mean));
    return e;
}

HeldOutReport Surrogate::held_out(std::size_t folds, std::uint64_t seed) const {
    const std::string quoted = "'" + table_.path + "'";
    if (folds < 2) throw ConfigError("folds", prefix + std::string("folds must be at least 2, got ") + std::to_string(folds));
    // Rows of the same model (several seeds) stay in one fold, so no model is both trained on and held out.
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < table_.x.size(); ++i) {
        auto same = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return table_.x[g.front()] == table_.x[i]; });
        if (same == groups.end())
            groups.push_back({i});
        else
            same->push_back(i);
    }
    if (groups.size() < folds)
        throw ConfigError("folds", prefix + quoted + " has " + std::to_string(table_.y.size()) + " rows of " + std::to_string(groups.size()) +
                                       " distinct models, too few for " + std::to_string(folds) + " folds (each fold needs a model of its own)");
    std::uint64_t state = seed;
    for (std::size_t i = groups.size() - 1; i > 0; --i) std::swap(groups[i], groups[splitmix64(state) % (i + 1)]);

    const std::size_t n = table_.y.size();
    std::vector<double> predicted(n), constant(n), stddev(n);
    for (std::size_t k = 0; k < folds; ++k) {
        std::vector<std::size_t> train, test;
        for (std::size_t g = 0; g < groups.size(); ++g) (g % folds == k ? test : train).insert((g % folds == k ? test : train).end(), groups[g].begin(), groups[g].end());
        if (train.size() < 2)
            throw ConfigError("folds", prefix + quoted + " has too few rows for " + std::to_string(folds) + " folds: a fold leaves fewer than 2 rows to fit");
        const GaussianProcess gp(kernel_rows(table_.x, train), targets(table_.y, train), options_);
        double mean = 0;
        for (std::size_t i : train) mean += table_.y[i] / static_cast<double>(train.size());
        for (std::size_t i : test) {
            const GpPrediction p = gp.predict(kernel_row(table_.x[i]));
            predicted[i] = clamp01(p.mean);
            stddev[i] = p.stddev;
            constant[i] = mean;
        }
    }
    HeldOutReport r;
    r.rows = n;
    r.folds = folds;
    r.seed = seed;
    r.model = metrics(predicted, table_.y);
    r.constant = metrics(constant, table_.y);
    for (std::size_t i = 0; i < n; ++i) {
        const double z = std::abs(predicted[i] - table_.y[i]) / std::max(stddev[i], 1e-300);
        r.within_1_stddev += (z <= 1 ? 1.0 : 0.0) / static_cast<double>(n);
        r.within_2_stddev += (z <= 2 ? 1.0 : 0.0) / static_cast<double>(n);
    }
    r.description = "accuracy.surrogate on " + file_name_ + ": Gaussian process, " + (options_.ard ? "ARD" : "isotropic") + " RBF kernel on " +
                    std::to_string(kernel_feature_count) + " features, " +
                    (options_.trend_column < kernel_feature_count ? "prior mean linear in log10_parameters" : "constant prior mean");
    return r;
}

void Surrogate::check_models(const std::vector<Value>& sample) const {
    std::vector<Features> features;
    for (std::size_t i = 0; i < sample.size(); ++i) {
        try {
            features.push_back(flexibert_features(sample[i]));
        } catch (const ConfigError& e) {
            throw ConfigError(prefix + std::string("cannot check sampled model ") + std::to_string(i + 1) + ": " + e.what());
        }
    }
    for (std::size_t j = 0; j < feature_count; ++j) {
        const FeatureRange& r = ranges_[j];
        if (r.stddev != 0) continue;
        std::vector<double> asked;
        std::size_t count = 0;
        for (const Features& f : features)
            if (std::abs(f[j] - r.lo) > 1e-9) {
                ++count;
                if (std::find(asked.begin(), asked.end(), f[j]) == asked.end()) asked.push_back(f[j]);
            }
        if (count == 0) continue;
        std::sort(asked.begin(), asked.end());
        std::string values;
        for (std::size_t k = 0; k < asked.size() && k < 4; ++k) values += (k ? ", " : "") + general(asked[k]);
        if (asked.size() > 4) values += ", ...";
        const std::string name = feature_names()[j];
        throw ConfigError("csv", prefix + std::string("'") + table_.path + "' holds " + name + " at " + general(r.lo) +
                                     " in every row, but the design space asks for " + values + " (" + std::to_string(count) + " of " +
                                     std::to_string(features.size()) + " sampled models); the table cannot tell how " + name +
                                     " changes accuracy: add measured models that vary it, or hold it at " + general(r.lo) + " in the space");
    }
}

Factory surrogate_factory() {
    return Factory{
        PluginKind::accuracy,
        plugin_name,
        "Surrogate: accuracy predicted from architecture features by a Gaussian process fitted to measured accuracies (CSV)\n"
        "Reads `csv` when created (header row; an `accuracy` column in [0, 1] and a `model` column of FlexiBERT parameters\n"
        "in YAML flow style, quoted; optional per-role sparsity columns) and fits Gaussian-process regression on 12\n"
        "standardised features (log10 weights and forward FLOPs, depth, log2 widths, the share of each head family, the\n"
        "feed-forward activation); length scales, signal and noise variance maximise the marginal likelihood. Each estimate\n"
        "has a predictive standard deviation; a model outside the table (outside_threshold) is flagged as extrapolated, or\n"
        "refused (outside: refuse). Predictions are clipped to [0, 1] only. The source reports the file, its rows and the\n"
        "leave-one-out mean absolute error; `transcode accuracy fit --report` cross-validates it. FlexiBERT models only.",
        surrogate_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Surrogate>(params); },
    };
}

}  // namespace transcode::plugins::accuracy
