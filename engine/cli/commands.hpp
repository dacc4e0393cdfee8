// The `transcode` subcommands: run, validate, plugins list/describe, model describe,
// simulate, import acceltran-model/acceltran-config, tokenize, schema, accuracy fit, report, version.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace transcode::cli {

/// Everything the command line sets, filled in by CLI11.
struct Options {
    // run / validate
    std::string experiment;
    std::vector<std::string> files;
    std::string out_dir;
    std::vector<std::string> overrides;
    int threads = 0;
    bool quiet = false;
    bool resume = false;
    bool training = false;
    // simulate
    std::string model_file;
    std::string accelerator_file;
    std::string mode = "inference";
    std::string fidelity = "event";
    // import acceltran-config (and model_file: the companion experiment's model)
    std::string import_name;
    std::string import_out;
    std::string experiment_out;
    // tokenize
    std::string vocabulary;
    std::int64_t sequence_length = 128;
    std::vector<std::string> texts;
    // accuracy fit
    std::string csv;
    int folds = 5;
    std::uint64_t seed = 1;
    bool report = false;
    // report: -o FILE (default OUT_DIR/report.html); the folder is `experiment`
    std::string report_out;
    // plugins
    std::string kind;
    std::string plugin_name;
    bool json = false;
};

void add_commands(CLI::App& app, Options& options);

/// "transcode VERSION (SDK ABI N)", for `transcode version` and `transcode --version`.
std::string version_line();

/// Runs the subcommand that was parsed; returns the exit code.
int run_selected(CLI::App& app, const Options& options);

}  // namespace transcode::cli
