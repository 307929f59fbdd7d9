// The apiserver's --token-auth-file: CSV lines `token,user,uid,"group1,group2"`.
export interface StaticToken {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

export function parse(text: string): StaticToken[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([^,]*),([^,]*),([^,]*)(?:,"?([^"]*)"?)?$/.exec(line);
      return m ? { token: m[1]!, user: m[2]!, uid: m[3]!, groups: (m[4] ?? '').split(',').filter(Boolean) } : undefined;
    })
    .filter((t): t is StaticToken => t !== undefined);
}
