// Atomic file writes and JSON lines.
#include "host/io/files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>

#include "host/io/error.h"

namespace pdadmm {

namespace {

// dir without "." parts and a trailing '/', so that parent_path() climbs one folder at a time.
std::filesystem::path normal_dir(const std::string& dir) {
  std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  return p.has_filename() || !p.has_parent_path() ? p : p.parent_path();
}

// The folders a FolderLock removes on a fatal signal (remove_if_empty), deepest first: filled
// before its handlers go in and cleared after they are out, so the handler only reads them.
std::vector<std::string> g_made_folders;
constexpr int kEndSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};  // StopOnSignal's, from the first iteration
constexpr int kEndCount = sizeof kEndSignals / sizeof kEndSignals[0];
struct sigaction g_old_end[kEndCount];
bool g_end_installed[kEndCount] = {};

void remove_made_folders(int sig) {
  for (const std::string& d : g_made_folders)  // rmdir is async-signal-safe and takes only an empty folder
    if (::rmdir(d.c_str()) != 0) break;
  ::raise(sig);  // SA_RESETHAND: the default action ends the process, as without the handler
}

}  // namespace

std::string make_dirs(const std::string& dir) {
  namespace fs = std::filesystem;
  std::string created;
  std::error_code st;
  for (fs::path at = normal_dir(dir); at.has_filename() && !fs::exists(fs::symlink_status(at, st));
       at = at.parent_path())
    created = at.string();
  std::error_code ec;
  // A file of that name: create_directories' "File exists" or "Not a directory" read as a mystery.
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
    throw Error("cannot create directory " + dir + ": a file of that name exists");
  std::filesystem::create_directories(dir, ec);
  if (ec == std::errc::file_exists) {
    // A link to nothing on the way ("File exists" read as a mystery too): name it and its target.
    namespace fs = std::filesystem;
    fs::path at;
    for (const fs::path& part : fs::path(dir)) {
      at /= part;
      std::error_code e1, e2;
      if (fs::is_symlink(fs::symlink_status(at, e1)) && fs::status(at, e2).type() == fs::file_type::not_found)
        throw Error("cannot create directory " + dir + ": " + at.string() + " is a symlink to " +
                    fs::read_symlink(at, e1).string() + ", which does not exist");
    }
  }
  // A relative folder from a shell left in a removed folder: "No such file or directory" named neither.
  std::error_code cwd;
  if (ec == std::errc::no_such_file_or_directory && fs::path(dir).is_relative() && fs::current_path(cwd).empty())
    throw Error("cannot create directory " + dir + ": the current folder it is relative to was removed");
  if (ec) throw Error("cannot create directory " + dir + ": " + ec.message());
  return created;
}

bool is_system_path(const std::string& path) {
  std::error_code ec;
  const std::string p = std::filesystem::absolute(path, ec).lexically_normal().string();
  return !ec && (p.rfind("/dev/", 0) == 0 || p.rfind("/proc/", 0) == 0);
}

// The file a symlink leads to (existing or not yet), so that the rename replaces it and not the link.
std::string link_target(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Link by link (a chain whose middle link dangles was replaced by a file, one read_symlink deep),
  // each relative target from its own link's folder; 40 hops, as the kernel allows.
  fs::path at = path;
  for (int hop = 0; hop < 40 && fs::is_symlink(at, ec); ++hop) {
    const fs::path to = fs::read_symlink(at, ec);
    if (ec) break;
    at = to.is_absolute() ? to : at.parent_path() / to;
  }
  // A loop: the link named, as before (the hop count stopped at any link of the cycle).
  if (at == fs::path(path) || fs::is_symlink(at, ec)) return path;
  const fs::path target = fs::weakly_canonical(at, ec);
  return ec ? at.string() : target.string();
}

namespace {

constexpr char kTempSuffix[] = ".tmp.XXXXXX";  // mkstemp's pattern

// The process's umask, as the kernel shows it (umask() sets it as it reads it, while other threads
// may create files); without /proc (or before Linux 4.7) read the racy way, never assumed looser.
mode_t current_umask() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  const mode_t m = ::umask(077);
  ::umask(m);
  return m;
}

}  // namespace

long atomic_name_max(const std::string& folder) {
  const long most = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  return most > 0 ? most - static_cast<long>(sizeof kTempSuffix - 1) : -1;
}

AtomicFile::AtomicFile(const std::string& path)
    : shown_(path), path_(link_target(path)), tmp_(path_ + kTempSuffix) {
  // A device, FIFO or socket at path (or a link to one, /dev/stdout) would be replaced by the
  // rename: refused (as root, /dev/null or /dev/full became a regular file), and so is anything
  // under /dev or /proc (/dev/stdout leads to the file a shell redirected stdout to).
  struct stat st;
  const bool replaces = ::stat(path.c_str(), &st) == 0;
  if ((replaces && !S_ISREG(st.st_mode)) || is_system_path(path))
    throw Error("cannot write " + path + ": not a regular file");
  // A fresh name (mkstemp: O_CREAT | O_EXCL) per write: never follows a planted symlink, and two
  // runs writing the same file cannot rename each other's temporary away.
  const std::string pattern = tmp_;
  for (;;) {
    tmp_ = pattern;
    fd_ = ::mkostemp(tmp_.data(), O_CLOEXEC);
    if (fd_ < 0) break;
    // Held while it is written, released however the writer ends: a train starting in the folder
    // removes only an unlocked (dead writer's) temporary, not that of an eval writing
    // predictions.csv there. Waits out such a train's brief shared probe; if the probe removed the
    // file before the lock (its name was visible in between), another name is drawn.
    struct stat mine;
    if (::flock(fd_, LOCK_EX) != 0 || ::fstat(fd_, &mine) != 0 || mine.st_nlink > 0) break;
    ::close(fd_);
  }
  if (fd_ < 0) {
    const int err = errno;
    // A name that fits, but not with the temporary's suffix.
    const std::filesystem::path p(path_);
    const long most = atomic_name_max(p.has_parent_path() ? p.parent_path().string() : ".");
    const long name = static_cast<long>(p.filename().string().size());
    const bool longer = err == ENAMETOOLONG && most >= 0 && name > most &&
                        name <= most + static_cast<long>(sizeof kTempSuffix - 1);  // the name alone fits
    throw Error("cannot write " + path + ": " + std::strerror(err) +
                (longer ? " (it is written to NAME.tmp.XXXXXX first: a name of at most " + std::to_string(most) +
                              " characters fits)"
                        : ""));
  }
  // mkstemp's 0600 ignores the umask: the replaced file's mode, else a new file's under the umask.
  ::fchmod(fd_, replaces ? (st.st_mode & 0777) : (0666 & ~current_umask()));
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFile::write(const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd_, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The file the user named, not the temporary (removed with this object): the earlier file is intact.
      throw Error("cannot write " + shown_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
}

void AtomicFile::write_at(uint64_t offset, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot write " + shown_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  const int fd = fd_;
  fd_ = -1;  // closed below whatever happens; the temporary is removed on failure
  // A full disk or quota can show only here (NFS, delayed allocation): never renamed into place.
  if (::fsync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp_.c_str());
    throw Error("cannot write " + shown_ + ": " + why);
  }
  // Renamed before the close, which drops the flock: a run starting in the folder between the two
  // would take the finished temporary for a dead writer's. A duplicate's close still reports what
  // only a close does (a FUSE or CIFS flush), before anything is replaced.
  const int copy = ::dup(fd);
  if (copy < 0 || ::close(copy) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp_.c_str());
    throw Error("cannot write " + shown_ + ": " + why);
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    ::unlink(tmp_.c_str());
    throw Error("cannot write " + shown_ + " (renaming its temporary into place): " + why);
  }
  ::close(fd);  // the data are on disk (fsync): a late close error has nothing left to lose
  sync_folder_of(path_);
}

void sync_folder_of(const std::string& path) {
  const std::filesystem::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort: some file systems refuse it (EINVAL), and the file is in place
  ::close(fd);
}

void remove_file_durably(const std::string& path) {
  if (std::remove(path.c_str()) == 0) sync_folder_of(path);
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

FolderLock::FolderLock(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
    fd_ = fd;
    return;
  }
  const int err = errno;
  ::close(fd);
  if (err == EWOULDBLOCK)
    throw Error("output folder " + dir + " is in use by another pdadmm train (one run per folder: wait for it to end, "
                "or use another --out)");
}

FolderLock::~FolderLock() {
  restore_signals();
  if (fd_ >= 0) ::close(fd_);
  if (created_.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;  // remove() refuses a folder that is not empty: it stops there
  for (fs::path at = normal_dir(dir_); at.has_filename() && fs::remove(at, ec); at = at.parent_path())
    if (at == fs::path(created_)) break;
}

void FolderLock::remove_if_empty(const std::string& dir, const std::string& created) {
  dir_ = dir;
  created_ = created;
  if (created.empty() || signals_ || !g_made_folders.empty()) return;  // one lock's folders at a time
  namespace fs = std::filesystem;
  for (fs::path at = normal_dir(dir); at.has_filename(); at = at.parent_path()) {
    g_made_folders.push_back(at.string());
    if (at == fs::path(created)) break;
  }
  struct sigaction sa = {};
  sa.sa_handler = remove_made_folders;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (int i = 0; i < kEndCount; ++i) {  // an ignored signal stays ignored (a background job's SIGINT, nohup's SIGHUP)
    struct sigaction cur = {};
    g_end_installed[i] = sigaction(kEndSignals[i], nullptr, &cur) == 0 && cur.sa_handler != SIG_IGN &&
                         sigaction(kEndSignals[i], &sa, &g_old_end[i]) == 0;
  }
  signals_ = true;
}

void FolderLock::restore_signals() {
  if (!signals_) return;
  for (int i = 0; i < kEndCount; ++i) {  // only where the handler is still ours (StopOnSignal leaves
    struct sigaction cur = {};             // SIGUSR1 ignored under mpirun, past the run's end)
    if (g_end_installed[i] && sigaction(kEndSignals[i], nullptr, &cur) == 0 && cur.sa_handler == remove_made_folders)
      sigaction(kEndSignals[i], &g_old_end[i], nullptr);
  }
  g_made_folders.clear();
  signals_ = false;
}

std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::vector<std::string>& names) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string f = entry.path().filename().string();
    for (const std::string& n : names) {
      // mkstemp's six characters after NAME.tmp. (see AtomicFile), nothing else of that prefix.
      const std::string prefix = n + ".tmp.";
      if (f.size() != prefix.size() + 6 || f.compare(0, prefix.size(), prefix) != 0 ||
          !std::all_of(f.begin() + static_cast<std::ptrdiff_t>(prefix.size()), f.end(),
                       [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)); }))
        continue;
      std::error_code rm;
      if (!entry.is_regular_file(rm)) continue;
      // A live writer (eval --predictions, export --npz into this folder) holds its flock. A shared
      // probe: NFS emulates flock with POSIX locks, which refuse an exclusive one on a file opened
      // read-only (EBADF, taken for no writer). One this process cannot open is left alone.
      const int fd = ::open(entry.path().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) continue;
      const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;  // no locks there: not known
      if (!busy && std::filesystem::remove(entry.path(), rm)) removed.push_back(f);
      ::close(fd);
    }
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::ifstream open_input(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(path + ": not a regular file");
  errno = 0;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot open " + path + (errno ? std::string(": ") + std::strerror(errno) : ""));
  return f;
}

std::string read_file(const std::string& path) {
  std::ifstream f = open_input(path);
  // Not `stream << rdbuf()`: it catches the bad_alloc of a growing buffer and returns what it
  // had read, so a large edge list under a memory limit was read as its first 2^k bytes, its cut
  // last line an edge. Sized once, read in blocks; a failure is the error it is.
  std::string out;
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  try {
    if (!ec) out.reserve(size);
    std::vector<char> block(size_t{1} << 16);
    while (f.read(block.data(), static_cast<std::streamsize>(block.size())) || f.gcount() > 0)
      out.append(block.data(), static_cast<size_t>(f.gcount()));
  } catch (const std::bad_alloc&) {  // main's "out of memory" names no file, and advises on the model
    throw Error("cannot read " + path + ": its " + std::to_string(ec ? out.size() : size) +
                " bytes do not fit in memory (ulimit -v?)");
  } catch (const std::length_error&) {
    throw Error("cannot read " + path + ": its " + std::to_string(size) + " bytes do not fit in memory");
  }
  require(!f.bad(), [&] { return "cannot read " + path + (errno ? std::string(": ") + std::strerror(errno) : ""); });
  return out;
}

std::string read_system_file(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  if (f) s << f.rdbuf();
  return s.str();
}

uint32_t crc32_update(uint32_t crc, std::string_view bytes) {
  uLong c = crc;
  for (size_t done = 0; done < bytes.size();) {  // crc32 takes a uInt length
    const uInt step = static_cast<uInt>(std::min<size_t>(bytes.size() - done, 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(bytes.data() + done), step);
    done += step;
  }
  return static_cast<uint32_t>(c);
}

uint32_t crc32_zeros(uint32_t crc, uint64_t n) {
  // Short runs byte by byte, longer ones by combining (a fraction of a microsecond each with zlib
  // 1.2.13): a run of 64 KiB read byte by byte cost a million rows of 16384 columns 16 s.
  static const std::string zeros(256, '\0');
  if (n <= zeros.size()) return crc32_update(crc, std::string_view(zeros.data(), static_cast<size_t>(n)));
  static const std::array<uLong, 63> of_pow2 = [] {  // CRC32 of 2^k zero bytes
    std::array<uLong, 63> a{};
    a[0] = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), 1);
    for (size_t k = 1; k < a.size(); ++k) a[k] = crc32_combine(a[k - 1], a[k - 1], z_off_t{1} << (k - 1));
    return a;
  }();
  uLong c = crc;
  for (size_t k = 0; k < of_pow2.size(); ++k)
    if (n >> k & 1) c = crc32_combine(c, of_pow2[k], z_off_t{1} << k);
  return static_cast<uint32_t>(c);
}

uint32_t crc32_of(const std::vector<std::string_view>& pieces) {
  uint32_t crc = 0;
  for (const std::string_view piece : pieces) crc = crc32_update(crc, piece);
  return crc;
}

uint32_t crc32_of(const char* data, size_t n) { return crc32_of({std::string_view(data, n)}); }

JsonLines::JsonLines(const std::string& path, bool append) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (append ? 0 : O_TRUNC), 0666);
  if (fd_ < 0) throw Error("cannot write " + path + ": " + std::strerror(errno));
}

JsonLines::~JsonLines() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonLines::write(const nlohmann::json& line) {
  const std::string s = line.dump() + '\n';
  const off_t before = ::lseek(fd_, 0, SEEK_END);
  for (size_t done = 0; done < s.size();) {
    const ssize_t n = ::write(fd_, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      // A full disk midway through a line: cut the part written, so the file ends with whole lines.
      if (before >= 0 && ::ftruncate(fd_, before) != 0) errno = err;  // best effort
      throw Error("cannot write " + path_ + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace pdadmm
