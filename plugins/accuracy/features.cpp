#include "features.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "transcode/errors.hpp"

namespace transcode::plugins::accuracy {

namespace {

// models.flexibert's head operations, in its order. The feature code only needs each head's family
// and, for the weight count, its kernel size.
enum class Op { sa_sdp, sa_wma, l_dft, l_dct, c_5, c_9, c_13 };

const std::vector<std::string>& op_names() {
    static const std::vector<std::string> names{"sa-sdp", "sa-wma", "l-dft", "l-dct", "c-5", "c-9", "c-13"};
    return names;
}

struct Head {
    Op op = Op::sa_sdp;
    std::int64_t dim = 0;
};

struct Layer {
    std::int64_t hidden = 0;
    std::vector<Head> heads;
    std::vector<std::int64_t> ff;
};

/// A whole model as far as the features see it.
struct Model {
    std::vector<Layer> layers;
    bool ff_relu = false;
    double sequence_length = 128;  ///< models.flexibert's default
    double hidden_dropout = 0;
    double attention_dropout = 0;
};

// Every key models.flexibert accepts. The first six shape the architecture; ff_activation,
// sequence_length and the dropout rates change the FLOPs too.
const std::vector<std::string>& flexibert_keys() {
    static const std::vector<std::string> keys{"preset",     "layers",       "hidden",     "heads",       "ff",
                                               "head_dim",   "ff_activation", "sequence_length", "batch_size", "vocab_size", "max_position",
                                               "type_vocab", "num_classes",  "layer_norm_eps", "hidden_dropout", "attention_dropout"};
    return keys;
}

const char* const explicit_keys[] = {"layers", "hidden", "heads", "ff", "head_dim"};

std::string indexed(const std::string& name, std::size_t i) { return name + "[" + std::to_string(i) + "]"; }

std::string entries(std::size_t n) { return std::to_string(n) + (n == 1 ? " entry" : " entries"); }

// The head dimensions models.flexibert uses without head_dim: hidden / heads each, the first
// (hidden mod heads) one larger.
std::vector<std::int64_t> split_head_dims(std::int64_t hidden, std::int64_t heads) {
    std::vector<std::int64_t> dims(static_cast<std::size_t>(heads), hidden / heads);
    for (std::int64_t i = 0; i < hidden % heads; ++i) ++dims[static_cast<std::size_t>(i)];
    return dims;
}

std::int64_t positive_int(const Value& v, const std::string& path) {
    if (!v.is_int()) throw ConfigError(path, path + " must be a positive integer, got " + to_text(v));
    const std::int64_t x = v.as_int();
    if (x <= 0) throw ConfigError(path, path + " must be a positive integer, got " + std::to_string(x));
    return x;
}

const ValueList& non_empty_list(const Value& v, const std::string& path) {
    if (!v.is_list()) throw ConfigError(path, path + " must be a list, got " + to_text(v));
    if (v.as_list().empty()) throw ConfigError(path, path + " is empty");
    return v.as_list();
}

const ValueList& per_layer(const ValueMap& m, const std::string& key, std::size_t layers) {
    const ValueList& list = non_empty_list(m.find(key)->second, key);
    if (list.size() != layers) throw ConfigError(key, key + " has " + entries(list.size()) + " but layers is " + std::to_string(layers));
    return list;
}

Op parse_op(const Value& v, const std::string& path) {
    const auto& names = op_names();
    if (v.is_string())
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == v.as_string()) return static_cast<Op>(i);
    throw ConfigError(path, "'" + to_text(v) + "' is not a head operation (sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13)");
}

std::vector<Layer> preset_layers(const Value& preset) {
    struct Row {
        const char* name;
        std::size_t layers;
        std::int64_t hidden;
        std::int64_t heads;
        std::int64_t ff;
    };
    // models.flexibert's presets (plugins/models/README.md): every head sa-sdp, of dimension hidden / heads.
    static constexpr Row rows[] = {
        {"bert-tiny", 2, 128, 2, 512},    {"bert-mini", 4, 256, 4, 1024},  {"bert-small", 4, 512, 8, 2048},
        {"bert-medium", 8, 512, 8, 2048}, {"bert-base", 12, 768, 12, 3072},
    };
    for (const Row& r : rows) {
        if (!preset.is_string() || preset.as_string() != r.name) continue;
        Layer layer;
        layer.hidden = r.hidden;
        for (std::int64_t d : split_head_dims(r.hidden, r.heads)) layer.heads.push_back({Op::sa_sdp, d});
        layer.ff = {r.ff};
        return std::vector<Layer>(r.layers, layer);
    }
    throw ConfigError("preset", "'" + to_text(preset) + "' is not a preset (bert-tiny, bert-mini, bert-small, bert-medium, bert-base)");
}

std::vector<Layer> explicit_layers(const ValueMap& m) {
    for (const char* key : {"layers", "hidden", "heads", "ff"})
        if (m.find(key) == m.end())
            throw ConfigError(key, std::string(key) + " is missing: without a preset, give all of layers, hidden, heads and ff");
    const auto n = static_cast<std::size_t>(positive_int(m.find("layers")->second, "layers"));
    const ValueList& hidden = per_layer(m, "hidden", n);
    const ValueList& heads = per_layer(m, "heads", n);
    const ValueList& ff = per_layer(m, "ff", n);
    const ValueList* head_dim = m.find("head_dim") != m.end() ? &per_layer(m, "head_dim", n) : nullptr;

    std::vector<Layer> layers(n);
    for (std::size_t l = 0; l < n; ++l) {
        Layer& layer = layers[l];
        layer.hidden = positive_int(hidden[l], indexed("hidden", l));

        const std::string heads_path = indexed("heads", l);
        const ValueList& ops = non_empty_list(heads[l], heads_path);
        std::vector<std::int64_t> dims;
        if (head_dim != nullptr) {
            const std::string dim_path = indexed("head_dim", l);
            const ValueList& given = non_empty_list((*head_dim)[l], dim_path);
            if (given.size() != ops.size())
                throw ConfigError(dim_path, dim_path + " has " + entries(given.size()) + " but " + heads_path + " has " + entries(ops.size()));
            for (std::size_t i = 0; i < given.size(); ++i) dims.push_back(positive_int(given[i], indexed(dim_path, i)));
        } else {
            const auto count = static_cast<std::int64_t>(ops.size());
            if (count > layer.hidden)
                throw ConfigError(heads_path, heads_path + " has " + std::to_string(count) + " heads but hidden[" + std::to_string(l) + "] is " +
                                                  std::to_string(layer.hidden) + ": a head would get dimension 0");
            dims = split_head_dims(layer.hidden, count);
        }
        for (std::size_t i = 0; i < ops.size(); ++i) layer.heads.push_back({parse_op(ops[i], indexed(heads_path, i)), dims[i]});

        const std::string ff_path = indexed("ff", l);
        const ValueList& sizes = non_empty_list(ff[l], ff_path);
        for (std::size_t i = 0; i < sizes.size(); ++i) layer.ff.push_back(positive_int(sizes[i], indexed(ff_path, i)));
    }
    return layers;
}

// A rate in [0, 1]: a float as the engine hands it over, or a number written in a CSV's model
// column (which to_value leaves as a string unless it is a whole number).
double rate(const Value& v, const std::string& path) {
    double x = -1;
    if (v.is_float()) x = v.as_float();
    else if (v.is_int()) x = static_cast<double>(v.as_int());
    else if (v.is_string()) {
        const std::string& s = v.as_string();
        double parsed = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) x = parsed;
    }
    if (!(x >= 0.0 && x <= 1.0)) throw ConfigError(path, path + " must be a rate in [0, 1], got " + to_text(v));
    return x;
}

std::vector<Layer> read_layers(const ValueMap& m);

Model read_model(const Value& model) {
    if (!model.is_map()) throw ConfigError("", "the model must be a map of FlexiBERT parameters, got " + to_text(model));
    const ValueMap& m = model.as_map();
    Model out;
    out.layers = read_layers(m);
    if (const auto a = m.find("ff_activation"); a != m.end()) {
        if (!a->second.is_string() || (a->second.as_string() != "gelu" && a->second.as_string() != "relu"))
            throw ConfigError("ff_activation", "ff_activation must be gelu or relu, got " + to_text(a->second));
        out.ff_relu = a->second.as_string() == "relu";
    }
    if (const auto s = m.find("sequence_length"); s != m.end()) out.sequence_length = static_cast<double>(positive_int(s->second, "sequence_length"));
    if (const auto d = m.find("hidden_dropout"); d != m.end()) out.hidden_dropout = rate(d->second, "hidden_dropout");
    if (const auto d = m.find("attention_dropout"); d != m.end()) out.attention_dropout = rate(d->second, "attention_dropout");
    return out;
}

std::vector<Layer> read_layers(const ValueMap& m) {
    std::vector<std::string> given;
    for (const char* key : explicit_keys)
        if (m.find(key) != m.end()) given.emplace_back(key);
    const auto preset = m.find("preset");
    if (preset != m.end()) {
        if (!given.empty()) {
            std::string list;
            for (const auto& k : given) list += (list.empty() ? "" : ", ") + k;
            throw ConfigError("preset", "give either preset or layers/hidden/heads/ff, not both (" + list + (given.size() == 1 ? " is" : " are") +
                                            " also given)");
        }
        return preset_layers(preset->second);
    }
    if (given.empty()) throw ConfigError("preset", "give either preset or layers/hidden/heads/ff; neither is given");
    return explicit_layers(m);
}

// The weights of one head of dimension d on a layer of width h (plugins/models/README.md, "The
// forward graph"): q, k, v projections for self-attention (plus Wm for sa-wma), the value
// projection for the others, and for convolutions the kernel generator d -> k.
double head_weights(const Head& head, double h) {
    const auto d = static_cast<double>(head.dim);
    const double projection = h * d + d;
    switch (head.op) {
        case Op::sa_sdp: return 3 * projection;
        case Op::sa_wma: return 3 * projection + d * d;
        case Op::l_dft:
        case Op::l_dct: return projection;
        case Op::c_5: return projection + d * 5 + 5;
        case Op::c_9: return projection + d * 9 + 9;
        case Op::c_13: return projection + d * 13 + 13;
    }
    return 0;
}

double encoder_weights(const std::vector<Layer>& layers) {
    double total = 0;
    double previous = static_cast<double>(layers.front().hidden);
    for (const Layer& layer : layers) {
        const auto h = static_cast<double>(layer.hidden);
        if (previous != h) total += previous * h + h;  // projection between layers of different width
        double concat = 0;
        for (const Head& head : layer.heads) {
            total += head_weights(head, h);
            concat += static_cast<double>(head.dim);
        }
        total += concat * h + h + 2 * h;  // attention output and its layer-norm
        double in = h;
        for (std::int64_t f : layer.ff) {
            total += in * static_cast<double>(f) + static_cast<double>(f);
            in = static_cast<double>(f);
        }
        total += in * h + h + 2 * h;  // back to h, and the feed-forward layer-norm
        previous = h;
    }
    return total;
}

// The forward FLOPs of the encoder layers for one sequence (B = 1), op by op as
// engine/graph/op_costs.hpp prices the graph of plugins/models/README.md ("The forward graph"):
// a dense layer x[S, n]·W[n, m] + b is a matmul of 2·S·n·m and a bias add of S·m; softmax 5,
// layer-norm 8, gelu 8, relu 1, add and dropout 1 per output element; seq_transform 2·S·S·d;
// conv1d 2·S·d·k; concat 0.
double encoder_flops(const Model& model) {
    const double s = model.sequence_length;
    const double activation = model.ff_relu ? 1.0 : 8.0;
    auto dense = [s](double n, double m) { return 2 * s * n * m + s * m; };
    double total = 0;
    double previous = static_cast<double>(model.layers.front().hidden);
    for (const Layer& layer : model.layers) {
        const auto h = static_cast<double>(layer.hidden);
        if (previous != h) total += dense(previous, h);  // the projection between widths
        double concat = 0;
        for (const Head& head : layer.heads) {
            const auto d = static_cast<double>(head.dim);
            concat += d;
            switch (head.op) {
                case Op::sa_sdp:
                case Op::sa_wma: {
                    total += 3 * dense(h, d);             // q, k, v
                    if (head.op == Op::sa_wma) total += 2 * s * d * d;  // q·Wm
                    total += 2 * s * s * d + 5 * s * s + 2 * s * s * d;  // scores, softmax, context
                    if (model.attention_dropout > 0) total += s * s;
                    break;
                }
                case Op::l_dft:
                case Op::l_dct: total += dense(h, d) + 2 * s * s * d; break;
                case Op::c_5:
                case Op::c_9:
                case Op::c_13: {
                    const double k = head.op == Op::c_5 ? 5 : head.op == Op::c_9 ? 9 : 13;
                    total += dense(h, d) + dense(d, k) + 5 * s * k + 2 * s * d * k;  // v, kernel logits, softmax, conv1d
                    break;
                }
            }
        }
        const double hidden_dropout = model.hidden_dropout > 0 ? s * h : 0.0;
        total += dense(concat, h) + hidden_dropout + s * h + 8 * s * h;  // attention out, dropout, residual, layer-norm
        double in = h;
        for (std::int64_t f : layer.ff) {
            total += dense(in, static_cast<double>(f)) + activation * s * static_cast<double>(f);
            in = static_cast<double>(f);
        }
        total += dense(in, h) + hidden_dropout + s * h + 8 * s * h;  // back to h, dropout, residual, layer-norm
        previous = h;
    }
    return total;
}

}  // namespace

double encoder_flops_per_sequence(const Value& model) { return encoder_flops(read_model(model)); }

double encoder_parameters(const Value& model) { return encoder_weights(read_model(model).layers); }

const std::array<const char*, feature_count>& feature_names() {
    static const std::array<const char*, feature_count> names{
        "log10_parameters", "log10_flops",  "layers",       "log2_hidden_mean", "log2_hidden_min",   "log2_hidden_last", "log2_ff_mean",
        "share_sa_sdp",     "share_sa_wma", "share_linear", "share_conv",       "ff_relu",           "log2_hidden_max",  "log2_hidden_first",
        "ff_depth_mean",    "share_l_dft",  "share_l_dct",  "share_c_5",        "share_c_9",         "share_c_13",
    };
    return names;
}

bool is_flexibert_key(const std::string& key) {
    const auto& keys = flexibert_keys();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Features flexibert_features(const Value& value) {
    const Model model = read_model(value);
    const std::vector<Layer>& layers = model.layers;
    double hidden_sum = 0, hidden_max = 0, hidden_min = 0, heads = 0, ff_sum = 0, ff_count = 0;
    std::array<double, 7> per_op{};  // heads of each operation, in Op order
    for (const Layer& layer : layers) {
        const auto h = static_cast<double>(layer.hidden);
        hidden_sum += h;
        hidden_max = std::max(hidden_max, h);
        hidden_min = hidden_min == 0 ? h : std::min(hidden_min, h);
        for (const Head& head : layer.heads) {
            heads += 1;
            per_op[static_cast<std::size_t>(head.op)] += 1;
        }
        for (std::int64_t f : layer.ff) {
            ff_sum += static_cast<double>(f);
            ff_count += 1;
        }
    }
    auto share = [&](Op op) { return per_op[static_cast<std::size_t>(op)] / heads; };
    const auto count = static_cast<double>(layers.size());
    Features x{};
    auto set = [&x](Feature f, double v) { x[static_cast<std::size_t>(f)] = v; };
    set(Feature::log10_parameters, std::log10(encoder_weights(layers)));
    set(Feature::log10_flops, std::log10(encoder_flops(model)));
    set(Feature::layers, count);
    set(Feature::log2_hidden_mean, std::log2(hidden_sum / count));
    set(Feature::log2_hidden_min, std::log2(hidden_min));
    set(Feature::log2_hidden_last, std::log2(static_cast<double>(layers.back().hidden)));
    set(Feature::log2_ff_mean, std::log2(ff_sum / ff_count));
    set(Feature::share_sa_sdp, share(Op::sa_sdp));
    set(Feature::share_sa_wma, share(Op::sa_wma));
    set(Feature::share_linear, share(Op::l_dft) + share(Op::l_dct));
    set(Feature::share_conv, share(Op::c_5) + share(Op::c_9) + share(Op::c_13));
    set(Feature::ff_relu, model.ff_relu ? 1.0 : 0.0);
    set(Feature::log2_hidden_max, std::log2(hidden_max));
    set(Feature::log2_hidden_first, std::log2(static_cast<double>(layers.front().hidden)));
    set(Feature::ff_depth_mean, ff_count / count);
    set(Feature::share_l_dft, share(Op::l_dft));
    set(Feature::share_l_dct, share(Op::l_dct));
    set(Feature::share_c_5, share(Op::c_5));
    set(Feature::share_c_9, share(Op::c_9));
    set(Feature::share_c_13, share(Op::c_13));
    return x;
}

}  // namespace transcode::plugins::accuracy
