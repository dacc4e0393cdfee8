// Regressions found by the fuzzers (tests/fuzz): each input that crashed, hung or gave a wrong
// answer is committed under tests/fuzz/regressions/TARGET/ and pinned here by its exact message.
// The fuzz-replay-* CTest tests also run those files through the fuzz targets themselves.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "config/node.hpp"
#include "config/schema_validation.hpp"
#include "experiment/experiment.hpp"
#include "report/results.hpp"
#include "test_support.hpp"

using namespace transcode;

namespace {

const std::string regressions = TRANSCODE_SOURCE_DIR "/tests/fuzz/regressions";

// Loads `text` as the experiment `in.yaml` (includes relative to `base_dir`), applies the
// overrides, and returns the ConfigError text, or "" when the experiment is valid.
std::string errors(const std::string& text, const std::vector<std::string>& overrides = {}, const std::string& base_dir = ".") {
    config::Diagnostics diags;
    config::Node root = config::load_string(text, "in.yaml", diags, base_dir);
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    try {
        engine::load_experiment(std::move(root), std::move(diags), "in.yaml", test::builtin_plugins());
        return "";
    } catch (const ConfigError& e) {
        return e.what();
    }
}

std::string file_errors(const std::string& name) { return errors(test::read_file(regressions + "/fuzz_experiment/" + name)); }

const std::string minimal = "experiment: x\nkind: sparsity_probe\n";

bool has_line(const std::string& text, const std::string& line) {
    const bool found = ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
    if (!found) MESSAGE("looked for: " << line << "\nin: " << text);
    return found;
}

}  // namespace

TEST_CASE("regression: an empty or comment-only document is located at 1:1, not 0:0") {
    // yaml-cpp gives an empty document a null mark (line and column -1).
    CHECK(file_errors("empty-document.yaml") == "in.yaml:1:1: error: (document): an experiment must be a map, got null (type)");
    CHECK(file_errors("comment-only.yaml") == "in.yaml:1:1: error: (document): an experiment must be a map, got null (type)");
    CHECK(errors("", {"seed=1", "experiment=x", "kind=sparsity_probe"}) == "");
}

TEST_CASE("regression: text that is not UTF-8 is refused where it stands, not when results.json is written") {
    // Before: accepted, run, then `[json.exception.type_error.316] invalid UTF-8 byte` and exit 1.
    CHECK(file_errors("invalid-utf8-name.yaml") ==
          "in.yaml:1:13: error: experiment: this value is not valid UTF-8 (byte 1 is 0x91); YAML text must be UTF-8 (encoding)");
    CHECK(file_errors("invalid-utf8-key.yaml") ==
          "in.yaml:5:12: error: pruning.params: this key is not valid UTF-8 (byte 2 is 0xE9); YAML text must be UTF-8 (encoding)");
    CHECK(errors(minimal, {"description=caf\xe9"}) ==
          "--set:1:13: error: description: this value is not valid UTF-8 (byte 4 is 0xE9); YAML text must be UTF-8 (encoding)");
    CHECK(errors(minimal, {"pruning.params.t\xff=1"}) ==
          "--set:1:16: error: pruning.params.t\xff: this key is not valid UTF-8 (byte 2 is 0xFF); YAML text must be UTF-8 (encoding)");
    // Valid multi-byte text, and \x escapes (which YAML turns into UTF-8), are accepted and serialise.
    config::Diagnostics diags;
    config::Node root = config::load_string(minimal + "description: \"caf\\xe9 \xe2\x82\xac \xf0\x9f\x98\x80\"\n", "in.yaml", diags);
    const auto ex = engine::load_experiment(std::move(root), std::move(diags), "in.yaml", test::builtin_plugins());
    CHECK(ex.description == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK_NOTHROW((void)engine::to_json(ex.resolved).dump());
}

TEST_CASE("regression: overlong forms, surrogates and code points above U+10FFFF are not UTF-8") {
    for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xe2\x82", "\x80"}) {
        CAPTURE(bad);
        CHECK(errors(minimal + "description: \"" + bad + "\"\n").find("is not valid UTF-8 (byte 1 is 0x") != std::string::npos);
    }
}

TEST_CASE("regression: an alias inside its own anchor is refused, not an endless recursion") {
    // Before: a stack overflow (SIGSEGV) in the YAML-to-Node conversion.
    CHECK(has_line(file_errors("alias-cycle.yaml"),
                   "in.yaml:1:4: error: a[0]: this alias refers to a node that contains it, so it would nest without end (alias)"));
    CHECK(errors(minimal, {"seed=&a [*a]"}) ==
          "--set:1:6: error: seed[0]: this alias refers to a node that contains it, so it would nest without end (alias)\n"
          "--set:1:6: error: seed: expected an int, got a list (type)");
}

TEST_CASE("regression: aliases that expand exponentially stop at 100000 values") {
    // Before: 9 lines of nested aliases expanded to 10^9 values: 4 GB, then std::bad_alloc.
    CHECK(has_line(file_errors("alias-expansion.yaml"),
                   "in.yaml:1:37: error: l4[7][8][8][8][9]: the document holds more than 100000 values (each use of an alias counts in full) (limit)"));
}

TEST_CASE("regression: nesting deeper than 100 levels is refused with one located error") {
    std::string path = "a";
    for (int i = 0; i < 99; ++i) path += "[0]";  // the document root is the first of the 100 levels
    const std::string deep = file_errors("nesting-150.yaml");
    CHECK(has_line(deep, "in.yaml:1:103: error: " + path + ": nested more than 100 levels deep (limit)"));
    CHECK(deep.find("nested more than", deep.find("nested more than") + 1) == std::string::npos);  // once
    // Deeper than yaml-cpp's own guard: before, "malformed YAML: bad file (syntax)".
    CHECK(file_errors("nesting-3000-unclosed.yaml") == "in.yaml:2:1: error: (document): nested more than 100 levels deep (limit)");
    CHECK(errors(minimal, {"description=" + std::string(3000, '[')}) == "--set:1:13: error: description: nested more than 100 levels deep (limit)");
    // 100 levels are fine (the limit is on collections, the scalar inside is the 101st node).
    CHECK(errors(minimal + "description: x\nplugins: " + std::string(99, '[') + std::string(99, ']') + "\n").find("nested more than") == std::string::npos);
}

TEST_CASE("regression: an include whose name the file system rejects is an include error, not a crash") {
    // Before: std::filesystem::filesystem_error "File name too long" escaped from load_string.
    const std::string name(300, 'a');
    CHECK(file_errors("include-name-too-long.yaml") ==
          "in.yaml:3:10: error: include: included file '" + name + ".yaml' cannot be read: File name too long (include)");
    CHECK(file_errors("plugin-name-too-long.yaml") ==
          "in.yaml:3:11: error: plugins[0]: plugin '" + std::string(300, 'p') + ".so': no such file (plugin)");
}

TEST_CASE("regression: a --set value that is empty is located at the value") {
    CHECK(errors(minimal, {"seed="}) == "--set:1:6: error: seed: expected an int, got nothing (type)");
}
