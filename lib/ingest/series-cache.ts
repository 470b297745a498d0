import type { Dimensions } from '../metrics/point.ts';
import { seriesId } from '../metrics/series.ts';

/** A step in the cache's trie: the name, then each dimension name and value in the order sent. */
interface TrieNode {
  id: string | undefined;
  children: Map<string, TrieNode> | undefined;
}

/**
 * Remembers series ids: computing one sorts the dimensions and hashes the identity (SHA-256), which costs
 * more than parsing the point, while agents send the same few series over and over. Lookups walk a trie of
 * the name and the dimensions in the order the client sent them (no string is built per point); one series
 * sent in two orders takes two entries with the same id. Bounded: it starts afresh past `capacity` series.
 */
export class SeriesIdCache {
  private root: TrieNode = { id: undefined, children: undefined };
  private size = 0;

  constructor(readonly capacity = 50_000) {}

  /** The series id of a name and its dimensions (as `seriesId` computes it). O(dimensions). */
  idOf(name: string, dimensions: Dimensions): string {
    let node = step(this.root, name);
    for (const dimension in dimensions) {
      node = step(step(node, dimension), dimensions[dimension] as string);
    }
    if (node.id === undefined) {
      if (this.size >= this.capacity) {
        this.root = { id: undefined, children: undefined };
        this.size = 0;
        return this.idOf(name, dimensions);
      }
      node.id = seriesId(name, dimensions);
      this.size += 1;
    }
    return node.id;
  }
}

function step(node: TrieNode, part: string): TrieNode {
  node.children ??= new Map();
  let child = node.children.get(part);
  if (child === undefined) {
    child = { id: undefined, children: undefined };
    node.children.set(part, child);
  }
  return child;
}
