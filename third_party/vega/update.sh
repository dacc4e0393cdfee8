#!/usr/bin/env bash
# Replaces the vendored Vega bundles with the versions named below: fetches each package's tarball
# with `npm pack`, checks it against the registry's sha512 integrity, and copies build/*.min.js and
# LICENSE here. Run by hand when updating (needs npm and the registry); the build never runs it.
# Afterwards: update README.md (versions, integrity, SHA-256 of the bundles), rebuild, and run the
# report test (ctest -R report-chromium).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VEGA=${VEGA:-5.33.1}
VEGA_LITE=${VEGA_LITE:-5.23.0}
VEGA_EMBED=${VEGA_EMBED:-6.29.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for spec in "vega@$VEGA" "vega-lite@$VEGA_LITE" "vega-embed@$VEGA_EMBED"; do
  name=${spec%@*}
  tgz=$(npm pack "$spec" --silent)
  want=$(npm view "$spec" dist.integrity)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ "$got" == "$want" ]] || { echo "update: $spec: integrity $got, the registry says $want" >&2; exit 1; }
  mkdir "$name" && tar xzf "$tgz" -C "$name"
  cp "$name/package/build/$name.min.js" "$here/"
  # The vega package ships no LICENSE file: LICENSE.vega is the vega repository's (BSD-3-Clause).
  if [[ -f "$name/package/LICENSE" ]]; then cp "$name/package/LICENSE" "$here/LICENSE.$name"; fi
  echo "$spec $want"
done
( cd "$here" && sha256sum ./*.min.js )
