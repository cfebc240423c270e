// Secrets out of text before it is logged, shown in chat or printed by doctor: the configured
// secrets themselves, anything shaped like a Slack or Discord token, Discord webhook tokens,
// Authorization header values, passwords in URLs and secret-named URL parameters.

const REDACTED = '[redacted]';
/** Shorter configured values are not cut out of text: they would match ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** A URL with its password replaced: postgres://user:***@host/db, redis://:***@host. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@\s]*):[^@\s]*@/g, '//$1:***@');
}

/** Text without the given secrets or anything that looks like a token or a URL password. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets)
    if (secret && secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join(REDACTED);
  return (
    redactUrl(out)
      .replace(/(webhooks\/\d+\/)[\w-]+/g, `$1${REDACTED}`)
      .replace(/\bxox[a-z]-[\w-]+/g, REDACTED)
      .replace(/\bxapp-[\w-]+/g, REDACTED)
      .replace(/\b(Bot|Bearer)\s+[\w.~+/=-]+/g, `$1 ${REDACTED}`)
      // Socket Mode connection tickets and response_url: each lets its holder act as the app
      .replace(/([?&]ticket=)[^&\s"']+/g, `$1${REDACTED}`)
      .replace(/(hooks\.slack\.com\/(?:commands|actions|services|workflows)\/)[^\s"']+/g, `$1${REDACTED}`)
      .replace(/("?response_url"?\s*[:=]\s*"?)[^\s"',}]+/g, `$1${REDACTED}`)
      .replace(
        /(^|[?&#\s;,])((?:access_token|refresh_token|token|client_secret|secret|password|key|sig)=)[^&#\s"]+/gi,
        `$1$2${REDACTED}`,
      )
  );
}
