// pdadmm command line: train, info, eval, bench, export. User errors print one line and exit 1.
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "host/backend/blas_kernels.h"
#include "host/cli/commands.h"
#include "host/comm/processes.h"
#include "host/comm/processes_env.h"
#include "host/config/json_reader.h"
#include "host/io/error.h"
#include "host/io/version.h"

namespace {

// A word (a run without spaces) past 600 bytes keeps its two ends: a 100 000-digit --set value
// or --out path made a 200 KB error line. Cut at UTF-8 character starts.
std::string elide_long_words(const std::string& text) {
  constexpr size_t kLong = 600, kHead = 240, kTail = 120;
  const auto start_of_char = [&](size_t i) {
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    return i;
  };
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t end = std::min(text.find(' ', i), text.size());
    if (end - i > kLong) {
      const size_t head = start_of_char(i + kHead), tail = start_of_char(end - kTail);
      out += text.substr(i, head - i) + "…[" + std::to_string(tail - head) + " bytes]…" + text.substr(tail, end - tail);
    } else {
      out += text.substr(i, end - i);
    }
    if (end < text.size()) out += ' ';
    i = end + 1;
  }
  return out;
}

// Control bytes written as \n, \t or \xNN: a path holding a newline (--predictions $'a\nb.csv',
// PDADMM_DATA) broke the error into two lines.
std::string escape_controls(const std::string& text) {
  std::string out;
  for (const unsigned char ch : text) {
    if (ch >= 0x20 && ch != 0x7f) {
      out += static_cast<char>(ch);
    } else if (ch == '\n' || ch == '\t') {
      out += ch == '\n' ? "\\n" : "\\t";
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace pdadmm;
  // A closed stdin, stdout or stderr (`2>&-`, a launcher that closes them): the files the run
  // opened next took their numbers, and progress lines and messages were written into
  // metrics.jsonl. /dev/null holds the numbers instead (lowest free number first: each its own).
  for (int fd = 0; fd <= 2; ++fd)
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
  // A file size limit (ulimit -f, a batch queue's) reached by an output killed the run with
  // SIGXFSZ: no error line and a torn temporary left. Ignored, the write fails with EFBIG, which
  // the writers report ("cannot write OUT/model.bin: File too large") as a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  // `pdadmm train | head -1`: the first line printed after head left killed the run, its model
  // not written. Ignored, the write fails instead, and the end of main says so.
  std::signal(SIGPIPE, SIG_IGN);
  use_best_blas_kernels(argv);
  CLI::App app{"pdadmm: layer-parallel ADMM (pdADMM-G, pdADMM-G-Q) for deep graph-augmented MLPs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pdadmm " + build_version());
  app.footer("Data sets are read from --data (data.root), else $PDADMM_DATA, else ./data. Every config key, its\n"
             "default and examples: README.md (Configuration); `pdadmm info --print-config` prints the value of every key in force.\n"
             "User errors are one line starting with error:, exit code 1.");
  CommonArgs args;
  std::string model;
  // Empty would silently mean "not given": a --out "$DIR" with DIR unset wrote to runs/latest.
  // No description: the options show DIR or FILE, not CLI11's TEXT:DIR, which reads as "must exist".
  const auto non_empty = [] {
    return CLI::Validator([](std::string& s) { return s.empty() ? std::string("must not be empty") : ""; }, "");
  };
  // CLI::ExistingFile called a symlink loop or an unreadable folder on the path "does not exist":
  // the system's reason names what is wrong.
  const auto existing_file = [] {
    return CLI::Validator(
        [](std::string& s) {
          struct stat st {};
          if (::stat(s.c_str(), &st) != 0) return s + ": " + std::strerror(errno);
          return S_ISDIR(st.st_mode) ? s + ": a folder, not a file" : std::string();
        },
        "FILE");  // shown TEXT:FILE, as CLI::ExistingFile: an input that must exist
  };
  // --model: a run's output folder stands for its model.bin (`eval -m runs/cora`).
  const auto model_file = [existing_file] {
    return CLI::Validator(
        [existing_file](std::string& s) {
          struct stat st {};
          if (::stat(s.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            const std::string in = s + (s.back() == '/' ? "" : "/") + "model.bin";
            if (::stat(in.c_str(), &st) != 0) return s + ": a folder without a model.bin";
            s = in;
          }
          return existing_file()(s);
        },
        "FILE");
  };
  auto add_common = [&](CLI::App* sub, const char* out_help) {  // out_help: nullptr for no --out
    sub->add_option("--config,-c", args.config, "JSON config file (defaults apply to missing keys)")
        ->check(existing_file());
    sub->add_option("--set", args.sets,
                    "override a config key, e.g. --set model.layers=12, --set 'model.stages[2].iterations=300' "
                    "(the value read as JSON, else as a string; repeatable)");
    sub->add_option("--data", args.data, "folder with planetoid/ and npz/ (data.root; default $PDADMM_DATA, else ./data)")
        ->check(non_empty())
        ->type_name("DIR");
    if (out_help)
      sub->add_option("--out,-o", args.out, out_help)
          ->check(non_empty())
          ->type_name("DIR");
  };
  CLI::App* train = app.add_subcommand("train", "train a model; writes metrics.jsonl, summary.json, config.json, model.bin");
  add_common(train, "output folder, made if missing (default: output.dir)");
  bool resume = false;
  train->add_flag("--resume", resume, "continue the run in the output folder from its state.bin (same config)");
  CLI::App* info =
      app.add_subcommand("info", "data set statistics, model shape, memory per group and room for model.bin");
  add_common(info, "the output folder train would write to, for its room (default: output.dir; nothing is made)");
  bool print_config = false;
  info->add_flag("--print-config", print_config,
                 "print the config a run would use, every key in force with its value (defaults and --set "
                 "included), as JSON, as train records it in config.json; reads no data");
  CLI::App* eval =
      app.add_subcommand("eval", "score a saved model on train/val/test; --predictions: every node's as CSV");
  add_common(eval, nullptr);
  eval->get_option("--config")->description(
      "JSON config file (default: the config the model was trained with, which model.bin records)");
  const auto add_model = [&](CLI::App* sub, std::string& target) {
    sub->add_option("--model,-m", target, "model.bin written by train, or the run's folder")
        ->required()
        ->transform(model_file());
  };
  add_model(eval, model);
  std::string predictions;
  eval->add_option("--predictions", predictions,
                   "write every node's prediction to this CSV (node,split,label,predicted,prob_0,...); "
                   "'-': to stdout, the scores then on stderr")
      ->check(non_empty())
      ->type_name("FILE");
  CLI::App* export_model =
      app.add_subcommand("export", "write a saved model's weights as a NumPy .npz (W1.., b1.., dims, iterations, config)");
  ExportArgs export_args;
  add_model(export_model, export_args.model);
  export_model
      ->add_option("--npz", export_args.npz,
                   "the .npz archive to write (np.load reads it); '-': to stdout, the text lines then on stderr")
      ->required()
      ->check(non_empty())
      ->type_name("FILE");
  CLI::Option* inputs = export_model->add_flag(
      "--inputs", export_args.inputs,
      "also X_train/val/test (nodes x augmented features), nodes_* and y_*, from the model's training config and data "
      "set");
  // Without --inputs no data is read: a --data was silently unused.
  export_model
      ->add_option("--data", export_args.data,
                   "with --inputs: folder with planetoid/ and npz/ (default: the training config's data.root, else "
                   "$PDADMM_DATA, else ./data)")
      ->check(non_empty())
      ->needs(inputs)
      ->type_name("DIR");
  BenchArgs bench_args;
  CLI::App* bench = app.add_subcommand("bench", "time the iterations: s/iteration, GFLOP/s vs SGEMM peak, modeled speedup");
  add_common(bench, nullptr);
  bench->add_option("--iterations,-n", bench_args.iterations, "timed iterations (default 5)");
  bench->add_option("--warmup", bench_args.warmup, "untimed iterations first (default 1)");
  bench->add_flag("--serialize", bench_args.serialize,
                  "groups run their ops one at a time with all threads (per-group compute as on separate devices)");
  CLI::Option* no_peak = bench->add_flag("--no-peak", bench_args.no_peak, "skip the SGEMM roofline measurement");
  // Both given: the time for a measurement that is skipped was silently unused.
  CLI::Option* peak_seconds =
      bench->add_option("--peak-seconds", bench_args.peak_seconds, "time per GEMM shape and path for the roofline (default 0.3)")
          ->excludes(no_peak);
  bench->add_option("--link", bench_args.links, "link for the modeled time: nvlink, pcie4, pcie5, ib-hdr or NAME:GBPS:US "
                                                "(repeatable; default all presets)");
  bench->add_option("--json", bench_args.json,
                    "write the results as JSON here (without it, only the text lines); '-': to stdout, the text lines "
                    "then on stderr")
      ->check(non_empty());
  // Under mpirun the failing process ends the others. An error every process meets (a bad config,
  // a bad command line) is printed once: process 0 ends the rest before their delayed line. The
  // delay is long because on a loaded machine mpirun took more than 0.5 s to end them (CI printed
  // the line twice); a process that fails alone pays it once, at its end.
  const auto fail = [](const std::string& said, int code) {
    const std::string what = escape_controls(elide_long_words(said));
    std::string line = "error: " + what + "\n";
    if (process_count() > 1) {
      if (process_rank() > 0) std::this_thread::sleep_for(std::chrono::seconds(3));
      line = "error (process " + std::to_string(process_rank()) + "): " + what + "\n";
    }
    std::cerr << line << std::flush;
    // Open MPI 5's launcher forwards a process's stderr after the fact, and an abort at once lost
    // the line (Debian 13: the run ended with MPI_ABORT's banner alone, now and then).
    if (process_count() > 1) std::this_thread::sleep_for(std::chrono::seconds(1));
    processes_abort(code);
    processes_finalize();
    return code;
  };
  // A bad command line under mpirun: MPI starts anyway, so that process 0 ends the others before
  // they print the same line (every process parses its own command line).
  const auto usage_error = [&](const std::string& what) {
    if (launched_processes() > 1) try {
        processes_init(&argc, &argv);
      } catch (const Error&) {  // built without MPI: each prints its line
      }
    return fail(what, 1);
  };
  // A value that is an option (`--out --set x`, `--json --link`): CLI11 takes the next word whatever
  // it is, and `train --out --bogus` trained into a folder named --bogus. ("-" stays a value.)
  const CLI::Validator not_an_option(
      [](std::string& s) {
        return s.size() > 2 && s.rfind("--", 0) == 0 ? "needs a value (" + s + " is an option)" : std::string();
      },
      "");
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    for (CLI::Option* o : sub->get_options())
      if (o->get_type_size() > 0) o->check(not_an_option);
  const std::string first = argc > 1 ? argv[1] : "";
  const std::string commands = "train, info, eval, bench or export";
  if (!first.empty() && first[0] != '-' && app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == first; }).empty()) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names.push_back(sub->get_name());
    const std::string near = nearest_name(first, names);
    return usage_error("unknown command \"" + first + "\": " + (near.empty() ? "" : "did you mean \"" + near + "\"? ") +
                       "expected " + commands);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version
      app.exit(e);
      if (std::cout.flush()) return 0;
      return fail("cannot write to stdout (a closed pipe or a full disk): what was printed is incomplete", 1);
    }
    // One line, as for every other user error: CLI11 would print two and exit with its own codes.
    std::string what = e.what();
    // CLI11 2.1 lists the extra arguments last first ("b a --out" for --out a b): in the user's order.
    if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
      const std::vector<std::string> extra = app.remaining(/*recurse=*/true);
      std::string list;
      for (const std::string& x : extra) list += (list.empty() ? "" : " ") + x;
      if (!extra.empty())
        what = std::string(extra.size() > 1 ? "unexpected arguments: "
                                            : "unexpected argument: ") + list;
      // `pdadmm train configs/cora.json`, as tools/accuracy.py takes a config: say how pdadmm takes one
      // (not after a misspelt option, `--confg x.json`, whose value it is: that one is named below).
      const bool options =
          std::any_of(extra.begin(), extra.end(), [](const std::string& x) { return x.rfind('-', 0) == 0; });
      const auto json = std::find_if(extra.begin(), extra.end(), [](const std::string& x) {
        return x.size() > 5 && x.compare(x.size() - 5, 5, ".json") == 0;
      });
      const auto subs = app.get_subcommands();
      const bool takes_config = std::any_of(subs.begin(), subs.end(), [](const CLI::App* sub) {
        return sub->get_option_no_throw("--config") != nullptr;
      });
      if (!options && takes_config && json != extra.end())
        what += " (a config file is given as --config " + *json + ")";
    }
    // An option given twice: CLI11 says "--out: At Most 1 required but received 2".
    const std::string at_most = "At Most 1 required but received ";
    if (const std::size_t at = what.find(at_most); at != std::string::npos)
      what.replace(at, at_most.size(), "given ") += " times; give it once";
    // An option without its value (`-m` last): CLI11 says "--model: 1 required TEXT:FILE missing".
    static const std::regex no_value(R"(: 1 required (?:TEXT:)?(\S+) missing)");
    std::smatch m;
    if (std::regex_search(what, m, no_value))
      what = m.prefix().str() + ": needs a value" + (m[1] == "TEXT" ? "" : " (" + m[1].str() + ")") + m.suffix().str();
    // No command at all (`pdadmm --config c.json`): CLI11's "A subcommand is required" named neither
    // the commands nor what was given instead.
    if (app.get_subcommands().empty() && dynamic_cast<const CLI::RequiredError*>(&e))
      what = "a command is required first: " + commands +
             (first.empty() ? std::string() : " (got \"" + first + "\")");
    // The help of the subcommand the mistake is in: its options are the ones to look up, and the
    // one a misspelt option is near (--confg: --config; also behind "--model is required").
    std::string help = "pdadmm --help";
    for (const CLI::App* sub : app.get_subcommands()) {
      help = "pdadmm " + sub->get_name() + " --help";
      std::vector<std::string> names;
      for (const CLI::Option* o : sub->get_options())
        for (const std::string& n : o->get_lnames()) names.push_back(n);
      for (const std::string& x : app.remaining(/*recurse=*/true))
        if (x.rfind("--", 0) == 0) {
          const std::string given = x.substr(2, x.find('=') - 2);
          std::string near = nearest_name(given, names);
          if (near.empty() && given.size() >= 2) {  // a short start of one option's name: --ou, --conf
            std::vector<std::string> starts;
            for (const std::string& n : names)
              if (n.size() > given.size() && n.compare(0, given.size(), given) == 0) starts.push_back(n);
            if (starts.size() == 1) near = starts[0];
          }
          // The option itself, after a "--" that ends the options: "--set: did you mean --set?".
          const bool ended = std::any_of(argv + 1, argv + argc, [](const char* a) { return std::string(a) == "--"; });
          if (near == given && ended) what += " (--" + given + " comes after \"--\", which ends the options: drop the \"--\")";
          else if (!near.empty()) what += " (" + x.substr(0, x.find('=')) + ": did you mean --" + near + "?)";
          break;
        }
    }
    return usage_error(what + " (see " + help + ")");
  }
  try {
    processes_init(&argc, &argv);
    if (process_count() > 1 && !*train && !*bench)
      return fail("under mpirun only `pdadmm train` and `pdadmm bench` run (one layer group per process)", 1);
    int rc = 0;
    if (*info)
      rc = print_config ? cmd_print_config(args) : cmd_info(args);
    else if (*eval)
      rc = cmd_eval(args, model, predictions);
    else if (*export_model)
      rc = cmd_export(export_args);
    else if (*train)
      rc = cmd_train(args, resume);
    else {
      bench_args.peak_seconds_given = peak_seconds->count() > 0;
      rc = cmd_bench(args, bench_args);
    }
    // A closed pipe or a full disk on stdout (info > /dev/full exited 0 with nothing written).
    require(rc != 0 || std::cout.flush(),
            "cannot write to stdout (a closed pipe or a full disk): what was printed is incomplete");
    if (*train || *bench) processes_finalize();
    return rc;
  } catch (const Error& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (try fewer nodes, a smaller model or more groups)", 1);
  } catch (const std::exception& e) {
    return fail(std::string("internal: ") + e.what(), 2);
  }
}
