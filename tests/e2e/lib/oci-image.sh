#!/usr/bin/env bash
# oci-image.sh ROOTFS REF OUT.tar: packs ROOTFS as a one-layer OCI image
# archive (image layout tar) named REF (e.g. docker.io/hull-e2e/busybox:latest),
# for `ctr images import` and `podman load`, with no registry involved.
# Deterministic: sorted entries, numeric owner 0, mtime 0. The image's Cmd
# is ["sh"], or the JSON array in $OCI_IMAGE_CMD (cri.bats' pause image).
set -euo pipefail
rootfs=${1:?usage: oci-image.sh ROOTFS REF OUT.tar} ref=${2:?} out=${3:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/hull-oci-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
blobs=$work/blobs/sha256
mkdir -p "$blobs"

# blob FILE MEDIATYPE: stores FILE as a blob, prints its descriptor JSON.
blob() {
  local d s
  d=$(sha256sum "$1" | cut -d' ' -f1)
  s=$(stat -c %s "$1")
  mv "$1" "$blobs/$d"
  printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$2" "$d" "$s"
}

tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$rootfs" -cf "$work/layer" .
diff_id=sha256:$(sha256sum "$work/layer" | cut -d' ' -f1)
layer=$(blob "$work/layer" application/vnd.oci.image.layer.v1.tar)
cat >"$work/config" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":${OCI_IMAGE_CMD:-[\"sh\"]}},
 "rootfs":{"type":"layers","diff_ids":["$diff_id"]}}
JSON
config=$(blob "$work/config" application/vnd.oci.image.config.v1+json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
  "$config" "$layer" >"$work/manifest"
manifest=$(blob "$work/manifest" application/vnd.oci.image.manifest.v1+json)
tag=${ref##*:}
[ "$tag" != "$ref" ] && [[ $tag != */* ]] || tag=latest
printf '{"schemaVersion":2,"manifests":[%s]}' \
  "${manifest%\}},\"annotations\":{\"io.containerd.image.name\":\"$ref\",\"org.opencontainers.image.ref.name\":\"$tag\"}}" \
  >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work" -cf "$out" oci-layout index.json blobs
