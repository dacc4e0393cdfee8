// Shared by the fuzz targets: the plugin host, the scratch paths, and the checks that turn a
// quietly wrong result into a finding.
//
// Outcome policy: ConfigError and PluginError are the expected answers to bad input. Any other
// exception escapes LLVMFuzzerTestOneInput and aborts (a finding), as do crashes, sanitizer
// reports, leaks, timeouts, and a failed check() below.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

#include "plugin_host/plugin_host.hpp"
#include "transcode/sdk.hpp"

namespace transcode::fuzz {

/// Where `include:` and `plugins:` entries of fuzz inputs resolve: the shipped experiments
/// folder (read only), so that seeds taken from it include the real model files. The input
/// itself is named as a file in that folder, which is never created.
inline const std::filesystem::path& base_dir() {
    static const std::filesystem::path dir = TRANSCODE_FUZZ_BASE_DIR;
    return dir;
}
inline std::string input_name() { return (base_dir() / "fuzz-input.yaml").string(); }

/// One host with the real built-in plugins (<exe dir>/../lib/transcode/plugins), loaded once.
/// TRANSCODE_PLUGIN_PATH is deliberately ignored, so that a run depends only on the build.
inline engine::PluginHost& host() {
    static engine::PluginHost h;
    static const bool loaded = [] {
        h.load_directory(engine::builtin_plugin_dir());
        if (h.list().empty()) {
            std::fprintf(stderr, "fuzz: no built-in plugins in %s\n", engine::builtin_plugin_dir().c_str());
            std::abort();
        }
        return true;
    }();
    (void)loaded;
    return h;
}

/// A failed invariant: prints it and aborts, which libFuzzer reports as a crash.
/// A private scratch folder for targets whose parser reads a file, removed at exit; returns the
/// path of `name` inside it (one folder per process and target).
inline const std::filesystem::path& scratch_file(const std::string& target, const std::string& name) {
    struct ScratchDir {
        std::filesystem::path dir;
        explicit ScratchDir(std::filesystem::path d) : dir(std::move(d)) { std::filesystem::create_directories(dir); }
        ~ScratchDir() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    };
    static const ScratchDir scratch(std::filesystem::temp_directory_path() / ("transcode-" + target + "-" + std::to_string(::getpid())));
    static const std::filesystem::path file = scratch.dir / name;
    return file;
}

/// With TRANSCODE_FUZZ_VERBOSE set, a target says what became of each input (on stderr), to check
/// by hand that seeds reach the accepted paths; silent otherwise.
inline void note(std::string_view what) {
    static const bool verbose = std::getenv("TRANSCODE_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
}

[[noreturn]] inline void fail(std::string_view what) {
    std::fprintf(stderr, "fuzz invariant violated: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

inline void check(bool ok, std::string_view what) {
    if (!ok) fail(what);
}

/// A ConfigError's first line must be located: "FILE:LINE:COL: error: ..." with LINE, COL >= 1.
inline void check_located(std::string_view message) {
    auto check = [&](bool ok, std::string_view what) {
        if (!ok) fail(std::string(what) + " in:\n" + std::string(message));
    };
    const auto err = message.find(": error: ");
    check(err != std::string_view::npos, "ConfigError without ': error: '");
    const std::string_view head = message.substr(0, err);  // FILE:LINE:COL
    const auto c2 = head.rfind(':');
    check(c2 != std::string_view::npos && c2 > 0, "ConfigError without a column");
    const auto c1 = head.rfind(':', c2 - 1);
    check(c1 != std::string_view::npos && c1 > 0, "ConfigError without a line");
    auto positive = [](std::string_view digits) {
        if (digits.empty() || digits.size() > 9) return false;
        for (char c : digits)
            if (c < '0' || c > '9') return false;
        return std::stol(std::string(digits)) >= 1;
    };
    check(positive(head.substr(c1 + 1, c2 - c1 - 1)), "ConfigError line is not >= 1");
    check(positive(head.substr(c2 + 1)), "ConfigError column is not >= 1");
}

/// `v` conforms to `spec`: the declared type, within range, among the choices, recursively.
inline void check_conforms(const Value& v, const ParamSpec& spec, const std::string& path);

/// Validated params hold exactly the declared names, every default and required one present,
/// each conforming to its spec.
inline void check_conforms(const ValueMap& values, const ParamSchema& schema, const std::string& path) {
    for (const auto& [name, v] : values) {
        bool declared = false;
        for (const auto& s : schema) declared = declared || s.name() == name;
        check(declared, "validated params hold an undeclared name: " + path + name);
    }
    for (const auto& spec : schema) {
        const auto it = values.find(spec.name());
        if (it == values.end()) {
            check(!spec.is_required(), "a required parameter is missing: " + path + spec.name());
            check(!spec.default_value(), "a default was not applied: " + path + spec.name());
            check(spec.type() != ParamType::map || spec.fields() == nullptr, "a closed map section is missing: " + path + spec.name());
            continue;
        }
        check_conforms(it->second, spec, path + spec.name());
    }
}

inline void check_conforms(const Value& v, const ParamSpec& spec, const std::string& path) {
    auto in_range = [&](double x) {
        if (spec.min() && (spec.min_exclusive() ? !(x > *spec.min()) : x < *spec.min())) return false;
        if (spec.max() && x > *spec.max()) return false;
        return true;
    };
    switch (spec.type()) {
        case ParamType::boolean: check(v.is_bool(), "not a bool: " + path); break;
        case ParamType::integer:
            check(v.is_int(), "not an int: " + path);
            check(in_range(static_cast<double>(v.as_int())), "int out of range: " + path);
            break;
        case ParamType::floating:
            check(v.is_float() || v.is_int(), "not a float: " + path);
            check(in_range(v.as_float()), "float out of range: " + path);
            break;
        case ParamType::string: check(v.is_string(), "not a string: " + path); break;
        case ParamType::enumeration: {
            check(v.is_string(), "enum not a string: " + path);
            bool found = false;
            for (const auto& c : spec.choices()) found = found || c == v.as_string();
            check(found, "enum value not among the choices: " + path);
            break;
        }
        case ParamType::list: {
            check(v.is_list(), "not a list: " + path);
            check(in_range(static_cast<double>(v.as_list().size())), "list length out of range: " + path);
            std::size_t i = 0;
            for (const auto& x : v.as_list()) check_conforms(x, *spec.element(), path + "[" + std::to_string(i++) + "]");
            break;
        }
        case ParamType::map:
            check(v.is_map(), "not a map: " + path);
            if (spec.fields() != nullptr) check_conforms(v.as_map(), *spec.fields(), path + ".");
            break;
    }
}

}  // namespace transcode::fuzz
