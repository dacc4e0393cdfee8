// Portable, seeded random numbers: the same stream on every machine and standard library.
// (std::*_distribution are implementation-defined, so the engine does not use them.)
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace transcode::engine {

/// SplitMix64's increment (the golden ratio) and its output finaliser.
inline constexpr std::uint64_t splitmix64_gamma = 0x9E3779B97F4A7C15ull;
inline constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// SplitMix64: a tiny, high-quality 64-bit generator; also used to derive independent seeds.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() { return splitmix64_mix(state_ += splitmix64_gamma); }
    /// The generator's state: SplitMix64(state()) continues the stream of next() exactly (the
    /// spare normal deviate of normal() is not part of it).
    std::uint64_t state() const { return state_; }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Standard normal by the Box-Muller transform.
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
        has_spare_ = true;
        return r * std::cos(2.0 * std::numbers::pi * u2);
    }

private:
    std::uint64_t state_;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

/// An independent seed for stream `stream` of a run seeded with `seed`.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) {
    SplitMix64 g(seed ^ (stream * 0xD1B54A32D192ED03ull));
    return g.next();
}

/// Output `i` (from 0) of SplitMix64(seed), computed directly: SplitMix64 is counter-based (its
/// output i finalises seed + (i + 1)·γ), so the entries of a stream can be drawn in any order, by
/// any thread, with the same values.
inline constexpr std::uint64_t splitmix64_at(std::uint64_t seed, std::uint64_t i) {
    return splitmix64_mix(seed + (i + 1) * splitmix64_gamma);
}

}  // namespace transcode::engine
