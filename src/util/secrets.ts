/**
 * Connection URIs may carry a password (`qemu+tcp://admin:pw@host/system`, or a
 * `password=` parameter). They are secrets wherever they are stored or shown.
 */

const USERINFO_PASSWORD = /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@\s:'"<>]*:)([^/@\s'"<>]*)@/g;
const PASSWORD_PARAM = /([?&](?:password|passwd|pass|secret|token)=)([^&\s'"<>]*)/gi;

/** A libvirt URI carrying a password (user:password@ or a password= parameter). */
export function uriHasCredentials(uri: string): boolean {
  return new RegExp(USERINFO_PASSWORD.source).test(uri) || new RegExp(PASSWORD_PARAM.source, "i").test(uri);
}

/** The text with every URI password replaced by `***` (for output, logs and diagnostics). */
export function redactSecrets(text: string): string {
  return text.replace(USERINFO_PASSWORD, "$1***@").replace(PASSWORD_PARAM, "$1***");
}
