// Last line of defence for "secrets never reach a report": whatever a check wrote, private key
// blocks, embedded key data, bearer tokens and registered secret values are masked before any
// line is printed or stored.
const registered = new Set<string>();

/** Registers a secret value (a token read from a host) so that it is masked wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) registered.add(value);
}

export function redact(text: string): string {
  let out = text
    .replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, '[redacted private key]')
    .replace(
      /([A-Za-z0-9_-]*?)(client-key-data|token|password|secret)(["']?\s*[:=]\s*["']?)([A-Za-z0-9+/=._-]{8,})/gi,
      (m, pre: string, key: string, sep: string, value: string) =>
        // A camelCase field such as staticToken or tokenFile is followed by words ("expected",
        // "required"), not secrets: only a plain lowercase word there is left as it is.
        /[a-z]$/.test(pre) && /^[A-Z]/.test(key) && /^[a-z]+$/.test(value) ? m : `${pre}${key}${sep}[redacted]`,
    )
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[redacted]');
  for (const s of registered) out = out.split(s).join('[redacted]');
  return out;
}
