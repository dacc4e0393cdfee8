// Architecture features of a FlexiBERT model: the fixed-length vector the surrogate regresses on,
// and the descriptors its domain checks compare against the table.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "transcode/value.hpp"

namespace transcode::plugins::accuracy {

/// The features, in vector order (README.md, "Features", documents each one). The first
/// `kernel_feature_count` enter the Gaussian process's kernel; the rest only describe the model for
/// the domain checks (extrapolation, check_models), because they repeat what the kernel features
/// already say (hidden_max, hidden_first) or split a kernel feature by operation (share_l_dft, ...).
enum class Feature : std::size_t {
    log10_parameters,  ///< log10 of the encoder's weight count (embeddings, pooler, classifier excluded)
    log10_flops,       ///< log10 of the encoder's forward FLOPs for one sequence of sequence_length tokens
    layers,            ///< encoder layers L
    log2_hidden_mean,  ///< log2 of the mean hidden size over the layers
    log2_hidden_min,   ///< log2 of the narrowest layer
    log2_hidden_last,  ///< log2 of the last layer's hidden size (what the pooler sees)
    log2_ff_mean,      ///< log2 of the mean width of every feed-forward dense layer of every stack
    share_sa_sdp,      ///< fraction of all heads that are sa-sdp
    share_sa_wma,      ///< ... sa-wma
    share_linear,      ///< ... l-dft or l-dct
    share_conv,        ///< ... c-5, c-9 or c-13
    ff_relu,           ///< 1 when ff_activation is relu, 0 for gelu (the default)
    // descriptors only
    log2_hidden_max,   ///< log2 of the widest layer
    log2_hidden_first, ///< log2 of the first layer's hidden size
    ff_depth_mean,     ///< feed-forward dense layers (stack entries) per layer, averaged
    share_l_dft,       ///< fraction of all heads that are l-dft
    share_l_dct,       ///< ... l-dct
    share_c_5,         ///< ... c-5
    share_c_9,         ///< ... c-9
    share_c_13,        ///< ... c-13
    count_,
};

inline constexpr std::size_t feature_count = static_cast<std::size_t>(Feature::count_);
inline constexpr std::size_t kernel_feature_count = static_cast<std::size_t>(Feature::ff_relu) + 1;
using Features = std::array<double, feature_count>;

/// The feature names, in vector order ("log10_parameters", "log10_flops", ...).
const std::array<const char*, feature_count>& feature_names();

/// The features of FlexiBERT parameters given as a map: either `preset` (bert-tiny, bert-mini,
/// bert-small, bert-medium, bert-base) or `layers`, `hidden`, `heads`, `ff` and optionally
/// `head_dim`, with the types and shapes of models.flexibert's schema; `ff_activation` (gelu or
/// relu, default gelu), `sequence_length` (default 128) and the dropout rates (default 0) enter the
/// FLOPs. Other keys (batch_size, vocab_size, ...) do not change them and are ignored. Throws
/// ConfigError whose path is the offending key relative to the map ("hidden", "heads[1][0]") and
/// whose message says what is wrong with it.
Features flexibert_features(const Value& model);

/// The encoder's forward FLOPs for one sequence, op by op as engine/graph/op_costs.hpp counts them
/// on the graph models.flexibert builds (the layers 0..L-1 only: embeddings, pooler and task head
/// excluded). Same input rules as flexibert_features.
double encoder_flops_per_sequence(const Value& model);

/// The encoder's weight count (same rules; embeddings, pooler and classifier excluded).
double encoder_parameters(const Value& model);

/// Whether `key` is one of models.flexibert's parameter names (architecture or not).
bool is_flexibert_key(const std::string& key);

}  // namespace transcode::plugins::accuracy
