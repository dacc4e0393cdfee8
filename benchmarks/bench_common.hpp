// Helpers shared by the transcode-bench cases: loading the built-in plugins and creating a plugin
// object from YAML parameters, with setup failures turned into a skipped case (never a crash).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "config/schema_validation.hpp"
#include "plugin_host/plugin_host.hpp"
#include "transcode/sdk.hpp"

namespace transcode::bench {

/// A PluginHost with the built-in plugins (and TRANSCODE_PLUGIN_PATH) loaded, or null after
/// marking `state` as skipped with the reason.
inline std::unique_ptr<engine::PluginHost> load_host(benchmark::State& state) {
    try {
        auto host = std::make_unique<engine::PluginHost>();
        host->load_defaults();
        return host;
    } catch (const std::exception& e) {
        state.SkipWithError(fmt::format("loading the built-in plugins failed: {}", e.what()).c_str());
        return nullptr;
    }
}

/// Creates the plugin `name` of `kind` (interface T) with parameters given as YAML text (empty:
/// all defaults), validated against the plugin's schema exactly as an experiment file would be.
/// On failure marks `state` as skipped and returns an empty pointer.
template <class T>
engine::PluginPtr<T> make_plugin(benchmark::State& state, const engine::PluginHost& host, std::string_view name, PluginKind kind,
                                 std::string_view yaml_params = "") {
    try {
        const engine::PluginInfo* info = host.find(name, kind);
        if (info == nullptr) {
            state.SkipWithError(fmt::format("no {} plugin named '{}' is loaded", to_string(kind), name).c_str());
            return {};
        }
        const Params params = config::parse_params(info->schema, yaml_params, fmt::format("<{} params>", name));
        return host.create<T>(*info, params);
    } catch (const std::exception& e) {
        state.SkipWithError(fmt::format("creating plugin '{}' failed: {}", name, e.what()).c_str());
        return {};
    }
}

/// A float buffer aligned to a 64-byte cache line, for kernels and the memory limits they are
/// compared with. Alignment matters for the comparison: on the AMD EPYC (Zen 3) we measure on,
/// glibc's memcpy (rep movsb, up to the L2 size) ran 15x to 30x slower when the destination sat 16
/// bytes off the source's cache-line offset, as two malloc'd std::vectors can.
class AlignedFloats {
public:
    explicit AlignedFloats(std::size_t n) : size_(n) {
        constexpr std::size_t line = 64;
        const std::size_t bytes = (n * sizeof(float) + line - 1) / line * line;
        data_.reset(static_cast<float*>(std::aligned_alloc(line, bytes == 0 ? line : bytes)));
        if (!data_) throw std::bad_alloc();
    }
    float* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::size_t bytes() const { return size_ * sizeof(float); }
    float* begin() const { return data(); }
    float* end() const { return data() + size_; }

private:
    struct Free {
        void operator()(float* p) const noexcept { std::free(p); }
    };
    std::unique_ptr<float, Free> data_;
    std::size_t size_;
};

/// A rate counter: `count` things over the measured time, shown as "<count>/s".
inline benchmark::Counter rate(double count) { return benchmark::Counter(count, benchmark::Counter::kIsRate); }

}  // namespace transcode::bench
