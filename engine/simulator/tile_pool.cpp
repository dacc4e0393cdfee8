#include "simulator/tile_pool.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "transcode/errors.hpp"

namespace transcode::engine {

DispatchResult GroupedTilePool::dispatch(std::int64_t ready, std::int64_t tiles, std::int64_t cycles) {
    if (tiles < 1 || cycles < 1) throw InternalError("GroupedTilePool::dispatch: tiles and cycles must be >= 1");
    // Instances free at f can start their t-th tile (t = 0, 1, ...) at e + t*cycles, e = max(f, ready).
    // The naive rule starts the tiles at the `tiles` smallest of these times. Find T, the last
    // start: the least T with count(T) >= tiles, where count(T) = starts at or before T.
    auto count_upto = [&](std::int64_t T) {
        std::int64_t n = 0;
        for (const auto& [f, k] : free_at_) {
            const std::int64_t e = std::max(f, ready);
            if (e > T) continue;
            const std::int64_t per = (T - e) / cycles + 1;
            if (per > (tiles + k - 1) / k) return tiles;  // saturates: avoid overflow
            n += per * k;
            if (n >= tiles) return tiles;
        }
        return n;
    };
    std::int64_t lo = std::max(free_at_.begin()->first, ready);  // the earliest start
    for (const auto& [f, k] : free_at_) lo = std::min(lo, std::max(f, ready));
    // One instance alone would be done by then; saturated, since tiles x cycles can pass int64
    // (the answer is at most lo + ceil(tiles / instances) x cycles, which lowering keeps below 2^60).
    std::int64_t hi = lo + static_cast<std::int64_t>(std::min<__int128>(static_cast<__int128>(tiles) * cycles, std::int64_t{1} << 62));
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if (count_upto(mid) >= tiles)
            hi = mid;
        else
            lo = mid + 1;
    }
    const std::int64_t T = lo;
    std::int64_t remaining = tiles - count_upto(T - 1);  // tiles that start exactly at T
    DispatchResult r{std::numeric_limits<std::int64_t>::max(), T + cycles};

    // New free times. Instances take their tiles strictly before T, and in map order (least free
    // time first, as the naive rule breaks ties) one more at T while tiles remain.
    std::vector<std::pair<std::int64_t, std::int64_t>> next;
    next.reserve(free_at_.size() * 2);
    for (const auto& [f, k] : free_at_) {
        const std::int64_t e = std::max(f, ready);
        const std::int64_t before = e <= T - 1 ? (T - 1 - e) / cycles + 1 : 0;
        std::int64_t extra = 0;
        if (remaining > 0 && e <= T && (T - e) % cycles == 0) {
            extra = std::min(k, remaining);
            remaining -= extra;
        }
        if (before > 0 || extra > 0) r.first_start = std::min(r.first_start, e);
        if (extra > 0) next.emplace_back(e + (before + 1) * cycles, extra);
        if (k - extra > 0) next.emplace_back(before > 0 ? e + before * cycles : f, k - extra);
    }
    free_at_.clear();
    for (const auto& [f, k] : next) free_at_[f] += k;
    return r;
}

}  // namespace transcode::engine
