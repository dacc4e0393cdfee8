// Versions that plugins and the engine compare at load time.
#pragma once

/// The SDK's binary interface version. Bump it whenever any type a plugin exchanges with the
/// engine changes (interfaces, Factory, Params, Value, ParamSpec, ...).
#define TRANSCODE_SDK_ABI_VERSION 7u

/// The C++ standard library ABI: plugins must use the same std::string/std::list layout.
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define TRANSCODE_STD_ABI (0x10000u + _GLIBCXX_USE_CXX11_ABI)
#elif defined(_LIBCPP_VERSION)
#define TRANSCODE_STD_ABI 0x20000u
#else
#define TRANSCODE_STD_ABI 0x30000u
#endif

namespace transcode {
inline constexpr unsigned sdk_abi_version = TRANSCODE_SDK_ABI_VERSION;
}
