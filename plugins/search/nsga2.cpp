#include "nsga2.hpp"

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/types.hpp>
#include <pagmo/utils/multi_objective.hpp>

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "nsga2 search";
// search.hpp: (1 - accuracy, latency, energy, area). Used only while no observation has carried
// objectives (every one so far infeasible without them).
constexpr std::size_t sdk_objectives = 4;

ParamSchema nsga2_schema() {
    return {
        ParamSpec::integer("population",
                           "individuals per generation, parents and offspring alike; pagmo's NSGA-II needs a multiple "
                           "of 4 of at least 8 (it breeds offspring four parents at a time)")
            .unit("candidates")
            .min(8)
            .default_value(24),
        ParamSpec::floating("crossover_probability",
                            "chance that a pair of parents is recombined by simulated binary crossover (SBX) rather "
                            "than copied; pagmo requires [0, 1)")
            .min(0.0)
            .max(1.0)
            .default_value(0.9),
        ParamSpec::floating("eta_c",
                            "distribution index of SBX: large values keep children close to their parents, small ones "
                            "spread them; pagmo requires [1, 100]")
            .min(1.0)
            .max(100.0)
            .default_value(10.0),
        ParamSpec::floating("mutation_probability",
                            "chance that each coordinate of a child's encoding is moved by polynomial mutation; with "
                            "one coordinate per ordered knob and one per choice of an unordered one")
            .min(0.0)
            .max(1.0)
            .default_value(0.1),
        ParamSpec::floating("eta_m",
                            "distribution index of polynomial mutation: large values make small moves; pagmo "
                            "requires [1, 100]")
            .min(1.0)
            .max(100.0)
            .default_value(20.0),
        ParamSpec::integer("idle_rounds",
                           "breeding rounds in a row that give no design asked before it, after which ask() tops up "
                           "the batch with random unasked designs (a converged population keeps breeding its own "
                           "members)")
            .min(1)
            .default_value(8),
    };
}

// What pagmo's nsga2 evolves against: a problem on [0, 1]^d whose fitness only records the
// genotype it is asked about. The values it returns are never used: the plugin discards pagmo's
// own survival on them and applies select_best_N_mo once the engine told the real objectives.
struct Recorder {
    std::vector<pagmo::vector_double> asked;
};

struct RecordingProblem {
    std::shared_ptr<Recorder> recorder;
    std::size_t dimension = 1;
    std::size_t objectives = 2;

    pagmo::vector_double fitness(const pagmo::vector_double& x) const {
        recorder->asked.push_back(x);
        return pagmo::vector_double(objectives, infeasible_objective);
    }
    std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
        return {pagmo::vector_double(dimension, 0.0), pagmo::vector_double(dimension, 1.0)};
    }
    pagmo::vector_double::size_type get_nobj() const { return objectives; }
};

}  // namespace

struct Nsga2Search::Pagmo {
    pagmo::nsga2 algorithm;
    std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
};

Nsga2Search::Nsga2Search(const Params& params)
    : population_size_(static_cast<std::size_t>(params.get_int("population"))),
      crossover_probability_(params.get_float("crossover_probability")),
      eta_c_(params.get_float("eta_c")),
      mutation_probability_(params.get_float("mutation_probability")),
      eta_m_(params.get_float("eta_m")),
      idle_rounds_(static_cast<std::size_t>(params.get_int("idle_rounds"))) {
    const std::int64_t population = params.get_int("population");
    if (population < 8 || population % 4 != 0)
        throw ConfigError("population", std::string(algorithm) +
                                            ": population must be a multiple of 4 and at least 8 (pagmo's NSGA-II breeds four "
                                            "parents at a time), got " +
                                            std::to_string(population));
    if (!(crossover_probability_ < 1.0))
        throw ConfigError("crossover_probability",
                          std::string(algorithm) + ": crossover_probability must be below 1 (pagmo's NSGA-II requires [0, 1)), got " +
                              std::to_string(crossover_probability_));
}

Nsga2Search::~Nsga2Search() = default;

void Nsga2Search::start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& /*budget*/) {
    space_ = &space;
    rng_.seed(seed);
    // pagmo seeds its own std::mt19937 with 32 bits: drawn from ours, so the 64-bit seed decides.
    const auto pagmo_seed = static_cast<unsigned>(rng_() >> 32);
    try {
        pagmo_ = std::make_unique<Pagmo>(
            Pagmo{pagmo::nsga2(1u, crossover_probability_, eta_c_, mutation_probability_, eta_m_, pagmo_seed), std::make_shared<Recorder>()});
    } catch (const std::invalid_argument& e) {
        throw ConfigError(std::string(algorithm) + ": pagmo refused the settings: " + e.what());
    }
    claimed_.reset(space);
    results_.clear();
    objectives_ = 0;
    parents_.clear();
    pool_.clear();
    queue_.clear();
}

const std::vector<double>* Nsga2Search::objectives_of(const Candidate& c) const {
    const auto it = results_.find(c);
    return it == results_.end() ? nullptr : &it->second;
}

std::size_t Nsga2Search::evaluated_in_pool() const {
    std::size_t n = 0;
    for (const std::vector<double>& x : pool_)
        if (objectives_of(space_->decode(x)) != nullptr) ++n;
    return n;
}

void Nsga2Search::add_to_pool(std::vector<double> x, const Candidate& c) {
    if (claimed_.claim(c)) queue_.push_back(c);
    pool_.push_back(std::move(x));
}

// Generation 0: `population` random designs (repeats only once the space has run out).
void Nsga2Search::sampling_round() {
    for (std::size_t i = 0; i < population_size_; ++i) {
        std::optional<Candidate> c = claimed_.draw(rng_);
        if (c) {
            queue_.push_back(*c);
            pool_.push_back(space_->encode(*c));
        } else {
            pool_.push_back(space_->encode(space_->sample(rng_)));
        }
    }
}

// One call of pagmo's nsga2 (one generation) on the current parents: its offspring genotypes join
// the pool, and their designs not claimed before join the queue.
void Nsga2Search::mating_round() {
    const std::size_t objectives = objectives_ != 0 ? objectives_ : sdk_objectives;
    pagmo::problem problem{RecordingProblem{pagmo_->recorder, space_->encoded_size(), objectives}};
    pagmo::population population{std::move(problem), 0u, 0u};
    pagmo_->recorder->asked.clear();
    try {
        for (const Individual& parent : parents_) population.push_back(parent.x, parent.f);
        pagmo_->algorithm.evolve(population);
    } catch (const std::invalid_argument& e) {
        // The plugin checks pagmo's rules up front (population size, probabilities, objective
        // counts), so pagmo refusing a population is a bug here.
        throw InternalError(std::string(algorithm) + ": pagmo refused a generation: " + e.what());
    }
    for (pagmo::vector_double& x : pagmo_->recorder->asked) {
        const Candidate c = space_->decode(x);
        add_to_pool(std::move(x), c);
    }
    pagmo_->recorder->asked.clear();
}

// NSGA-II survival over the parents and the evaluated offspring, with repeats of a design removed
// first (as pymoo does by default) so that the population does not fill up with copies of one
// design. Offspring asked but not evaluated yet (asked in the current call) move on to the next
// generation's pool; designs still queued are dropped and may be bred again later.
void Nsga2Search::complete_generation() {
    const CandidateSet queued(queue_.begin(), queue_.end());
    for (const Candidate& c : queue_) claimed_.release(c);
    queue_.clear();

    const std::size_t objectives = objectives_ != 0 ? objectives_ : sdk_objectives;
    std::vector<Individual> distinct, repeats;
    std::vector<std::vector<double>> carried;
    CandidateSet seen;
    const auto consider = [&](const std::vector<double>& x, const Candidate& c, const std::vector<double>& f) {
        Individual ind{x, f};
        if (ind.f.empty()) ind.f.assign(objectives, infeasible_objective);  // infeasible, told without objectives
        (seen.insert(c).second ? distinct : repeats).push_back(std::move(ind));
    };
    for (const Individual& parent : parents_) consider(parent.x, space_->decode(parent.x), parent.f);
    for (std::vector<double>& x : pool_) {
        const Candidate c = space_->decode(x);
        if (const std::vector<double>* f = objectives_of(c))
            consider(x, c, *f);
        else if (!queued.count(c))
            carried.push_back(std::move(x));
    }
    pool_ = std::move(carried);

    if (distinct.size() <= population_size_) {
        parents_ = std::move(distinct);
        for (std::size_t i = 0; parents_.size() < population_size_ && i < repeats.size(); ++i) parents_.push_back(std::move(repeats[i]));
        return;
    }
    std::vector<pagmo::vector_double> fs;
    fs.reserve(distinct.size());
    for (const Individual& ind : distinct) fs.push_back(ind.f);
    const auto best = pagmo::select_best_N_mo(fs, population_size_);
    std::vector<Individual> next;
    next.reserve(population_size_);
    for (const auto i : best) next.push_back(std::move(distinct[static_cast<std::size_t>(i)]));
    parents_ = std::move(next);
}

std::vector<Candidate> Nsga2Search::ask(std::size_t n) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    if (n == 0) return out;
    // A generation is complete once its pool holds `population` evaluated offspring. Everything
    // asked before this call has been told (search.hpp), so that is checked first; within the call,
    // again whenever the queue runs dry (offspring whose designs were known already count).
    if (!pool_.empty() && evaluated_in_pool() >= population_size_) complete_generation();
    std::size_t idle = 0;
    while (out.size() < n) {
        if (queue_.empty() && !pool_.empty() && evaluated_in_pool() >= population_size_) complete_generation();
        if (!queue_.empty()) {
            out.push_back(std::move(queue_.front()));
            queue_.pop_front();
            continue;
        }
        if (claimed_.exhausted()) break;
        if (idle >= idle_rounds_) {
            // pagmo keeps breeding designs asked before: a random unasked design joins the pool.
            std::optional<Candidate> c = claimed_.draw(rng_);
            if (!c) break;
            pool_.push_back(space_->encode(*c));
            queue_.push_back(std::move(*c));
            continue;
        }
        // The generation is short of evaluated offspring (those asked in this call are not
        // evaluated yet): another breeding round on the same parents extends it.
        if (parents_.empty())
            sampling_round();
        else
            mating_round();
        idle = queue_.empty() ? idle + 1 : 0;
    }
    return out;
}

void Nsga2Search::tell(const std::vector<Observation>& results) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": tell() called before start()");
    for (const Observation& o : results) {
        std::vector<double> f = o.objectives;
        if (!f.empty()) {
            if (objectives_ == 0) {
                if (f.size() < 2)
                    throw InternalError(std::string(algorithm) + ": an observation has " + std::to_string(f.size()) +
                                        " objective; NSGA-II needs at least 2");
                objectives_ = f.size();
            } else if (f.size() != objectives_) {
                throw InternalError(std::string(algorithm) + ": an observation has " + std::to_string(f.size()) +
                                    " objectives, earlier ones had " + std::to_string(objectives_));
            }
            // NaN would make the non-domination sort meaningless: treat it as infeasible.
            for (double& v : f)
                if (std::isnan(v)) v = infeasible_objective;
        } else if (o.ok) {
            throw InternalError(std::string(algorithm) + ": a feasible observation has no objectives");
        }
        results_[space_->canonical(o.candidate)] = std::move(f);
    }
}

Factory nsga2_factory() {
    return Factory{
        PluginKind::search,
        "search.nsga2",
        "NSGA-II: multi-objective evolution on pagmo2's nsga2, minimising 1 - accuracy, latency, energy and area\n"
        "pagmo breeds each generation (binary tournaments on non-domination rank and crowding distance, simulated binary\n"
        "crossover, polynomial mutation) on encodings of the designs in [0, 1]^d, decoded to the nearest valid design.\n"
        "ask() hands out the offspring designs not asked before; once they are told, the best `population` of parents\n"
        "and offspring survive (pagmo's select_best_N_mo, repeats of a design removed first). Generation 0 is random.\n"
        "A batch that outruns a generation is filled by another breeding round on the same parents; a population that\n"
        "only breeds known designs gets random unasked ones. Infeasible designs carry objectives of 1e9 and lose every\n"
        "comparison. Deterministic for a seed and a sequence of batch sizes, with the same pagmo and standard library.\n"
        "ask() returns fewer than n only once every design of the space was asked.",
        nsga2_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Nsga2Search>(params); },
    };
}

}  // namespace transcode::plugins::search
