"""Podman for the container test, run from build/tools/podman (unpacked from
Debian's packages by scripts/deps.sh, never installed), with a configuration
and an image store of the test's own in a temporary directory: nothing of the
host's container set-up is read or written, and removing the directory
removes every image and container.

Settings this machine needs, each for a reason:
- runtime runc (crun refuses this kernel's cgroup set-up), cgroupfs as the
  cgroup manager (systemd is not PID 1), events to a file, the vfs store
  (works on any file system);
- where /sys/fs/cgroup is no mount (a chroot, as on a fresh machine), each
  podman command runs in a mount namespace of its own where the kernel's
  cgroup hierarchies are mounted again, as the host has them.
"""
import json
import os
import shutil
import subprocess
import tempfile

from pylib.env import TOOLS

PODMAN_ROOT = os.path.join(TOOLS, "podman")
PODMAN = os.path.join(PODMAN_ROOT, "usr", "bin", "podman")

# the host's cgroup hierarchies, mounted again on a private /sys/fs/cgroup (see above)
CGROUP_MOUNTS = r"""
mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
if awk 'NR > 1 && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups; then
	awk 'NR > 1 && $2 != 0 && $4 == 1 { h[$2] = h[$2] ? h[$2] "," $1 : $1 } END { for (i in h) print h[i] }' \
		/proc/cgroups | while read -r c; do
		mkdir -p "/sys/fs/cgroup/$c" && mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
	done
	mkdir -p /sys/fs/cgroup/systemd && mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
	mkdir -p /sys/fs/cgroup/unified && mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
else
	umount /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
exec "$@"
"""


def _toml(path):
    return json.dumps(path)       # a TOML basic string is a JSON string


class Podman:
    def __init__(self):
        if not os.access(PODMAN, os.X_OK):
            raise RuntimeError(f"{PODMAN} missing: run scripts/deps.sh check")
        self.dir = tempfile.mkdtemp(prefix="xdp-pong-podman.", dir="/var/tmp")
        r, d = PODMAN_ROOT, self.dir
        for sub in ("graph", "run", "tmp", "static", "volumes", "networks"):
            os.makedirs(os.path.join(d, sub))
        self.policy = os.path.join(r, "etc", "containers", "policy.json")
        self.default_seccomp = os.path.join(r, "usr", "share", "containers", "seccomp.json")
        with open(os.path.join(d, "containers.conf"), "w") as f:
            f.write(f"""[containers]
seccomp_profile = {_toml(self.default_seccomp)}
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = {_toml(os.path.join(d, "events.log"))}
runtime = "runc"
conmon_path = [{_toml(os.path.join(r, "usr", "bin", "conmon"))}]
helper_binaries_dir = [{_toml(os.path.join(r, "usr", "lib", "podman"))}]
static_dir = {_toml(os.path.join(d, "static"))}
tmp_dir = {_toml(os.path.join(d, "tmp"))}
volume_path = {_toml(os.path.join(d, "volumes"))}
[network]
network_config_dir = {_toml(os.path.join(d, "networks"))}
[engine.runtimes]
runc = [{_toml(os.path.join(r, "usr", "sbin", "runc"))}]
""")
        with open(os.path.join(d, "storage.conf"), "w") as f:
            f.write(f"""[storage]
driver = "vfs"
graphroot = {_toml(os.path.join(d, "graph"))}
runroot = {_toml(os.path.join(d, "run"))}
""")
        libdir = os.path.join(r, "usr", "lib", subprocess.run(["gcc", "-dumpmachine"], capture_output=True,
                                                               text=True, check=True).stdout.strip())
        self.env = dict(os.environ, CONTAINERS_CONF=os.path.join(d, "containers.conf"),
                        CONTAINERS_STORAGE_CONF=os.path.join(d, "storage.conf"),
                        CONTAINERS_REGISTRIES_CONF=os.path.join(r, "etc", "containers", "registries.conf"),
                        LD_LIBRARY_PATH=libdir, TMPDIR=os.path.join(d, "tmp"))
        self.prefix = [] if os.path.ismount("/sys/fs/cgroup") else ["unshare", "-m", "sh", "-c", CGROUP_MOUNTS, "sh"]

    def __call__(self, *args, timeout=300, **kw):
        """podman ARGS...; a CompletedProcess (text)."""
        return subprocess.run(self.prefix + [PODMAN, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False, **kw)

    def check(self, *args, **kw):
        res = self(*args, **kw)
        assert res.returncode == 0, f"podman {' '.join(args)}: exit {res.returncode}: {res.stderr[-1500:]}"
        return res

    def remove(self):
        """Every container and image, then the directory (podman's own mounts go with them)."""
        try:
            self("rm", "-a", "-f", "-t", "0", timeout=120)
            self("rmi", "-a", "-f", timeout=120)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
