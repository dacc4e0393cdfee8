// models.flexibert: FlexiBERT 2.0 heterogeneous encoders (and the BERT presets) as forward graphs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transcode/model.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::models {

/// The operation of one attention head (FlexiBERT 2.0 names: sa-sdp, sa-wma, l-dft, l-dct, c-5,
/// c-9, c-13).
enum class HeadKind { sa_sdp, sa_wma, l_dft, l_dct, c_5, c_9, c_13 };

/// The head's name as the parameters spell it ("sa-sdp", ...).
const char* to_string(HeadKind k);

struct HeadSpec {
    HeadKind kind = HeadKind::sa_sdp;
    std::int64_t dim = 0;  ///< head dimension d
};

struct LayerSpec {
    std::int64_t hidden = 0;         ///< the layer's hidden size h
    std::vector<HeadSpec> heads;     ///< at least one
    std::vector<std::int64_t> ff;    ///< feed-forward hidden sizes f1..fm, at least one
};

/// A resolved model: every size explicit, checked.
struct FlexiBertConfig {
    std::vector<LayerSpec> layers;
    std::int64_t sequence_length = 0;
    std::int64_t batch_size = 0;
    std::int64_t vocab_size = 0;
    std::int64_t max_position = 0;
    std::int64_t type_vocab = 0;
    std::int64_t num_classes = 0;
    double layer_norm_eps = 0.0;
    bool ff_relu = false;            ///< ff_activation: relu (else gelu)
    double hidden_dropout = 0.0;     ///< embeddings, attention output, feed-forward output; 0 = no ops
    double attention_dropout = 0.0;  ///< attention probabilities of sa-sdp and sa-wma heads; 0 = no ops
};

/// The head dimensions used when `head_dim` is not given: hidden / heads each, and when that does
/// not divide, the first (hidden mod heads) heads are one larger, so the dims sum to hidden.
std::vector<std::int64_t> split_head_dims(std::int64_t hidden, std::int64_t heads);

/// Reads and checks the parameters (schema-validated already). Throws ConfigError with the
/// parameter path for mistakes the schema cannot express.
FlexiBertConfig read_flexibert_config(const Params& params);

class FlexiBert final : public ModelFamily {
public:
    explicit FlexiBert(const Params& params);

    ModelGraph build_forward() const override;

    const FlexiBertConfig& config() const { return config_; }

private:
    FlexiBertConfig config_;
};

/// The factory of models.flexibert: kind, name, doc, parameter schema and create function.
Factory flexibert_factory();

}  // namespace transcode::plugins::models
