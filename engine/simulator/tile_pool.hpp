// Tile pools: the identical instances of one compute unit, and how tiles are dispatched to them.
//
// Dispatch rule (both implementations): each tile goes to the instance that becomes free first,
// and starts at max(that instance's free time, the tile's ready time). Every tile of a dispatch
// takes the same number of cycles.
//
// GroupedTilePool (what the simulator uses) keeps instances grouped by free time and places all
// tiles of one dispatch at once, in O(groups x log(cycles)), with exactly the result of the naive
// one-tile-at-a-time rule. The tests keep a deliberately naive pool and compare the two on random
// graphs and accelerators.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

namespace transcode::engine {

struct DispatchResult {
    std::int64_t first_start = 0;  ///< start of the earliest tile
    std::int64_t last_end = 0;     ///< end of the latest tile
};

class TilePool {
public:
    virtual ~TilePool() = default;
    /// Places `tiles` (>= 1) tiles of `cycles` (>= 1) cycles each, none starting before `ready`.
    virtual DispatchResult dispatch(std::int64_t ready, std::int64_t tiles, std::int64_t cycles) = 0;
};

/// Makes the pool of `instances` identical units, all free at cycle 0.
using TilePoolFactory = std::unique_ptr<TilePool> (*)(std::int64_t instances);

class GroupedTilePool final : public TilePool {
public:
    explicit GroupedTilePool(std::int64_t instances) { free_at_[0] = instances; }
    DispatchResult dispatch(std::int64_t ready, std::int64_t tiles, std::int64_t cycles) override;
    static std::unique_ptr<TilePool> make(std::int64_t instances) { return std::make_unique<GroupedTilePool>(instances); }

private:
    std::map<std::int64_t, std::int64_t> free_at_;  ///< free time -> instances free from then on
};

}  // namespace transcode::engine
