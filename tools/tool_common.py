"""What the tools/*.py scripts share: one `error:` line for a user's mistake instead of a traceback,
result files that a run must write afresh, and output paths checked before any run starts."""
import argparse
import atexit
import difflib
import importlib
import json
import os
import platform
import re
import signal
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The --help text of default_binary(), for every tool that shows it.
BINARY_DEFAULT = "$PDADMM_BUILD/pdadmm when PDADMM_BUILD is set, else build/pdadmm"


def default_binary():
    """The pdadmm that tools/build.sh built: in $PDADMM_BUILD (a relative one is the caller's, as in
    the shell tools), else in the repository's build/."""
    build = os.environ.get("PDADMM_BUILD")
    return os.path.join(os.path.join(os.getcwd(), build) if build else os.path.join(ROOT, "build"), "pdadmm")


def fail(msg):
    try:  # what went to stdout first comes first in a pipe too (2>&1 | tee: stdout is block-buffered there)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    print("error: " + msg, file=sys.stderr)
    sys.exit(1)


def import_or_fail(module, label, tool, debian=None):
    """A module only some tools need (after their arguments, so that --help works without it), or one
    error line saying what `tools/TOOL` needs; `debian` names its Debian package, since Debian's own
    python3 refuses pip install (externally managed)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        how = f"pip install {module}" + (f", or apt-get install {debian} for Debian's python3" if debian else "")
        sys.exit(f"error: tools/{tool} needs {label} ({how})")


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose command-line mistakes are one `error:` line and exit 1, as pdadmm's (argparse's
    own: the usage, then `prog: error: …`, and exit 2)."""

    def error(self, message):
        # A misspelt option names the one it is near (--confg: --config), as pdadmm's own CLI does;
        # argparse would report only what is missing or unrecognised.
        known = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        for arg in sys.argv[1:]:
            name = arg.split("=", 1)[0]
            if name.startswith("--") and name not in known and not any(k.startswith(name) for k in known):
                near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
                if near:
                    message += f" ({name}: did you mean {near[0]}?)"
                break
        fail(f"{message} (see {self.prog} --help)")


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, a batch system's time limit), raised where this tool is, as Ctrl-C would be."""


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut run_child's clean-up short
    raise Terminated()


def run_child(cmd, timeout=None, **kwargs):
    """subprocess.run(cmd, …) whose child never outlives this tool: on Ctrl-C or SIGTERM here it gets
    SIGTERM (pdadmm stops at its next iteration; mpirun passes it to its processes) and is waited for,
    killed after 10 s (subprocess.run's own would SIGKILL it: mpirun's processes left running)."""
    if kwargs.pop("capture_output", False):
        kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with subprocess.Popen(cmd, **kwargs) as p:
        try:
            out, err = p.communicate(timeout=timeout)
        except BaseException:  # a timeout too: a SIGKILL to mpirun would leave its processes running
            p.terminate()
            try:
                p.communicate(timeout=10)  # draining its pipes, which a wait alone would leave full
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
            raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def run_main(main):
    """Runs main(). A missing file or malformed input (JSON, keys, types) met on the way ends in one
    `error:` line and exit 1; PDADMM_TRACEBACK=1 shows the traceback instead. SIGTERM is handled as
    Ctrl-C: one `error:` line, exit 143 (it was a silent 143 with pdadmm left running)."""
    # Lines reach a pipe in the order written, stdout's and stderr's (progress, warnings) alike, as on
    # a terminal: block-buffered stdout put a failed run's passed-through lines after the error line.
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        main()
    except Terminated:
        print("error: terminated (SIGTERM)", file=sys.stderr)
        sys.exit(143)
    except KeyboardInterrupt:  # Ctrl-C: one line saying so, not a silent 130 that looks like a crash
        print("error: interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # `| head`: not "malformed input"; stdout to /dev/null so that exit's flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        fail("stdout was closed before the end (a pipe's reader exited)")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        if os.environ.get("PDADMM_TRACEBACK"):
            raise
        if isinstance(e, OSError) and e.filename:
            fail(f"{e.filename}: {e.strerror}")
        if isinstance(e, KeyError):
            fail(f"malformed input: missing key {e} (PDADMM_TRACEBACK=1 for where)")
        fail(f"malformed input: {e} (PDADMM_TRACEBACK=1 for where)")


def writable_file(path, flag, own=None):
    """An output file's folder must exist and be writable now, not after hours of runs; with `own`,
    (what the tool writes, a test of a JSON value), what the path holds must be its earlier result."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        fail(f"{flag} {path}: its folder is missing or read-only, or it is a folder")
    if own:
        replaceable_result(path, flag, *own)


def replaceable_result(path, flag, what, is_ours):
    """A file a tool's result replaces (and removes before its runs) must be empty or that tool's own
    earlier result: accuracy.py --json victim.json deleted a config before any run, and --json y.copy
    replaced a data file. A stream (/dev/…, /proc/…: written as it is) is not checked."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0 or path.startswith(("/dev/", "/proc/")):
        return
    try:
        with open(path, "rb") as f:
            obj = json.loads(f.read(64 << 20).decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        obj = None
    if not is_ours(obj):
        fail(f"{flag} {path}: is not {what} (a config, a data file or another program's): it would be replaced; "
             "remove it first if it may go, or choose another name")


def input_file(path, what):
    """An input file must be a readable file: a folder is named as one, not as "does not exist"."""
    if os.path.isdir(path):
        fail(f"{what} {path}: is a folder, not a file")
    if not os.path.isfile(path):
        fail(f"{what} {path}: no such file")
    if not os.access(path, os.R_OK):
        fail(f"{what} {path}: cannot be read")


_made_folders = []  # what output_folder created: removed at exit while empty


def _remove_made_folders():
    # A tool that failed before its first result (a bad config met at the first run, Ctrl-C) left
    # the folders it made, empty; rmdir takes only an empty one, so results and other files stay.
    for top in _made_folders:
        for folder, _, _ in os.walk(top, topdown=False):
            try:
                os.rmdir(folder)
            except OSError:
                pass


def output_folder(path, flag):
    """An output folder, created now, before the first run; a path under a regular file is one
    `error:` line naming the option (OSError's own names only the path). The folders it makes go
    again at exit while they hold no file, as pdadmm train's do."""
    top = None
    at = os.path.abspath(path)
    while not os.path.lexists(at) and os.path.dirname(at) != at:
        top, at = at, os.path.dirname(at)
    part = path  # the nearest part that exists, as the user wrote it
    while part and not os.path.lexists(part) and os.path.dirname(part) != part:
        part = os.path.dirname(part)
    if part and os.path.lexists(part) and not os.path.isdir(part):  # makedirs said "File exists", "Not a directory"
        where = "is" if part == path else f"is under {part}, which is"
        fail(f"{flag} {path}: {where} a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        fail(f"{flag} {path}: cannot create the folder ({e.strerror or e})")
    if top:
        if not _made_folders:
            atexit.register(_remove_made_folders)
        _made_folders.append(top)
    if not os.access(path, os.W_OK):
        fail(f"{flag} {path}: the folder is read-only")


def require_binary(path, flag):
    """The pdadmm binary must be an executable file before any run starts (a folder passes os.access X_OK)."""
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        fail(f"{flag}: {path} is not an executable (build first, e.g. tools/build.sh, or pass the path)")


def cpu_model():
    """/proc/cpuinfo's model name ("AMD EPYC ...": timings and BLAS kernels depend on it), else the platform's."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def exit_status(code):
    """A child's returncode in words: "exited with 3", or "was killed by SIGKILL" for Python's negative
    code of a signal (the out-of-memory killer's read "exited with -9")."""
    if code >= 0:
        return f"exited with {code}"
    try:
        return f"was killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"was killed by signal {-code}"


def run_failed(what, output, code):
    """A run that exited non-zero: its output passes through, lines before the last as they were (blank
    ones dropped); a last `error: ` line becomes this tool's one error line, with `what` it came from."""
    lines = output.rstrip("\n").split("\n")
    last = lines[-1] if lines else ""
    sys.stdout.write("".join(l + "\n" for l in lines[:-1] if l))
    if last.startswith("error: "):
        fail(f"{what}: {last[len('error: '):]}")
    if last:
        sys.stdout.write(last + "\n")
    fail(f"{what}: pdadmm {exit_status(code)}")


_said = set()  # warning and note lines already passed on


def pass_on_said(output, what, quiet=False):
    """A run that succeeded: pdadmm's `warning:` and `note:` lines (a --set that changed nothing, a
    key with no effect, threads taken by a busy machine) pass through, each the first time it is
    said, naming `what` said it (the runs of a sitting repeat them); all are returned, for the run's
    record. Captured output hid them: a candidate whose --set did nothing read as measured.
    `quiet` (a tool's --quiet): the warnings alone pass through; the notes are only returned."""
    said = [l for l in output.splitlines() if l.startswith(("warning: ", "note: "))]
    for line in said:
        # The threads note, in each of its forms (`note: threads: N of C cores …` with threads 0,
        # `note: threads N on C cores, …` with a count given, host/admm/trainer.cpp), carries the
        # busy cores measured at each run's start: one per sitting, not one per run (a sweep
        # printed it for almost every variant).
        # The note of a stage's new count (`… from stage S`) is news each time.
        key = "note: threads" if re.match(r"note: threads[: ]", line) and " from stage " not in line else line
        if key not in _said and not (quiet and line.startswith("note: ")):
            _said.add(key)
            print(f"{line} ({what})", flush=True)
    return said


def remove_stale(path):
    """Before a run: an earlier run's result must not pass for this one's."""
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def read_result(path, what):
    """After a run that exited 0: the result it wrote (it must have written one)."""
    if not os.path.isfile(path):
        fail(f"{what} exited 0 but wrote no {path} (is it pdadmm?)")
    return load_json(path, f"{what} exited 0 but its")


def read_text(path, where):
    """A file's text, UTF-8 as JSON is; one `error:` line `WHERE: why` when it cannot be read
    (UnicodeDecodeError's own line named no file)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as e:
        fail(f"{where}: not UTF-8 text (byte {e.start}: {e.reason})")
    except OSError as e:
        fail(f"{where}: {e.strerror}")


def parse_json(text, where, **kw):
    """json.loads(text, **kw), or one `error:` line `WHERE: why`: nesting deeper than Python's
    parser goes was a RecursionError traceback."""
    try:
        return json.loads(text, **kw)
    except RecursionError:
        fail(f"{where}: nested too deeply for Python's JSON reader")
    except KeyTwice as e:
        fail(f"{where}: {e}")
    except ValueError as e:  # JSONDecodeError, a hook's refusal
        fail(f"{where}: not JSON ({e})")


def load_json(path, what=""):
    """A JSON file's value; errors are one line naming the file, after `what` (an option, "sweep config")."""
    where = f"{what} {path}" if what else path
    return parse_json(read_text(path, where), where, object_pairs_hook=no_key_twice)


def load_jsonl(path, what=""):
    """A JSON Lines file's values as (line number, value), blank lines left out; errors are one line
    naming PATH:LINE (each line decoded alone, so that a bad byte's line is the one named)."""
    where = f"{what} {path}" if what else path
    rows = []
    try:
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    fail(f"{where}:{n}: not UTF-8 text (byte {e.start} of the line: {e.reason})")
                if line.strip():
                    rows.append((n, parse_json(line, f"{where}:{n}", object_pairs_hook=no_key_twice)))
    except OSError as e:
        fail(f"{where}: {e.strerror}")
    return rows


def write_json(path, obj, indent=2):
    """A result file, ending with a newline. Written beside it and renamed over it when complete, so
    that a crash, a full disk or Ctrl-C while writing leaves the earlier file or none, never half
    of one (a write, flush, fsync or rename that fails is one `error: cannot write PATH: why` line,
    exit 1); a symlink stays one (its target is replaced). A stream is written as it is: stdout's own
    file through stdout, a device, FIFO or anything under /dev or /proc in place (a rename there
    would replace /dev/stdout's link, as root for every process)."""
    text = json.dumps(obj, indent=indent) + "\n"
    try:
        st, out = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):
        st = out = None
    try:
        if st and (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        if os.path.abspath(path).startswith(("/dev/", "/proc/")) or (st and not os.path.isfile(path)):
            with open(path, "a") as f:
                f.write(text)
            return
    except BrokenPipeError:
        raise  # run_main's own line for a closed pipe
    except OSError as e:
        fail(f"cannot write {path}: {e.strerror or e}")
    real = os.path.realpath(path)
    tmp = f"{real}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # a full disk or quota can show only here (NFS): never renamed into place
        os.replace(tmp, real)
    except BaseException as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        # A full disk's OSError names no file (it comes from write or close): was "malformed input".
        if isinstance(e, OSError):
            fail(f"cannot write {path}: {e.strerror or e}")
        raise


def _without_comments(text):
    """JSON text with // and /* */ comments (outside strings) blanked, as pdadmm's config reader
    allows them: the tools' plain json.load refused a config pdadmm ran."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            end = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:end]))  # positions kept for errors
            i = end
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


class KeyTwice(ValueError):
    """A key twice in one JSON object."""

    def __init__(self, key):
        super().__init__(f"key {json.dumps(key, ensure_ascii=False)} appears twice in one object")


def no_key_twice(pairs):
    """json's object_pairs_hook: a key twice in one object is refused, as pdadmm's configs refuse it
    (plain json.load kept the last one without a word)."""
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise KeyTwice(k)
        obj[k] = v
    return obj


def read_config(path, flag="config"):
    """A pdadmm config file as a dict (comments allowed, as pdadmm allows them); one `error:` line
    naming the file when it is not one."""
    def no_constant(name):  # NaN, Infinity: not JSON, which pdadmm refuses
        raise ValueError(f"{name} is not a JSON value")

    where = f"{flag} {path}"
    cfg = parse_json(_without_comments(read_text(path, where)), where, object_pairs_hook=no_key_twice,
                     parse_constant=no_constant)
    if not isinstance(cfg, dict):
        fail(f"{flag} {path}: expected a JSON object {{...}} at the top level")
    return cfg


def config_layers(cfg, sets, flag="config"):
    """model.layers as pdadmm will see it: a --set's (key=value strings or a dict), else the config's,
    else its last stage's, else pdadmm's default 2."""
    pairs = list(sets.items() if isinstance(sets, dict) else (s.partition("=")[::2] for s in sets))

    def given(key):
        vs = [v for k, v in pairs if k.strip() == key]
        return (json.loads(vs[-1]) if isinstance(vs[-1], str) else vs[-1]) if vs else None

    try:
        layers, stages = given("model.layers"), given("model.stages")
        if layers is not None:
            return int(layers)
        model = cfg.get("model", {})
        # Stages set by a --set override the file's layers as pdadmm's (a sweep over model.stages
        # planned its groups for the file's 10 layers); [] leaves the file's own layers.
        if stages is None:
            stages = model.get("stages")
        if stages:
            return int(stages[-1]["layers"])
        return int(model["layers"]) if "layers" in model else 2
    except (ValueError, AttributeError, KeyError, TypeError, IndexError, RecursionError) as e:
        fail(f"{flag}: model.layers: not a layer count ({e})")


def int_list(flag, text):
    """Integers from "0,100,200", or from a list of such words (argparse's nargs)."""
    if isinstance(text, list):  # "--seeds 0, 1" (or "0 , 1") as "0,1", as accuracy.py's join_lists has it
        text = ",".join(w.strip(",") for w in text if w.strip(","))
    if not text.strip():
        fail("%s: no seed given" % flag)
    items = text.split(",")
    for i, s in enumerate(items, 1):
        if not s.strip():  # "1,,2" was taken as 1,2: a value left out by mistake went unnoticed
            fail("%s %s: item %d of %d is empty" % (flag, text, i, len(items)))
    try:
        return [int(s) for s in items]
    except ValueError:
        fail("%s: expected comma-separated integers, got %r" % (flag, text))


def no_duplicates(values, flag):
    if len(set(values)) != len(values):
        fail(f"{flag}: {', '.join(str(v) for v in values)} lists a value twice; each must count once")
