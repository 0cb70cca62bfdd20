// Atomic output writes: a planted symlink is not followed, concurrent writers of one file do not
// break each other, and no temporary is left behind.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iterator>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/host_memory.h"
#include "host/io/progress.h"
#include "host/io/stop_signal.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// crc32_zeros: the CRC of zero bytes appended, as crc32_update over the bytes gives it, below, at
// and past the 256 bytes where it switches to combining powers of two, after any CRC.
TEST(Files, Crc32OfZerosIsTheCrcOfTheBytes) {
  for (const uint32_t before : {0u, crc32_update(0, "features"), 0xffffffffu})
    for (const uint64_t n : {0ull, 1ull, 4ull, 255ull, 256ull, 257ull, 65536ull, 65537ull, 300001ull, (1ull << 22) + 12})
      EXPECT_EQ(crc32_zeros(before, n), crc32_update(before, std::string(static_cast<size_t>(n), '\0')))
          << before << " then " << n << " zeros";
}

TEST(Files, AtomicWriteNeverFollowsAPlantedTemporary) {
  const std::string dir = fresh_dir("files_symlink");
  std::ofstream(dir + "/victim") << "precious";
  fs::create_symlink(dir + "/victim", dir + "/model.bin.tmp");  // the name the writer once used
  write_file_atomic(dir + "/model.bin", "weights");
  EXPECT_EQ(read_file(dir + "/victim"), "precious");
  EXPECT_EQ(read_file(dir + "/model.bin"), "weights");
  EXPECT_FALSE(fs::is_symlink(dir + "/model.bin"));
}

// A symlink the user made at the output path stays one: what it leads to is written, existing or
// not yet (the rename replaced the link with a file, leaving the target stale).
TEST(Files, AtomicWriteKeepsTheUsersSymlink) {
  const std::string dir = fresh_dir("files_user_link");
  fs::create_directories(dir + "/store");
  fs::create_symlink("store/summary.json", dir + "/summary.json");  // relative, dangling
  for (const char* text : {"first", "second"}) {
    write_file_atomic(dir + "/summary.json", text);
    EXPECT_TRUE(fs::is_symlink(dir + "/summary.json"));
    EXPECT_EQ(read_file(dir + "/store/summary.json"), text);
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir + "/store"), fs::directory_iterator()), 1);
}

// A chain of links (summary.json -> a.json -> store/summary.json) is followed to its end, link by
// link: both links stay, the file at the end holds the text.
TEST(Files, AtomicWriteFollowsAChainOfSymlinks) {
  const std::string dir = fresh_dir("files_link_chain");
  fs::create_directories(dir + "/store");
  fs::create_symlink("a.json", dir + "/summary.json");
  fs::create_symlink("store/summary.json", dir + "/a.json");  // its end dangles at first
  for (const char* text : {"first", "second"}) {
    write_file_atomic(dir + "/summary.json", text);
    EXPECT_TRUE(fs::is_symlink(dir + "/summary.json"));
    EXPECT_TRUE(fs::is_symlink(dir + "/a.json"));
    EXPECT_EQ(read_file(dir + "/store/summary.json"), text);
  }
  EXPECT_EQ(link_target(dir + "/summary.json"), fs::weakly_canonical(dir + "/store/summary.json").string());
}

// Under /dev and /proc nothing is replaced, even where a link there leads to a regular file (as
// root, the rename made /dev/stdout a regular file for every process on the machine).
TEST(Files, AtomicWriteRefusesSystemPaths) {
  EXPECT_TRUE(is_system_path("/dev/stdout"));
  EXPECT_TRUE(is_system_path("/proc/self/fd/1"));
  EXPECT_TRUE(is_system_path("/tmp/../dev/fd/3"));
  EXPECT_FALSE(is_system_path("/tmp/dev/x"));
  EXPECT_FALSE(is_system_path("devices.json"));
  const std::string dir = fresh_dir("files_system_path"), file = dir + "/redirected";
  std::ofstream(file) << "printed";
  const int fd = ::open(file.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const std::string via_proc = "/proc/self/fd/" + std::to_string(fd);
  EXPECT_EQ(pdadmm::test::error_of([&] { write_file_atomic(via_proc, "json"); }),
            "cannot write " + via_proc + ": not a regular file");
  ::close(fd);
  EXPECT_EQ(read_file(file), "printed");
}

// mkstemp creates 0600 files whatever the umask: a new file gets what open(2) would give it under
// the umask (a user's 077 keeps weights private), a replaced one keeps its mode.
TEST(Files, AtomicWriteFollowsTheUmaskAndKeepsAReplacedFilesMode) {
  const std::string dir = fresh_dir("files_mode"), path = dir + "/summary.json";
  const auto mode = [](const std::string& f) { return fs::status(f).permissions() & fs::perms::all; };
  using P = fs::perms;
  const mode_t old = ::umask(022);
  write_file_atomic(path, "{}");
  EXPECT_EQ(mode(path), P::owner_read | P::owner_write | P::group_read | P::others_read);
  ::umask(077);
  write_file_atomic(dir + "/model.bin", "w");
  EXPECT_EQ(mode(dir + "/model.bin"), P::owner_read | P::owner_write);
  fs::permissions(path, P::owner_read | P::owner_write | P::group_read);
  write_file_atomic(path, "{\"a\": 1}");
  EXPECT_EQ(mode(path), P::owner_read | P::owner_write | P::group_read);
  EXPECT_EQ(read_file(path), "{\"a\": 1}");
  ::umask(old);
}

TEST(Files, ConcurrentWritersOfOneFileAllSucceed) {
  const std::string dir = fresh_dir("files_concurrent"), path = dir + "/summary.json";
  std::vector<std::string> contents;
  for (int t = 0; t < 4; ++t) contents.push_back(std::string(100000, static_cast<char>('a' + t)));
  std::vector<std::thread> writers;
  std::vector<int> failed(4, 0);
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) try {
          write_file_atomic(path, contents[t]);
        } catch (const Error&) {
          failed[t]++;
        }
    });
  for (std::thread& w : writers) w.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failed[t], 0) << "writer " << t;
  const std::string last = read_file(path);
  EXPECT_TRUE(std::find(contents.begin(), contents.end(), last) != contents.end()) << "a torn file";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "temporaries left behind";
}

// Written in pieces (predictions.csv of a big graph): the old file stays whole until commit, and
// an error midway (the writer destroyed uncommitted) leaves it and no temporary behind.
TEST(Files, AtomicFileInPiecesReplacesOnlyOnCommit) {
  const std::string dir = fresh_dir("files_pieces"), path = dir + "/predictions.csv";
  write_file_atomic(path, "old");
  {
    AtomicFile f(path);
    f.write("node,");
    f.write("split\n");
    EXPECT_EQ(read_file(path), "old");
    f.commit();
  }
  EXPECT_EQ(read_file(path), "node,split\n");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  try {
    AtomicFile f(path);
    f.write("half of a file");
    throw Error("the computation failed");
  } catch (const Error&) {
  }
  EXPECT_EQ(read_file(path), "node,split\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "a temporary left behind";
}

// A full disk without a tiny file system (no mount as a user, nor in CI): RLIMIT_FSIZE fails a
// write past `bytes` with EFBIG (SIGXFSZ ignored, as pdadmm's main does), a short write first
// where one straddles the limit. Restored at the end of the scope.
struct FileSizeLimit {
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old);
    rlimit r = old;
    r.rlim_cur = bytes;
    ok = ::setrlimit(RLIMIT_FSIZE, &r) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  bool ok = false;
};

size_t entries(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// A write that fails midway (a full disk; here past a file size limit, after a short write) names
// the file the caller gave, not its removed temporary, keeps the earlier file whole and leaves no
// temporary: in one piece (summary.json) and in pieces (model.bin, state.bin, predictions.csv).
TEST(Files, AFailedWriteKeepsTheEarlierFileAndNoTemporary) {
  const std::string dir = fresh_dir("files_full"), path = dir + "/model.bin";
  write_file_atomic(path, "earlier");
  const std::string big(10000, 'w');
  {
    FileSizeLimit limit(4096);
    if (!limit.ok) GTEST_SKIP() << "cannot set RLIMIT_FSIZE here";
    EXPECT_EQ(test::error_of([&] { write_file_atomic(path, big); }),
              "cannot write " + path + ": " + std::strerror(EFBIG));
    EXPECT_EQ(test::error_of([&] {
                AtomicFile f(path);
                f.write(big.substr(0, 3000));  // whole
                f.write(big.substr(0, 3000));  // short (1096 bytes), then EFBIG
                f.commit();
              }),
              "cannot write " + path + ": " + std::strerror(EFBIG));
  }
  EXPECT_EQ(read_file(path), "earlier");
  EXPECT_EQ(entries(dir), 1u) << "a temporary left behind";
}

// metrics.jsonl on a full disk: the error names the file and why (it was "(disk full?)"), and the
// part of the line written is cut, so the file holds whole lines only and the next ones append
// after them.
TEST(Files, AFailedJsonLineNamesTheFileAndLeavesWholeLines) {
  const std::string dir = fresh_dir("files_lines"), path = dir + "/metrics.jsonl";
  const nlohmann::json line = {{"iter", 1}, {"text", std::string(100, 'x')}};
  const size_t each = line.dump().size() + 1;
  {
    JsonLines m(path);
    FileSizeLimit limit(3 * each + each / 2);
    if (!limit.ok) GTEST_SKIP() << "cannot set RLIMIT_FSIZE here";
    for (int i = 0; i < 3; ++i) m.write(line);
    EXPECT_EQ(test::error_of([&] { m.write(line); }), "cannot write " + path + ": " + std::strerror(EFBIG));
  }
  EXPECT_EQ(fs::file_size(path), 3 * each);
  JsonLines(path, true).write(line);  // a resumed run appends after the whole lines
  std::ifstream in(path);
  int n = 0;
  for (std::string l; std::getline(in, l); ++n) EXPECT_EQ(nlohmann::json::parse(l), line);
  EXPECT_EQ(n, 4);
  EXPECT_EQ(test::error_of([&] { JsonLines(dir + "/missing/metrics.jsonl"); }),
            "cannot write " + dir + "/missing/metrics.jsonl: " + std::strerror(ENOENT));
}

// An output folder that is a file: said so (create_directories said "File exists" or "Not a directory").
TEST(Files, AnOutputFolderThatIsAFileIsNamed) {
  const std::string file = fresh_dir("files_out_file") + "/out";
  std::ofstream(file) << "x";
  EXPECT_EQ(test::error_of([&] { make_dirs(file); }), "cannot create directory " + file + ": a file of that name exists");
  EXPECT_EQ(test::error_of([&] { make_dirs(file + "/sub"); }),
            "cannot create directory " + file + "/sub: " + std::strerror(ENOTDIR));
  // A symlink to nothing, as the folder or on the way to it: it said "File exists".
  const std::string link = fresh_dir("files_out_link") + "/out", target = link + "_gone/deeper";
  std::filesystem::create_symlink(target, link);
  for (const std::string& dir : {link, link + "/sub"}) {
    EXPECT_EQ(test::error_of([&] { make_dirs(dir); }),
              "cannot create directory " + dir + ": " + std::filesystem::path(link).lexically_normal().string() +
                  " is a symlink to " + target + ", which does not exist");
  }
}

// A relative output folder under a current folder that was removed: said so (it was "No such file
// or directory", which named neither).
TEST(Files, ARemovedCurrentFolderIsNamed) {
  const std::filesystem::path back = std::filesystem::current_path();
  const std::string gone = fresh_dir("files_cwd_gone");
  ASSERT_EQ(chdir(gone.c_str()), 0);
  std::filesystem::remove(gone);
  const std::string e = test::error_of([&] { make_dirs("runs/x"); });
  std::filesystem::current_path(back);
  EXPECT_EQ(e, "cannot create directory runs/x: the current folder it is relative to was removed");
}

// A name that fits, but not with the temporary's suffix: said so (the bare ENAMETOOLONG read as a
// mistake in the name given).
TEST(Files, ANameTooLongForItsTemporarySaysSo) {
  const std::string dir = fresh_dir("files_long");
  const long most = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  if (most <= 11 || most > 4000) GTEST_SKIP() << "no usable NAME_MAX here";
  const std::string path = dir + "/" + std::string(static_cast<size_t>(most) - 5, 'n');
  EXPECT_EQ(test::error_of([&] { write_file_atomic(path, "x"); }),
            "cannot write " + path + ": " + std::strerror(ENAMETOOLONG) +
                " (it is written to NAME.tmp.XXXXXX first: a name of at most " + std::to_string(most - 11) +
                " characters fits)");
  EXPECT_EQ(entries(dir), 0u);
}

TEST(Files, UnwritableFolderIsNamed) {
  try {
    write_file_atomic("/nonexistent_pdadmm_dir/model.bin", "x");
    FAIL() << "wrote into a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent_pdadmm_dir/model.bin"), std::string::npos) << e.what();
  }
}

// A file that cannot be opened says why (eval --model, --resume's state.bin): an unreadable one was
// "cannot open PATH" alone. (Permissions do not stop root; a path through a file does.)
TEST(Files, AnUnreadableFileSaysWhy) {
  const std::string file = ::testing::TempDir() + "/files_plain";
  write_file_atomic(file, "x");
  try {
    read_file(file + "/model.bin");
    FAIL() << "read a file inside a file";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot open " + file + "/model.bin: " + std::strerror(ENOTDIR));
  }
}

// A FIFO or device at the path (eval --predictions /dev/stdout, bench --json /dev/null) was
// replaced by the renamed temporary: as root, /dev/null became a regular file.
TEST(Files, ANonRegularTargetIsRefusedNotReplaced) {
  const std::string dir = fresh_dir("files_fifo");
  const std::string fifo = dir + "/out.csv";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  try {
    write_file_atomic(fifo, "x");
    FAIL() << "replaced a FIFO";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + fifo + ": not a regular file");
  }
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1) << "a temporary left behind";
}

// A second lock on a locked folder (another run) is refused; the first one's end frees it.
TEST(Files, AFolderLockIsExclusiveUntilReleased) {
  const std::string dir = fresh_dir("files_lock");
  {
    FolderLock first(dir);
    ASSERT_TRUE(first.held());
    try {
      FolderLock second(dir);
      FAIL() << "two locks on one folder";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "output folder " + dir +
                                           " is in use by another pdadmm train (one run per folder: wait for it to "
                                           "end, or use another --out)");
    }
  }
  EXPECT_TRUE(FolderLock(dir).held());
}

// make_dirs names the topmost folder it made; a lock told so removes them while empty (a run that
// failed before writing), never a folder that held something or was there before.
TEST(Files, AFolderMadeForARunThatWroteNothingIsRemoved) {
  namespace fs = std::filesystem;
  const std::string base = fresh_dir("files_made"), top = fs::path(base + "/a").lexically_normal().string();
  EXPECT_EQ(make_dirs(base), "");
  EXPECT_EQ(make_dirs(base + "/a/b/c/"), top);
  EXPECT_EQ(make_dirs(base + "/a/b/c"), "");
  fs::remove_all(base + "/a");
  for (const std::string& dir : {base + "/a/b/c", base + "/a/./b/c/"}) {
    const std::string made = make_dirs(dir);
    ASSERT_EQ(made, top) << dir;
    { FolderLock(dir).remove_if_empty(dir, made); }
    EXPECT_FALSE(fs::exists(base + "/a")) << dir;
    EXPECT_TRUE(fs::is_directory(base)) << dir;
  }
  // Something in a parent: the empty folders below it go, it stays.
  const std::string made = make_dirs(base + "/a/b/c");
  std::ofstream(base + "/a/keep") << "x";
  { FolderLock(base + "/a/b/c").remove_if_empty(base + "/a/b/c", made); }
  EXPECT_FALSE(fs::exists(base + "/a/b"));
  EXPECT_TRUE(fs::exists(base + "/a/keep"));
  // A file in the folder itself (an output written): nothing goes.
  make_dirs(base + "/a/b");
  std::ofstream(base + "/a/b/model.bin") << "x";
  { FolderLock(base + "/a/b").remove_if_empty(base + "/a/b", made); }
  EXPECT_TRUE(fs::exists(base + "/a/b/model.bin"));
}

// A signal that ends the process before the lock's release (Ctrl-C while the data loads, or
// mpirun's SIGTERM to process 0 when another process failed) still removes the empty folders it
// made, never one with a file in it; the process ends by that signal all the same.
TEST(Files, AFolderMadeForARunIsRemovedWhenASignalEndsIt) {
  namespace fs = std::filesystem;
  const std::string base = fresh_dir("files_made_signal");
  for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    const std::string sub = base + "/a" + std::to_string(sig);
    EXPECT_EXIT(
        {
          const std::string made = make_dirs(sub + "/b/c");
          FolderLock lock(sub + "/b/c");
          lock.remove_if_empty(sub + "/b/c", made);
          std::raise(sig);
          std::_Exit(0);
        },
        ::testing::KilledBySignal(sig), "")
        << sub;
    EXPECT_FALSE(fs::exists(sub)) << sub;
    EXPECT_TRUE(fs::is_directory(base));
  }
  // An output written: the folder stays.
  EXPECT_EXIT(
      {
        const std::string made = make_dirs(base + "/w/b");
        FolderLock lock(base + "/w/b");
        lock.remove_if_empty(base + "/w/b", made);
        std::ofstream(base + "/w/b/config.json") << "{}";
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
  EXPECT_TRUE(fs::exists(base + "/w/b/config.json"));
  // A signal ignored stays ignored (nohup, a background job): the run goes on, its folder kept.
  EXPECT_EXIT(
      {
        std::signal(SIGTERM, SIG_IGN);
        const std::string made = make_dirs(base + "/i/b");
        FolderLock lock(base + "/i/b");
        lock.remove_if_empty(base + "/i/b", made);
        std::raise(SIGTERM);
        std::_Exit(fs::exists(base + "/i/b") ? 3 : 4);
      },
      ::testing::ExitedWithCode(3), "");
  // Released: the handler before the lock is back.
  EXPECT_EXIT(
      {
        std::signal(SIGTERM, [](int) { std::_Exit(5); });
        const std::string made = make_dirs(base + "/r/b");
        { FolderLock(base + "/r/b").remove_if_empty(base + "/r/b", made); }
        std::raise(SIGTERM);
        std::_Exit(6);
      },
      ::testing::ExitedWithCode(5), "");
}

// train()'s order: the lock's handlers, then StopOnSignal's, released in reverse. Under mpirun a
// SIGUSR1 after the run stays ignored: mpirun forwards it to every process, and one that had left
// the run first died of it, mpirun exiting 138 for a finished run (5 of 6 runs with the signal
// 0.03-0.08 s after the last iteration). Outside mpirun the default comes back (it ends the process).
TEST(Files, ALateSigusr1UnderMpirunEndsNoProcess) {
  const std::string base = fresh_dir("files_late_usr1");
  for (const bool mpirun : {true, false}) {
    const auto run = [&] {
      const std::string made = make_dirs(base + "/" + std::to_string(mpirun));
      {
        FolderLock lock(base + "/" + std::to_string(mpirun));
        lock.remove_if_empty(base + "/" + std::to_string(mpirun), made);
        StopOnSignal stop(false, mpirun);
      }
      std::raise(SIGUSR1);
      std::_Exit(7);
    };
    if (mpirun)
      EXPECT_EXIT(run(), ::testing::ExitedWithCode(7), "");
    else
      EXPECT_EXIT(run(), ::testing::KilledBySignal(SIGUSR1), "");
  }
}

// Only AtomicFile's temporaries of the named files go: NAME.tmp. and six characters.
TEST(Files, StaleTemporariesOfTheNamedFilesAreRemoved) {
  const std::string dir = fresh_dir("files_stale");
  const std::vector<std::string> gone = {"model.bin.tmp.AbC123", "state.bin.tmp.x1Y2z3"};
  const std::vector<std::string> kept = {"model.bin", "model.bin.tmp.AbC1234", "model.bin.tmp.AbC12",
                                         "notes.txt.tmp.AbC123", "model.bin.tmp.AbC-12"};
  for (const std::string& f : gone) std::ofstream(dir + "/" + f) << "half";
  for (const std::string& f : kept) std::ofstream(dir + "/" + f) << "keep";
  fs::create_directory(dir + "/summary.json.tmp.abcdef");  // not a file this writer made
  EXPECT_EQ(remove_stale_temporaries(dir, {"model.bin", "state.bin", "summary.json"}), gone);
  for (const std::string& f : gone) EXPECT_FALSE(fs::exists(dir + "/" + f)) << f;
  for (const std::string& f : kept) EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  EXPECT_TRUE(fs::is_directory(dir + "/summary.json.tmp.abcdef"));
}

// eval --predictions OUT/predictions.csv takes no folder lock: a train starting in OUT meanwhile
// removed its temporary, and the eval failed at the rename after all its work.
TEST(Files, ALiveWritersTemporaryIsNotStale) {
  const std::string dir = fresh_dir("files_live_tmp");
  std::optional<AtomicFile> live(std::in_place, dir + "/predictions.csv");
  live->write(std::string("node,label\n"));
  std::ofstream(dir + "/predictions.csv.tmp.DeAd01") << "half";  // a killed writer's: no lock
  EXPECT_EQ(remove_stale_temporaries(dir, {"predictions.csv"}), std::vector<std::string>{"predictions.csv.tmp.DeAd01"});
  live->commit();
  EXPECT_EQ(read_file(dir + "/predictions.csv"), "node,label\n");
  live.reset();
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().filename(), "predictions.csv");
}

// What Progress wrote to a temporary file.
std::string progress_text(const std::function<void(FILE*)>& f) {
  FILE* out = std::tmpfile();
  if (!out) return "(no temporary file)";
  f(out);
  std::rewind(out);
  std::string s;
  for (int c; (c = std::fgetc(out)) != EOF;) s += static_cast<char>(c);
  std::fclose(out);
  return s;
}

// A terminal's bar ("bar", or "auto" on a tty): one line rewritten with \r, filled in 24ths, the
// scores at fixed precision, the last iteration always drawn and finish() ending the line.
TEST(Progress, BarRewritesOneLine) {
  const std::string s = progress_text([](FILE* out) {
    Progress p(40, 40.0, "bar", 0, 0, out);
    usleep(120000);  // an update within 0.1 s of the last drawing (or the start) is not drawn
    p.update(10, 10.0, 0.5, 0.25, 1e-3, 1e-4);
    p.update(40, 40.0, 0.75, 0.5, 2e-3, 1e-3);
    p.finish();
  });
  ASSERT_EQ(std::count(s.begin(), s.end(), '\r'), 2) << s;
  ASSERT_EQ(std::count(s.begin(), s.end(), '\n'), 1) << s;
  const std::string first = "\r[######..................] 10/40  val 0.5000  test 0.2500  residual 1.000e-03  rho 1.0e-04  ";
  EXPECT_EQ(s.substr(0, first.size()), first) << s;
  const std::string end = "\r[########################] 40/40  val 0.7500  test 0.5000  residual 2.000e-03  rho 1.0e-03  ";
  EXPECT_EQ(s.substr(s.rfind('\r'), end.size()), end) << s;
  // No work left: ETA 0 s; the line ends in spaces that cover a longer earlier one, then the newline.
  EXPECT_EQ(s.substr(s.size() - 11), " ETA 0s   \n") << s;
  EXPECT_NE(s.find(" s/it  ETA "), std::string::npos) << s;
}

// A line printed mid-run (a stage change) starts on a line of its own: break_line ends the bar's
// line once (the stage line was glued to the bar), and the next update draws the bar again.
TEST(Progress, BreakLineEndsTheBarsLineOnce) {
  const std::string s = progress_text([](FILE* out) {
    Progress p(40, 40.0, "bar", 0, 0, out);
    usleep(120000);
    p.update(10, 10.0, 0.5, 0.25, 1e-3, 1e-4);
    p.break_line();
    p.break_line();  // nothing drawn since: no blank line
    p.update(40, 40.0, 0.75, 0.5, 2e-3, 1e-3);
    p.finish();
  });
  ASSERT_EQ(std::count(s.begin(), s.end(), '\n'), 2) << s;
  const size_t nl = s.find('\n');
  EXPECT_EQ(s.substr(nl + 1, 2), "\r[") << s;
  EXPECT_EQ(progress_text([](FILE* out) { Progress(40, 40.0, "lines", 0, 0, out).break_line(); }), "");
}

// An error that ends a run mid-bar starts its own line: the bar's line is ended as the Progress
// goes (with the stack unwinding), once; after finish() nothing more.
TEST(Progress, AnErrorAfterABarStartsItsOwnLine) {
  const std::string s = progress_text([](FILE* out) {
    try {
      Progress p(40, 40.0, "bar", 0, 0, out);
      usleep(120000);
      p.update(10, 10.0, 0.5, 0.25, 1e-3, 1e-4);
      throw Error("boom");
    } catch (const Error&) {
      std::fputs("error: boom\n", out);
    }
  });
  EXPECT_NE(s.find("   \nerror: boom\n"), std::string::npos) << s;
  const std::string done = progress_text([](FILE* out) {
    Progress p(40, 40.0, "bar", 0, 0, out);
    p.update(40, 40.0, 0.5, 0.25, 1e-3, 1e-4);
    p.finish();
  });
  EXPECT_EQ(std::count(done.begin(), done.end(), '\n'), 1) << done;
}

// Accuracies from an earlier logged iteration say which ("@k"); the current iteration's, and
// unknown ones (-1), say nothing.
TEST(Progress, OlderScoresSayTheirIteration) {
  const std::string s = progress_text([](FILE* out) {
    Progress p(40, 40.0, "lines", 0, 0, out);
    p.update(2, 2.0, 0.5, 0.25, 1e-3, 1e-4, 1);
    p.update(4, 4.0, 0.5, 0.25, 1e-3, 1e-4, 4);
    p.update(6, 6.0, 0.5, 0.25, 1e-3, 1e-4);
  });
  EXPECT_NE(s.find("iter 2/40  val 0.5000  test 0.2500 @1  residual "), std::string::npos) << s;
  EXPECT_NE(s.find("iter 4/40  val 0.5000  test 0.2500  residual "), std::string::npos) << s;
  EXPECT_NE(s.find("iter 6/40  val 0.5000  test 0.2500  residual "), std::string::npos) << s;
}

// A run with nothing drawn (admm.iterations 0) leaves no blank line.
TEST(Progress, BarWithNothingDrawnWritesNothing) {
  EXPECT_EQ(progress_text([](FILE* out) {
              Progress p(0, 0.0, "bar", 0, 0, out);
              p.finish();
            }),
            "");
}

// The first iteration carries one-time costs: its line has no ETA ("-"), and the ETA that follows
// comes from the iterations after it, not from it (a 0.3 s first iteration and nineteen taking
// 0.12 s in all: ETA ~0.1 s, where the first's rate gave 0.3 x 20 = 6 s for the bar's next 2 s).
TEST(Progress, TheEtaLeavesOutTheFirstIteration) {
  const std::string s = progress_text([](FILE* out) {
    Progress p(40, 40.0, "bar", 0, 0, out);
    usleep(300000);
    p.update(1, 1.0, 0.5, 0.25, 1e-3, 1e-4);
    usleep(120000);
    p.update(20, 20.0, 0.5, 0.25, 1e-3, 1e-4);
  });
  const size_t first = s.find("ETA "), second = s.find("ETA ", first + 1);
  ASSERT_NE(second, std::string::npos) << s;
  EXPECT_EQ(s.substr(first, 6), "ETA - ") << s;
  ASSERT_TRUE(std::isdigit(static_cast<unsigned char>(s[second + 4]))) << s;
  EXPECT_LE(std::atof(s.c_str() + second + 4), 2.0) << s;
}

// Plain lines (a log, a pipe; "auto" off a terminal): about 20 a run, one per 1/20th of the
// iterations (and the first), no \r; "off" writes nothing, and neither writes at finish().
TEST(Progress, LinesModeWritesAboutTwentyLines) {
  const std::string s = progress_text([](FILE* out) {
    Progress p(40, 40.0, "lines", 0, 0, out);
    for (long d = 1; d <= 40; ++d) p.update(d, static_cast<double>(d), 0.5, 0.25, 1e-3, 1e-4);
    p.finish();
  });
  std::vector<long> shown;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    long d = 0, total = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "iter %ld/%ld  val 0.5000  test 0.2500  residual 1.000e-03  rho 1.0e-04  ", &d, &total), 2)
        << line;
    EXPECT_EQ(total, 40);
    shown.push_back(d);
  }
  std::vector<long> want = {1};
  for (long d = 2; d <= 40; d += 2) want.push_back(d);
  EXPECT_EQ(shown, want) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos);
  // "auto" on a file (not a terminal) is lines too.
  const std::string a = progress_text([](FILE* out) {
    Progress p(40, 40.0, "auto", 0, 0, out);
    for (long d = 1; d <= 40; ++d) p.update(d, static_cast<double>(d), 0.5, 0.25, 1e-3, 1e-4);
  });
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 21) << a;
  EXPECT_EQ(a.rfind("iter 1/40  val 0.5000", 0), 0u) << a;
  EXPECT_EQ(a.find('\r'), std::string::npos);
  EXPECT_EQ(progress_text([](FILE* out) {
              Progress p(40, 40.0, "off", 0, 0, out);
              for (long d = 1; d <= 40; ++d) p.update(d, static_cast<double>(d), 0.5, 0.25, 1e-3, 1e-4);
              p.finish();
            }),
            "");
}

}  // namespace
// The memory check before a CPU run allocates (host_memory.h): /proc/meminfo's MemAvailable in
// kB, a cgroup's limit less its usage, "max" or v1's huge number meaning no limit.
TEST(HostMemory, ReadsMemAvailableAndTheCgroupsRoom) {
  EXPECT_EQ(parse_meminfo_available("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n"),
            2048 * 1024);
  EXPECT_EQ(parse_meminfo_available("MemTotal: 24000000 kB\nMemFree: 100 kB\n"), -1);
  EXPECT_EQ(parse_meminfo_available("MemAvailable: lots\n"), -1);
  EXPECT_EQ(parse_cgroup_room("1073741824\n", "73741824\n"), 1000000000);
  EXPECT_EQ(parse_cgroup_room("100\n", "250\n"), 0);  // over its limit: no room, not negative
  EXPECT_EQ(parse_cgroup_room("max\n", "12345\n"), -1);
  EXPECT_EQ(parse_cgroup_room("9223372036854771712\n", "12345\n"), -1);
  EXPECT_EQ(parse_cgroup_room("", ""), -1);
  EXPECT_GT(available_host_bytes(), 0) << "this machine's /proc/meminfo";
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1.5 * 1024 * 1024 * 1024), "1.5 GiB");
}

// ulimit -v (a batch queue's h_vmem): OpenBLAS maps 128 MiB for each thread in a BLAS call and,
// refused, retried for ever (a run hung with nothing said). In a child given 500 MiB of address
// space beyond what it maps: two threads' reserve (3 x 200 MiB with the driving thread) is one
// error line, as is one thread's beside two layer groups, one thread's (400 MiB) fits and is then
// left out of the room, and an allocation check names the limit.
TEST(HostMemory, AnAddressSpaceLimitIsCheckedBeforeBlasAndAllocations) {
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  struct rlimit r {};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &r), 0);
  if (r.rlim_cur != RLIM_INFINITY) GTEST_SKIP() << "this test runs under an address-space limit already";
  EXPECT_EQ(address_space_room(), -1);
  constexpr double kMiB = 1024.0 * 1024.0;
  EXPECT_EXIT(
      {
        pdadmm::test::limit_address_space_to_mapped_plus(500 * kMiB);
        int code = 0;
        try {
          reserve_blas_address_space(2);
          code |= 1;
        } catch (const Error& e) {
          if (std::string(e.what()).rfind("out of address space: ulimit -v leaves ", 0) != 0) code |= 2;
        }
        // One thread but two layer groups: each group's worker calls BLAS, so 3 x 200 MiB again,
        // and the line names the groups (300 groups under ulimit -v hung in OpenBLAS's retries).
        try {
          reserve_blas_address_space(1, 2);
          code |= 64;
        } catch (const Error& e) {
          if (std::string(e.what()).find("2 layer groups") == std::string::npos ||
              std::string(e.what()).find("lower `groups`") == std::string::npos)
            code |= 128;
        }
        try {
          reserve_blas_address_space(1);
        } catch (const Error&) {
          code |= 4;
        }
        const double room = static_cast<double>(address_space_room());
        if (room < 70 * kMiB || room > 100 * kMiB) code |= 8;  // 500 - 400 MiB, less what was mapped since
        try {
          require_room(150 * kMiB, "the test needs", "");
          code |= 16;
        } catch (const Error& e) {
          if (std::string(e.what()).find(" is left under ulimit -v") == std::string::npos) code |= 32;
        }
        std::exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace pdadmm
