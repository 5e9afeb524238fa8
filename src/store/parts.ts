// Where an output's parts are (the shards a sharded tensors manifest names; see OutputRef.parts):
// each fetched and checked by the store as any object is, for opening the output.
import type { ObjectRef, Store } from './types.js';

/** Local paths of `ref`'s parts by hash, or undefined when the output is one object. */
export async function shardPaths(store: Pick<Store, 'objectPath'>, ref: { readonly parts?: readonly ObjectRef[] }): Promise<ReadonlyMap<string, string> | undefined> {
  if (ref.parts === undefined) return undefined;
  const paths = await Promise.all(ref.parts.map(async (p) => [p.hash, await store.objectPath(p.hash, p.size)] as const));
  return new Map(paths);
}
