// A shared library that is not a transcode plugin: it exports a function but no descriptor.
#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int transcode_test_not_a_plugin() { return 42; }
