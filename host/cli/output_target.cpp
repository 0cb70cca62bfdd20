// Output targets: files checked up front, streams written as they are.
#include "host/cli/output_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "host/io/checkpoint.h"
#include "host/io/error.h"
#include "host/io/files.h"
#include "host/io/state_file.h"

namespace pdadmm {

// This process's stdout or stderr when path is the file either writes to (/dev/stdout, or the file
// `> out.txt` redirects it to): written through that stream, since a second open would truncate what
// was printed (or a rename replace it) and later lines overwrite what it wrote.
std::ostream* own_stream(const std::string& path) {
  struct stat target, fd;
  if (::stat(path.c_str(), &target) != 0) return nullptr;
  if (::fstat(1, &fd) == 0 && fd.st_dev == target.st_dev && fd.st_ino == target.st_ino) return &std::cout;
  if (::fstat(2, &fd) == 0 && fd.st_dev == target.st_dev && fd.st_ino == target.st_ino) return &std::cerr;
  return nullptr;
}

namespace {

// A file about to be written (atomically: a temporary beside it, renamed) after a long computation:
// refused up front, naming the option, when its folder is missing or read-only or it is a folder.
// A device, FIFO or socket (/dev/stdout, a shell's >(…)): written to as it is, not replaced; so is
// a path under /dev or /proc (/dev/fd/3) even where it leads to a regular file: the rename would
// replace /dev's link (as root: /dev/stdout became a regular file for every process).
bool is_stream_target(const std::string& path) {
  if (own_stream(path) || is_system_path(path)) return true;
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  return !ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st) &&
         !std::filesystem::is_directory(st);
}

// A path that names an open descriptor of this process rather than a file.
bool is_descriptor_path(const std::string& path) {
  for (const char* p : {"/dev/fd/", "/dev/stdout", "/dev/stderr", "/proc/self/fd/"})
    if (path.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

void require_not_run_file(const std::string& path, const std::string& model, const std::string& what,
                          const OwnOutput& own) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return;  // a new file, or a stream written as it is
  std::string head(64, '\0');
  std::ifstream in(path, std::ios::binary);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  const std::string name = fs::path(path).filename().string();
  std::string is;
  if (head.rfind(kCheckpointMagic, 0) == 0) is = "a pdadmm checkpoint";
  else if (head.rfind(kStateMagic, 0) == 0) is = "a run's state (--resume reads it)";
  else if (!model.empty() && (name == "config.json" || name == "summary.json" || name == "metrics.jsonl") &&
           fs::equivalent(fs::absolute(path, ec).parent_path(), fs::absolute(model, ec).parent_path(), ec))
    is = "the " + name + " of the run beside --model";
  // bench --json OUT/summary.json named pdadmm's own file "another program's".
  else if (!head.empty() && (name == "config.json" || name == "summary.json" || name == "metrics.jsonl") &&
           !own.is(head) && [&] {
             for (const char* other : {"metrics.jsonl", "model.bin", "summary.json"})
               if (name != other && fs::exists(fs::path(path).parent_path() / other, ec)) return true;
             return false;
           }())
    is = "the " + name + " of a pdadmm run";
  // Any other file but an earlier output of the command (or an empty one): `eval --predictions
  // labels.txt` replaced the labels the model was trained on, exit 0.
  // A descriptor (/dev/stderr into a log, /dev/fd/3) is written as it is, appended to, not replaced;
  // not any /proc path (/proc/self/cwd/labels.txt is the data file).
  else if (!head.empty() && !own_stream(path) && !is_descriptor_path(path) && !own.is(head))
    throw Error(what + " " + path + " is not " + own.name + " (a data file, or another program's): it would be " +
                "overwritten; remove it first if it may go, or choose another name");
  require(is.empty(), what + " " + path + " is " + is + "; it would be overwritten");
}

// Writes what `fill` puts into a stream to such a target as it is; false when path is a file.
bool write_stream_target(const std::string& path, const std::function<void(std::ostream&)>& fill,
                         const std::string& what) {
  if (!is_stream_target(path)) return false;
  // The system's reason, as the atomic writes give it: "cannot write … /dev/full" said no more. A
  // failed stream makes no more calls but the flush's retry, so errno is still the write's.
  const auto failed = [&] { return what + " " + path + (errno ? std::string(": ") + std::strerror(errno) : ""); };
  if (std::ostream* own = own_stream(path)) {
    std::cout.flush();
    errno = 0;
    fill(*own);
    own->flush();
    require(own->good(), failed);
    return true;
  }
  errno = 0;
  std::ofstream f(path, std::ios::binary | std::ios::app);  // app: a file behind /dev/fd/N keeps what it has
  require(f.is_open(), failed);  // its reason now (/dev/tty without a terminal), before a write clears errno
  errno = 0;
  fill(f);
  f.flush();
  require(f.good(), failed);
  return true;
}

void require_writable_file(const std::string& path, const std::string& what) {
  if (is_stream_target(path)) {
    require(::access(path.c_str(), W_OK) == 0, what + " " + path + " (not writable)");
    return;
  }
  // The non-throwing forms: a name too long threw filesystem_error, an "internal:" line with exit 2.
  namespace fs = std::filesystem;
  std::error_code ec, pec;
  // A symlink's target is what gets written: its folder, not the link's (a dangling link into a
  // missing folder passed, and bench wrote nothing after its whole run).
  const std::string target = link_target(path);
  const fs::path parent = fs::path(target).parent_path();
  const std::string folder = parent.empty() ? "." : parent.string();
  const fs::file_status st = fs::status(path, ec), pst = fs::status(folder, pec);
  const auto missing = [](const std::error_code& e) { return !e || e == std::errc::no_such_file_or_directory; };
  std::string why;
  if (path.empty() || fs::is_directory(st))
    why = "it is a folder";
  else if (!missing(ec) && ec != std::errc::not_a_directory)  // a name too long, a loop of links
    why = ec.message();
  else if (!fs::is_directory(pst))  // missing, or a file (root's access() passed a file as a folder)
    why = fs::exists(pst) ? "its folder " + folder + " is a file" : "its folder is missing";
  else if (::access(folder.c_str(), W_OK) != 0)  // as root only a read-only mount says no
    why = "its folder is read-only: " + std::string(std::strerror(errno));
  // Written to NAME.tmp.XXXXXX first (AtomicFile): a name that fits alone failed after the run.
  else if (const long most = atomic_name_max(folder);
           most >= 0 && static_cast<long>(fs::path(target).filename().string().size()) > most)
    why = "a name of at most " + std::to_string(most) + " characters: it is written to NAME.tmp.XXXXXX first";
  require(why.empty(), [&] {
    return what + " " + path + " (" + (target == path ? "" : "a symlink to " + target + ": ") + why + ")";
  });
}

int write_stdout(const std::function<void(std::ostream&)>& fill, const std::string& what) {
  errno = 0;
  fill(std::cout);
  std::cout.flush();
  if (std::cout) return 0;
  if (errno == EPIPE) return 128 + SIGPIPE;
  throw Error(what + (errno ? std::string(": ") + std::strerror(errno) : std::string()));
}

}  // namespace pdadmm
