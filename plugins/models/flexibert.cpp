#include "flexibert.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace transcode::plugins::models {

namespace {

constexpr const char* plugin_name = "models.flexibert";

const std::vector<std::string>& head_kind_names() {
    static const std::vector<std::string> names{"sa-sdp", "sa-wma", "l-dft", "l-dct", "c-5", "c-9", "c-13"};
    return names;
}

const std::vector<std::string>& preset_names() {
    static const std::vector<std::string> names{"bert-tiny", "bert-mini", "bert-small", "bert-medium", "bert-base"};
    return names;
}

// The keys of the explicit form, in the order errors mention them.
const std::vector<std::string>& explicit_keys() {
    static const std::vector<std::string> keys{"layers", "hidden", "heads", "ff", "head_dim"};
    return keys;
}

ParamSpec positive_int_list(std::string name, std::string doc, std::string unit) {
    return ParamSpec::list(std::move(name), std::move(doc), ParamSpec::integer("size", "a size").unit(std::move(unit)).greater_than(0)).min(1);
}

ParamSchema flexibert_schema() {
    return {
        ParamSpec::enumeration("preset",
                               "a BERT preset (layers/hidden/heads/feed-forward): bert-tiny 2/128/2/512, bert-mini 4/256/4/1024, "
                               "bert-small 4/512/8/2048, bert-medium 8/512/8/2048, bert-base 12/768/12/3072; every head sa-sdp "
                               "of dimension hidden/heads. Give either preset or layers/hidden/heads/ff (with optional head_dim), "
                               "not both",
                               preset_names()),
        ParamSpec::integer("layers", "encoder layers (explicit form; not with preset)").unit("layers").min(1).max(48),
        ParamSpec::list("hidden", "hidden size of each layer, one entry per layer (explicit form)",
                        ParamSpec::integer("size", "a hidden size").unit("elements").greater_than(0))
            .min(1),
        ParamSpec::list("heads",
                        "the heads of each layer: one list per layer, one operation per head (explicit form). sa-sdp: scaled "
                        "dot-product self-attention; sa-wma: weighted multiplicative attention (Q·Wm·Kᵀ); l-dft / l-dct: "
                        "linear transform over the sequence (real DFT / DCT-II); c-5 / c-9 / c-13: dynamic 1-D convolution "
                        "over the sequence with that kernel size",
                        ParamSpec::list("layer_heads", "the heads of one layer", ParamSpec::enumeration("head", "a head operation", head_kind_names()))
                            .min(1))
            .min(1),
        ParamSpec::list("head_dim",
                        "optional head dimensions, same shape as heads. Default: hidden / heads per head; when that does not "
                        "divide, the first (hidden mod heads) heads get one more, so the dims of a layer sum to its hidden size",
                        ParamSpec::list("layer_head_dims", "the head dimensions of one layer",
                                        ParamSpec::integer("dim", "a head dimension").unit("elements").greater_than(0))
                            .min(1))
            .min(1),
        ParamSpec::list("ff",
                        "the feed-forward stack of each layer: one list per layer of the hidden sizes f1..fm of its dense "
                        "layers (h -> f1 -> ... -> fm -> h, ff_activation after each fi) (explicit form)",
                        positive_int_list("layer_ff", "the feed-forward hidden sizes of one layer", "elements"))
            .min(1),
        ParamSpec::enumeration("ff_activation",
                               "the non-linearity after each feed-forward dense layer but the last: gelu (BERT, tanh "
                               "approximation) or relu (runs on ReLU MAC lanes)",
                               {"gelu", "relu"})
            .default_value("gelu"),
        ParamSpec::integer("sequence_length", "tokens per sequence").unit("tokens").greater_than(0).default_value(128),
        ParamSpec::integer("batch_size", "sequences per step (AccelTran's published batch is 4)").unit("sequences").greater_than(0).default_value(4),
        ParamSpec::integer("vocab_size", "rows of the token embedding (BERT WordPiece: 30522)").unit("tokens").greater_than(0).default_value(30522),
        ParamSpec::integer("max_position", "rows of the position embedding; must be >= sequence_length")
            .unit("positions")
            .greater_than(0)
            .default_value(512),
        ParamSpec::integer("type_vocab", "rows of the segment (token type) embedding").unit("segments").greater_than(0).default_value(2),
        ParamSpec::integer("num_classes", "classes of the classification head").unit("classes").min(2).default_value(2),
        ParamSpec::floating("layer_norm_eps", "epsilon added to the variance in every layer-norm").greater_than(0.0).default_value(1e-12),
        ParamSpec::floating("hidden_dropout",
                            "dropout rate (below 1) on the embeddings' output and on each layer's attention output and feed-forward output "
                            "before their residual adds (BERT: 0.1); 0 adds no dropout ops")
            .min(0.0)
            .max(1.0)
            .default_value(0.0),
        ParamSpec::floating("attention_dropout",
                            "dropout rate (below 1) on the attention probabilities of sa-sdp and sa-wma heads (BERT: 0.1); 0 adds no dropout ops")
            .min(0.0)
            .max(1.0)
            .default_value(0.0),
    };
}

std::string entries(std::size_t n) { return std::to_string(n) + (n == 1 ? " entry" : " entries"); }

std::string indexed(const std::string& name, std::size_t i) { return name + "[" + std::to_string(i) + "]"; }

std::int64_t positive(const Value& v, const std::string& path) {
    const std::int64_t x = v.as_int();
    if (x <= 0) throw ConfigError(path, path + " must be greater than 0, got " + std::to_string(x));
    return x;
}

HeadKind parse_head(const Value& v, const std::string& path) {
    const std::string& s = v.as_string();
    const auto& names = head_kind_names();
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == s) return static_cast<HeadKind>(i);
    throw ConfigError(path, "'" + s + "' is not a head operation (sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13)");
}

std::vector<LayerSpec> preset_layers(const std::string& preset) {
    struct Row {
        const char* name;
        int layers;
        std::int64_t hidden;
        std::int64_t heads;
        std::int64_t ff;
    };
    static constexpr Row rows[] = {
        {"bert-tiny", 2, 128, 2, 512},    {"bert-mini", 4, 256, 4, 1024},  {"bert-small", 4, 512, 8, 2048},
        {"bert-medium", 8, 512, 8, 2048}, {"bert-base", 12, 768, 12, 3072},
    };
    for (const Row& r : rows) {
        if (preset != r.name) continue;
        LayerSpec layer;
        layer.hidden = r.hidden;
        for (std::int64_t d : split_head_dims(r.hidden, r.heads)) layer.heads.push_back({HeadKind::sa_sdp, d});
        layer.ff = {r.ff};
        return std::vector<LayerSpec>(static_cast<std::size_t>(r.layers), layer);
    }
    throw ConfigError("preset", "'" + preset + "' is not a preset (bert-tiny, bert-mini, bert-small, bert-medium, bert-base)");
}

// Checks that `list` (the value of `key`) has one entry per layer.
const ValueList& per_layer(const Params& p, const std::string& key, std::size_t layers) {
    const ValueList& list = p.get_list(key);
    if (list.size() != layers)
        throw ConfigError(key, key + " has " + entries(list.size()) + " but layers is " + std::to_string(layers));
    return list;
}

std::vector<LayerSpec> explicit_layers(const Params& p) {
    for (const char* key : {"layers", "hidden", "heads", "ff"})
        if (!p.has(key))
            throw ConfigError(key, std::string(key) + " is missing: without a preset, give all of layers, hidden, heads and ff");
    const std::int64_t count = p.get_int("layers");
    if (count < 1) throw ConfigError("layers", "layers must be at least 1, got " + std::to_string(count));
    const auto n = static_cast<std::size_t>(count);
    const ValueList& hidden = per_layer(p, "hidden", n);
    const ValueList& heads = per_layer(p, "heads", n);
    const ValueList& ff = per_layer(p, "ff", n);
    const ValueList* head_dim = p.has("head_dim") ? &per_layer(p, "head_dim", n) : nullptr;

    std::vector<LayerSpec> layers(n);
    for (std::size_t l = 0; l < n; ++l) {
        LayerSpec& layer = layers[l];
        layer.hidden = positive(hidden[l], indexed("hidden", l));

        const std::string heads_path = indexed("heads", l);
        const ValueList& layer_heads = heads[l].as_list();
        if (layer_heads.empty()) throw ConfigError(heads_path, heads_path + " is empty: every layer needs at least one head");
        std::vector<std::int64_t> dims;
        if (head_dim != nullptr) {
            const std::string dim_path = indexed("head_dim", l);
            const ValueList& layer_dims = (*head_dim)[l].as_list();
            if (layer_dims.size() != layer_heads.size())
                throw ConfigError(dim_path, dim_path + " has " + entries(layer_dims.size()) + " but " + heads_path + " has " +
                                                entries(layer_heads.size()));
            for (std::size_t i = 0; i < layer_dims.size(); ++i) dims.push_back(positive(layer_dims[i], indexed(dim_path, i)));
        } else {
            const auto h = static_cast<std::int64_t>(layer_heads.size());
            if (h > layer.hidden)
                throw ConfigError(heads_path, heads_path + " has " + std::to_string(h) + " heads but hidden[" + std::to_string(l) + "] is " +
                                                  std::to_string(layer.hidden) +
                                                  ": the default head dimension hidden / heads would be 0; give fewer heads or head_dim");
            dims = split_head_dims(layer.hidden, h);
        }
        for (std::size_t i = 0; i < layer_heads.size(); ++i) layer.heads.push_back({parse_head(layer_heads[i], indexed(heads_path, i)), dims[i]});

        const std::string ff_path = indexed("ff", l);
        const ValueList& layer_ff = ff[l].as_list();
        if (layer_ff.empty()) throw ConfigError(ff_path, ff_path + " is empty: every layer needs at least one feed-forward size");
        for (std::size_t i = 0; i < layer_ff.size(); ++i) layer.ff.push_back(positive(layer_ff[i], indexed(ff_path, i)));
    }
    return layers;
}

// ---- graph construction -------------------------------------------------------------------------

// FNV-1a of an op name: its dropout seed (the top 53 bits, which a double attribute holds exactly).
std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char ch : s) {
        h ^= ch;
        h *= 0x100000001b3ull;
    }
    return h;
}

// GraphBuilder plus the composite blocks the family is made of. Shapes are copied before each op
// (GraphBuilder::shape returns a reference into a vector that op() may grow).
class Net {
public:
    explicit Net(double eps) : eps_(eps) {}

    GraphBuilder g;
    double attention_dropout = 0.0;  // the rate on attention probabilities

    Shape shape(TensorId t) const { return g.shape(t); }

    static Shape with_last(Shape s, std::int64_t last) {
        s.back() = last;
        return s;
    }

    // y = x·W + b, W [in, out] (weight `name.w`), b [out] (weight `name.b`). Ops `name.matmul`, `name`.
    TensorId dense(TensorId x, const std::string& name, std::int64_t out) {
        const Shape s = shape(x);
        const TensorId w = g.weight(name + ".w", {s.back(), out});
        const TensorId b = g.weight(name + ".b", {out});
        const TensorId m = g.op1(OpKind::matmul, name + ".matmul", {x, w}, with_last(s, out));
        return g.op1(OpKind::add, name, {m, b}, with_last(s, out));
    }

    // x·W without bias, W [in, out] named `weight`.
    TensorId linear(TensorId x, const std::string& name, const std::string& weight, std::int64_t out) {
        const Shape s = shape(x);
        const TensorId w = g.weight(weight, {s.back(), out});
        return g.op1(OpKind::matmul, name, {x, w}, with_last(s, out));
    }

    // Layer-norm over the last dim with `name.gamma`, `name.beta`.
    TensorId norm(TensorId x, const std::string& name) {
        const Shape s = shape(x);
        const TensorId gamma = g.weight(name + ".gamma", {s.back()});
        const TensorId beta = g.weight(name + ".beta", {s.back()});
        return g.op1(OpKind::layer_norm, name, {x, gamma, beta}, s, {{"eps", eps_}});
    }

    TensorId add(TensorId a, TensorId b, const std::string& name) { return g.op1(OpKind::add, name, {a, b}, shape(a)); }

    // softmax(scale · x) over the last dim; with a padding mask [B, S] (>= 0), padding keys get 0.
    TensorId softmax(TensorId x, const std::string& name, double scale, TensorId mask = -1) {
        std::vector<TensorId> inputs{x};
        if (mask >= 0) inputs.push_back(mask);
        return g.op1(OpKind::softmax, name, inputs, shape(x), {{"scale", scale}, {"causal", 0.0}});
    }

    // Dropout at `rate`, seeded by the op's name so that every op draws its own masks; x itself
    // when the rate is 0 (no op).
    TensorId dropout(TensorId x, const std::string& name, double rate) {
        if (rate == 0.0) return x;
        return g.op1(OpKind::dropout, name, {x}, shape(x), {{"p", rate}, {"seed", static_cast<double>(fnv1a(name) >> 11)}});
    }

    // [B, S, d] x [B, S, d]ᵀ -> [B, S, S]
    TensorId scores(TensorId q, TensorId k, const std::string& name) {
        Shape s = shape(q);
        s.back() = s[s.size() - 2];
        return g.op1(OpKind::matmul, name, {q, k}, s, {{"transpose_a", 0.0}, {"transpose_b", 1.0}});
    }

    // [B, S, S] x [B, S, d] -> [B, S, d]
    TensorId mix(TensorId p, TensorId v, const std::string& name) { return g.op1(OpKind::matmul, name, {p, v}, shape(v)); }

private:
    double eps_;
};

// One head on x [B, S, h]; returns [B, S, d]. `p` is the head's name prefix ("layer3.head1").
// Every op that mixes positions takes the padding mask [B, S], so padding never reaches a real
// token: attention gives padding keys probability 0, the linear transforms cover the real
// tokens only, and the convolutions read no padding position.
TensorId build_head(Net& net, TensorId x, TensorId mask, const HeadSpec& head, const std::string& p) {
    const std::int64_t d = head.dim;
    switch (head.kind) {
        case HeadKind::sa_sdp:
        case HeadKind::sa_wma: {
            const TensorId q = net.dense(x, p + ".q", d);
            const TensorId k = net.dense(x, p + ".k", d);
            const TensorId v = net.dense(x, p + ".v", d);
            const TensorId left = head.kind == HeadKind::sa_wma ? net.linear(q, p + ".qw", p + ".wm", d) : q;
            const TensorId s = net.scores(left, k, p + ".scores");
            const TensorId probs = net.softmax(s, p + ".probs", 1.0 / std::sqrt(static_cast<double>(d)), mask);
            return net.mix(net.dropout(probs, p + ".dropout", net.attention_dropout), v, p + ".context");
        }
        case HeadKind::l_dft:
        case HeadKind::l_dct: {
            const TensorId v = net.dense(x, p + ".v", d);
            const double variant = head.kind == HeadKind::l_dft ? 0.0 : 1.0;
            return net.g.op1(OpKind::seq_transform, p + ".transform", {v, mask}, net.shape(v), {{"variant", variant}, {"transpose", 0.0}});
        }
        case HeadKind::c_5:
        case HeadKind::c_9:
        case HeadKind::c_13: {
            const std::int64_t kernel = head.kind == HeadKind::c_5 ? 5 : head.kind == HeadKind::c_9 ? 9 : 13;
            const TensorId v = net.dense(x, p + ".v", d);
            const TensorId logits = net.dense(v, p + ".kernel_logits", kernel);
            const TensorId w = net.softmax(logits, p + ".kernel", 1.0);
            return net.g.op1(OpKind::conv1d, p + ".conv", {v, w, mask}, net.shape(v));
        }
    }
    throw InternalError("models.flexibert: unhandled head kind");
}

}  // namespace

const char* to_string(HeadKind k) { return head_kind_names().at(static_cast<std::size_t>(k)).c_str(); }

std::vector<std::int64_t> split_head_dims(std::int64_t hidden, std::int64_t heads) {
    std::vector<std::int64_t> dims(static_cast<std::size_t>(heads), hidden / heads);
    for (std::int64_t i = 0; i < hidden % heads; ++i) ++dims[static_cast<std::size_t>(i)];
    return dims;
}

FlexiBertConfig read_flexibert_config(const Params& p) {
    FlexiBertConfig c;
    std::vector<std::string> given;
    for (const auto& key : explicit_keys())
        if (p.has(key)) given.push_back(key);
    if (p.has("preset")) {
        if (!given.empty()) {
            std::string list;
            for (const auto& k : given) list += (list.empty() ? "" : ", ") + k;
            throw ConfigError("preset", "give either preset or layers/hidden/heads/ff, not both (" + list + (given.size() == 1 ? " is" : " are") +
                                            " also given)");
        }
        c.layers = preset_layers(p.get_string("preset"));
    } else {
        if (given.empty()) throw ConfigError("preset", "give either preset or layers/hidden/heads/ff; neither is given");
        c.layers = explicit_layers(p);
    }
    c.sequence_length = positive(p.get("sequence_length"), "sequence_length");
    c.batch_size = positive(p.get("batch_size"), "batch_size");
    c.vocab_size = positive(p.get("vocab_size"), "vocab_size");
    c.max_position = positive(p.get("max_position"), "max_position");
    c.type_vocab = positive(p.get("type_vocab"), "type_vocab");
    c.num_classes = p.get_int("num_classes");
    if (c.num_classes < 2) throw ConfigError("num_classes", "num_classes must be at least 2, got " + std::to_string(c.num_classes));
    c.ff_relu = p.get_string("ff_activation") == "relu";
    c.layer_norm_eps = p.get_float("layer_norm_eps");
    if (!(c.layer_norm_eps > 0.0)) throw ConfigError("layer_norm_eps", "layer_norm_eps must be greater than 0");
    // The schema keeps the rates in [0, 1]; 1 itself has no meaning (y = x · 0 / 0).
    c.hidden_dropout = p.get_float("hidden_dropout");
    c.attention_dropout = p.get_float("attention_dropout");
    for (const auto& [key, rate] : {std::pair<const char*, double>{"hidden_dropout", c.hidden_dropout}, {"attention_dropout", c.attention_dropout}})
        if (!(rate < 1.0)) throw ConfigError(key, std::string(key) + " must be below 1: a rate of 1 would drop every element");
    if (c.sequence_length > c.max_position)
        throw ConfigError("sequence_length", "sequence_length " + std::to_string(c.sequence_length) + " exceeds max_position " +
                                                 std::to_string(c.max_position) + ": there is no position embedding beyond max_position");
    return c;
}

FlexiBert::FlexiBert(const Params& params) : config_(read_flexibert_config(params)) {}

ModelGraph FlexiBert::build_forward() const {
    const FlexiBertConfig& c = config_;
    const std::int64_t B = c.batch_size;
    const std::int64_t S = c.sequence_length;
    const int L = static_cast<int>(c.layers.size());
    Net net(c.layer_norm_eps);
    net.attention_dropout = c.attention_dropout;
    GraphBuilder& g = net.g;

    const TensorId input_ids = g.input("input_ids", {B, S}, true);
    const TensorId segment_ids = g.input("segment_ids", {B, S}, true);
    const TensorId position_ids = g.input("position_ids", {B, S}, true);
    const TensorId labels = g.input("labels", {B}, true);
    // 1 for the real tokens of each sequence, then 0 for its padding; 8-bit in storage.
    g.set_bits(8);
    const TensorId attention_mask = g.input("attention_mask", {B, S}, true);
    g.set_bits(32);

    // Embeddings.
    g.set_layer(model_section::embeddings);
    const std::int64_t h0 = c.layers.front().hidden;
    const TensorId token_table = g.weight("embeddings.token.table", {c.vocab_size, h0});
    const TensorId position_table = g.weight("embeddings.position.table", {c.max_position, h0});
    const TensorId segment_table = g.weight("embeddings.segment.table", {c.type_vocab, h0});
    const TensorId tok = g.op1(OpKind::embedding, "embeddings.token", {input_ids, token_table}, {B, S, h0});
    const TensorId pos = g.op1(OpKind::embedding, "embeddings.position", {position_ids, position_table}, {B, S, h0});
    const TensorId seg = g.op1(OpKind::embedding, "embeddings.segment", {segment_ids, segment_table}, {B, S, h0});
    const TensorId sum = net.add(net.add(tok, pos, "embeddings.token_position"), seg, "embeddings.sum");
    TensorId x = net.dropout(net.norm(sum, "embeddings.norm"), "embeddings.dropout", c.hidden_dropout);

    // Encoder layers.
    std::int64_t h_prev = h0;
    for (int l = 0; l < L; ++l) {
        const LayerSpec& layer = c.layers[static_cast<std::size_t>(l)];
        const std::string p = "layer" + std::to_string(l);
        const std::int64_t h = layer.hidden;
        g.set_layer(l);
        if (h != h_prev) x = net.dense(x, p + ".projection", h);

        std::vector<TensorId> outs;
        std::int64_t width = 0;
        for (std::size_t i = 0; i < layer.heads.size(); ++i) {
            outs.push_back(build_head(net, x, attention_mask, layer.heads[i], p + ".head" + std::to_string(i)));
            width += layer.heads[i].dim;
        }
        const TensorId heads = outs.size() == 1 ? outs.front() : g.op1(OpKind::concat, p + ".attention.concat", outs, {B, S, width});
        const TensorId attn = net.dropout(net.dense(heads, p + ".attention.out", h), p + ".attention.dropout", c.hidden_dropout);
        x = net.norm(net.add(attn, x, p + ".attention.residual"), p + ".attention.norm");

        TensorId f = x;
        for (std::size_t j = 0; j < layer.ff.size(); ++j) {
            const std::string name = p + ".ff." + std::to_string(j);
            f = net.dense(f, name, layer.ff[j]);
            f = c.ff_relu ? g.op1(OpKind::relu, name + ".relu", {f}, net.shape(f)) : g.op1(OpKind::gelu, name + ".gelu", {f}, net.shape(f));
        }
        f = net.dense(f, p + ".ff." + std::to_string(layer.ff.size()), h);
        f = net.dropout(f, p + ".ff.dropout", c.hidden_dropout);
        x = net.norm(net.add(f, x, p + ".ff.residual"), p + ".ff.norm");
        h_prev = h;
    }

    // Pooler: the first token's hidden state, dense, tanh. The slice drops the length-1 axis.
    g.set_layer(model_section::pooler(L));
    const TensorId first = g.op1(OpKind::slice, "pooler.first_token", {x}, {B, h_prev},
                                 {{"axis", 1.0}, {"start", 0.0}, {"length", 1.0}, {"squeeze", 1.0}});
    const TensorId pooled_pre = net.dense(first, "pooler.dense", h_prev);
    const TensorId pooled = g.op1(OpKind::tanh, "pooler.tanh", {pooled_pre}, {B, h_prev});

    // Task head: classifier and loss.
    g.set_layer(model_section::task_head(L));
    const TensorId logits = net.dense(pooled, "classifier", c.num_classes);
    const TensorId loss = g.op1(OpKind::cross_entropy, "loss", {logits, labels}, {1});
    g.set_loss(loss);
    g.set_layer_count(L);
    return g.take();
}

Factory flexibert_factory() {
    return Factory{
        PluginKind::model,
        plugin_name,
        "FlexiBERT 2.0 heterogeneous BERT-style encoders (each layer its own width, heads and feed-forward stack), with BERT presets\n"
        "Give either `preset` (bert-tiny, bert-mini, bert-small, bert-medium, bert-base) or the explicit form: `layers`, and per\n"
        "layer `hidden`, `heads` (sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13 per head), `ff` (feed-forward sizes) and\n"
        "optionally `head_dim`.\n"
        "Head dimension: without head_dim, each head of a layer gets hidden / heads; when that does not divide, the first\n"
        "(hidden mod heads) heads get one more, so the dims sum to hidden (e.g. hidden 10, 3 heads -> 4, 3, 3). The output\n"
        "projection maps the sum of the head dims to hidden, so any head_dim is valid.\n"
        "Graph: token + position + segment embeddings and layer-norm; per layer a projection where the width changes, the\n"
        "heads, concat, output projection, residual and layer-norm, the feed-forward stack (GELU, or ReLU with\n"
        "ff_activation: relu), residual and layer-norm; a\n"
        "pooler (first token, dense, tanh) and a classifier with cross-entropy loss. hidden_dropout and attention_dropout\n"
        "(default 0: no ops) add dropout where BERT has it: after the embeddings' layer-norm, on sa-sdp/sa-wma attention\n"
        "probabilities, and on the attention and feed-forward outputs before their residual adds. Inputs: input_ids, segment_ids,\n"
        "position_ids (0..S-1 per sequence), attention_mask (1 for real tokens, then 0 for padding; every head masks\n"
        "the padding) and labels. c-k heads are a simplified ConvBERT dynamic convolution whose\n"
        "per-position kernels come from the head's own value projection (see plugins/models/README.md).",
        flexibert_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<FlexiBert>(params); },
    };
}

}  // namespace transcode::plugins::models
