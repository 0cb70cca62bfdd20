// pdadmm bench: problem and solver as in the trainer, every group's Ops wrapped in CountingOps.
#include "host/bench/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <mutex>
#include <numeric>
#include <thread>

#include <sys/resource.h>
#include <time.h>

#include "host/admm/plan.h"
#include "host/admm/trainer.h"
#include "host/bench/counting_ops.h"
#include "host/bench/gemm_peak.h"
#include "host/bench/machine_info.h"
#include "host/bench/token_transport.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/data/rng.h"
#include "host/io/error.h"
#include "host/quant/wire.h"
#include "host/io/host_memory.h"
#include "host/io/stats.h"
#include "host/io/version.h"

namespace pdadmm {

namespace {

// OpenBLAS starts its server threads when it loads (used here only by the peak measurement) and
// each spins with sched_yield for 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28) before it sleeps:
// a short bench's process CPU time counted that spin as the iterations' (a 16-wide sweep's
// single-threaded serial run: CPU time twice its wall time). Waits out the spin, once, before the
// warm-up, assuming a clock of at least 1 GHz. Static initialisation runs after the libraries load.
const std::chrono::steady_clock::time_point g_loaded = std::chrono::steady_clock::now();

void wait_for_blas_threads_to_sleep() {
  const int n = std::clamp(env_int("OPENBLAS_THREAD_TIMEOUT", 28), 4, 30);  // OpenBLAS's own bounds
  const auto spin = std::chrono::duration<double>(std::ldexp(1.0, n) / 1e9);
  const auto left = g_loaded + std::chrono::duration_cast<std::chrono::steady_clock::duration>(spin) -
                    std::chrono::steady_clock::now();
  if (left.count() > 0) std::this_thread::sleep_for(left);
}

struct Stat {
  double median = 0, min = 0, max = 0, mean = 0;
};

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  s.median = median(v);
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return s;
}

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// A group's counters of one iteration, shared as bytes under mpirun.
struct GroupSample {
  double busy_s = 0, busy_cpu_s = 0, gemm_s = 0, gemm_flops = 0;
};

// GEMM calls per shape, from the process that ran the group (m, n, k, trans_a, trans_b, calls).
void share_shapes(Solver<float>& solver, int g, const std::map<GemmShape, long>& local,
                  std::map<GemmShape, long>& all) {
  std::vector<long> flat;
  for (const auto& [s, n] : local)
    flat.insert(flat.end(), {static_cast<long>(s.m), static_cast<long>(s.n), static_cast<long>(s.k), s.trans_a ? 1L : 0L,
                             s.trans_b ? 1L : 0L, n});
  long count = static_cast<long>(flat.size());
  solver.share(g, &count, sizeof count);
  flat.resize(static_cast<size_t>(count));
  solver.share(g, flat.data(), flat.size() * sizeof(long));
  for (size_t i = 0; i + 6 <= flat.size(); i += 6) {
    GemmShape s;
    s.m = flat[i];
    s.n = flat[i + 1];
    s.k = flat[i + 2];
    s.trans_a = flat[i + 3] != 0;
    s.trans_b = flat[i + 4] != 0;
    all[s] += flat[i + 5];
  }
}

struct BenchSolver {
  std::unique_ptr<Solver<float>> solver;
  // The groups' Ops (owned by the solver), at a fixed address for the TokenTransport.
  std::shared_ptr<std::vector<CountingOps*>> ops;
  int threads_per_group = 0;
};

// make_solver (host/admm/trainer.cpp) with each group's Ops wrapped for counting; with `token`,
// the transport gives the token up before every message.
BenchSolver make_bench_solver(const Config& c, const Problem& p, const std::vector<HostMatrix<float>>& W,
                              const std::vector<HostMatrix<float>>& b, std::mutex* token) {
  const int G = group_count(c);
  const bool serialize = token != nullptr;
  const bool cuda = c.backend == "cuda";
  BenchSolver bs;
  bs.ops = std::make_shared<std::vector<CountingOps*>>(G, nullptr);
  std::vector<CountingOps*>* ops = bs.ops.get();
  SolverHooks hooks;
  // Timing single CUDA ops needs a sync after each: only when serialised.
  hooks.wrap_ops = [ops, time_ops = !cuda || serialize](int g, std::unique_ptr<Ops<float>> inner) {
    auto o = std::make_unique<CountingOps>(std::move(inner), time_ops);
    (*ops)[g] = o.get();
    return std::unique_ptr<Ops<float>>(std::move(o));
  };
  if (serialize)
    hooks.wrap_transport = [ops](std::unique_ptr<Transport> t) -> std::unique_ptr<Transport> {
      return std::make_unique<TokenTransport>(std::move(t), ops);
    };
  if (!cuda) {
    bs.threads_per_group = serialize ? total_cores(c) : configure_threads(c, process_count() > 1 ? 1 : G);
    hooks.cpu_threads_per_group = bs.threads_per_group;
  }
  bs.solver = make_solver(c, p, W, b, hooks);
  for (CountingOps* o : *ops)
    if (o) o->set_token(token);  // null: a group of another process (mpirun)
  return bs;
}

nlohmann::json stat_json(const Stat& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"mean", s.mean}};
}

nlohmann::json shape_json(const GemmShape& s) {
  return {{"m", s.m}, {"n", s.n}, {"k", s.k}, {"trans_a", s.trans_a}, {"trans_b", s.trans_b}};
}

// Roofline over the largest shapes: peak = Σ flops / Σ (flops / peak of the shape).
nlohmann::json roofline(const std::map<GemmShape, long>& calls, int iterations, int threads, double achieved,
                        const BenchOptions& o, std::ostream& log) {
  std::vector<std::pair<GemmShape, double>> by_flops;  // flops per iteration
  double total = 0;
  for (const auto& [s, n] : calls) {
    by_flops.emplace_back(s, s.flops() * static_cast<double>(n) / iterations);
    total += by_flops.back().second;
  }
  std::sort(by_flops.begin(), by_flops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::pair<GemmShape, double>> measured;  // the shapes timed, with their flops per iteration
  std::vector<GemmPeak> peaks;
  double covered = 0;
  for (const auto& [s, f] : by_flops) {
    if (static_cast<int>(measured.size()) >= o.peak_max_shapes || covered >= 0.95 * total) break;
    log << "bench: SGEMM peak for " << s.m << "x" << s.n << "x" << s.k << " (" << (s.trans_a ? "T" : "N")
        << (s.trans_b ? "T" : "N") << ") on " << threads << " thread(s)...\n";
    measured.emplace_back(s, f);
    peaks.push_back(measure_sgemm_peak(s, threads, o.peak_seconds));
    covered += f;
  }
  // A shape timed while another process held a core measures a fraction of its peak (one core's of
  // two: 1.44 "of peak" once): one far below the best shape's is timed again, the faster kept.
  double best = 0;
  for (const GemmPeak& pk : peaks) best = std::max(best, pk.best());
  for (size_t i = 0; i < peaks.size(); ++i)
    if (peaks[i].best() < 0.75 * best) {
      const GemmPeak again = measure_sgemm_peak(measured[i].first, threads, o.peak_seconds);
      if (again.best() > peaks[i].best()) peaks[i] = again;
    }
  nlohmann::json shapes = nlohmann::json::array();
  double peak_time = 0;
  for (size_t i = 0; i < peaks.size(); ++i) {
    nlohmann::json j = shape_json(measured[i].first);
    j["flops_per_iter"] = measured[i].second;
    j["split_gflops"] = peaks[i].split_gflops;
    j["openblas_gflops"] = peaks[i].blas_gflops;
    j["peak_gflops"] = peaks[i].best();
    shapes.push_back(j);
    peak_time += measured[i].second / (peaks[i].best() * 1e9);
  }
  const double peak = peak_time > 0 ? covered / peak_time / 1e9 : 0;
  return {{"threads", threads},
          {"shapes", shapes},
          {"coverage", total > 0 ? covered / total : 0},
          {"peak_gflops", peak},
          {"achieved_gflops", achieved},
          {"fraction_of_peak", peak > 0 ? achieved / peak : 0}};
}

// The threads that run the groups (each group gets at least one; serialised, they take turns on
// the one team): ", 4 thread(s) (2 per group)", the configured count alone said 1 for 3 groups.
std::string threads_text(int per_group, int local_groups, bool serialize, bool processes) {
  const int used = serialize ? per_group : per_group * local_groups;
  return ", " + std::to_string(used) + " thread(s)" + (processes ? " per process" : "") +
         (serialize ? std::string() : " (" + std::to_string(per_group) + " per group)");
}

}  // namespace

nlohmann::json run_bench(const Config& given, const BenchOptions& o, std::ostream& log) {
  // The full depth as `train` runs it: the last stage's settings (its nu, rho, mu, step). admm.*
  // timed Coauthor CS's backtracking at 1e-3 where its 10-layer stage takes exact steps at 5e-4.
  Config c = given.model.stages.empty() ? given : stage_config(given, given.model.stages.size() - 1);
  c.model.stages.clear();
  if (!given.model.stages.empty()) {  // the JSON's config is what was timed: that stage's keys as admm.*
    const nlohmann::json& last = given.effective["model"]["stages"].back();
    for (const char* key : kStageAdmmKeys)
      if (last.contains(key)) c.effective["admm"][key] = last[key];
    if (last.contains("zl_init")) c.effective["model"]["zl_init"] = last["zl_init"];
    c.effective["model"]["stages"] = nlohmann::json::array();
  }
  require(o.iterations >= 1, "bench: --iterations must be >= 1 (got " + std::to_string(o.iterations) + ")");
  require(o.warmup >= 0, "bench: --warmup must be >= 0 (got " + std::to_string(o.warmup) + ")");
  require(o.peak_seconds > 0 && o.peak_seconds <= 60, "bench: --peak-seconds must be in (0, 60]");
  {
    // The timings kept per group and iteration (samples, then compute, wait, busy, CPU, GEMM time
    // and flops): -n 2000000000 failed after setup as "out of memory (try fewer nodes, a smaller
    // model or more groups)", none of which was the cause.
    const double need = static_cast<double>(o.iterations) *
                        (static_cast<double>(c.groups) * (sizeof(GroupSample) + 6 * sizeof(double)) + 2 * sizeof(double));
    const int64_t room = available_host_bytes();
    require(room < 0 || need <= static_cast<double>(room), [&] {
      return "bench: --iterations " + std::to_string(o.iterations) + ": the timings of " + std::to_string(c.groups) +
             " group(s) per iteration need " + human_bytes(need) + " and " + human_bytes(static_cast<double>(room)) +
             " is available (time fewer iterations)";
    });
  }
  const std::vector<Link> links = o.links.empty() ? link_presets() : o.links;
  // The JSON keys the modeled times by link name: a second link of a name would replace the first.
  for (size_t i = 0; i < links.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      require(links[i].name != links[k].name, "bench: --link " + links[i].name + " is given twice; name each link once");
  const bool processes = process_count() > 1;
  require(!(processes && o.serialize), "bench: --serialize runs every group in one process; drop it under mpirun");
  require_process_per_group(c);

  const auto t_setup = std::chrono::steady_clock::now();
  Problem p = build_problem(c);
  const double setup_seconds = seconds_since(t_setup);
  require_same_data(c, p);
  require_message_sizes(c, p);  // as train: at setup, on every process, not at the first send
  require_host_memory(c, p);
  std::vector<HostMatrix<float>> W, b;
  const std::vector<char> here = layers_here(c);  // under mpirun, this process's layers only
  init_weights(p.dims, c.model.init_std, derive_seed(static_cast<uint64_t>(c.seed), 77), W, b, &here);
  std::mutex token;
  BenchSolver bs = make_bench_solver(c, p, W, b, o.serialize ? &token : nullptr);
  Solver<float>& solver = *bs.solver;
  const int G = solver.num_groups();
  processes_max(0);  // every process set up before process 0 speaks: an error stays the only line
  for (const std::string& w : c.warnings) log << "warning: " << w << "\n";  // after the setup's errors
  log << "bench: " << c.model.layers << " layers x " << c.model.hidden << ", input " << p.dims[0] << ", N = "
      << p.x.cols << " training columns, " << G << " group(s), backend " << c.backend
      << (c.backend == "cpu" ? threads_text(bs.threads_per_group, processes ? 1 : G, o.serialize, processes)
                             : std::string())
      << (o.serialize ? ", groups serialised" : "")
      << (processes ? ", " + std::to_string(process_count()) + " processes (mpirun)" : "") << "\n";
  if (!given.model.stages.empty())
    log << "bench: the last of " << given.model.stages.size() << " growth stages, with its nu " << c.admm.nu << ", rho "
        << c.admm.rho << ", mu " << c.admm.mu << " (--set model.stages=[] times admm.* instead)\n";
  if (process_rank() == 0) log_auto_threads(c, log);

  wait_for_blas_threads_to_sleep();
  for (int i = 0; i < o.warmup; ++i) solver.iterate(false);
  std::vector<double> seconds, cpu_seconds;
  std::vector<std::vector<double>> compute(G), wait(G), busy(G), busy_cpu(G), gemm_s(G), flops(G);
  // This process's groups' counters per iteration and GEMM shapes; gathered after the timed loop.
  std::vector<std::vector<GroupSample>> samples(G, std::vector<GroupSample>(static_cast<size_t>(o.iterations)));
  std::vector<std::map<GemmShape, long>> local_shapes(G);
  std::map<GemmShape, long> shapes;
  std::vector<size_t> boundary;
  StepCounts counts;
  for (CountingOps* op : *bs.ops)
    if (op) op->counters() = OpCounters{};
  for (int it = 0; it < o.iterations; ++it) {
    const double cpu0 = process_cpu_seconds();
    IterationStats st = solver.iterate(false);  // no objective terms, no evaluation
    cpu_seconds.push_back(process_cpu_seconds() - cpu0);
    seconds.push_back(st.seconds);
    for (int g = 0; g < G; ++g) {
      compute[g].push_back(st.groups[g].compute_s);
      wait[g].push_back(st.groups[g].wait_s);
      if (!(*bs.ops)[g]) continue;  // a group of another process
      OpCounters& k = (*bs.ops)[g]->counters();
      samples[g][it] = {k.busy_s, k.busy_cpu_s, k.gemm_s, k.gemm_flops};
      for (const auto& [s, n] : k.shapes) local_shapes[g][s] += n;
      k = OpCounters{};
    }
    boundary = st.boundary_bytes;
    counts.add(st.counts);
  }
  for (int g = 0; g < G; ++g) {  // under mpirun, from the process that ran group g
    solver.share(g, samples[g].data(), samples[g].size() * sizeof(GroupSample));
    share_shapes(solver, g, local_shapes[g], shapes);
    for (const GroupSample& gs : samples[g]) {
      busy[g].push_back(gs.busy_s);
      busy_cpu[g].push_back(gs.busy_cpu_s);
      gemm_s[g].push_back(gs.gemm_s);
      flops[g].push_back(gs.gemm_flops);
    }
  }

  const Stat sec = stat_of(seconds);
  const bool have_busy = c.backend == "cpu" || o.serialize;
  nlohmann::json groups = nlohmann::json::array();
  // Median and min per group: min is the cost least disturbed by other processes on shared cores.
  std::vector<double> model_compute(G), model_compute_min(G), model_compute_cpu(G);
  double flops_total = 0;
  int first = 0;
  for (int g = 0; g < G; ++g) {
    const double f = stat_of(flops[g]).mean;
    flops_total += f;
    const Stat bz = stat_of(busy[g]);
    model_compute[g] = o.serialize ? bz.median : stat_of(compute[g]).median;
    model_compute_min[g] = o.serialize ? bz.min : stat_of(compute[g]).min;
    model_compute_cpu[g] = stat_of(busy_cpu[g]).median;
    nlohmann::json j = {{"layers", {first, first + solver.partition()[g]}},
                        {"compute_s", stat_of(compute[g]).median},
                        {"wait_s", stat_of(wait[g]).median},
                        {"gemm_flops", f}};
    j["compute_min_s"] = stat_of(compute[g]).min;
    if (have_busy) {
      j["busy_s"] = bz.median;
      j["busy_min_s"] = bz.min;
      j["busy_cpu_s"] = stat_of(busy_cpu[g]).median;
      j["gemm_s"] = stat_of(gemm_s[g]).median;
    }
    groups.push_back(j);
    first += solver.partition()[g];
  }
  std::vector<double> boundary_d(boundary.begin(), boundary.end());
  const size_t bytes = std::accumulate(boundary.begin(), boundary.end(), size_t{0});
  const double achieved = flops_total / sec.median / 1e9;

  nlohmann::json out;
  out["config"] = c.effective;
  out["backend"] = c.backend;
  out["algorithm"] = c.algorithm;
  out["layers"] = c.model.layers;
  out["hidden"] = c.model.hidden;
  out["dims"] = p.dims;
  out["n_cols"] = p.x.cols;
  out["nodes"] = p.data.num_nodes();
  out["groups"] = G;
  out["partition"] = solver.partition();
  out["threads"] = total_cores(c);  // per process
  out["processes"] = process_count();
  out["threads_per_group"] = bs.threads_per_group;
  out["serialize"] = o.serialize;
  out["iterations"] = o.iterations;
  out["warmup"] = o.warmup;
  out["seconds_per_iter"] = stat_json(sec);
  out["seconds_all"] = seconds;
  // Process CPU time per iteration (all threads): equals the wall time of a quiet machine only
  // for a single-threaded run; on a shared machine it leaves out time other processes held the cores.
  out["cpu_seconds_per_iter"] = stat_json(stat_of(cpu_seconds));
  out["group_stats"] = groups;
  out["boundary_bytes"] = boundary;
  out["bytes_per_iter"] = bytes;
  // As summary.json's: what fp32 pdADMM-G would move, and its ratio to this run's bytes.
  const size_t fp32_bytes = fp32_baseline_bytes(p.dims, solver.partition(), p.x.cols);
  out["bytes_per_iter_fp32"] = fp32_bytes;
  out["bytes_ratio_fp32"] = fp32_ratio_json(fp32_bytes, bytes);
  out["gemm_flops_per_iter"] = flops_total;
  out["gflops"] = achieved;
  out["backtracks_per_iter"] = {{"p", counts.p_backtracks / static_cast<double>(o.iterations)},
                                {"W", counts.w_backtracks / static_cast<double>(o.iterations)}};
  // A step that gave up did less work than one that moved: say how many, beside the timings.
  out["giveups_per_iter"] = {{"p", counts.p_giveups / static_cast<double>(o.iterations)},
                             {"W", counts.w_giveups / static_cast<double>(o.iterations)}};
  out["fista_its_per_iter"] = counts.fista_its / static_cast<double>(o.iterations);
  nlohmann::json shape_list = nlohmann::json::array();
  for (const auto& [s, n] : shapes) {
    nlohmann::json j = shape_json(s);
    j["calls_per_iter"] = static_cast<double>(n) / o.iterations;
    j["flops_per_iter"] = s.flops() * static_cast<double>(n) / o.iterations;
    shape_list.push_back(j);
  }
  out["gemm_shapes"] = shape_list;
  // The group_stats key the link model read, bare (a script compares it): busy_s with the groups
  // serialised, each op timed alone; compute_s with them concurrent on this machine.
  out["model_compute"] = o.serialize ? "busy_s" : "compute_s";
  auto model = [&](const std::vector<double>& compute_s) {
    nlohmann::json m = nlohmann::json::object();
    for (const Link& l : links) {
      const ModeledTime t = modeled_parallel(compute_s, boundary_d, l);
      m[l.name] = {{"bandwidth_GBps", l.bandwidth_GBps},
                   {"latency_us", l.latency_us},
                   {"seconds_per_iter", t.seconds},
                   {"comm_s", t.comm_s},
                   {"critical_group", t.critical_group}};
    }
    return m;
  };
  const nlohmann::json modeled = model(model_compute);
  out["links"] = nlohmann::json::array();  // their order (the objects below sort by name)
  for (const Link& l : links) out["links"].push_back(l.name);
  out["modeled"] = modeled;           // from per-group medians
  out["modeled_min"] = model(model_compute_min);  // from per-group minima
  if (have_busy && bs.threads_per_group == 1) out["modeled_cpu"] = model(model_compute_cpu);  // from busy_cpu_s
  out["machine"] = machine_info(c.backend);
  out["version"] = build_version();
  // Data, split and augmentation (X) as train builds them; the process's peak resident memory so
  // far, the model's tensors included (the roofline's own buffers come after).
  out["setup_seconds"] = setup_seconds;
  out["training_columns"] = p.x.cols;
  struct rusage ru {};
  if (getrusage(RUSAGE_SELF, &ru) == 0) out["peak_rss_bytes"] = static_cast<double>(ru.ru_maxrss) * 1024;
  if (o.peak && c.backend == "cpu" && !processes) {
    bs.solver.reset();  // free the model's memory before the peak runs
    out["roofline"] = roofline(shapes, o.iterations, total_cores(c), achieved, o, log);
    if (total_cores(c) == 1) {  // one thread: CPU time is the cost without other processes' share of the core
      const double cpu_gflops = flops_total / stat_of(cpu_seconds).median / 1e9;
      out["roofline"]["achieved_cpu_gflops"] = cpu_gflops;
      out["roofline"]["fraction_of_peak_cpu"] = cpu_gflops / out["roofline"]["peak_gflops"].get<double>();
    }
  }

  log << std::setprecision(4) << "bench: " << sec.median << " s/iteration (median of " << o.iterations << "; min "
      << sec.min << ", max " << sec.max << "), " << flops_total / 1e9 << " GFLOP per iteration in GEMMs, " << achieved
      << " GFLOP/s";
  if (out.contains("roofline"))
    log << " = " << out["roofline"]["fraction_of_peak"].get<double>() << " of SGEMM peak "
        << out["roofline"]["peak_gflops"].get<double>() << " GFLOP/s";
  // Above 1 the peak, not the run, is wrong: measured while other processes held cores.
  if (out.contains("roofline") && out["roofline"]["fraction_of_peak"].get<double>() > 1.0)
    log << "\nwarning: the iterations ran their GEMMs faster than the measured SGEMM peak: other processes held "
           "cores while the peak was measured (the shapes' peak_gflops in --json), so the fraction is meaningless; "
           "rerun on a quieter machine";
  if (G == 1)  // "0 bytes per iteration across 0 boundaries", as train said it too
    log << "\nbench: no bytes moved (1 group: nothing crosses a boundary); modeled s/iteration:";
  else
    log << "\nbench: " << bytes << " bytes per iteration across " << G - 1 << (G == 2 ? " boundary" : " boundaries")
        << fp32_comparison_text(bytes, fp32_bytes) << "; modeled s/iteration:";
  for (const Link& l : links) log << " " << l.name << " " << modeled[l.name]["seconds_per_iter"].get<double>();
  log << "\n";
  // A group's kernels queued before it blocks on a message run on during the wait, which wait_s then
  // counts: compute_s = total - wait_s leaves them out and the modeled times come out low.
  if (c.backend == "cuda" && G > 1 && !o.serialize)
    log << "warning: on CUDA with the groups concurrent, compute_s leaves out GPU work that ran while a group "
           "waited for a message, so the modeled times are low; --serialize times each group's work alone\n";
  return out;
}

}  // namespace pdadmm
