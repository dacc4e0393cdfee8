#include "space.hpp"

#include <cmath>
#include <cstdio>
#include <utility>

namespace transcode::plugins::search {

std::size_t CandidateHash::operator()(const Candidate& c) const noexcept {
    // FNV-1a over the indices, then a final mix (splitmix64) so that nearby candidates spread.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t v : c) {
        h ^= static_cast<std::uint64_t>(v);
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return static_cast<std::size_t>(h);
}

bool next_canonical(const DesignSpace& space, Candidate& c) {
    const std::vector<Knob>& knobs = space.knobs();
    // Activity of a knob depends only on earlier knobs, so the activity seen here stays valid while
    // the knobs before k keep their values: the last active knob below its top choice is the one to
    // grow, and zeros after it are canonical (inactive knobs must be 0, active ones may be).
    for (std::size_t k = knobs.size(); k-- > 0;) {
        if (c[k] + 1 < knobs[k].values.size() && space.active(c, k)) {
            ++c[k];
            for (std::size_t j = k + 1; j < c.size(); ++j) c[j] = 0;
            return true;
        }
    }
    return false;
}

std::string count_text(const DesignSpace& space) {
    if (const auto n = space.count()) return std::to_string(*n);
    char text[64];
    std::snprintf(text, sizeof text, "about 10^%.1f", space.log10_count());
    return text;
}

void ClaimedCandidates::reset(const DesignSpace& space) {
    space_ = &space;
    count_ = space.count();
    claimed_.clear();
    enumerated_ = false;
    unclaimed_.clear();
}

bool ClaimedCandidates::claim(const Candidate& c) { return claimed_.insert(c).second; }

void ClaimedCandidates::release(const Candidate& c) {
    if (claimed_.erase(c) != 0 && enumerated_) unclaimed_.push_back(c);
}

std::optional<Candidate> ClaimedCandidates::draw(std::mt19937_64& rng) {
    if (exhausted()) return std::nullopt;
    if (!enumerated_) {
        for (int attempt = 0; attempt < rejections_before_enumerating; ++attempt) {
            Candidate c = space_->sample(rng);
            if (claimed_.insert(c).second) return c;
        }
        if (!count_ || *count_ > enumerate_limit) {
            for (;;) {
                Candidate c = space_->sample(rng);
                if (claimed_.insert(c).second) return c;
            }
        }
        Candidate c(space_->size(), 0);
        do {
            if (!claimed_.count(c)) unclaimed_.push_back(c);
        } while (next_canonical(*space_, c));
        enumerated_ = true;
    }
    // Uniform among the listed ones; entries claimed by other routes since are dropped on the way.
    while (!unclaimed_.empty()) {
        const auto pick = static_cast<std::size_t>(draw_below(rng, unclaimed_.size()));
        std::swap(unclaimed_[pick], unclaimed_.back());
        Candidate c = std::move(unclaimed_.back());
        unclaimed_.pop_back();
        if (claimed_.insert(c).second) return c;
    }
    return std::nullopt;
}

}  // namespace transcode::plugins::search
