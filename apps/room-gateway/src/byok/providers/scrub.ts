const MAX_TEXT = 300;

/**
 * Makes a provider's error text safe to pass on: every given secret (and its
 * URL-encoded form) is cut out, then anything that looks like a credential
 * (a JWT, a bearer token, a long opaque string) in case the provider echoed a
 * transformed or partial key, then control characters; the result is short.
 */
export function scrub(text: string, secrets: string[]): string {
  let out = text.slice(0, 4096);
  // Longest first, so a secret inside another (an API key inside "key:secret") cannot leave a remainder.
  const forms = [...new Set(secrets.filter(Boolean).flatMap((s) => [s, encodeURIComponent(s)]))].sort(
    (a, b) => b.length - a.length,
  );
  for (const form of forms) out = out.split(form).join('[redacted]');
  out = out
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]')
    .replace(/(bearer|basic)\s+(?!\[redacted\])[^\s)\]}"',;]+/gi, '$1 [redacted]')
    .replace(/[A-Za-z0-9_\-+/=.:]{24,}/g, '[redacted]')
    // Control characters from a provider's answer would forge or break log lines.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…` : out;
}
