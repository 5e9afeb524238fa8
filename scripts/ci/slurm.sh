#!/usr/bin/env bash
# Installs Slurm (slurm-wlm) and munge from Debian and starts munged, for the Slurm tests
# (test/exec/slurm.test.ts). The tests start their own private cluster (slurmctld and two slurmd on
# loopback, their own slurm.conf through SLURM_CONF, nothing under /etc/slurm), so only munge, the
# authentication daemon every Slurm command talks to, runs system-wide. Idempotent.
set -euo pipefail
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v sbatch >/dev/null || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/munged ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi
# The package's postinst makes the key; a machine that skipped it gets one here.
if [ ! -s /etc/munge/munge.key ]; then
  $sudo mungekey --create --force --keyfile /etc/munge/munge.key
  $sudo chown munge:munge /etc/munge/munge.key
  $sudo chmod 400 /etc/munge/munge.key
fi
$sudo mkdir -p /run/munge
$sudo chown munge:munge /run/munge
if ! munge -n >/dev/null 2>&1; then
  $sudo runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null
dpkg-query -W -f='munge works; slurm-wlm ${Version}\n' slurm-wlm
