// The plugin descriptor and factories: what a plugin library exports.
//
// ABI rules (see docs in sdk/README.md):
//  * Each library exports exactly one descriptor, named `transcode_plugin_descriptor`, through
//    BOOST_DLL_ALIAS (use the TRANSCODE_PLUGIN macro below).
//  * The descriptor starts with plain C fields. The loader reads `abi_version` and `std_abi` first
//    and calls `factories()` (which returns C++ types) only when both match the engine.
//  * Any change to an SDK type that crosses the boundary bumps TRANSCODE_SDK_ABI_VERSION.
//  * Objects created by a factory are owned by the engine, which keeps the library loaded for as
//    long as any of them exists.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/config.hpp>  // BOOST_SYMBOL_EXPORT, used by TRANSCODE_PLUGIN
#include <boost/dll/alias.hpp>

#include "transcode/params.hpp"
#include "transcode/version.hpp"

namespace transcode {

enum class PluginKind { model, pruning, component, search, accuracy };

inline const char* to_string(PluginKind k) {
    switch (k) {
        case PluginKind::model: return "model";
        case PluginKind::pruning: return "pruning";
        case PluginKind::component: return "component";
        case PluginKind::search: return "search";
        case PluginKind::accuracy: return "accuracy";
    }
    return "?";
}

/// Base of every object a plugin creates. The engine deletes objects through this virtual
/// destructor, inside the plugin's own code.
class BOOST_SYMBOL_VISIBLE PluginObject {
public:
    virtual ~PluginObject() = default;
};

/// One thing a library can create.
struct Factory {
    PluginKind kind;
    /// Qualified name `library.component`; the prefix must equal the library's name.
    std::string name;
    /// One line shown by `transcode plugins list`; more lines may follow for `describe`.
    std::string doc;
    ParamSchema schema;
    /// Creates an object of the interface that `kind` names (e.g. PruningStrategy for pruning),
    /// from validated parameters.
    std::function<std::unique_ptr<PluginObject>(const Params&)> create;
};

using FactoryList = std::vector<Factory>;

}  // namespace transcode

extern "C" {
/// The C-compatible head of every plugin. Field order and types never change.
struct TranscodePluginDescriptor {
    std::uint32_t abi_version;    ///< TRANSCODE_SDK_ABI_VERSION the plugin was built against
    std::uint32_t std_abi;        ///< TRANSCODE_STD_ABI: the C++ standard library ABI in use
    const char* library_name;     ///< e.g. "pruning"; prefixes every factory name
    const char* library_version;  ///< the plugin library's own version, e.g. "0.1.0"
    /// Only called after abi_version and std_abi matched. Returns static storage.
    const transcode::FactoryList* (*factories)();
};
}

/// Defines and exports the descriptor of a plugin library. Use once per library:
///   TRANSCODE_PLUGIN("pruning", "0.1.0", &my_factories)
/// where `my_factories` is `const transcode::FactoryList* my_factories()`.
/// Define TRANSCODE_PLUGIN_ABI_VERSION before including this header only to test the loader's
/// refusal of foreign plugins.
#ifndef TRANSCODE_PLUGIN_ABI_VERSION
#define TRANSCODE_PLUGIN_ABI_VERSION TRANSCODE_SDK_ABI_VERSION
#endif
#define TRANSCODE_PLUGIN(LIBRARY_NAME, LIBRARY_VERSION, FACTORIES_FN)                        \
    namespace {                                                                              \
    const TranscodePluginDescriptor transcode_descriptor_instance{                          \
        TRANSCODE_PLUGIN_ABI_VERSION, TRANSCODE_STD_ABI, LIBRARY_NAME, LIBRARY_VERSION, FACTORIES_FN}; \
    }                                                                                        \
    BOOST_DLL_ALIAS(transcode_descriptor_instance, transcode_plugin_descriptor)
