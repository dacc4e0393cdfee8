// Everything a plugin author needs, in one include.
#pragma once

#include "transcode/accuracy.hpp"
#include "transcode/component.hpp"
#include "transcode/design_space.hpp"
#include "transcode/errors.hpp"
#include "transcode/graph.hpp"
#include "transcode/model.hpp"
#include "transcode/params.hpp"
#include "transcode/plugin.hpp"
#include "transcode/pruning.hpp"
#include "transcode/search.hpp"
#include "transcode/tensor.hpp"
#include "transcode/value.hpp"
#include "transcode/version.hpp"
