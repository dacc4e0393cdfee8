// The plugin loader, on real built-in plugins and on deliberately broken ones.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <sys/stat.h>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "test_support.hpp"
#include "transcode/version.hpp"

using namespace transcode;
namespace fs = std::filesystem;

namespace {
fs::path broken(const std::string& name) { return fs::path(TRANSCODE_TEST_PLUGIN_DIR) / ("transcode-" + name + ".so"); }
}  // namespace

TEST_CASE("built-in plugins load from the folder next to the executable") {
    engine::PluginHost host;
    host.load_defaults();
    CHECK(host.find("pruning.dynaprop", PluginKind::pruning) != nullptr);
    CHECK(host.find("dynaprop", PluginKind::pruning) == host.find("pruning.dynaprop", PluginKind::pruning));
    CHECK(host.find("dynaprop", PluginKind::search) == nullptr);
    CHECK(host.find("random", PluginKind::search) != nullptr);
    CHECK(host.list(PluginKind::pruning).size() >= 3);
    CHECK(host.library_versions().count("pruning") == 1);
    // Loading the same file again is a no-op, not a duplicate.
    CHECK_NOTHROW(host.load_directory(engine::builtin_plugin_dir()));
}

TEST_CASE("a plugin built for another ABI is refused with the version message") {
    engine::PluginHost host;
    const auto f = broken("test-wrong-abi");
    CHECK_THROWS_WITH_AS(host.load_library(f), ("plugin '" + f.string() + "': built for SDK ABI 999, this engine supports " + std::to_string(TRANSCODE_SDK_ABI_VERSION)).c_str(), PluginError);
    CHECK(host.list().empty());
}

TEST_CASE("a library without a descriptor is refused") {
    engine::PluginHost host;
    const auto f = broken("test-no-descriptor");
    CHECK_THROWS_WITH_AS(host.load_library(f),
                         ("plugin '" + f.string() +
                          "': exports no 'transcode_plugin_descriptor'; is it a transcode plugin? (build it with transcode_add_plugin and TRANSCODE_PLUGIN)")
                             .c_str(),
                         PluginError);
}

TEST_CASE("a file that is not a shared library is refused") {
    engine::PluginHost host;
    const auto f = fs::path(TRANSCODE_TEST_FIXTURES) / "not-a-plugin.so";
    std::string msg;
    try {
        host.load_library(f);
    } catch (const PluginError& e) {
        msg = e.what();
    }
    CHECK(msg.rfind("plugin '" + f.string() + "': cannot be loaded as a shared library: ", 0) == 0);
    CHECK_THROWS_WITH_AS(host.load_library("/nonexistent/x.so"), "plugin '/nonexistent/x.so': no such file", PluginError);
}

TEST_CASE("a factory list that throws is reported with the library's name") {
    engine::PluginHost host;
    const auto f = broken("test-throwing-list");
    CHECK_THROWS_WITH_AS(host.load_library(f),
                         ("plugin '" + f.string() + "' (library 'throwinglist'): its factory list threw: deliberate failure while listing factories").c_str(),
                         PluginError);
}

TEST_CASE("a factory or a method that throws is reported with the plugin's name, the engine goes on") {
    engine::PluginHost host;
    host.load_library(broken("test-throwing"));
    const auto* in_create = host.find("throwing.in_create", PluginKind::pruning);
    REQUIRE(in_create != nullptr);
    CHECK_THROWS_WITH_AS(host.create<PruningStrategy>(*in_create, Params{}), "plugin 'throwing.in_create' failed in create(): deliberate failure in create",
                         PluginError);

    const auto* in_prune = host.find("throwing.in_prune", PluginKind::pruning);
    REQUIRE(in_prune != nullptr);
    auto strategy = host.create<PruningStrategy>(*in_prune, Params{});
    float data[4] = {1, 2, 3, 4};
    TensorView view{data, 2, 2, TensorRole::activation, "t"};
    CHECK_THROWS_WITH_AS(engine::call_plugin(strategy.name(), "prune", [&] { return strategy->prune(view, RunMode::training); }),
                         "plugin 'throwing.in_prune' failed in prune(): deliberate failure in prune", PluginError);

    const auto* wrong = host.find("throwing.wrong_interface", PluginKind::search);
    REQUIRE(wrong != nullptr);
    CHECK_THROWS_WITH_AS(host.create<SearchAlgorithm>(*wrong, Params{}),
                         ("plugin 'throwing.wrong_interface' (" + wrong->file.string() +
                          "): its factory returned an object that does not implement the search interface")
                             .c_str(),
                         PluginError);
}

TEST_CASE("two libraries registering the same name: the error names both files") {
    engine::PluginHost host;
    host.load_defaults();
    const auto* original = host.find_any("pruning.none");
    REQUIRE(original != nullptr);
    const auto f = broken("test-duplicate");
    CHECK_THROWS_WITH_AS(host.load_library(f),
                         ("plugin name 'pruning.none' is registered by both '" + original->file.string() + "' and '" + f.string() + "'").c_str(),
                         PluginError);
    // The failed library added nothing.
    CHECK(host.find_any("pruning.none")->file == original->file);
}

TEST_CASE("factory names must carry their library's prefix") {
    engine::PluginHost host;
    const auto f = broken("test-bad-name");
    CHECK_THROWS_WITH_AS(host.load_library(f), ("plugin '" + f.string() + "': factory name 'other.thing' must be 'badname.<component>'").c_str(),
                         PluginError);
}

TEST_CASE("a library that claims a built-in library's name is refused, naming both files") {
    engine::PluginHost host;
    host.load_defaults();
    const auto* builtin = host.find_any("acceltran.mac_lane");
    REQUIRE(builtin != nullptr);
    const auto f = broken("test-impostor");
    CHECK_THROWS_WITH_AS(host.load_library(f),
                         ("plugin '" + f.string() + "': its library name 'acceltran' is already taken by the built-in library '" + builtin->file.string() +
                          "'; give the library a name of its own (the first argument of TRANSCODE_PLUGIN)")
                             .c_str(),
                         PluginError);
    // The failed library added nothing, and the provenance stays the built-in's.
    CHECK(host.find_any("acceltran.impostor") == nullptr);
    CHECK(host.library_versions().at("acceltran") == builtin->version);

    // In an experiment's plugins: list, it is a located plugin error (exit 2).
    test::TempDir dir;
    const auto exp = dir.write("exp.yaml", "experiment: claim\nkind: sparsity_probe\nplugins: [" + f.string() + "]\n");
    const auto r = test::run_cli("validate " + exp.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(exp.string() + ":3:11: error: plugins[0]: plugin '" + f.string() + "': its library name 'acceltran' is already taken by the built-in library '") !=
          std::string::npos);
}

TEST_CASE("a plugin that calls exit(0) mid-run does not make the run report success") {
    test::TempDir dir;
    const auto exp = dir.write("exp.yaml", "experiment: leaves\nkind: sparsity_probe\nplugins: [" + std::string(TRANSCODE_TEST_PLUGIN_DIR) +
                                               "/transcode-test-exits.so]\npruning:\n  plugin: exits.in_prune\n");
    const auto r = test::run_cli("run " + exp.string() + " -q --out " + (dir.path() / "out").string());
    CHECK(r.exit_code == 1);
    CHECK(r.output == "error: exit() was called before the command finished (by a plugin?); the command did not complete, so it failed and wrote no "
                      "results.json\n");
    CHECK_FALSE(fs::exists(dir.path() / "out" / "results.json"));
}

TEST_CASE("a self-contradicting parameter schema is refused at load time") {
    engine::PluginHost host;
    const auto f = broken("test-bad-schema");
    CHECK_THROWS_WITH_AS(host.load_library(f), "plugin 'badschema.thing': parameter 'mode' has a default that is not a valid enum", PluginError);
}

TEST_CASE("objects keep their library loaded after the host is gone") {
    engine::PluginPtr<PruningStrategy> strategy;
    {
        engine::PluginHost host;
        host.load_defaults();
        const auto* info = host.find("dynaprop", PluginKind::pruning);
        REQUIRE(info != nullptr);
        strategy = host.create<PruningStrategy>(*info, config::parse_params(info->schema, "tau_i_train: 0.5"));
    }
    // The host (and its registry) is destroyed; the object still runs code from its library.
    float data[4] = {0.1f, -0.2f, 0.7f, -0.9f};
    const PruneStats s = strategy->prune(TensorView{data, 1, 4, TensorRole::activation, "t"}, RunMode::training);
    CHECK(s.zeros == 2);
    CHECK(data[2] == 0.7f);
}

TEST_CASE("TRANSCODE_PLUGIN_PATH adds libraries, a bad entry is skipped with its reason and the others still load") {
    const std::string dir = TRANSCODE_TEST_PLUGIN_DIR;
    ::setenv("TRANSCODE_PLUGIN_PATH", (dir + "/transcode-test-throwing.so").c_str(), 1);
    engine::PluginHost host;
    host.load_defaults();
    CHECK(host.find_any("throwing.in_prune") != nullptr);
    CHECK(host.skipped().empty());
    // A missing entry and a foreign-ABI library, around a good one: both skipped, the good one and
    // the built-ins loaded.
    ::setenv("TRANSCODE_PLUGIN_PATH", ("/nonexistent/dir:" + dir + "/transcode-test-wrong-abi.so:" + dir + "/transcode-test-throwing.so").c_str(), 1);
    engine::PluginHost host2;
    CHECK_NOTHROW(host2.load_defaults());
    ::unsetenv("TRANSCODE_PLUGIN_PATH");
    CHECK(host2.find_any("throwing.in_prune") != nullptr);
    CHECK(host2.find_any("pruning.dynaprop") != nullptr);
    REQUIRE(host2.skipped().size() == 2);
    CHECK(host2.skipped()[0] == "TRANSCODE_PLUGIN_PATH entry '/nonexistent/dir' skipped: no such file or directory");
    CHECK(host2.skipped()[1].rfind("TRANSCODE_PLUGIN_PATH entry '" + dir + "/transcode-test-wrong-abi.so' skipped: plugin '", 0) == 0);
    CHECK(host2.skipped()[1].find("built for SDK ABI") != std::string::npos);
}

TEST_CASE("a FIFO or a device on TRANSCODE_PLUGIN_PATH is skipped, saying what it is, without blocking") {
    test::TempDir dir;
    const std::string fifo = (dir.path() / "plugin.fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto r = test::run_shell("TRANSCODE_PLUGIN_PATH=" + fifo + ":/dev/zero timeout 20 '" + std::string(TRANSCODE_CLI) + "' plugins list");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("warning: TRANSCODE_PLUGIN_PATH entry '" + fifo + "' skipped: plugin '" + fifo + "': is a FIFO (named pipe), not a regular file\n") !=
          std::string::npos);
    CHECK(r.output.find("warning: TRANSCODE_PLUGIN_PATH entry '/dev/zero' skipped: plugin '/dev/zero': is a character device, not a regular file\n") !=
          std::string::npos);
    CHECK(r.output.find("pruning.dynaprop") != std::string::npos);
}

TEST_CASE("transcode plugins list still works with a bad TRANSCODE_PLUGIN_PATH entry, and warns about it") {
    const auto r = test::run_cli("plugins list", "TRANSCODE_PLUGIN_PATH=/nonexistent/plugins");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("warning: TRANSCODE_PLUGIN_PATH entry '/nonexistent/plugins' skipped: no such file or directory\n") != std::string::npos);
    CHECK(r.output.find("pruning.dynaprop") != std::string::npos);
}

TEST_CASE("descriptor and factory mistakes each get their own message") {
    auto load_error = [](int variant) {
        engine::PluginHost host;
        try {
            host.load_library(broken("test-variant-" + std::to_string(variant)));
        } catch (const PluginError& e) {
            return std::string(e.what());
        }
        return std::string("(loaded)");
    };
    auto f = [](int variant) { return broken("test-variant-" + std::to_string(variant)).string(); };
    CHECK(load_error(1) == "plugin '" + f(1) + "': built with libc++, this engine uses libstdc++ with _GLIBCXX_USE_CXX11_ABI=1");
    CHECK(load_error(2) == "plugin '" + f(2) + "': its descriptor has no valid library name");
    CHECK(load_error(3) == "plugin '" + f(3) + "': its descriptor has no factory list");
    CHECK(load_error(4) == "plugin '" + f(4) + "' (library 'variant'): declares no factories");
    CHECK(load_error(5) == "plugin '" + f(5) + "': factory 'variant.nocreate' has no create function");
    CHECK(load_error(6) == "plugin '" + f(6) + "': declares 'variant.twice' twice");
    CHECK(load_error(7) == "(loaded)");
    CHECK(load_error(8) == "plugin 'variant.enum': parameter 'mode' is an enum with no choices");
    CHECK(load_error(9) == "plugin 'variant.unnamed': a parameter has an empty name");
    CHECK(load_error(10) == "plugin '" + f(10) + "' (library 'variant'): its factory list threw an unknown exception");
}

TEST_CASE("a factory that returns no object is reported") {
    engine::PluginHost host;
    host.load_library(broken("test-variant-7"));
    const auto* info = host.find_any("variant.null");
    REQUIRE(info != nullptr);
    CHECK_THROWS_WITH_AS(host.create<PruningStrategy>(*info, Params{}),
                         ("plugin 'variant.null' (" + info->file.string() + "): its factory returned no object").c_str(), PluginError);
}

TEST_CASE("a plugin directory that cannot be read") {
    engine::PluginHost host;
    CHECK_THROWS_WITH_AS(host.load_directory("/nonexistent/plugins"), "plugin directory '/nonexistent/plugins': No such file or directory", PluginError);
}

TEST_CASE("the docs quote the SDK ABI version the code has") {
    // Every "this engine supports N" example and "TRANSCODE_SDK_ABI_VERSION` (now N)" in the docs
    // a plugin author reads must say the version.hpp value.
    const std::filesystem::path root = TRANSCODE_SOURCE_DIR;
    std::size_t quotes = 0;
    for (const char* doc : {"sdk/README.md", "docs/plugin-guide.md", "examples/nm_pruning/README.md"}) {
        std::ifstream in(root / doc);
        REQUIRE_MESSAGE(in.good(), doc);
        std::stringstream text;
        text << in.rdbuf();
        const std::string s = text.str();
        const std::regex quoted(R"(this engine supports (\d+)|TRANSCODE_SDK_ABI_VERSION` \(now (\d+)\))");
        for (auto it = std::sregex_iterator(s.begin(), s.end(), quoted); it != std::sregex_iterator(); ++it) {
            const std::string n = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
            CAPTURE(doc);
            CHECK(std::stoul(n) == transcode::sdk_abi_version);
            ++quotes;
        }
    }
    CHECK(quotes >= 4);
}
