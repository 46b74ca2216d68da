import { ClassType, Field, Int, ObjectType } from 'type-graphql';
import { badInput } from '../errors';
import { ModelInfo, Movie, PageInfo, Rating, TrainingRun, User } from './types';

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** `<Name>Connection` and `<Name>Edge` object types for a node type (Relay cursor connections). */
function connectionOf<T extends object>(name: string, node: ClassType<T>): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field()
    cursor!: string;
    @Field(() => node)
    node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} (Relay cursor connection: pass a page's endCursor as \`after\`).` })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];
    @Field(() => PageInfo)
    pageInfo!: PageInfo;
    @Field(() => Int, { description: 'Items in the whole list (all pages).' })
    totalCount!: number;
  }
  return ConnectionType;
}

export const MovieConnection = connectionOf('Movie', Movie);
export const UserConnection = connectionOf('User', User);
export const RatingConnection = connectionOf('Rating', Rating);
export const ModelInfoConnection = connectionOf('ModelInfo', ModelInfo);
export const TrainingRunConnection = connectionOf('TrainingRun', TrainingRun);

/** An opaque cursor: base64url of `<list>:<key>`. */
export function encodeCursor(list: string, key: string | number): string {
  return Buffer.from(`${list}:${key}`).toString('base64url');
}

/** The key inside a cursor of `list`; BAD_USER_INPUT for anything else. */
export function decodeCursor(list: string, cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${list}:`)) throw badInput('after', cursor, `is not a cursor of this list (${list})`);
  return text.slice(list.length + 1);
}

function page<T>(nodes: T[], cursors: string[], hasPrevious: boolean, hasNext: boolean, totalCount: number): Connection<T> {
  return {
    edges: nodes.map((node, i) => ({ node, cursor: cursors[i] })),
    pageInfo: { hasNextPage: hasNext, hasPreviousPage: hasPrevious, startCursor: cursors[0] ?? null, endCursor: cursors[cursors.length - 1] ?? null },
    totalCount,
  };
}

/**
 * A page of a list of ascending integer keys (ids): the `first` keys greater than the one in
 * `after`, mapped to nodes. Binary search, so paging costs O(log n + first).
 */
export function pageOfSortedIds<T>(list: string, keys: ArrayLike<number>, first: number, after: string | null | undefined, node: (key: number) => T): Connection<T> {
  let start = 0;
  if (after) {
    const key = Number(decodeCursor(list, after));
    if (!Number.isInteger(key)) throw badInput('after', after, 'is not a valid cursor');
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid] <= key) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const end = Math.min(keys.length, start + first);
  const nodes: T[] = [];
  const cursors: string[] = [];
  for (let i = start; i < end; i++) {
    nodes.push(node(keys[i]));
    cursors.push(encodeCursor(list, keys[i]));
  }
  return page(nodes, cursors, start > 0, end < keys.length, keys.length);
}

/** A page of a list in a fixed order whose items have unique string keys (model ids, run ids). */
export function pageOfKeyed<T>(list: string, items: readonly T[], keyOf: (item: T) => string, first: number, after: string | null | undefined): Connection<T> {
  let start = 0;
  if (after) {
    const key = decodeCursor(list, after);
    const i = items.findIndex((item) => keyOf(item) === key);
    if (i < 0) throw badInput('after', after, 'names an item no longer in the list');
    start = i + 1;
  }
  const slice = items.slice(start, start + first);
  return page(slice, slice.map((item) => encodeCursor(list, keyOf(item))), start > 0, start + first < items.length, items.length);
}
