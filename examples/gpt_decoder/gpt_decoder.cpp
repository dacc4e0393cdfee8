// gpt_decoder.gpt: a GPT-style decoder-only transformer family as a transcode model plugin, built
// out of tree against the installed SDK. GPT-2 layout: token + position embeddings; L pre-LN
// layers of causal multi-head self-attention and a GELU MLP, each with a residual; a final
// layer-norm; a language-model head over the vocabulary (tied to the token embedding by default).
//
// The engine derives the backward pass and the optimizer update from this forward graph, so the
// family supports training and inference alike. Regions between `[guide:NAME]` markers are copied
// verbatim into docs/plugin-guide.md (scripts/test-install.sh checks that they match).
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transcode/sdk.hpp"

namespace example_gpt {
namespace {

using namespace transcode;

constexpr const char* plugin_name = "gpt_decoder.gpt";

ParamSchema gpt_schema() {
    return {
        ParamSpec::integer("layers", "decoder layers").unit("layers").min(1).max(128).default_value(2),
        ParamSpec::integer("hidden", "hidden size (model width)").unit("elements").greater_than(0).default_value(128),
        ParamSpec::integer("heads", "attention heads per layer; must divide hidden").unit("heads").greater_than(0).default_value(2),
        ParamSpec::integer("ff", "hidden size of the MLP (GPT-2: 4 x hidden)").unit("elements").greater_than(0).default_value(512),
        ParamSpec::integer("sequence_length", "tokens per sequence (the context)").unit("tokens").greater_than(0).default_value(128),
        ParamSpec::integer("batch_size", "sequences per step").unit("sequences").greater_than(0).default_value(4),
        ParamSpec::integer("vocab_size", "rows of the token embedding (GPT-2 BPE: 50257)").unit("tokens").greater_than(0).default_value(50257),
        ParamSpec::integer("max_position", "rows of the position embedding; must be >= sequence_length")
            .unit("positions")
            .greater_than(0)
            .default_value(1024),
        ParamSpec::boolean("tie_embeddings", "the LM head reuses the token embedding table (transposed), as GPT-2 does").default_value(true),
        ParamSpec::enumeration("logits",
                               "positions the LM head computes logits for: all (a training step over every position) or last "
                               "(next-token prediction, as in generation). The loss is taken at the last position either way",
                               {"all", "last"})
            .default_value("all"),
        ParamSpec::floating("layer_norm_eps", "epsilon added to the variance in every layer-norm").greater_than(0.0).default_value(1e-5),
    };
}

struct GptConfig {
    std::int64_t layers, hidden, heads, ff, sequence_length, batch_size, vocab_size, max_position;
    bool tie_embeddings, all_logits;
    double eps;
};

// [guide:model-config]
GptConfig read_config(const Params& p) {
    GptConfig c{p.get_int("layers"),          p.get_int("hidden"),     p.get_int("heads"),         p.get_int("ff"),
                p.get_int("sequence_length"), p.get_int("batch_size"), p.get_int("vocab_size"),    p.get_int("max_position"),
                p.get_bool("tie_embeddings"), p.get_string("logits") == "all", p.get_float("layer_norm_eps")};
    // Rules across parameters: ConfigError with the path of the parameter to blame. The engine
    // reports it at that value's file:line:col ("model.params.heads").
    if (c.hidden % c.heads != 0)
        throw ConfigError("heads", "heads (" + std::to_string(c.heads) + ") must divide hidden (" + std::to_string(c.hidden) + ")");
    if (c.sequence_length > c.max_position)
        throw ConfigError("sequence_length", "sequence_length " + std::to_string(c.sequence_length) + " exceeds max_position " +
                                                 std::to_string(c.max_position));
    return c;
}
// [/guide:model-config]

class Gpt final : public ModelFamily {
public:
    explicit Gpt(const Params& params) : c_(read_config(params)) {}

    ModelGraph build_forward() const override;

private:
    // y = x·W + b over the last dimension: weights `name.w` [in, out] and `name.b` [out].
    TensorId dense(GraphBuilder& g, TensorId x, const std::string& name, std::int64_t out) const {
        Shape s = g.shape(x);  // a copy: op() may grow the tensor list that shape() refers into
        const TensorId w = g.weight(name + ".w", {s.back(), out});
        const TensorId b = g.weight(name + ".b", {out});
        s.back() = out;
        const TensorId m = g.op1(OpKind::matmul, name + ".matmul", {x, w}, s);
        return g.op1(OpKind::add, name, {m, b}, s);
    }

    TensorId norm(GraphBuilder& g, TensorId x, const std::string& name) const {
        const Shape s = g.shape(x);
        const TensorId gamma = g.weight(name + ".gamma", {s.back()});
        const TensorId beta = g.weight(name + ".beta", {s.back()});
        return g.op1(OpKind::layer_norm, name, {x, gamma, beta}, s, {{"eps", c_.eps}});
    }

    GptConfig c_;
};

// [guide:model-graph]
ModelGraph Gpt::build_forward() const {
    const std::int64_t B = c_.batch_size, S = c_.sequence_length, H = c_.hidden, d = c_.hidden / c_.heads;
    const int L = static_cast<int>(c_.layers);
    GraphBuilder g;
    const TensorId ids = g.input("input_ids", {B, S}, true);
    const TensorId positions = g.input("position_ids", {B, S}, true);
    const TensorId labels = g.input("labels", {B}, true);  // the token that follows each sequence

    g.set_layer(model_section::embeddings);
    const TensorId token_table = g.weight("embeddings.token.table", {c_.vocab_size, H});
    const TensorId position_table = g.weight("embeddings.position.table", {c_.max_position, H});
    const TensorId tok = g.op1(OpKind::embedding, "embeddings.token", {ids, token_table}, {B, S, H});
    const TensorId pos = g.op1(OpKind::embedding, "embeddings.position", {positions, position_table}, {B, S, H});
    TensorId x = g.op1(OpKind::add, "embeddings.sum", {tok, pos}, {B, S, H});

    for (int l = 0; l < L; ++l) {
        const std::string p = "layer" + std::to_string(l);
        g.set_layer(l);
        // Causal self-attention, pre-LN: x + out(concat_i softmax_causal(q_i k_iᵀ / √d) v_i).
        const TensorId a = norm(g, x, p + ".attention.norm");
        std::vector<TensorId> heads;
        for (std::int64_t i = 0; i < c_.heads; ++i) {
            const std::string h = p + ".head" + std::to_string(i);
            const TensorId q = dense(g, a, h + ".q", d), k = dense(g, a, h + ".k", d), v = dense(g, a, h + ".v", d);
            const TensorId scores = g.op1(OpKind::matmul, h + ".scores", {q, k}, {B, S, S}, {{"transpose_b", 1.0}});
            const TensorId probs = g.op1(OpKind::softmax, h + ".probs", {scores}, {B, S, S},
                                         {{"scale", 1.0 / std::sqrt(static_cast<double>(d))}, {"causal", 1.0}});
            heads.push_back(g.op1(OpKind::matmul, h + ".context", {probs, v}, {B, S, d}));
        }
        const TensorId concat = heads.size() == 1 ? heads.front() : g.op1(OpKind::concat, p + ".attention.concat", heads, {B, S, H});
        x = g.op1(OpKind::add, p + ".attention.residual", {dense(g, concat, p + ".attention.out", H), x}, {B, S, H});
        // MLP, pre-LN: x + W2·gelu(W1·ln(x)).
        const TensorId up = dense(g, norm(g, x, p + ".mlp.norm"), p + ".mlp.up", c_.ff);
        const TensorId act = g.op1(OpKind::gelu, p + ".mlp.gelu", {up}, {B, S, c_.ff});
        x = g.op1(OpKind::add, p + ".mlp.residual", {dense(g, act, p + ".mlp.down", H), x}, {B, S, H});
    }

    g.set_layer(model_section::pooler(L));  // the section after the layers: the final layer-norm
    x = norm(g, x, "final.norm");

    // LM head. cross_entropy takes [B, classes] logits and [B] labels, so the loss predicts the token
    // after each sequence from its last position; with logits: all the head still computes every
    // position's logits, as a training step over all positions does.
    g.set_layer(model_section::task_head(L));
    const std::int64_t rows = c_.all_logits ? S : 1;
    if (!c_.all_logits)
        x = g.op1(OpKind::slice, "lm_head.last_position", {x}, {B, 1, H}, {{"axis", 1.0}, {"start", double(S - 1)}, {"length", 1.0}});
    const TensorId table = c_.tie_embeddings ? token_table : g.weight("lm_head.w", {H, c_.vocab_size});
    const TensorId logits = g.op1(OpKind::matmul, "lm_head", {x, table}, {B, rows, c_.vocab_size},
                                  {{"transpose_b", c_.tie_embeddings ? 1.0 : 0.0}});
    const TensorId last = g.op1(OpKind::slice, "lm_head.next_token", {logits}, {B, c_.vocab_size},
                                {{"axis", 1.0}, {"start", double(rows - 1)}, {"length", 1.0}, {"squeeze", 1.0}});
    g.set_loss(g.op1(OpKind::cross_entropy, "loss", {last, labels}, {1}));
    g.set_layer_count(L);
    return g.take();
}
// [/guide:model-graph]

const FactoryList* factories() {
    static const FactoryList list{Factory{
        PluginKind::model,
        plugin_name,
        "GPT-style decoder-only transformer: causal self-attention and GELU MLP, pre-LN, LM head over the vocabulary\n"
        "GPT-2 layout: token + position embeddings; per layer x += attention(ln(x)) with causal softmax over heads of\n"
        "dimension hidden / heads, then x += mlp(ln(x)); a final layer-norm (reported in the section after the layers,\n"
        "which the report calls 'pooler') and the LM head, tied to the token embedding unless tie_embeddings is false.\n"
        "Inputs: input_ids and position_ids [batch, sequence], labels [batch] (the next token). The loss is the\n"
        "cross-entropy of the last position's prediction. GPT-2 small: layers 12, hidden 768, heads 12, ff 3072,\n"
        "max_position 1024 gives 124,439,808 parameters.",
        gpt_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Gpt>(params); },
    }};
    return &list;
}

}  // namespace
}  // namespace example_gpt

TRANSCODE_PLUGIN("gpt_decoder", "0.1.0", &example_gpt::factories)
