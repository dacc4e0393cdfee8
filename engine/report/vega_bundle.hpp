// The vendored Vega, Vega-Lite and vega-embed bundles (third_party/vega), embedded in the binary:
// CMake generates vega_bundle.cpp from the files at build time (cmake/EmbedFiles.cmake), so a
// `transcode` binary needs no source tree or share/ folder to write a report.
#pragma once

#include <string_view>

namespace transcode::engine::embedded {

std::string_view vega();        ///< third_party/vega/vega.min.js
std::string_view vega_lite();   ///< third_party/vega/vega-lite.min.js
std::string_view vega_embed();  ///< third_party/vega/vega-embed.min.js

}  // namespace transcode::engine::embedded
