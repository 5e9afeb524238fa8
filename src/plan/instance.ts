// A planned stage instance. Where its stage is declared is located when first read: only messages
// need it, and locating builds the positioned YAML Document, which planning a valid file never needs.
// A class, so that its many instances share one shape and the lazy `where` lives on the prototype.
import type { StageId } from '../util/brand.js';
import type { JsonValue, Plugin, Scalar } from '../plugin/types.js';
import type { KeyRecord } from './key.js';
import type { InputBinding, StageInstance } from './plan.js';
import type { Resources, StagePlacement } from './resources.js';

/** An instance before its inputs are bound. */
export type UnboundInstance = Omit<StageInstance, 'inputs' | 'where'>;

export class PlannedInstance implements StageInstance {
  readonly id: StageId;
  readonly stage: string;
  readonly plugin: Plugin<never>;
  readonly uses: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly params: { readonly [k: string]: JsonValue };
  readonly seed: number;
  readonly keyBase: Omit<KeyRecord, 'inputs'>;
  readonly retries?: number;
  readonly timeoutMs?: number;
  readonly resources?: Resources;
  readonly placement?: StagePlacement;
  readonly #locate: () => string;

  constructor(
    unbound: UnboundInstance,
    readonly inputs: readonly InputBinding[],
    /** Where the stage is declared (`pipelines/x.yaml:12:3`); called on each read of `where`. */
    locate: () => string,
  ) {
    this.id = unbound.id;
    this.stage = unbound.stage;
    this.plugin = unbound.plugin;
    this.uses = unbound.uses;
    this.matrix = unbound.matrix;
    this.params = unbound.params;
    this.seed = unbound.seed;
    this.keyBase = unbound.keyBase;
    if (unbound.retries !== undefined) this.retries = unbound.retries;
    if (unbound.timeoutMs !== undefined) this.timeoutMs = unbound.timeoutMs;
    if (unbound.resources !== undefined) this.resources = unbound.resources;
    if (unbound.placement !== undefined) this.placement = unbound.placement;
    this.#locate = locate;
  }

  get where(): string {
    return this.#locate();
  }
}
