# What `cmake --install` adds beyond the executables and built-in plugins (which their own
# folders install): the shipped configs, and the CMake package that third-party plugins build
# against with find_package(transcode):
#   <prefix>/share/transcode/configs/             configs/ as shipped
#   <prefix>/lib/cmake/transcode/transcodeConfig.cmake, transcodeConfigVersion.cmake,
#     transcodeTargets.cmake (transcode::sdk), TranscodePlugin.cmake (transcode_add_plugin)
include(CMakePackageConfigHelpers)

set(TRANSCODE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/transcode")

# The SDK ABI version, read from the header, so that a plugin project can print or check it.
file(STRINGS "${PROJECT_SOURCE_DIR}/sdk/include/transcode/version.hpp" transcode_abi_line
     REGEX "^#define TRANSCODE_SDK_ABI_VERSION [0-9]+u$")
string(REGEX REPLACE "^#define TRANSCODE_SDK_ABI_VERSION ([0-9]+)u$" "\\1" TRANSCODE_SDK_ABI_VERSION "${transcode_abi_line}")
if(NOT TRANSCODE_SDK_ABI_VERSION MATCHES "^[0-9]+$")
  message(FATAL_ERROR "cannot read TRANSCODE_SDK_ABI_VERSION from sdk/include/transcode/version.hpp")
endif()

install(EXPORT transcodeTargets NAMESPACE transcode:: DESTINATION "${TRANSCODE_CMAKE_INSTALL_DIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/transcodeConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/transcodeConfig.cmake"
  INSTALL_DESTINATION "${TRANSCODE_CMAKE_INSTALL_DIR}"
  PATH_VARS TRANSCODE_PLUGIN_SUBDIR)
# 0.x: a new minor version may change the SDK; the loader's ABI check is the hard guarantee.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/transcodeConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES
  "${PROJECT_BINARY_DIR}/transcodeConfig.cmake"
  "${PROJECT_BINARY_DIR}/transcodeConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/TranscodePlugin.cmake"
  DESTINATION "${TRANSCODE_CMAKE_INSTALL_DIR}")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/configs/" DESTINATION "${CMAKE_INSTALL_DATADIR}/transcode/configs")
