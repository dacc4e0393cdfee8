// Import of model dictionaries from the earlier AccelTran/TransCODE tools:
//   {"l": layers, "o": [[head op per head] per layer], "h": [hidden per layer],
//    "f": [[feed-forward sizes] per layer]}
// with head ops written type_variant_headdim: sa_sdp_64, sa_wma_64, l_dft_32, l_dct_32, c_9_64.
#pragma once

#include <filesystem>
#include <string>

namespace transcode::engine {

/// Reads the JSON dictionary at `file` and returns the equivalent model YAML (family flexibert).
/// Throws ConfigError with FILE:LINE:COL for malformed JSON, missing keys, lists that disagree
/// with the layer count, and head ops it does not know.
std::string import_acceltran_model(const std::filesystem::path& file);

}  // namespace transcode::engine
