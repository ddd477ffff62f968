/**
 * The secrets a process knows (passwords and tokens read from files or variables, passwords
 * inside URLs), and the functions that keep them out of text that leaves the process. A secret
 * is registered where the configuration reads it; the logger (logging.ts), configuration
 * errors (config.ts) and the CLI's error line pass their text through `redactSecrets`, so a
 * library that copies a password into an error (ioredis puts AUTH's arguments on its
 * ReplyError) cannot leak it through them.
 */
/** What a secret is replaced with. */
export const MASK = '***';

const known = new Set<string>();
/** Known secrets, longest first, so that a secret containing another is masked whole. */
let ordered: string[] = [];

/**
 * Registers `value` as a secret of this process (with its JSON-escaped and URL-encoded forms,
 * the shapes it takes inside a log line or a URL); returns it. Empty strings are ignored.
 */
export function registerSecret(value: string): string {
  if (value === '') return value;
  const before = known.size;
  for (const form of [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]) known.add(form);
  if (known.size !== before) ordered = [...known].sort((a, b) => b.length - a.length);
  return value;
}

/** `scheme://user:password@` in any text: the password part. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:]*):([^\s/]+)@/gi;

/** Masks the password of every URL with userinfo in `text` (`redis://u:pw@h` → `redis://u:***@h`). */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, `$1:${MASK}@`);
}

/** `text` with every registered secret and every URL password replaced by `***`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out.includes('://') ? maskUrlPasswords(out) : out;
}

/** Whether a variable's value is a secret itself (never quoted in an error): *_PASSWORD, *_SECRET, *_TOKEN, not *_FILE. */
export function isSecretVariable(name: string): boolean {
  return /(PASSWORD|SECRET|TOKEN)$/i.test(name);
}

/**
 * A variable's value as an error may quote it: `***` for a secret variable; for a URL-like
 * value with userinfo (even a malformed one), everything before the last `@` but the scheme.
 */
export function quotableValue(variable: string, value: string): string {
  if (isSecretVariable(variable)) return MASK;
  const at = value.lastIndexOf('@');
  if (at < 0) return redactSecrets(value);
  const scheme = /^[a-z][\w+.-]*:\/\//i.exec(value)?.[0] ?? '';
  return redactSecrets(`${scheme}${MASK}${value.slice(at)}`);
}
