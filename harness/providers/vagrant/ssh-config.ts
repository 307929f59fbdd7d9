// `vagrant ssh-config`: OpenSSH client configuration, one "Host <machine>" block of "Key value"
// lines per machine. hardway reads where Vagrant reaches each machine from it (never from the
// text of `vagrant ssh`) and checks that it is the model's address.
import { UserFacingError } from '../../cli/errors.ts';

export interface VagrantSshInfo {
  host: string;
  hostName: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** Every option as written (keys lower-cased), for what is not picked out above. */
  options: Record<string, string>;
}

export function parseSshConfig(text: string): VagrantSshInfo[] {
  const out: VagrantSshInfo[] = [];
  let cur: VagrantSshInfo | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim().replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      cur = { host: value, hostName: value, port: 22, user: '', identityFiles: [], options: {} };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    cur.options[key] = value;
    if (key === 'hostname') cur.hostName = value;
    else if (key === 'port') cur.port = Number(value);
    else if (key === 'user') cur.user = value;
    else if (key === 'identityfile') cur.identityFiles.push(value);
  }
  return out;
}

/** Each member must be where the model puts it, as Vagrant sees it: its address, port 22 (and root, when given). */
export function checkSshConfig(
  members: { name: string; address: string }[],
  infos: VagrantSshInfo[],
  expectUser?: string,
): Map<string, VagrantSshInfo> {
  const byName = new Map(infos.map((i) => [i.host, i]));
  for (const m of members) {
    const i = byName.get(m.name);
    if (!i) throw new UserFacingError(`${m.name}: vagrant ssh-config names no such machine; fix: vagrant status in the lab's folder`);
    const seen = `${expectUser ? `${i.user}@` : ''}${i.hostName}:${i.port}`;
    const want = `${expectUser ? `${expectUser}@` : ''}${m.address}:22`;
    if (seen !== want)
      throw new UserFacingError(
        `${m.name}: Vagrant reaches it at ${seen}, the model at ${want}; fix: check vagrant/Vagrantfile's ssh settings (ssh.host, ssh.port${expectUser ? ', ssh.username' : ''})`,
      );
  }
  return byName;
}
