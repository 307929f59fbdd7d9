#!/bin/sh
# Runs inside the debootstrapped root (chroot) once, while the node image is built.
set -eu
# Components are enabled by the installer on the hosts that need them, as on a fresh VPS.
systemctl disable etcd.service containerd.service >/dev/null 2>&1 || true
systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer \
  getty@tty1.service console-getty.service systemd-timesyncd.service >/dev/null 2>&1 || true
# Every container gets its own host keys at boot (never baked into the image).
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' > /etc/systemd/system/ssh.service.d/hardway-hostkeys.conf
# Root logs in with the lab's key only.
sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config
sed -i 's/^#\?PasswordAuthentication.*/PasswordAuthentication no/' /etc/ssh/sshd_config
mkdir -p /root/.ssh && chmod 700 /root/.ssh
# The seed keeps CNI plugins in /opt/cni/bin; Debian installs them in /usr/lib/cni.
mkdir -p /opt/cni/bin
for p in /usr/lib/cni/*; do ln -sf "$p" /opt/cni/bin/; done
: > /etc/machine-id
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
