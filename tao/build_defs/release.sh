#!/usr/bin/env bash
# Builds tao's release archive from the committed tree (HEAD) and prints its
# sha256:
#   ./bazelw run //:release -- <out dir>
# writes <out dir>/tao-<version>.tar.gz (every file under tao-<version>/, as
# `git archive` of HEAD, gzip -n: the same commit gives the same bytes) and
# <out dir>/tao-<version>.tar.gz.sha256 (sha256sum's format). <version> is
# TAO_VERSION in HEAD's tao/version.h; CHANGELOG.md must have a section for it.
set -euo pipefail

die() { echo "release: $*" >&2; exit 1; }

[[ $# == 1 ]] || die "usage: ./bazelw run //:release -- <out dir>"
workspace="${BUILD_WORKSPACE_DIRECTORY:?run me with: ./bazelw run //:release -- <out dir>}"
out="$1"
[[ "${out}" == /* ]] || out="${BUILD_WORKING_DIRECTORY:-${PWD}}/${out}"
cd "${workspace}"

for file in tao/version.h CHANGELOG.md; do
  git cat-file -e "HEAD:${file}" 2>/dev/null || die "${file} is not committed"
done
version="$(git show HEAD:tao/version.h | sed -n 's/^#define TAO_VERSION "\(.*\)"$/\1/p')"
[[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "no TAO_VERSION \"X.Y.Z\" in HEAD's tao/version.h"
for part in MAJOR MINOR PATCH; do
  git show HEAD:tao/version.h | grep -q "^#define TAO_VERSION_${part} " ||
    die "tao/version.h lacks TAO_VERSION_${part}"
done
[[ "$(git show HEAD:tao/version.h | sed -n 's/^#define TAO_VERSION_\(MAJOR\|MINOR\|PATCH\) //p' |
  paste -sd.)" == "${version}" ]] ||
  die "TAO_VERSION ${version} disagrees with TAO_VERSION_MAJOR/MINOR/PATCH"
git show HEAD:CHANGELOG.md | grep -qE "^## \[?${version//./\\.}\]?( |$)" ||
  die "CHANGELOG.md has no '## ${version}' section"
if [[ -n "$(git status --porcelain --untracked-files=no)" ]]; then
  echo "release: note: uncommitted changes are not in the archive (it is HEAD's tree)" >&2
fi

name="tao-${version}"
mkdir -p "${out}"
git archive --format=tar --prefix="${name}/" HEAD | gzip -9n >"${out}/${name}.tar.gz.tmp"
mv "${out}/${name}.tar.gz.tmp" "${out}/${name}.tar.gz"
(cd "${out}" && sha256sum "${name}.tar.gz" >"${name}.tar.gz.sha256")
sha256="$(cut -d' ' -f1 "${out}/${name}.tar.gz.sha256")"
echo "${out}/${name}.tar.gz ($(git rev-parse --short HEAD))"
echo "sha256 ${sha256}"
