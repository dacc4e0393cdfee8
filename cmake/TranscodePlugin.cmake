# transcode_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir] [ABI_VERSION n])
#
# Builds a transcode plugin: a MODULE library named `transcode-<NAME>.so` (target
# `transcode-plugin-<NAME>`) that links only the SDK (transcode::sdk), hides every symbol but the
# exported descriptor, and lands where the loader finds it:
#  * in the transcode source tree (TRANSCODE_PLUGIN_OUTPUT_DIR is set), a built-in plugin goes to
#    <build>/lib/transcode/plugins and is installed to lib/transcode/plugins;
#  * in a third-party project (after find_package(transcode)), the library goes to the current
#    build folder (CMAKE_CURRENT_BINARY_DIR) and gets no install rule: point TRANSCODE_PLUGIN_PATH
#    or an experiment's `plugins:` list at it, or add your own install(TARGETS ...).
# OUTPUT_DIRECTORY overrides both (as for the loader's test plugins, which are never installed).
# ABI_VERSION stamps a different SDK ABI version into the descriptor (the compile definition
# TRANSCODE_PLUGIN_ABI_VERSION=<n>u); it exists only to test that the engine refuses foreign plugins.
function(transcode_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;ABI_VERSION" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "transcode_add_plugin(${name}): SOURCES is required")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "transcode_add_plugin(${name}): unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(target "transcode-plugin-${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE transcode::sdk)
  # A project configured without CMAKE_BUILD_TYPE (single-config generators) gets CMake's empty
  # configuration, which adds no optimisation flags: the plugin would then run inside the
  # simulator's loops at -O0. Such builds get -O2 and NDEBUG; an explicit build type (Debug
  # included) is left alone.
  target_compile_options(${target} PRIVATE $<$<STREQUAL:$<CONFIG>,>:-O2>)
  target_compile_definitions(${target} PRIVATE $<$<STREQUAL:$<CONFIG>,>:NDEBUG>)
  if(DEFINED ARG_ABI_VERSION)
    if(NOT ARG_ABI_VERSION MATCHES "^[0-9]+$")
      message(FATAL_ERROR "transcode_add_plugin(${name}): ABI_VERSION must be a non-negative integer, got '${ARG_ABI_VERSION}'")
    endif()
    target_compile_definitions(${target} PRIVATE TRANSCODE_PLUGIN_ABI_VERSION=${ARG_ABI_VERSION}u)
  endif()
  set(builtin OFF)
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(DEFINED TRANSCODE_PLUGIN_OUTPUT_DIR)
      set(ARG_OUTPUT_DIRECTORY "${TRANSCODE_PLUGIN_OUTPUT_DIR}")
      set(builtin ON)
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
    endif()
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "transcode-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  if(NOT builtin)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY TRANSCODE_BUILTIN_PLUGINS ${target})
  install(TARGETS ${target} LIBRARY DESTINATION "${TRANSCODE_PLUGIN_SUBDIR}")
endfunction()
