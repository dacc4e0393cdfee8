#include "plugin_host/plugin_host.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <set>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "transcode/input_file.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

struct LoadedLibrary {
    boost::dll::shared_library lib;
    fs::path file;
    std::string name;
    std::string version;
};

namespace {

constexpr const char* descriptor_symbol = "transcode_plugin_descriptor";

bool is_identifier(std::string_view s) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; });
}

std::string describe_std_abi(std::uint32_t tag) {
    switch (tag >> 16) {
        case 1: return fmt::format("libstdc++ with _GLIBCXX_USE_CXX11_ABI={}", tag & 0xffffu);
        case 2: return "libc++";
        default: return fmt::format("an unknown C++ standard library (tag {:#x})", tag);
    }
}

// A plugin's schema must be self-consistent: defaults of the declared type, enum defaults among
// the choices. A mistake here is the plugin author's, reported at load time.
void check_spec(const ParamSpec& s, const std::string& where, bool is_element = false) {
    const std::string ctx = fmt::format("{}: parameter '{}'", where, s.name());
    if (s.name().empty() && !is_element) throw PluginError(where + ": a parameter has an empty name");
    if (s.type() == ParamType::enumeration && s.choices().empty()) throw PluginError(ctx + " is an enum with no choices");
    if (s.element() != nullptr) check_spec(*s.element(), ctx + " (list element)", true);
    if (s.fields() != nullptr)
        for (const auto& f : *s.fields()) check_spec(f, where + "." + s.name());
    if (!s.default_value()) return;
    const Value& d = *s.default_value();
    bool ok = false;
    switch (s.type()) {
        case ParamType::boolean: ok = d.is_bool(); break;
        case ParamType::integer: ok = d.is_int(); break;
        case ParamType::floating: ok = d.is_float() || d.is_int(); break;
        case ParamType::string: ok = d.is_string(); break;
        case ParamType::enumeration:
            ok = d.is_string() && std::find(s.choices().begin(), s.choices().end(), d.as_string()) != s.choices().end();
            break;
        case ParamType::list: ok = d.is_list(); break;
        case ParamType::map: ok = d.is_map(); break;
    }
    if (!ok) throw PluginError(fmt::format("{} has a default that is not a valid {}", ctx, to_string(s.type())));
}

}  // namespace

namespace {
std::optional<fs::path>& chosen_prefix() {
    static std::optional<fs::path> prefix;
    return prefix;
}
}  // namespace

fs::path install_prefix() {
    if (chosen_prefix()) return *chosen_prefix();
    const fs::path exe = boost::dll::program_location().string();
    return exe.parent_path().parent_path();
}

void set_install_prefix(const fs::path& prefix) { chosen_prefix() = prefix; }

fs::path builtin_plugin_dir() { return install_prefix() / "lib" / "transcode" / "plugins"; }

fs::path shipped_configs_dir() {
    std::error_code ec;
    if (const fs::path installed = install_prefix() / "share" / "transcode" / "configs"; fs::is_directory(installed, ec)) return installed;
    if (const fs::path source = TRANSCODE_SOURCE_CONFIGS_DIR; fs::is_directory(source, ec)) return source;
    return {};
}

PluginHost::PluginHost() = default;
PluginHost::~PluginHost() = default;

void PluginHost::load_library(const fs::path& file_in) {
    std::error_code ec;
    const fs::path file = fs::weakly_canonical(file_in, ec);
    for (const auto& l : libraries_)
        if (l->file == file) return;
    const std::string shown = file_in.string();
    // Checked before dlopen, which would block on a FIFO and give a linker's message for a folder.
    if (const std::string problem = input_file_problem(file, std::numeric_limits<std::uintmax_t>::max()); !problem.empty())
        throw PluginError(fmt::format("plugin '{}': {}", shown, problem == "not found" ? "no such file" : problem));

    auto loaded = std::make_shared<LoadedLibrary>();
    loaded->file = file;
    try {
        loaded->lib.load(boost::dll::fs::path(file.string()), boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("plugin '{}': cannot be loaded as a shared library: {}", shown, e.what()));
    }
    if (!loaded->lib.has(descriptor_symbol))
        throw PluginError(fmt::format("plugin '{}': exports no '{}'; is it a transcode plugin? (build it with transcode_add_plugin and TRANSCODE_PLUGIN)",
                                      shown, descriptor_symbol));
    const auto& d = loaded->lib.get_alias<const TranscodePluginDescriptor>(descriptor_symbol);

    // The C head of the descriptor is all we read before the versions are known to match.
    if (d.abi_version != TRANSCODE_SDK_ABI_VERSION)
        throw PluginError(fmt::format("plugin '{}': built for SDK ABI {}, this engine supports {}", shown, d.abi_version, TRANSCODE_SDK_ABI_VERSION));
    if (d.std_abi != TRANSCODE_STD_ABI)
        throw PluginError(fmt::format("plugin '{}': built with {}, this engine uses {}", shown, describe_std_abi(d.std_abi), describe_std_abi(TRANSCODE_STD_ABI)));
    if (d.library_name == nullptr || !is_identifier(d.library_name))
        throw PluginError(fmt::format("plugin '{}': its descriptor has no valid library name", shown));
    if (d.factories == nullptr) throw PluginError(fmt::format("plugin '{}': its descriptor has no factory list", shown));
    loaded->name = d.library_name;
    loaded->version = d.library_version != nullptr ? d.library_version : "";

    const FactoryList* factories = nullptr;
    try {
        factories = d.factories();
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("plugin '{}' (library '{}'): its factory list threw: {}", shown, loaded->name, e.what()));
    } catch (...) {
        throw PluginError(fmt::format("plugin '{}' (library '{}'): its factory list threw an unknown exception", shown, loaded->name));
    }
    if (factories == nullptr || factories->empty()) throw PluginError(fmt::format("plugin '{}' (library '{}'): declares no factories", shown, loaded->name));

    std::vector<Entry> fresh;
    std::set<std::string> seen;
    const std::string prefix = loaded->name + ".";
    for (const auto& f : *factories) {
        if (f.name.rfind(prefix, 0) != 0 || !is_identifier(f.name.substr(prefix.size())))
            throw PluginError(fmt::format("plugin '{}': factory name '{}' must be '{}<component>'", shown, f.name, prefix));
        if (!seen.insert(f.name).second) throw PluginError(fmt::format("plugin '{}': declares '{}' twice", shown, f.name));
        if (!f.create) throw PluginError(fmt::format("plugin '{}': factory '{}' has no create function", shown, f.name));
        if (const PluginInfo* other = find_any(f.name))
            throw PluginError(fmt::format("plugin name '{}' is registered by both '{}' and '{}'", f.name, other->file.string(), file.string()));
        for (const auto& s : f.schema) check_spec(s, fmt::format("plugin '{}'", f.name));
        fresh.push_back(Entry{loaded, PluginInfo{f.kind, f.name, f.doc, loaded->name, loaded->version, file, f.schema}, f.create});
    }
    // A library name is its identity in results.json's provenance: a second library may not claim
    // one that is taken, least of all a built-in's.
    for (const auto& other : libraries_) {
        if (other->name != loaded->name) continue;
        std::error_code builtin_ec;
        const bool builtin = other->file.parent_path() == fs::weakly_canonical(builtin_plugin_dir(), builtin_ec);
        throw PluginError(fmt::format("plugin '{}': its library name '{}' is already taken by the {}library '{}'; give the library a name of its own "
                                      "(the first argument of TRANSCODE_PLUGIN)",
                                      shown, loaded->name, builtin ? "built-in " : "", other->file.string()));
    }
    libraries_.push_back(loaded);
    for (auto& e : fresh) entries_.push_back(std::move(e));
}

void PluginHost::load_directory(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& ent : fs::directory_iterator(dir, ec))
        if (ent.is_regular_file() && ent.path().extension() == ".so") files.push_back(ent.path());
    if (ec) throw PluginError(fmt::format("plugin directory '{}': {}", dir.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) load_library(f);
}

void PluginHost::load_defaults() {
    const fs::path builtin = builtin_plugin_dir();
    if (fs::is_directory(builtin)) load_directory(builtin);
    const char* env = std::getenv("TRANSCODE_PLUGIN_PATH");
    if (env == nullptr) return;
    // A bad entry (or a bad library in an entry's folder) is skipped with its reason, so that one
    // stale path does not stop every command; an experiment that names a plugin it would have
    // given still fails, with "no plugin named", after the warning.
    const auto skip = [&](const fs::path& entry, const std::string& reason) {
        skipped_.push_back(fmt::format("TRANSCODE_PLUGIN_PATH entry '{}' skipped: {}", entry.string(), reason));
    };
    const auto load = [&](const fs::path& entry, const fs::path& file) {
        try {
            load_library(file);
        } catch (const PluginError& e) {
            skip(entry, e.what());
        }
    };
    std::string_view rest = env;
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const fs::path entry(std::string(rest.substr(0, colon)));
        rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
        if (entry.empty()) continue;
        std::error_code ec;
        if (fs::is_directory(entry, ec)) {
            std::vector<fs::path> files;
            for (const auto& ent : fs::directory_iterator(entry, ec))
                if (ent.is_regular_file() && ent.path().extension() == ".so") files.push_back(ent.path());
            if (ec) {
                skip(entry, ec.message());
                continue;
            }
            std::sort(files.begin(), files.end());
            for (const auto& f : files) load(entry, f);
        } else if (fs::exists(entry, ec)) {
            load(entry, entry);
        } else {
            skip(entry, "no such file or directory");
        }
    }
}

std::vector<const PluginInfo*> PluginHost::list(std::optional<PluginKind> kind) const {
    std::vector<const PluginInfo*> out;
    for (const auto& e : entries_)
        if (!kind || e.info.kind == *kind) out.push_back(&e.info);
    std::sort(out.begin(), out.end(), [](const PluginInfo* a, const PluginInfo* b) {
        return std::tie(a->kind, a->name) < std::tie(b->kind, b->name);
    });
    return out;
}

const PluginInfo* PluginHost::find(std::string_view name, PluginKind kind) const {
    const PluginInfo* short_match = nullptr;
    int short_count = 0;
    for (const auto& e : entries_) {
        if (e.info.kind != kind) continue;
        if (e.info.name == name) return &e.info;
        const auto dot = e.info.name.find('.');
        if (e.info.name.substr(dot + 1) == name) {
            short_match = &e.info;
            ++short_count;
        }
    }
    return short_count == 1 ? short_match : nullptr;
}

const PluginInfo* PluginHost::find_any(std::string_view name) const {
    for (const auto& e : entries_)
        if (e.info.name == name) return &e.info;
    return nullptr;
}

std::vector<std::string> PluginHost::names(PluginKind kind) const {
    std::vector<std::string> out;
    for (const auto& e : entries_) {
        if (e.info.kind != kind) continue;
        out.push_back(e.info.name);
        out.push_back(e.info.name.substr(e.info.name.find('.') + 1));
    }
    return out;
}

std::map<std::string, std::string> PluginHost::library_versions() const {
    std::map<std::string, std::string> out;
    for (const auto& l : libraries_) out[l->name] = l->version;
    return out;
}

std::unique_ptr<PluginObject, PluginDeleter> PluginHost::create_object(const PluginInfo& info, const Params& params) const {
    const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return &e.info == &info; });
    if (it == entries_.end()) throw InternalError("PluginHost::create: '" + info.name + "' does not belong to this host");
    std::unique_ptr<PluginObject> obj = call_plugin(info.name, "create", [&] { return it->create(params); });
    if (!obj) throw PluginError(fmt::format("plugin '{}' ({}): its factory returned no object", info.name, info.file.string()));
    return std::unique_ptr<PluginObject, PluginDeleter>(obj.release(), PluginDeleter{it->library});
}

}  // namespace transcode::engine
