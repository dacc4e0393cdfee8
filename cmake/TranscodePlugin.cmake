# transcode_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir])
#
# Builds a transcode plugin: a MODULE library named `transcode-<NAME>.so` that includes only the
# SDK, hides every symbol but the exported descriptor, and lands where the loader looks for
# built-in plugins (unless OUTPUT_DIRECTORY says otherwise, as for the loader's test plugins).
function(transcode_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "transcode_add_plugin(${name}): SOURCES is required")
  endif()
  set(target "transcode-plugin-${name}")
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE transcode::sdk)
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY "${TRANSCODE_PLUGIN_OUTPUT_DIR}")
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "transcode-${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  if(NOT ARG_OUTPUT_DIRECTORY STREQUAL TRANSCODE_PLUGIN_OUTPUT_DIR)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY TRANSCODE_BUILTIN_PLUGINS ${target})
  install(TARGETS ${target} LIBRARY DESTINATION "${TRANSCODE_PLUGIN_SUBDIR}")
endfunction()
