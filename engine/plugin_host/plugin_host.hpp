// PluginHost: loads plugin libraries, checks their ABI, and creates plugin objects.
//
// Registries belong to a PluginHost instance (there is no static registration). Every created
// object holds a reference to its library, so no library is unloaded while one of its objects
// lives.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transcode/sdk.hpp"

namespace transcode::engine {

struct LoadedLibrary;  // a loaded shared library and its descriptor (defined in plugin_host.cpp)

/// Deletes a plugin object inside its library, then lets the library go.
struct PluginDeleter {
    std::shared_ptr<const LoadedLibrary> library;
    void operator()(PluginObject* p) const noexcept { delete p; }
};

/// An owned plugin object of interface T. Keeps its library loaded.
template <class T>
class PluginPtr {
public:
    PluginPtr() = default;
    PluginPtr(std::unique_ptr<PluginObject, PluginDeleter> owner, T* iface, std::string name)
        : owner_(std::move(owner)), iface_(iface), name_(std::move(name)) {}
    T* operator->() const { return iface_; }
    T& operator*() const { return *iface_; }
    T* get() const { return iface_; }
    explicit operator bool() const { return iface_ != nullptr; }
    /// The qualified plugin name, for error messages.
    const std::string& name() const { return name_; }

private:
    std::unique_ptr<PluginObject, PluginDeleter> owner_;
    T* iface_ = nullptr;
    std::string name_;
};

/// What `transcode plugins list/describe` shows about one factory.
struct PluginInfo {
    PluginKind kind;
    std::string name;     ///< qualified: library.component
    std::string doc;
    std::string library;  ///< library name from its descriptor
    std::string version;  ///< library version from its descriptor
    std::filesystem::path file;
    ParamSchema schema;
};

/// The prefix (build tree or install prefix) the engine's files are found under: the folder above
/// the running executable's (`<prefix>/bin/transcode`), unless set_install_prefix() chose another.
std::filesystem::path install_prefix();
/// Sets install_prefix() for a host process that is not a transcode executable: the Python module
/// (`<prefix>/lib/pythonX.Y/dist-packages/transcode*.so`) passes the prefix above its own folder.
void set_install_prefix(const std::filesystem::path& prefix);

/// The directory of built-in plugins: <install_prefix()>/lib/transcode/plugins.
/// The same relative layout holds in the build tree and in an install prefix.
std::filesystem::path builtin_plugin_dir();

/// The shipped configs/ folder: <install_prefix()>/share/transcode/configs in an install prefix
/// (cmake/TranscodeInstall.cmake puts it there), else the source tree's configs/ (the build tree
/// has no copy). Empty when neither exists.
std::filesystem::path shipped_configs_dir();

class PluginHost {
public:
    PluginHost();
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    /// Loads one plugin library. Throws PluginError on: a file that is not a loadable library,
    /// no descriptor, a foreign ABI, a factory list that throws, malformed factory names, or a
    /// name another loaded library already registered (the message names both files).
    /// Loading the same file twice is a no-op.
    void load_library(const std::filesystem::path& file);
    /// Loads every `*.so` in `dir` (sorted by name, for reproducible errors).
    void load_directory(const std::filesystem::path& dir);
    /// Loads the built-in plugin directory (a broken built-in library throws PluginError) and
    /// every entry of TRANSCODE_PLUGIN_PATH (colon-separated files or directories). A missing
    /// entry or a library that fails to load is skipped and recorded in skipped().
    void load_defaults();
    /// One message per TRANSCODE_PLUGIN_PATH entry or library that load_defaults() skipped:
    /// "TRANSCODE_PLUGIN_PATH entry 'E' skipped: REASON".
    const std::vector<std::string>& skipped() const { return skipped_; }

    /// All factories, sorted by kind then name; only those of `kind` when given.
    std::vector<const PluginInfo*> list(std::optional<PluginKind> kind = std::nullopt) const;
    /// Finds a factory of `kind` by qualified name, or by unqualified component name when that is
    /// unique within the kind. Null when not found.
    const PluginInfo* find(std::string_view name, PluginKind kind) const;
    /// Finds a factory by qualified name, of any kind. Null when not found.
    const PluginInfo* find_any(std::string_view name) const;
    /// Names (qualified and short) of every factory of `kind`: for "did you mean" suggestions.
    std::vector<std::string> names(PluginKind kind) const;

    /// Creates an object from already-validated params (see config::validate_params). Exceptions
    /// thrown by the factory become PluginError naming the plugin. The object's interface must
    /// match `info.kind`, else PluginError.
    template <class T>
    PluginPtr<T> create(const PluginInfo& info, const Params& params) const {
        auto owner = create_object(info, params);
        T* iface = dynamic_cast<T*>(owner.get());
        if (iface == nullptr)
            throw PluginError("plugin '" + info.name + "' (" + info.file.string() + "): its factory returned an object that does not implement the " +
                              to_string(info.kind) + " interface");
        return PluginPtr<T>(std::move(owner), iface, info.name);
    }

    /// Library name -> version, for results.json.
    std::map<std::string, std::string> library_versions() const;

private:
    std::unique_ptr<PluginObject, PluginDeleter> create_object(const PluginInfo& info, const Params& params) const;

    // Member order matters: `create` and `info.schema` hold objects whose code lives in the
    // library, so they are destroyed before the last reference to the library goes.
    struct Entry {
        std::shared_ptr<const LoadedLibrary> library;
        PluginInfo info;
        std::function<std::unique_ptr<PluginObject>(const Params&)> create;
    };
    std::vector<std::shared_ptr<const LoadedLibrary>> libraries_;
    std::vector<Entry> entries_;
    std::vector<std::string> skipped_;  ///< see skipped()
};

/// Runs `fn` (a call into plugin code) and turns any exception it throws into a PluginError that
/// names the plugin and the method: "plugin 'pruning.x' failed in prune(): <what>". A ConfigError
/// (the user's mistake, found by the plugin) passes through as a ConfigError with its path, copied
/// so that nothing of the plugin's code is needed to handle it.
template <class Fn>
decltype(auto) call_plugin(const std::string& plugin, const char* method, Fn&& fn) {
    try {
        return std::forward<Fn>(fn)();
    } catch (const ConfigError& e) {
        throw ConfigError(e.path(), e.what());
    } catch (const std::exception& e) {
        throw PluginError("plugin '" + plugin + "' failed in " + method + "(): " + e.what());
    } catch (...) {
        throw PluginError("plugin '" + plugin + "' failed in " + method + "(): unknown exception");
    }
}

}  // namespace transcode::engine
