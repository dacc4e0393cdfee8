// MPI at the edge: detecting an MPI launch, the MPI session of a `transcode run` under mpirun, and
// the pool over its ranks (work_pool.hpp).
//
// Rank 0 owns everything that is not evaluation (the loop, the search, the store, the output
// folder) and evaluates too, on a helper thread; MPI is called from rank 0's main thread only
// (MPI_THREAD_FUNNELED). The other ranks serve(): receive an item, run the work function, send the
// result back, until rank 0 tells them to stop. Dispatch is dynamic: a rank gets the next item the
// moment it returns one. Waiting ranks poll with short sleeps instead of MPI's busy wait, so an
// idle rank leaves its core to the ranks that work.
//
// Built without MPI (CMake found none), MpiSession's constructor throws a ConfigError that says so.
#pragma once

#include <memory>

#include "distributed/work_pool.hpp"

namespace transcode::engine::distributed {

/// True when an MPI launcher started this process: OMPI_COMM_WORLD_SIZE (Open MPI), PMI_SIZE
/// (MPICH, Slurm's PMI-1/2) or PMIX_RANK (PMIx: Slurm srun --mpi=pmix, Open MPI 5) is set.
bool launched_by_mpi();
/// Whether this binary was built with MPI support.
bool built_with_mpi();
/// How many CPUs this process may run on (its affinity mask; sched_getaffinity). Open MPI binds
/// each rank to one core when it starts two ranks or fewer, and rank 0 runs its dispatch loop and
/// an evaluating thread: the CLI warns when they would share one core.
unsigned cpus_this_process_may_use();

class MpiSession {
public:
    /// MPI_Init_thread with MPI_THREAD_FUNNELED. Throws ConfigError when the binary was built
    /// without MPI or the library gives less than FUNNELED.
    MpiSession();
    /// Rank 0: stop_workers(0) unless already done. Then MPI_Finalize.
    ~MpiSession();
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// Rank 0: a pool over every rank (this one's helper thread included). Use it from the thread
    /// that made the session.
    std::unique_ptr<WorkPool> pool();
    /// Not rank 0: runs items through `work` until rank 0 says stop; returns the status rank 0 sent.
    int serve(const WorkFunction& work);
    /// Rank 0: tells every other rank to stop serving and to exit with `status`. Once.
    void stop_workers(int status);

private:
    int rank_ = 0;
    int size_ = 1;
    bool stopped_ = false;
};

}  // namespace transcode::engine::distributed
