#!/usr/bin/env bash
# Downloads the six benchmark data sets from their public origins into a folder laid out as
# pdadmm reads it (planetoid/, npz/, SHA256SUMS) and verifies every file.
#   tools/fetch_datasets.sh [DIR]      (default: $PDADMM_DATA, else ./data)
# Idempotent: files already present and correct are kept. Needs curl or wget, sha256sum, sha1sum.
# Origins (../shared/data/README.md): kimiyoung/planetoid (MIT) and shchur/gnn-benchmark (MIT),
# pinned to the commits the checksums were taken from. Cite their papers when you use the data.
set -euo pipefail

planetoid_url="https://raw.githubusercontent.com/kimiyoung/planetoid/af6abf468a772cc055bec88c52e4d6f51b7c37e3/data"
npz_url="https://raw.githubusercontent.com/shchur/gnn-benchmark/1e72912a0810cdf27ae54fd589a3b43358a2b161/data/npz"
# ind.pubmed.allx is not in shared/data, so it has no SHA256 there; its git blob id in
# kimiyoung/planetoid identifies it instead (git hash-object = sha1 of "blob <size>\0" + bytes).
allx_blob="3b86bccf08111c37c632a9dd8ab63db25ea76361"

sums() {
  cat <<'SUMS'
736ba1d9fd85eac2da83a5ad25c463f04b0031a6ca01563f90a7099d9e8ffb2c  npz/amazon_electronics_computers.npz
bdb1feb8e6ff42ee44024b04479145029c563fd42fc31bff80af20887ba0439a  npz/amazon_electronics_photo.npz
933c745734e78908c7eb77172a673fee0503f30e26e5a99b36814d88534c42e3  npz/ms_academic_cs.npz
2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668  planetoid/ind.citeseer.allx
f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95  planetoid/ind.citeseer.ally
d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7  planetoid/ind.citeseer.graph
2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4  planetoid/ind.citeseer.test.index
539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21  planetoid/ind.citeseer.tx
55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce  planetoid/ind.citeseer.ty
d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6  planetoid/ind.citeseer.x
8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924  planetoid/ind.citeseer.y
9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543  planetoid/ind.cora.allx
2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71  planetoid/ind.cora.ally
58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d  planetoid/ind.cora.graph
297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875  planetoid/ind.cora.test.index
b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a  planetoid/ind.cora.tx
41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad  planetoid/ind.cora.ty
23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab  planetoid/ind.cora.x
94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1  planetoid/ind.cora.y
0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e  planetoid/ind.pubmed.ally
5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9  planetoid/ind.pubmed.graph
b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5  planetoid/ind.pubmed.test.index
4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d  planetoid/ind.pubmed.tx
ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd  planetoid/ind.pubmed.ty
fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33  planetoid/ind.pubmed.x
e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3  planetoid/ind.pubmed.y
SUMS
}

die() { echo "error: $*" >&2; exit 1; }
usage="tools/fetch_datasets.sh [DIR]"
case "${1:-}" in
  -h|--help) echo "usage: $usage (default DIR: \$PDADMM_DATA, else ./data)"; exit 0 ;;
  -*) die "unknown option $1 ($usage)" ;;  # else mkdir takes it for an option of its own
esac
[ $# -le 1 ] || die "one folder at most, got $# arguments ($usage)"
dir="${1:-${PDADMM_DATA:-data}}"
for tool in sha256sum sha1sum; do command -v "$tool" >/dev/null || die "$tool is missing (coreutils)"; done

download() {  # url dest: into dest.part, renamed only when complete
  local url="$1" dest="$2"
  if command -v curl >/dev/null; then
    curl -fL --retry 3 --silent --show-error -o "$dest.part" "$url" || { rm -f "$dest.part"; die "download failed: $url"; }
  elif command -v wget >/dev/null; then
    wget -q --tries=3 -O "$dest.part" "$url" || { rm -f "$dest.part"; die "download failed: $url"; }
  else
    die "neither curl nor wget is installed"
  fi
  mv -f "$dest.part" "$dest"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
git_blob_of() { { printf 'blob %d\0' "$(wc -c <"$1")"; cat "$1"; } | sha1sum | cut -d' ' -f1; }

url_of() {  # relative path -> origin URL
  case "$1" in
    planetoid/*) echo "$planetoid_url/${1#planetoid/}" ;;
    npz/*) echo "$npz_url/${1#npz/}" ;;
    *) die "no origin known for $1" ;;
  esac
}

# fetch REL CHECK EXPECTED: download unless present and correct; CHECK is sha256_of or git_blob_of.
fetch() {
  local rel="$1" check="$2" want="$3" path="$dir/$1"
  if [[ -f "$path" && "$("$check" "$path")" == "$want" ]]; then
    echo "ok       $rel (already present)"
    return
  fi
  echo "fetching $rel"
  download "$(url_of "$rel")" "$path"
  local got
  got="$("$check" "$path")"
  if [[ "$got" != "$want" ]]; then
    mv -f "$path" "$path.bad"
    die "$rel: checksum mismatch (expected $want, got $got); kept as $path.bad"
  fi
}

# Folders made here and left empty (a failed download) go again at exit, as the other tools' do.
made=()
for d in "$dir" "$dir/planetoid" "$dir/npz"; do [[ -d "$d" ]] || made+=("$d"); done
remove_empty_made() {
  local i
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do rmdir "${made[i]}" 2>/dev/null || true; done
}
trap remove_empty_made EXIT
mkdir -p "$dir/planetoid" "$dir/npz"
while read -r sum rel; do
  fetch "$rel" sha256_of "$sum"
done < <(sums)
fetch planetoid/ind.pubmed.allx git_blob_of "$allx_blob"

# SHA256SUMS for `"data": {"verify": true}`: the list above plus the verified allx.
{
  sums
  echo "$(sha256_of "$dir/planetoid/ind.pubmed.allx")  planetoid/ind.pubmed.allx"
} | sort -k2 >"$dir/SHA256SUMS"
(cd "$dir" && sha256sum --quiet -c SHA256SUMS) || die "verification against $dir/SHA256SUMS failed"
echo "all $(wc -l <"$dir/SHA256SUMS") files verified in $dir; use: export PDADMM_DATA=$(cd "$dir" && pwd)"
