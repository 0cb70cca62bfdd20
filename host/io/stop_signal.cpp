#include "host/io/stop_signal.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace pdadmm {

namespace {

// The handler may run on any thread (the groups' workers do not block signals) while the main
// thread polls: a volatile sig_atomic_t would race then (TSan), a lock-free atomic does not.
std::atomic<int> g_received{0};
static_assert(std::atomic<int>::is_always_lock_free, "async-signal-safe only when lock-free");
struct sigaction g_old_int, g_old_term, g_old_usr1, g_old_hup;
bool g_int_installed = false, g_hup_installed = false;
std::atomic<bool> g_announce{false}, g_under_mpirun{false};

// Per kind handled: whether it came, and who sent it first when. GNU timeout(1) signals the run and
// then its process group (microseconds apart), so one expiry delivered the signal twice, and the
// second (then the default action) ended the run without its outputs about half the time.
// The sender is the seen mark itself (0: not seen, -1: not a process's kill), so a second signal
// handled on another thread while the first's handler runs still finds it.
constexpr int kKinds = 4;
std::atomic<long long> g_first_sender[kKinds];
std::atomic<long long> g_first_ns[kKinds];  // 0 until the first's handler stores it
static_assert(std::atomic<long long>::is_always_lock_free, "async-signal-safe only when lock-free");

int kind_of(int sig) { return sig == SIGINT ? 0 : sig == SIGTERM ? 1 : sig == SIGUSR1 ? 2 : 3; }

long long now_ns() {
  struct timespec t = {};
  clock_gettime(CLOCK_MONOTONIC, &t);  // async-signal-safe
  return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec;
}

void on_signal(int sig, siginfo_t* info, void*) {
  // The first one is the stop's; another kind (a tool's SIGTERM after the terminal's SIGINT) only
  // finds it stopping. The same kind again takes the default action, unless a process sent both
  // within 0.1 s (kill(2), not the terminal's Ctrl-C): then it is the same stop, signalled twice.
  // SIGHUP again never ends it.
  const int k = kind_of(sig);
  const long long from = info && info->si_code == SI_USER && info->si_pid > 0 ? info->si_pid : -1;
  long long first = 0;
  if (!g_first_sender[k].compare_exchange_strong(first, from)) {
    // A closing terminal sends two hangups (the shell's to its jobs, then the kernel's): no one
    // means a second SIGHUP as "now, without the outputs".
    if (sig == SIGHUP) return;
    const long long at = g_first_ns[k];
    if (from > 0 && from == first && (at == 0 || now_ns() - at < 100000000LL)) return;
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
    raise(sig);  // blocked in its handler: delivered, with the default action, on return
    return;
  }
  g_first_ns[k] = now_ns();
  int none = 0;
  if (g_received.compare_exchange_strong(none, sig) && g_announce) {
    // write(2) is async-signal-safe; the leading newline ends a progress line.
    static const char m[] = "\npdadmm: stopping: the iteration in progress finishes and the outputs are written "
                            "(the same signal again ends the process at once, without them)\n";
    // mpirun forwards SIGUSR1 and kills no one; its SIGTERM (Ctrl-C, or another process that failed
    // or died, whose iteration then never ends) comes before its SIGKILL.
    static const char mpi[] = "\npdadmm: stopping: the iteration in progress finishes and the outputs are written, "
                              "unless mpirun kills the processes first (Open MPI 4 a second after Ctrl-C or a failed "
                              "process, 5 at once; kill -USR1 to mpirun stops them with the outputs)\n";
    const bool hedge = g_under_mpirun && sig != SIGUSR1;
    const ssize_t n = hedge ? ::write(STDERR_FILENO, mpi, sizeof mpi - 1) : ::write(STDERR_FILENO, m, sizeof m - 1);
    (void)n;
  }
}

}  // namespace

StopOnSignal::StopOnSignal(bool announce, bool under_mpirun) {
  g_received = 0;
  for (int k = 0; k < kKinds; ++k) g_first_sender[k] = g_first_ns[k] = 0;
  g_announce = announce;
  g_under_mpirun = under_mpirun;
  struct sigaction sa = {};
  sa.sa_sigaction = on_signal;  // a second signal of a kind takes the default action there
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGUSR1, &sa, &g_old_usr1);  // mpirun forwards it to every process, and kills none
  const auto unless_ignored = [&](int sig, struct sigaction* old) {
    struct sigaction cur = {};
    sigaction(sig, nullptr, &cur);
    return cur.sa_handler != SIG_IGN && sigaction(sig, &sa, old) == 0;
  };
  g_int_installed = unless_ignored(SIGINT, &g_old_int);
  // A closed terminal or dropped ssh session ended the run with nothing written (nohup ignores it).
  g_hup_installed = unless_ignored(SIGHUP, &g_old_hup);
}

StopOnSignal::~StopOnSignal() {
  sigaction(SIGTERM, &g_old_term, nullptr);
  // Under mpirun SIGUSR1 stays ignored: mpirun forwards it to every process, and one that had left
  // the run first (those that write nothing) died of it, mpirun exiting 138 for a finished run and
  // killing process 0 a second later, its writes perhaps unfinished. There is nothing left to stop.
  struct sigaction ignore = {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGUSR1, g_under_mpirun ? &ignore : &g_old_usr1, nullptr);
  if (g_int_installed) sigaction(SIGINT, &g_old_int, nullptr);
  if (g_hup_installed) sigaction(SIGHUP, &g_old_hup, nullptr);
}

int StopOnSignal::received() { return g_received; }

const char* signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGUSR1) return "SIGUSR1";
  if (sig == SIGHUP) return "SIGHUP";
  static thread_local std::string other;
  other = "signal " + std::to_string(sig);
  return other.c_str();
}

}  // namespace pdadmm
