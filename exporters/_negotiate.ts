/**
 * HTTP content negotiation for the exporters: which text format (`Accept`) and whether
 * to gzip (`Accept-Encoding`), from the media ranges and q-values of RFC 9110 §12.
 * Internal.
 *
 * @module
 */

/** One media range of an `Accept` header, or one coding of `Accept-Encoding`. */
interface Range {
  /** Lower case: `"text"`, `"*"`. */
  readonly type: string;
  /** Lower case: `"plain"`, `"*"`; `""` for an `Accept-Encoding` coding. */
  readonly subtype: string;
  /** Parameters other than `q`, names in lower case, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
  /** The weight, 0 to 1. */
  readonly q: number;
}

/** A header longer than this is read only this far (a real `Accept` is under 300 bytes). */
const MAX_HEADER = 4096;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The weight of a `q` parameter, or undefined if it is not one. RFC 9110 §12.4.2 allows
 * `0` to `1` with up to three decimals; more decimals are read too, since they are clear.
 */
function weight(value: string): number | undefined {
  if (!/^[01](?:\.\d*)?$/.test(value)) return undefined;
  const q = Number(value);
  return q <= 1 ? q : undefined;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(.)/g, "$1")
    : value;
}

/**
 * The ranges of a header, in header order. Malformed elements, a `q` that is not a weight
 * included, are skipped: a scraper with a broken header still gets an answer.
 */
function parse(header: string, media: boolean): Range[] {
  const ranges: Range[] = [];
  // Quoted strings cannot hold "," or ";" in any header a scraper sends; a value that does
  // only spoils its own element.
  for (const element of header.slice(0, MAX_HEADER).split(",")) {
    const [head, ...rest] = element.split(";").map((part) => part.trim());
    if (head === "") continue;
    let type: string;
    let subtype = "";
    if (media) {
      const slash = head.indexOf("/");
      if (slash < 0) {
        if (head !== "*") continue; // "*" alone: some clients send it for "*/*"
        type = subtype = "*";
      } else {
        type = head.slice(0, slash).trim().toLowerCase();
        subtype = head.slice(slash + 1).trim().toLowerCase();
      }
      if (!TOKEN.test(type) || !TOKEN.test(subtype) || (type === "*" && subtype !== "*")) continue;
    } else {
      type = head.toLowerCase();
      if (!TOKEN.test(type)) continue;
    }
    const params = new Map<string, string>();
    let q: number | undefined = 1;
    for (const param of rest) {
      const equals = param.indexOf("=");
      if (equals < 0) continue;
      const name = param.slice(0, equals).trim().toLowerCase();
      const value = unquote(param.slice(equals + 1).trim());
      if (name === "q") q = weight(value);
      else params.set(name, value);
    }
    if (q !== undefined) ranges.push({ type, subtype, params, q });
  }
  return ranges;
}

/** A representation a handler can send. */
export interface Offer {
  readonly type: string;
  readonly subtype: string;
  /** The value of the `version` parameter this representation has. */
  readonly version: string;
}

/**
 * How well a range matches an offer: -1 not at all, else more for a more specific range
 * (RFC 9110 §12.5.1: `*\/*` < `type/*` < `type/subtype` < with parameters). A range with a
 * `version` matches only that version; other parameters (`charset`, …) do not count.
 */
function specificity(range: Range, offer: Offer): number {
  if (range.type === "*") return 0;
  if (range.type !== offer.type) return -1;
  if (range.subtype === "*") return 1;
  if (range.subtype !== offer.subtype) return -1;
  const version = range.params.get("version");
  if (version === undefined) return 2;
  return version === offer.version ? 3 : -1;
}

/**
 * The index of the offer an `Accept` header prefers: each offer gets the q-value of the
 * most specific range that matches it; the highest q wins, then an offer named by a more
 * specific range, then the one whose range comes first in the header, then the first
 * offer. Without a header, or when it accepts no offer (every match `q=0`, or none), the
 * answer is the first offer: like Prometheus' client libraries, the exporter then sends
 * its default format rather than `406 Not Acceptable`, which would only fail the scrape.
 */
export function negotiate(accept: string | null, offers: readonly Offer[]): number {
  if (accept === null) return 0;
  const ranges = parse(accept, true);
  let best = 0;
  let bestScore = [0, -1, 0];
  offers.forEach((offer, index) => {
    let q = 0;
    let matched = -1;
    let position = 0;
    ranges.forEach((range, at) => {
      const s = specificity(range, offer);
      if (s > matched) {
        matched = s;
        q = range.q;
        position = at;
      }
    });
    if (matched < 0 || q === 0) return;
    const score = [q, matched, -position];
    for (let i = 0; i < score.length; i++) {
      if (score[i] === bestScore[i]) continue;
      if (score[i] > bestScore[i]) {
        best = index;
        bestScore = score;
      }
      return;
    }
  });
  return best;
}

/**
 * Whether an `Accept-Encoding` header accepts gzip (RFC 9110 §12.5.3): `gzip` (or its
 * alias `x-gzip`) with `q > 0`, or `*` with `q > 0` when gzip is not named.
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null) return false;
  let star: number | undefined;
  let gzip: number | undefined;
  for (const { type, q } of parse(acceptEncoding, false)) {
    if (type === "gzip" || type === "x-gzip") gzip = Math.max(gzip ?? 0, q);
    else if (type === "*") star = q;
  }
  return (gzip ?? star ?? 0) > 0;
}
