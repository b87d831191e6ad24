/**
 * Path templating from traffic. Each host has a trie of path segments. A segment becomes a parameter on one of
 * two kinds of evidence:
 *
 * - its **shape**: integers, UUIDs, hashes, dates, e-mails, long tokens, id-like codes and id-like file names
 *   are parameters wherever they appear (`/products/123`, `/orders/7f0c…`, `/img/1234-320.webp`);
 * - its **cardinality**: when one position holds at least `minCardinality` distinct word-like values (user
 *   names, slugs) that answered, it is a parameter, except the values that carry a large share of the
 *   position's traffic (`/users/me`, `/products/search` stay literal).
 *
 * Only requests that did not answer 404 count as evidence: scanners' guessed paths must not turn `/` into
 * `/{name}`. Sibling parameters (an integer and a code at the same position) merge into one. Every endpoint
 * keeps the literal paths merged into it (see catalog.ts), so a merge can be undone, and an imported OpenAPI
 * spec's templates win over both rules for the paths they match.
 */
import { ID_SHAPES, PARAM_NAME, segmentShape } from './shape.js';

/** A parameter token in a key: `{id}`. */
const isParam = (t: string): boolean =>
  t.length > 2 && t.charCodeAt(0) === 123 && t.charCodeAt(t.length - 1) === 125;

export interface TemplaterOptions {
  /** Distinct word-like values at one position that make it a parameter (default 20). */
  minCardinality?: number;
  /** A value keeping at least this share of its position's traffic stays literal (default 0.05). */
  keepShare?: number;
  /** Literal children kept per trie node; more become one overflow parameter (default 1000). */
  maxChildren?: number;
}

class PathNode {
  readonly children = new Map<string, PathNode>();
  /** Requests through this node that did not answer 404. */
  hits = 0;
  /** Distinct word-like literal children that answered (cardinality evidence). */
  words = 0;
  /** Decided online once `words` reached the threshold: new word values become `{name}`. */
  wordParam = false;
  /** Word values that stay literal at a word-parameter position (their share of traffic was large). */
  keep: Set<string> | null = null;
  /** Which children are word-like literals (not params, not counted yet). */
  readonly wordChild = new Set<string>();
}

/** The final, merged trie used to resolve keys into templates. */
class FinalNode {
  readonly lit = new Map<string, FinalNode>();
  param: FinalNode | null = null;
  paramName = '{id}';
  /** Why this position is a parameter (for `explain`). */
  reason = '';
}

export interface TemplateDecision {
  host: string;
  /** The parameter's position, as a template prefix: `/api/v1/products/{id}`. */
  at: string;
  reason: string;
}

export class Templater {
  private readonly roots = new Map<string, PathNode>();
  private final: Map<string, FinalNode> | null = null;
  private readonly minCard: number;
  private readonly keepShare: number;
  private readonly maxChildren: number;
  readonly decisions: TemplateDecision[] = [];

  constructor(o: TemplaterOptions = {}) {
    this.minCard = o.minCardinality ?? 20;
    this.keepShare = o.keepShare ?? 0.05;
    this.maxChildren = o.maxChildren ?? 1000;
  }

  /**
   * Records a path and returns its key: the segments with shape parameters already replaced (`{id}`), word
   * segments literal unless their position is already known to be a parameter. Keys are resolved into final
   * templates by `resolve` once all traffic is in.
   */
  add(host: string, path: string, answered: boolean): string {
    this.final = null;
    let node = this.roots.get(host);
    if (node === undefined) {
      node = new PathNode();
      this.roots.set(host, node);
    }
    if (answered) node.hits++;
    let key = '';
    let start = path.charCodeAt(0) === 47 ? 1 : 0;
    for (;;) {
      let end = path.indexOf('/', start);
      if (end === -1) end = path.length;
      const seg = path.slice(start, end);
      let token: string;
      let word = false;
      const shape = segmentShape(seg);
      if (ID_SHAPES.has(shape)) token = `{${PARAM_NAME[shape]}}`;
      else if (node.wordParam && !node.keep!.has(seg) && seg.charCodeAt(0) !== 123) token = '{name}';
      else {
        // A literal segment that looks like a parameter token (`{{7*7}}` from a scanner) is escaped.
        token = seg.charCodeAt(0) === 123 ? `%7B${seg.slice(1)}` : seg;
        word = true;
      }
      let child = node.children.get(token);
      if (child === undefined) {
        if (node.children.size >= this.maxChildren) token = '{*}';
        child = node.children.get(token);
        if (child === undefined) {
          child = new PathNode();
          node.children.set(token, child);
        }
      }
      if (answered) {
        if (word && child.hits === 0 && !node.wordChild.has(token)) {
          node.wordChild.add(token);
          node.words++;
          if (!node.wordParam && node.words >= this.minCard) this.decideWordParam(node);
        }
        child.hits++;
      }
      key += `/${token}`;
      node = child;
      if (end >= path.length) break;
      start = end + 1;
    }
    return key;
  }

  private decideWordParam(node: PathNode): void {
    node.wordParam = true;
    node.keep = new Set();
    for (const w of node.wordChild) {
      const c = node.children.get(w);
      if (c !== undefined && c.hits >= node.hits * this.keepShare) node.keep.add(w);
    }
  }

  /** The final template of a key recorded for `host`. */
  resolve(host: string, key: string): string {
    if (this.final === null) this.finalize();
    const root = this.final!.get(host);
    if (root === undefined) return key;
    let f: FinalNode = root;
    let out = '';
    const tokens = key.split('/');
    for (let i = 1; i < tokens.length; i++) {
      const t = tokens[i]!;
      const lit: FinalNode | undefined = isParam(t) ? undefined : f.lit.get(t);
      if (lit !== undefined) {
        out += `/${t}`;
        f = lit;
      } else if (f.param !== null) {
        out += `/${f.paramName}`;
        f = f.param;
      } else {
        // Not in the final trie (cannot happen for recorded keys): keep the rest as recorded.
        return (
          out +
          tokens
            .slice(i)
            .map((x) => `/${x}`)
            .join('')
        );
      }
    }
    return out === '' ? '/' : out;
  }

  private finalize(): void {
    this.final = new Map();
    this.decisions.length = 0;
    for (const [host, root] of this.roots) this.final.set(host, this.build([root], host, ''));
  }

  /** Builds the final node for a group of trie nodes merged into one position. */
  private build(nodes: PathNode[], host: string, prefix: string): FinalNode {
    const f = new FinalNode();
    const lit = new Map<string, PathNode[]>();
    const params: PathNode[] = [];
    const names = new Map<string, number>();
    let hits = 0;
    let words = 0;
    let wordParam = false;
    const keep = new Set<string>();
    for (const n of nodes) {
      hits += n.hits;
      words += n.words;
      if (n.wordParam) {
        wordParam = true;
        for (const k of n.keep!) keep.add(k);
      }
    }
    if (!wordParam && words >= this.minCard) {
      wordParam = true;
      for (const n of nodes)
        for (const w of n.wordChild) {
          const c = n.children.get(w);
          if (c !== undefined && c.hits >= hits * this.keepShare) keep.add(w);
        }
    }
    for (const n of nodes) {
      for (const [t, c] of n.children) {
        const word = n.wordChild.has(t);
        if (isParam(t) || (wordParam && word && !keep.has(t))) {
          params.push(c);
          const name = isParam(t) ? t : '{name}';
          names.set(name, (names.get(name) ?? 0) + c.hits + 1);
        } else {
          let l = lit.get(t);
          if (l === undefined) {
            l = [];
            lit.set(t, l);
          }
          l.push(c);
        }
      }
    }
    for (const [t, group] of lit) f.lit.set(t, this.build(group, host, `${prefix}/${t}`));
    if (params.length > 0) {
      let best = '{id}';
      let bestN = -1;
      for (const [n, c] of names) if (c > bestN && n !== '{*}') [best, bestN] = [n, c];
      f.paramName = best;
      const kinds = [...names.keys()].join(', ');
      f.reason = wordParam
        ? `${words} distinct word-like values answered here (threshold ${this.minCard})${keep.size > 0 ? `; kept literal: ${[...keep].sort().join(', ')}` : ''}`
        : `values shaped as ${kinds}`;
      this.decisions.push({ host, at: `${prefix}/${best}`, reason: f.reason });
      f.param = this.build(params, host, `${prefix}/${best}`);
    }
    return f;
  }
}

/** Templates from an OpenAPI spec, matched before the statistics (hints). */
export class SpecTemplates {
  private readonly root = new SpecNode();

  add(template: string): void {
    let n = this.root;
    for (const seg of template.split('/').slice(1)) {
      const param = isParam(seg);
      if (param) {
        n.param ??= { name: seg, node: new SpecNode() };
        n = n.param.node;
      } else {
        let c = n.lit.get(seg);
        if (c === undefined) {
          c = new SpecNode();
          n.lit.set(seg, c);
        }
        n = c;
      }
    }
    n.template = template;
  }

  /** The spec template a concrete path matches (literals first), or null. */
  match(path: string): string | null {
    return this.walk(this.root, path.split('/'), 1);
  }

  private walk(n: SpecNode, segs: string[], i: number): string | null {
    if (i >= segs.length) return n.template;
    const lit = n.lit.get(segs[i]!);
    if (lit !== undefined) {
      const r = this.walk(lit, segs, i + 1);
      if (r !== null) return r;
    }
    if (n.param !== null && segs[i] !== '') return this.walk(n.param.node, segs, i + 1);
    return null;
  }
}

class SpecNode {
  readonly lit = new Map<string, SpecNode>();
  param: { name: string; node: SpecNode } | null = null;
  template: string | null = null;
}
