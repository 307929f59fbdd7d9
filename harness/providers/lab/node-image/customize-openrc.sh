#!/bin/sh
# Runs inside the debootstrapped root (chroot) of the OpenRC node image (the seed's node-2 ran
# OpenRC): sysvinit as PID 1 with OpenRC as its rc, instead of systemd.
set -eu
export DEBIAN_FRONTEND=noninteractive
# No service may start inside the build chroot.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
# openrc conflicts with sysv-rc, which debootstrap's sysvinit-core brings: replace it here.
apt-get update -qq && apt-get install -y -qq openrc >/dev/null
rm -f /usr/sbin/policy-rc.d
# A container has no consoles.
sed -i '/getty/d' /etc/inittab
# Every container gets its own host keys at boot (never baked into the image), before sshd starts.
rm -f /etc/ssh/ssh_host_*
cat > /etc/init.d/hardway-hostkeys <<'EOS'
#!/sbin/openrc-run
description="SSH host keys of this lab node, made at its first boot"
depend() {
    before ssh
}
start() {
    ssh-keygen -A
}
EOS
chmod 755 /etc/init.d/hardway-hostkeys
rc-update add hardway-hostkeys default
rc-update add ssh default
sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin prohibit-password/' /etc/ssh/sshd_config
sed -i 's/^#\?PasswordAuthentication.*/PasswordAuthentication no/' /etc/ssh/sshd_config
mkdir -p /root/.ssh && chmod 700 /root/.ssh
mkdir -p /opt/cni/bin
for p in /usr/lib/cni/*; do ln -sf "$p" /opt/cni/bin/; done
: > /etc/machine-id
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
