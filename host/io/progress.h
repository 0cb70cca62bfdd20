// Progress display: one self-rewriting line on a terminal, plain lines otherwise.
#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace pdadmm {

class Progress {
 public:
  // mode: "auto" (bar on a terminal, lines otherwise), "bar", "lines", "off". total_work: the
  // run's work in any unit (the trainer weights greedy growth's stages, whose later ones cost more
  // per iteration); the ETA is the recent wall time per unit times the work left ("-" until an
  // iteration after the first has finished: the first carries one-time costs).
  // done, work_done: where a resumed run starts (its rates count from there).
  Progress(long total, double total_work, const std::string& mode, long done = 0, double work_done = 0,
           FILE* out = stderr);
  // s/it is wall time (evaluation included) over the recent iterations, not the whole run; rho is
  // the one the next iteration uses (the schedule may have just raised it). scored_at: the
  // iteration the accuracies are from, shown as "@k" when it is not `done` (-1: unknown, not shown).
  void update(long done, double work_done, double val_acc, double test_acc, double residual, double rho,
              long scored_at = -1);
  void finish();
  // Before another line mid-run (a stage change, a note): the bar's line is ended, and the next
  // update draws it again below (the line was glued to the bar: "... ETA 1s   stage 2/3: ...").
  void break_line();
  // An error that ends the run mid-line starts its own (it was glued to the bar).
  ~Progress() { break_line(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  using Clock = std::chrono::steady_clock;
  long total_;
  bool bar_ = false, off_ = false, drawn_ = false;  // drawn_: a bar line is open for finish() to end
  FILE* out_;
  Clock::time_point last_, mark_;
  double total_work_;
  bool warm_ = false;  // the first iteration since the start (or resume) is behind the marks
  long last_line_ = -1, mark_done_ = 0;
  double mark_work_ = 0;
  double rate_ = 0, work_rate_ = 0;  // seconds per iteration / per work unit since the previous mark
};

}  // namespace pdadmm
