// Output files written whole or not at all: a temporary file with a unique name beside the target
// (mkstemp, so two runs never share one), fsynced, renamed over the target, and the folder fsynced.
// A reader, or a run killed at any moment, sees the old file or the new one, never a mix.
#pragma once

#include <filesystem>
#include <string_view>

namespace transcode::engine {

/// Writes `bytes` to `file` atomically. `what` names the contents in the messages ("results":
/// "cannot write results"; empty: "cannot write"), `hint` says what to check when the temporary
/// file cannot be created. Errors: the temporary file cannot be created, or the rename fails (a
/// folder in the file's place): ConfigError `FILE: cannot write WHAT (HINT)` or
/// `FILE: cannot write WHAT: REASON`; a write or fsync fails part-way: Error
/// `FILE: write failed (disk full?)`, and nothing is left behind.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes, std::string_view what = "",
                           std::string_view hint = "is the output folder writable?");

}  // namespace transcode::engine
