// The command stage's `with:` and the `outputs:` its stage declares (the planner copies them in).
// Every default is filled in by the schema and so belongs to the cache key.
import type { ArtifactKind, JsonSchema } from '../../src/plugin/types.js';

export interface CommandParams {
  /** The command, with `${inputs.…}` / `${outputs.…}` still to fill in. */
  readonly run: string;
  readonly env: Readonly<Record<string, string>>;
  /** Files (and globs) relative to the pipeline's folder whose content joins the key. */
  readonly files: readonly string[];
  /** A command whose output (a tool's version) joins the key. */
  readonly version_cmd: string | null;
  /** false: the words run as argv, no shell; otherwise the shell that runs the text. */
  readonly shell: false | 'bash' | 'sh';
  /** The stage's `outputs:`, name → kind. */
  readonly outputs: Readonly<Record<string, ArtifactKind>>;
}

export const commandParamsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['run'],
  properties: {
    run: {
      type: 'string',
      minLength: 1,
      description: 'The command: `python3 bench.py --data ${inputs.data} --out ${outputs.metrics}`. Values spliced in stay one argument each.',
    },
    env: {
      type: 'object',
      additionalProperties: { type: 'string' },
      default: {},
      description: 'Environment variables the command gets, besides PATH, HOME, LANG, TMPDIR and RETHINK_*; they are in the key.',
    },
    files: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'Files, folders or globs (relative to the pipeline file) whose content joins the key: the script and what it imports.',
    },
    version_cmd: {
      type: ['string', 'null'],
      minLength: 1,
      default: null,
      description: 'A command whose output joins the key, e.g. `python3 --version`.',
    },
    shell: {
      enum: [false, 'bash', 'sh'],
      default: false,
      description: 'false (default): run the words as argv, no shell; bash or sh: run the text with that shell (-e, and pipefail with bash).',
    },
    outputs: {
      type: 'object',
      additionalProperties: { enum: ['json', 'tensors', 'file'] },
      description: "Filled in from the stage's outputs: (declare them there).",
    },
  },
};
