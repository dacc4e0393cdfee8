#include "features.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
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

// Every key models.flexibert accepts. Only the first five shape the architecture.
const std::vector<std::string>& flexibert_keys() {
    static const std::vector<std::string> keys{"preset",     "layers",       "hidden",     "heads",       "ff",
                                               "head_dim",   "sequence_length", "batch_size", "vocab_size", "max_position",
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

std::vector<Layer> read_layers(const Value& model) {
    if (!model.is_map()) throw ConfigError("", "the model must be a map of FlexiBERT parameters, got " + to_text(model));
    const ValueMap& m = model.as_map();
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

}  // namespace

const std::array<const char*, feature_count>& feature_names() {
    static const std::array<const char*, feature_count> names{
        "layers",       "hidden_mean",  "hidden_max",    "heads_total",    "heads_mean",     "share_sa_sdp",
        "share_sa_wma", "share_linear", "share_conv",    "ff_width_mean",  "ff_depth_total", "log10_parameters",
    };
    return names;
}

bool is_flexibert_key(const std::string& key) {
    const auto& keys = flexibert_keys();
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Features flexibert_features(const Value& model) {
    const std::vector<Layer> layers = read_layers(model);
    double hidden_sum = 0, hidden_max = 0, heads = 0, ff_sum = 0, ff_count = 0;
    double sa_sdp = 0, sa_wma = 0, linear = 0, conv = 0;
    for (const Layer& layer : layers) {
        hidden_sum += static_cast<double>(layer.hidden);
        hidden_max = std::max(hidden_max, static_cast<double>(layer.hidden));
        for (const Head& head : layer.heads) {
            heads += 1;
            switch (head.op) {
                case Op::sa_sdp: sa_sdp += 1; break;
                case Op::sa_wma: sa_wma += 1; break;
                case Op::l_dft:
                case Op::l_dct: linear += 1; break;
                case Op::c_5:
                case Op::c_9:
                case Op::c_13: conv += 1; break;
            }
        }
        for (std::int64_t f : layer.ff) {
            ff_sum += static_cast<double>(f);
            ff_count += 1;
        }
    }
    const auto count = static_cast<double>(layers.size());
    Features x{};
    auto set = [&x](Feature f, double v) { x[static_cast<std::size_t>(f)] = v; };
    set(Feature::layers, count);
    set(Feature::hidden_mean, hidden_sum / count);
    set(Feature::hidden_max, hidden_max);
    set(Feature::heads_total, heads);
    set(Feature::heads_mean, heads / count);
    set(Feature::share_sa_sdp, sa_sdp / heads);
    set(Feature::share_sa_wma, sa_wma / heads);
    set(Feature::share_linear, linear / heads);
    set(Feature::share_conv, conv / heads);
    set(Feature::ff_width_mean, ff_sum / ff_count);
    set(Feature::ff_depth_total, ff_count);
    set(Feature::log10_parameters, std::log10(encoder_weights(layers)));
    return x;
}

}  // namespace transcode::plugins::accuracy
