// Typed errors shared by the engine and plugins.
//
// User mistakes are ConfigError (bad input files, arguments, values) or PluginError (a plugin that
// cannot be loaded, is misdeclared, or failed). Engine bugs are InternalError. Only main() maps
// them to exit codes (ConfigError/PluginError -> 2, anything else -> 1).
#pragma once

#include <stdexcept>
#include <string>

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE: one typeinfo across engine and plugins

namespace transcode {

class BOOST_SYMBOL_VISIBLE Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A mistake in a configuration file, a command-line argument or a parameter value.
///
/// A plugin that finds a mistake its schema cannot express (say, two lists of different lengths)
/// throws ConfigError with the dotted `path` of the offending parameter, relative to its own
/// params ("hidden", "heads[2]"); the engine then reports it at that value's file:line:col.
class BOOST_SYMBOL_VISIBLE ConfigError : public Error {
public:
    using Error::Error;
    ConfigError(std::string path, const std::string& message) : Error(message), path_(std::move(path)) {}
    /// The parameter path the error is about; empty when unknown.
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// A plugin that cannot be loaded, declares itself wrongly, or throws.
class BOOST_SYMBOL_VISIBLE PluginError : public Error {
public:
    using Error::Error;
};

/// A broken invariant inside the engine: a bug, never the user's fault.
class BOOST_SYMBOL_VISIBLE InternalError : public Error {
public:
    using Error::Error;
};

}  // namespace transcode
