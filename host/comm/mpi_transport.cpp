// processes.h with MPI: one layer group per rank. Boundary messages are MPI point-to-point
// (the sender keeps a copy until MPI is done with it, as the in-process transport copies);
// Transport::share is a broadcast from the rank that runs the group.
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/version.h"

namespace pdadmm {

namespace {

bool g_started = false;
int g_size = 1, g_rank = 0;
MPI_Comm g_machine = MPI_COMM_NULL;  // the processes sharing this one's memory

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw Error(std::string("MPI: ") + what + ": " + std::string(msg, static_cast<size_t>(len)));
}

int message_bytes(size_t bytes) {
  require(bytes <= static_cast<size_t>(INT_MAX),
          "MPI transport: a boundary message of " + std::to_string(bytes) +
              " bytes is over MPI's 2 GiB per message; use fewer training nodes or a narrower layer");
  return static_cast<int>(bytes);
}

// MPI counts are int: a large buffer moves in 1 GiB pieces.
template <typename F>
void in_pieces(void* data, size_t bytes, F each) {
  char* p = static_cast<char*>(data);
  for (size_t done = 0; done < bytes;) {
    const int n = static_cast<int>(std::min<size_t>(bytes - done, size_t{1} << 30));
    each(p + done, n);
    done += static_cast<size_t>(n);
  }
}

// Transport::give's messages, apart from the boundary messages' Tag values.
constexpr int kGiveTag = 16;

class MpiTransport final : public Transport {
 public:
  explicit MpiTransport(int groups) : groups_(groups), ep_(g_rank) {}
  int groups() const override { return groups_; }
  Endpoint& endpoint(int group) override {
    require(group == g_rank, "MPI transport: group " + std::to_string(group) + " runs in another process");
    return ep_;
  }
  void shutdown() override {}  // a failing process ends the whole run (processes_abort)
  bool local(int group) const override { return group == g_rank; }
  void share(int group, void* data, size_t bytes) override {
    in_pieces(data, bytes, [group](char* p, int n) {
      check(MPI_Bcast(p, n, MPI_BYTE, group, MPI_COMM_WORLD), "broadcast");
    });
  }
  void give(int from, int to, void* data, size_t bytes) override {
    if (from == to || (g_rank != from && g_rank != to)) return;
    // Blocking: each pair meets at the same call, and calls come in the same order everywhere.
    in_pieces(data, bytes, [from, to](char* p, int n) {
      if (g_rank == from) check(MPI_Send(p, n, MPI_BYTE, to, kGiveTag, MPI_COMM_WORLD), "send");
      else check(MPI_Recv(p, n, MPI_BYTE, from, kGiveTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
    });
  }

 private:
  class Ep final : public Endpoint {
   public:
    explicit Ep(int g) : g_(g) {}
    ~Ep() override {
      for (auto& kv : out_)
        if (kv.second.req != MPI_REQUEST_NULL) MPI_Wait(&kv.second.req, MPI_STATUS_IGNORE);
    }
    int group() const override { return g_; }
    void send(int peer, Tag tag, const void* data, size_t bytes) override {
      // cppcheck-suppress constStatement ; a braced key, which cppcheck reads as a statement
      Pending& o = out_[{peer, static_cast<int>(tag)}];
      if (o.req != MPI_REQUEST_NULL) check(MPI_Wait(&o.req, MPI_STATUS_IGNORE), "send");
      o.buf.resize(bytes);
      if (bytes) std::memcpy(o.buf.data(), data, bytes);
      check(MPI_Isend(o.buf.data(), message_bytes(bytes), MPI_BYTE, peer, static_cast<int>(tag), MPI_COMM_WORLD, &o.req),
            "send");
    }
    void recv(int peer, Tag tag, void* data, size_t bytes) override {
      MPI_Status st;
      check(MPI_Probe(peer, static_cast<int>(tag), MPI_COMM_WORLD, &st), "receive");
      int n = 0;
      check(MPI_Get_count(&st, MPI_BYTE, &n), "receive");
      require(static_cast<size_t>(n) == bytes, "MPI transport: group " + std::to_string(g_) + " expected " +
                                                   std::to_string(bytes) + " bytes from group " + std::to_string(peer) +
                                                   ", got " + std::to_string(n));
      check(MPI_Recv(data, n, MPI_BYTE, peer, static_cast<int>(tag), MPI_COMM_WORLD, MPI_STATUS_IGNORE), "receive");
    }

   private:
    struct Pending {
      MPI_Request req = MPI_REQUEST_NULL;
      std::vector<char> buf;
    };
    int g_;
    std::map<std::pair<int, int>, Pending> out_;  // by (peer, tag): the last send still in flight
  };
  int groups_;
  Ep ep_;
};

}  // namespace

void processes_init(int* argc, char*** argv) {
  if (launched_processes() <= 1 || g_started) return;
  int provided = 0;
  // The groups' worker thread sends and receives, the main thread broadcasts between
  // iterations, never both at once.
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
    throw Error("MPI: MPI_Init_thread failed");
  g_started = true;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  require(provided >= MPI_THREAD_SERIALIZED, "MPI: the library does not offer MPI_THREAD_SERIALIZED");
  // Another MPI's launcher (MPICH's mpiexec, srun --mpi=pmi2) starts processes this MPI sees as one
  // each: every one trained the whole model alone.
  require(g_size == launched_processes(),
          "the launcher started " + std::to_string(launched_processes()) + " processes but MPI sees " +
              std::to_string(g_size) + " in this one: start pdadmm with the mpirun of the MPI it was built with "
              "(`ldd pdadmm | grep -i mpi` names it)");
  // Every process must run the same pdadmm: a host with another build, whose collectives differ,
  // made the run wait for ever or end at an MPI error (message truncated). Compared by commit,
  // local changes aside; a build outside git ("unknown", 0) is not compared.
  // (build_version: its commit is read from the string literal, which a test can patch in a copy.)
  std::string version = build_version();
  if (const size_t dirty = version.find("-dirty"); dirty != std::string::npos) version.erase(dirty, 6);
  const uint32_t mine =
      version.find("(git unknown)") != std::string::npos ? 0 : crc32_of(version.data(), version.size());
  uint32_t first = mine;
  check(MPI_Bcast(&first, sizeof first, MPI_BYTE, 0, MPI_COMM_WORLD), "broadcast");
  require(first == mine || first == 0 || mine == 0,
          "this process runs pdadmm " + build_version() + ", process 0 another build: every process must run "
          "pdadmm built from the same commit (rebuild it, or copy process 0's, on each machine)");
  // After the build check: an older build's process would meet this collective with its broadcast.
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &g_machine), "split by machine");
}

void processes_finalize() {
  if (g_machine != MPI_COMM_NULL) MPI_Comm_free(&g_machine);
  if (g_started) MPI_Finalize();
  g_started = false;
}

bool built_with_mpi() { return true; }
int process_count() { return g_size; }
int process_rank() { return g_rank; }

void processes_abort(int code) {
  if (g_started && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

void processes_broadcast(void* data, size_t bytes) {
  if (!g_started || g_size <= 1) return;
  require(bytes <= size_t{1} << 30, "processes_broadcast: at most 1 GiB");
  check(MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, 0, MPI_COMM_WORLD), "broadcast");
}

int processes_max(int value) {
  if (!g_started || g_size <= 1) return value;
  int all = value;
  check(MPI_Allreduce(&value, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "reduce");
  return all;
}

std::vector<double> processes_machine_sum(std::vector<double> values) {
  if (!g_started || g_size <= 1 || values.empty()) return values;
  std::vector<double> all(values.size());
  check(MPI_Allreduce(values.data(), all.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, g_machine),
        "reduce");
  return all;
}

int processes_on_machine() {
  int n = 1;
  if (g_started && g_machine != MPI_COMM_NULL) MPI_Comm_size(g_machine, &n);
  return n;
}

std::unique_ptr<Transport> make_process_transport(int groups) {
  // Fewer groups than processes: a greedy-growth stage with fewer layers; the rest wait.
  require(g_size >= groups, "mpirun started " + std::to_string(g_size) + " processes for " + std::to_string(groups) +
                                " layer groups: one process per group (mpirun -np " + std::to_string(groups) + ")");
  return std::make_unique<MpiTransport>(groups);
}

}  // namespace pdadmm
