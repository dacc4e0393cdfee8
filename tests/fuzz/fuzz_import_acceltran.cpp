// fuzz_import_acceltran: bytes -> an AccelTran model dictionary (JSON) -> import_acceltran_model.
//
// The importer reads a file, so each input is written to a scratch file first. A ConfigError is
// the expected answer to a bad dictionary. An accepted one must give YAML that transcode reads
// back without a single syntax or encoding error, as a map with name, family and params whose
// layer count is the dictionary's; resolving that model may still fail, but only with located
// ConfigErrors or PluginErrors (never a crash or another exception).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <unistd.h>

#include "config/node.hpp"
#include "fuzz_support.hpp"
#include "importers/acceltran_model.hpp"
#include "model/model_file.hpp"

using namespace transcode;
namespace fs = std::filesystem;

namespace {

const fs::path& scratch_file() { return fuzz::scratch_file("fuzz-import", "model.json"); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::host();
    scratch_file();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::string yaml;
    try {
        yaml = engine::import_acceltran_model(scratch_file());
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
        return 0;
    }
    config::Diagnostics diags;
    const config::Node root = config::load_string(yaml, "imported.yaml", diags);
    if (!diags.empty()) fuzz::fail("the imported YAML does not read back:\n" + diags.format() + "\n" + yaml);
    const config::Node* params = root.find("params");
    fuzz::check(root.kind == config::Node::Kind::map && root.find("name") && root.find("family") && params != nullptr,
                "the imported YAML lacks name, family or params:\n" + yaml);
    const config::Node* layers = params->find("layers");
    const config::Node* hidden = params->find("hidden");
    fuzz::check(layers != nullptr && hidden != nullptr && hidden->kind == config::Node::Kind::sequence &&
                    layers->scalar == std::to_string(hidden->items.size()),
                "the imported layer count does not match its hidden sizes:\n" + yaml);
    try {
        (void)engine::resolve_model(root, "", fuzz::host(), diags);
    } catch (const PluginError&) {
    }
    if (!diags.empty()) fuzz::check_located(diags.format());
    return 0;
}
