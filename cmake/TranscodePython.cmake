# Finds what the Python module needs and sets the option TRANSCODE_BUILD_PYTHON (default: ON when
# pybind11 and the Python development files are found, OFF in sanitizer and fuzzer builds).
#
# The interpreter is Debian's /usr/bin/python3 when it exists (the one python3-numpy, python3-pytest
# and python3-matplotlib install into), not whatever `python3` comes first on PATH (a pyenv, a
# venv); pass -DPython3_EXECUTABLE=... to choose another. The module is built for that interpreter
# and the Python tests run with it.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python interpreter the module is built for and tested with")
endif()
set(transcode_python_default OFF)
if(NOT (TRANSCODE_SANITIZE OR TRANSCODE_BUILD_FUZZERS))
  find_package(Python3 COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(transcode_python_default ON)
  else()
    message(STATUS "transcode: the Python module is not built (needs Debian's pybind11-dev and python3-dev)")
  endif()
endif()
option(TRANSCODE_BUILD_PYTHON "Build the Python module `transcode` (python/)" ${transcode_python_default})
if(TRANSCODE_BUILD_PYTHON AND (TRANSCODE_SANITIZE OR TRANSCODE_BUILD_FUZZERS))
  message(STATUS "transcode: the Python module is not built with TRANSCODE_SANITIZE or TRANSCODE_BUILD_FUZZERS "
                 "(an ASan-instrumented module does not load into an uninstrumented python)")
  set(TRANSCODE_BUILD_PYTHON OFF CACHE BOOL "Build the Python module `transcode` (python/)" FORCE)
endif()
if(TRANSCODE_BUILD_PYTHON)
  if(NOT (Python3_FOUND AND pybind11_FOUND))
    message(FATAL_ERROR "TRANSCODE_BUILD_PYTHON is ON but pybind11 or the Python headers are missing (apt-get install pybind11-dev python3-dev)")
  endif()
  # The module sits at the same place under the build tree and the install prefix, so that it finds
  # the built-in plugins and configs the same way from both (python/README.md).
  set(TRANSCODE_PYTHON_SUBDIR "lib/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/dist-packages")
  # The engine library is linked into a shared module: its code must be position-independent.
  set_target_properties(transcode_engine PROPERTIES POSITION_INDEPENDENT_CODE ON)
endif()
