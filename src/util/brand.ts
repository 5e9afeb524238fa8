// Branded identifiers: a StageId can never be passed where a CacheKey is expected.
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A stage instance's readable id, e.g. `train[model=mlp_1x512,p=0.2]`. */
export type StageId = Brand<string, 'StageId'>;
/** SHA-256 (hex) of a stage instance's canonical KeyRecord. */
export type CacheKey = Brand<string, 'CacheKey'>;
/** SHA-256 (hex) of an artifact's bytes. */
export type ObjectHash = Brand<string, 'ObjectHash'>;

export const asStageId = (s: string): StageId => s as StageId;
export const asCacheKey = (s: string): CacheKey => s as CacheKey;
export const asObjectHash = (s: string): ObjectHash => s as ObjectHash;

export function unreachable(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
