// One source, compiled into several broken libraries (-DVARIANT=N), each with one descriptor or
// factory mistake the loader must refuse with its own message (see docs/errors.md):
// 1 foreign std ABI, 2 no library name, 3 no factory list, 4 no factories, 5 no create function,
// 6 a name declared twice, 7 loads, but creates a null object or lies about its zero count,
// 8 an enum parameter without choices, 9 a parameter without a name, 10 a factory list that
// throws something that is not a std::exception.
#include <stdexcept>

#include "transcode/sdk.hpp"

namespace {

using transcode::Factory;
using transcode::FactoryList;
using transcode::PluginKind;
using transcode::PluginObject;

// Reports a zero count that does not match the tensor (variant 8).
class Liar : public transcode::PruningStrategy {
public:
    bool prunes(transcode::TensorRole, transcode::RunMode) const override { return true; }
    transcode::PruneStats prune(transcode::TensorView t, transcode::RunMode) const override {
        for (std::int64_t i = 0; i < t.size(); ++i) t.data[i] = 0.0f;
        return {0, t.size()};
    }
};

[[maybe_unused]] std::unique_ptr<PluginObject> make_liar(const transcode::Params&) { return std::make_unique<Liar>(); }
[[maybe_unused]] std::unique_ptr<PluginObject> make_null(const transcode::Params&) { return nullptr; }

[[maybe_unused]] bool library_ready() { return true; }

[[maybe_unused]] const FactoryList* factories() {
#if VARIANT == 4
    static const FactoryList list{};
#elif VARIANT == 5
    static const FactoryList list{Factory{PluginKind::pruning, "variant.nocreate", "no create function", {}, {}}};
#elif VARIANT == 6
    static const FactoryList list{Factory{PluginKind::pruning, "variant.twice", "first", {}, make_null},
                                  Factory{PluginKind::pruning, "variant.twice", "second", {}, make_null}};
#elif VARIANT == 8
    static const FactoryList list{Factory{PluginKind::pruning, "variant.enum", "an enum without choices",
                                          {transcode::ParamSpec::enumeration("mode", "a mode", {})}, make_null}};
#elif VARIANT == 9
    static const FactoryList list{Factory{PluginKind::pruning, "variant.unnamed", "a parameter without a name",
                                          {transcode::ParamSpec::integer("", "no name")}, make_null}};
#elif VARIANT == 10
    if (library_ready()) throw 42;  // not a std::exception
    static const FactoryList list{};
#else
    static const FactoryList list{Factory{PluginKind::pruning, "variant.null", "creates nothing", {}, make_null},
                                  Factory{PluginKind::pruning, "variant.liar", "misreports its zero count", {}, make_liar}};
#endif
    return &list;
}

#if VARIANT == 1
constexpr std::uint32_t std_abi = 0x20000u;  // claims libc++
#else
constexpr std::uint32_t std_abi = TRANSCODE_STD_ABI;
#endif
#if VARIANT == 2
constexpr const char* library_name = nullptr;
#else
constexpr const char* library_name = "variant";
#endif
#if VARIANT == 3
constexpr const transcode::FactoryList* (*factories_fn)() = nullptr;
#else
constexpr const transcode::FactoryList* (*factories_fn)() = &factories;
#endif

const TranscodePluginDescriptor descriptor{TRANSCODE_SDK_ABI_VERSION, std_abi, library_name, "0.0.1", factories_fn};

}  // namespace

BOOST_DLL_ALIAS(descriptor, transcode_plugin_descriptor)
