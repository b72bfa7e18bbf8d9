#!/usr/bin/env bash
# busybox-rootfs.sh DEST: builds a minimal root filesystem from Debian's
# busybox-static into DEST (which must not exist or be empty):
# /bin/busybox, every applet as a symlink at its usual path (bin/sh,
# usr/bin/env, sbin/ifconfig ...), /etc/passwd, /etc/group, and empty mount
# points. Used for runtime bundles, `docker import` and `ctr images import`.
set -euo pipefail
dest=${1:?usage: busybox-rootfs.sh DEST}
bb=/bin/busybox
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
  { echo "busybox-rootfs: $bb is not Debian's static busybox (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dest"
[ -z "$(ls -A "$dest")" ] || { echo "busybox-rootfs: $dest is not empty" >&2; exit 1; }
mkdir -p "$dest"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run,var/tmp,home}
cp "$bb" "$dest/bin/busybox"
for a in $("$bb" --list-full); do
  [ -e "$dest/$a" ] || [ -L "$dest/$a" ] || ln -s /bin/busybox "$dest/$a"
done
chmod 1777 "$dest/tmp" "$dest/var/tmp"
cat >"$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat >"$dest/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
GROUP
: >"$dest/etc/hostname"
: >"$dest/etc/hosts"
: >"$dest/etc/resolv.conf"
