#!/usr/bin/env bash
# Runs CI (`bash .ci/run`, CI=true), then the quick start's `tools/run.sh`, on a fresh Debian: a
# minimal debootstrap system in a chroot, with none of our packages, no python3, no git and no CUDA,
# so tools/install_deps.sh and the CPU-only build are tested the way a new user meets them, in a
# bare environment (env -i). Needs root and a Debian mirror.
#   sudo tools/fresh_machine.sh DIR     DIR: an empty or missing folder (several GiB), kept
#                                      afterwards (the system, the clone's build, ci.log);
#                                      remove it with `rm -rf --one-file-system DIR`
# This checkout's HEAD is cloned into DIR/root/work/main (committed work only); ../shared, when
# present, is mounted read-only at DIR/root/work/shared. PDADMM_FRESH_SUITE (bookworm) and
# PDADMM_FRESH_MIRROR (http://deb.debian.org/debian) pick the release and the mirror.
# PDADMM_FRESH_USER=NAME: then, with the packages root installed, tools/test.sh once more as a
# new user NAME who is not root, in a clone of their own (/home/NAME/main; its ../shared is ours).
set -euo pipefail
usage="sudo tools/fresh_machine.sh DIR"
case "${1:-}" in
  -h|--help)
    # The header comment above is the help; checked before root and DIR, so --help is never a folder.
    echo "usage: $usage"
    sed -n '2,/^set -euo pipefail/{/^set /d;s/^# \{0,1\}//;p}' "$0"
    exit 0 ;;
  -*) echo "error: unknown option $1 ($usage)" >&2; exit 1 ;;  # else it would be DIR: ./--help
esac
[ $# -eq 1 ] || { echo "error: give one folder ($usage)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: debootstrap and chroot need root ($usage)" >&2; exit 1; }
case $1 in /*) DIR=$1 ;; *) DIR=$PWD/$1 ;; esac
cd "$(dirname "$0")/.."
REPO=$PWD
SHARED=$(cd .. && pwd)/shared
SUITE=${PDADMM_FRESH_SUITE:-bookworm}
MIRROR=${PDADMM_FRESH_MIRROR:-http://deb.debian.org/debian}
if [ -e "$DIR" ] && [ -n "$(ls -A "$DIR")" ]; then
  echo "error: $DIR is not empty: give a new folder (a used one holds a system that is no longer fresh)" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "pdadmm: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
ROOT=$DIR/root
mkdir -p "$ROOT"
echo "pdadmm: debootstrap $SUITE into $ROOT" >&2
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" > "$DIR/debootstrap.log" 2>&1 ||
  { echo "error: debootstrap failed (last lines of $DIR/debootstrap.log follow)" >&2; tail -5 "$DIR/debootstrap.log" >&2; exit 1; }
mkdir -p "$ROOT/work/main" "$ROOT/work/shared"
git clone -q "$REPO" "$ROOT/work/main"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# Mounted in this order, unmounted in reverse on any exit: /dev and ../shared are the host's own,
# so nothing may remove DIR while they are mounted (hence the --one-file-system above).
mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" || umount -l "${mounted[i]}" || true; done
}
trap unmount_all EXIT
mount_at() {  # mount_at TARGET mount-arguments...
  local target=$1
  shift
  mount "$@" "$target"
  mounted+=("$target")
}
mount_at "$ROOT/proc" -t proc proc
mount_at "$ROOT/sys" -t sysfs sys
mount_at "$ROOT/dev" --bind /dev
mount_at "$ROOT/dev/pts" --bind /dev/pts
if [ -d "$SHARED" ]; then
  mount_at "$ROOT/work/shared" --bind "$SHARED"
  mount -o remount,ro,bind "$ROOT/work/shared"
fi

echo "pdadmm: CI, then tools/run.sh, in the chroot (log: $DIR/ci.log)" >&2
start=$(date +%s)
rc=0
chroot "$ROOT" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true \
  bash -c 'cd /work/main && bash .ci/run && echo "pdadmm: the quick start, tools/run.sh" &&
           tools/run.sh --set output.progress=off' > "$DIR/ci.log" 2>&1 || rc=$?
tail -15 "$DIR/ci.log"
echo "pdadmm: fresh $SUITE machine: .ci/run and tools/run.sh exited $rc after $(($(date +%s) - start)) s" \
  "(whole log: $DIR/ci.log)" >&2
user=${PDADMM_FRESH_USER:-}
if [ "$rc" -eq 0 ] && [ -n "$user" ]; then
  echo "pdadmm: tools/test.sh as $user, who is not root (log: $DIR/user.log)" >&2
  start=$(date +%s)
  chroot "$ROOT" useradd -m "$user"
  chroot "$ROOT" bash -c "git clone -q /work/main /home/$user/main && ln -s /work/shared /home/$user/shared &&
                          chown -R $user: /home/$user/main"
  chroot "$ROOT" runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$user" \
    bash -c 'cd ~/main && bash tools/test.sh' > "$DIR/user.log" 2>&1 || rc=$?
  tail -5 "$DIR/user.log"
  echo "pdadmm: fresh $SUITE machine: tools/test.sh as $user exited $rc after $(($(date +%s) - start)) s" >&2
fi
exit $rc
