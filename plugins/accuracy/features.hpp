// Architecture features of a FlexiBERT model: the fixed-length vector the surrogate regresses on.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "transcode/value.hpp"

namespace transcode::plugins::accuracy {

/// The features, in vector order (README.md, "Features", documents each one).
enum class Feature : std::size_t {
    layers,             ///< encoder layers L
    hidden_mean,        ///< mean hidden size over the layers
    hidden_max,         ///< largest hidden size
    heads_total,        ///< heads summed over the layers
    heads_mean,         ///< heads per layer, averaged
    share_sa_sdp,       ///< fraction of all heads that are sa-sdp
    share_sa_wma,       ///< ... sa-wma
    share_linear,       ///< ... l-dft or l-dct
    share_conv,         ///< ... c-5, c-9 or c-13
    ff_width_mean,      ///< mean feed-forward width over every dense layer of every stack
    ff_depth_total,     ///< feed-forward dense layers (stack entries) summed over the layers
    log10_parameters,   ///< log10 of the encoder's weight count (embeddings, pooler, classifier excluded)
    count_,
};

inline constexpr std::size_t feature_count = static_cast<std::size_t>(Feature::count_);
using Features = std::array<double, feature_count>;

/// The feature names, in vector order ("layers", "hidden_mean", ...).
const std::array<const char*, feature_count>& feature_names();

/// The features of FlexiBERT parameters given as a map: either `preset` (bert-tiny, bert-mini,
/// bert-small, bert-medium, bert-base) or `layers`, `hidden`, `heads`, `ff` and optionally
/// `head_dim`, with the types and shapes of models.flexibert's schema. Other keys (sequence_length,
/// batch_size, ...) do not change the architecture and are ignored. Throws ConfigError whose path
/// is the offending key relative to the map ("hidden", "heads[1][0]") and whose message says what
/// is wrong with it.
Features flexibert_features(const Value& model);

/// Whether `key` is one of models.flexibert's parameter names (architecture or not).
bool is_flexibert_key(const std::string& key);

}  // namespace transcode::plugins::accuracy
