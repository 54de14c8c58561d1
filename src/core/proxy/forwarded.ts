/**
 * The standard proxy fields: RFC 7239 `Forwarded` and RFC 9110 §7.6.3 `Via`. Pure string work;
 * the patterns are compiled once, when the module loads.
 */

// RFC 9110 §5.6.2 token.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Inside a quoted-string these two are written as a quoted-pair (RFC 9110 §5.6.4).
const NEEDS_ESCAPE = /["\\]/g;
// Controls other than HTAB cannot appear in a quoted-string at all, not even as a quoted-pair
// (RFC 9110 §5.6.4), and Headers.set throws on CR, LF, NUL and on anything above U+00FF: a value
// that must never break the request loses them instead.
const UNSENDABLE = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/g;
const BLANK = /^[ \t]*$/;

/** RFC 7239 §4: a value is a token, or else a quoted-string. */
function forwardedValue(value: string): string {
  if (TOKEN.test(value)) return value;
  return `"${value.replace(UNSENDABLE, "").replace(NEEDS_ESCAPE, "\\$&")}"`;
}

// proto and host are the same on nearly every request an isolate serves: their last values are
// kept rather than tested again (pure: the same input gives the same output).
let lastProto = "https";
let lastProtoValue = forwardedValue(lastProto);
let lastHost = "";
let lastHostValue = forwardedValue(lastHost);

function protoValue(proto: string): string {
  if (proto !== lastProto) {
    lastProto = proto;
    lastProtoValue = forwardedValue(proto);
  }
  return lastProtoValue;
}

function hostValue(host: string): string {
  if (host !== lastHost) {
    lastHost = host;
    lastHostValue = forwardedValue(host);
  }
  return lastHostValue;
}

/** RFC 7239 §6: a node; an IPv6 address is bracketed, and as "[", "]" and ":" are not tchars, quoted. */
function nodeValue(address: string): string {
  // Two colons or more mean IPv6; one means IPv4 with a port (§6, node-port), which stays unbracketed.
  const colon = address.indexOf(":");
  const ipv6 = colon !== address.lastIndexOf(":") && address.charCodeAt(0) !== 0x5b; // "["
  // The usual case, a parsed address (hex digits, ".", ":"): what forwardedValue would give, without
  // its regular expressions: a dotted quad is a token, a bracketed IPv6 address needs no escapes.
  if (isAddressText(address) && (ipv6 || colon < 0)) return ipv6 ? `"[${address}]"` : address;
  return forwardedValue(ipv6 ? `[${address}]` : address);
}

/** True for a non-empty string of hex digits, "." and ":" only. */
function isAddressText(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digitOrColon = c >= 0x30 && c <= 0x3a;
    if (!(digitOrColon || c === 0x2e || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  return true;
}

/** One RFC 7239 forwarded-element: for, proto, host (and by when given); IPv6 "for" quoted and bracketed (§6), values quoted when not a token (§4). */
export function forwardedElement(info: {
  readonly clientIp: string | null;
  readonly proto: string;
  readonly host: string;
  readonly by?: string;
}): string {
  // §6.3: "unknown" when the address cannot be told (here: CF-Connecting-IP was unusable).
  const forNode = info.clientIp === null || info.clientIp === "" ? "unknown" : nodeValue(info.clientIp);
  const by = info.by === undefined ? "" : `;by=${nodeValue(info.by)}`;
  return `for=${forNode};proto=${protoValue(info.proto)}${by};host=${hostValue(info.host)}`;
}

/** Appends an element to an existing Forwarded field value (comma-separated list, §4); an empty or missing value gives just the element. */
export function appendForwarded(existing: string | null, element: string): string {
  if (existing === null || BLANK.test(existing)) return element;
  // The existing value is the client's: closing a quoted-string it left open keeps our element,
  // the one an origin trusts, outside it (`for="` would otherwise swallow it).
  return `${existing}${quoteCloser(existing)}, ${element}`;
}

/** Our Via entry: "1.1 <pseudonym>" (RFC 9110 §7.6.3: protocol version, then received-by as a pseudonym). */
export function viaEntry(pseudonym: string): string {
  // A fixed version: it is the pseudonym that identifies us (hasVia ignores the version).
  return `1.1 ${pseudonym}`;
}

/** Appends our entry to an existing Via value. */
export function appendVia(existing: string | null, pseudonym: string): string {
  if (existing === null || BLANK.test(existing)) return viaEntry(pseudonym);
  // A comment the client left open would swallow our entry and hide a loop from hasVia: close it.
  return `${existing}${commentCloser(existing)}, ${viaEntry(pseudonym)}`;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const OPEN = 0x28;
const CLOSE = 0x29;
const BACKSLASH = 0x5c;
const isSpace = (c: number) => c === 0x20 || c === 0x09;
// What ends received-protocol or received-by: whitespace, the list comma, or a comment.
const isDelimiter = (c: number) => isSpace(c) || c === COMMA || c === OPEN;

/** True when a Via field value already holds an entry received by `pseudonym` (a loop): comma list, optional protocol name ("HTTP/1.1"), case-insensitive pseudonym match, comments ignored. */
export function hasVia(via: string | null, pseudonym: string): boolean {
  if (via === null || pseudonym === "") return false;
  // A scan by character codes, allocating nothing: this runs on every request. Grammar (RFC 9110
  // §7.6.3): Via = #( received-protocol RWS received-by [ RWS comment ] ).
  const n = via.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isSpace(via.charCodeAt(i)) || via.charCodeAt(i) === COMMA)) i++;
    const protocolStart = i;
    while (i < n && !isDelimiter(via.charCodeAt(i))) i++;
    const protocolEnd = i;
    while (i < n && isSpace(via.charCodeAt(i))) i++;
    const byStart = i;
    while (i < n && !isDelimiter(via.charCodeAt(i))) i++;
    if (protocolEnd > protocolStart && byStart > protocolEnd && sameToken(via, byStart, i, pseudonym)) return true;
    i = nextElement(via, i);
  }
  return false;
}

/** ASCII case-insensitive comparison of via[start, end) with `token` (tokens are ASCII, §5.6.2). */
function sameToken(via: string, start: number, end: number, token: string): boolean {
  if (end - start !== token.length) return false;
  for (let k = 0; k < token.length; k++) {
    if (lowerAscii(via.charCodeAt(start + k)) !== lowerAscii(token.charCodeAt(k))) return false;
  }
  return true;
}

function lowerAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
}

/** The index after the comma that ends the current element; a comment may hold commas (RFC 9110 §5.6.5). */
function nextElement(via: string, from: number): number {
  const n = via.length;
  let depth = 0;
  for (let i = from; i < n; i++) {
    const c = via.charCodeAt(i);
    if (depth > 0 && c === BACKSLASH) i++;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && depth > 0) depth--;
    else if (c === COMMA && depth === 0) return i + 1;
  }
  return n;
}

/** What ends a quoted-string left open at the end of `value` (RFC 9110 §5.6.4); usually "". */
function quoteCloser(value: string): string {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted && c === BACKSLASH) {
      // A trailing backslash would escape our closing quote: give it a space to escape instead.
      if (i + 1 === value.length) return ' "';
      i++;
    } else if (c === QUOTE) quoted = !quoted;
  }
  return quoted ? '"' : "";
}

/** What ends the comments left open at the end of `value`, by the rules nextElement reads them with; usually "". */
function commentCloser(value: string): string {
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (depth > 0 && c === BACKSLASH) {
      if (i + 1 === value.length) return ` ${")".repeat(depth)}`;
      i++;
    } else if (c === OPEN) depth++;
    else if (c === CLOSE && depth > 0) depth--;
  }
  return depth > 0 ? ")".repeat(depth) : "";
}
