// Ctrl-C (SIGINT), SIGTERM, SIGUSR1 or SIGHUP (a closed terminal) during training: the run finishes
// the iteration in progress (or, after the last, its final evaluation) and writes its outputs for that iterate (model.bin, summary.json marked
// "interrupted"), instead of dying with nothing written. A second signal ends the process at once,
// as without the handler, unless the process that sent the first sends it again within 0.1 s (GNU
// timeout signals the run, then its process group: one stop); a second SIGHUP never does (a closing
// terminal sends two). SIGUSR1 is for mpirun, which forwards it to every process (SIGTERM and
// SIGINT Open MPI 4.1 turns into SIGTERM, then SIGKILL one second later; 5.0.7 kills at once).
#pragma once

namespace pdadmm {

class StopOnSignal {
 public:
  // Installs the handlers; SIGINT and SIGHUP only where they are not ignored (a background job of
  // a non-interactive shell ignores SIGINT, nohup SIGHUP, and they keep doing so).
  // `announce`: the first signal says on stderr what happens now (the process that reports; a
  // long iteration or final evaluation gave no sign that Ctrl-C was heard). `under_mpirun`: a
  // SIGTERM there is mostly mpirun's, which kills the processes soon after (a second with Open MPI
  // 4, with no stop possible when another process failed), so the line does not promise outputs.
  explicit StopOnSignal(bool announce = false, bool under_mpirun = false);
  ~StopOnSignal();  // restores the previous handlers (under mpirun SIGUSR1 stays ignored)
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  // The signal that asked the run to stop, 0 while none has.
  static int received();
};

const char* signal_name(int sig);  // "SIGINT", "SIGTERM", "SIGUSR1", "SIGHUP", else "signal N"

}  // namespace pdadmm
