// Progress line with ETA; lines mode prints about 20 lines per run.
#include "host/io/progress.h"

#include <unistd.h>

#include <algorithm>

namespace pdadmm {

namespace {
constexpr double kBarRateWindow = 2.0;  // seconds between rate updates in bar mode
}

Progress::Progress(long total, double total_work, const std::string& mode, long done, double work_done, FILE* out)
    : total_(total), out_(out), total_work_(total_work), mark_done_(done), mark_work_(work_done) {
  off_ = mode == "off";
  bar_ = mode == "bar" || (mode == "auto" && isatty(fileno(out)));
  last_ = mark_ = Clock::now();
}

void Progress::update(long done, double work_done, double val_acc, double test_acc, double residual, double rho,
                      long scored_at) {
  if (off_ || total_ <= 0) return;
  const auto now = Clock::now();
  const auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  // The first iteration carries one-time costs (an exact evaluation, memory's first touches): its
  // s/it is shown, but the rates behind the ETA start after it (Cora: 0.06 s against 0.01 s, an
  // ETA of 112 s for a 6 s run).
  const bool first = !warm_ && done > mark_done_;
  if (first) {
    warm_ = true;
    rate_ = seconds(now - mark_) / static_cast<double>(done - mark_done_);
    mark_ = now;
    mark_done_ = done;
    mark_work_ = work_done;
  }
  if (bar_) {
    if (done != total_ && seconds(now - last_) < 0.1) return;
    last_ = now;
  } else {
    const long step = total_ >= 20 ? total_ / 20 : 1;
    if (done != total_ && done / step == last_line_) return;
    last_line_ = done / step;
  }
  if (done > mark_done_ && (!bar_ || work_rate_ == 0 || seconds(now - mark_) >= kBarRateWindow)) {
    rate_ = seconds(now - mark_) / static_cast<double>(done - mark_done_);
    if (work_done > mark_work_) work_rate_ = seconds(now - mark_) / (work_done - mark_work_);
    mark_ = now;
    mark_done_ = done;
    mark_work_ = work_done;
  }
  char eta[32] = "-";  // no rate after the first iteration yet
  if (done >= total_ || work_rate_ > 0)
    std::snprintf(eta, sizeof(eta), "%.0fs", work_rate_ * std::max(0.0, total_work_ - work_done));
  // Scores from an earlier logged iteration say which (the same figures from iteration 1 on
  // every line up to the next log read as a run that did not learn).
  char at[32] = "";
  if (scored_at >= 0 && scored_at != done) std::snprintf(at, sizeof(at), " @%ld", scored_at);
  if (bar_) {
    const int width = 24, filled = static_cast<int>(width * done / total_);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(out_, "\r[%s] %ld/%ld  val %.4f  test %.4f%s  residual %.3e  rho %.1e  %.4f s/it  ETA %s   ",
                 bar.c_str(), done, total_, val_acc, test_acc, at, residual, rho, rate_, eta);
    drawn_ = true;
  } else {
    std::fprintf(out_, "iter %ld/%ld  val %.4f  test %.4f%s  residual %.3e  rho %.1e  %.4f s/it  ETA %s\n", done,
                 total_, val_acc, test_acc, at, residual, rho, rate_, eta);
  }
  std::fflush(out_);
}

void Progress::finish() {
  // Only a line drawn needs ending: a run of 0 iterations left a blank line.
  if (drawn_) std::fprintf(out_, "\n");
  drawn_ = false;
}

void Progress::break_line() {
  if (!drawn_) return;
  std::fprintf(out_, "\n");
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace pdadmm
