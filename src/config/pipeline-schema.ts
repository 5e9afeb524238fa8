// The JSON Schema of pipeline files: their structure, which `rethink` checks before each plugin's
// params. schema/pipeline.schema.json (`rethink schema`) adds the built-in plugins' params to it for
// editors (editor-schema.ts), committed so they validate with `# yaml-language-server: $schema=…`.

const scalar = { type: ['string', 'number', 'boolean'] } as const;
const interpolation = { type: 'string', pattern: '^\\$\\{[^}]+\\}$' } as const;

/** One of `names`, or a whole number ≥ 1 (`gpu: 2`, `cores: all`). */
function stringOrCount<const T extends readonly string[]>(names: T, description: string) {
  return {
    if: { type: 'string' },
    then: { enum: names, description },
    else: { type: 'integer', minimum: 1, description },
    description,
  } as const;
}

export const STAGE_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*$';
export const INPUT_REF_PATTERN = '^[A-Za-z_][A-Za-z0-9_-]*(\\[[^\\]]*\\])?(\\.[A-Za-z_][A-Za-z0-9_-]*)?$';

export const pipelineSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://rethink.dev/schema/pipeline.schema.json',
  title: 'rethink pipeline',
  description: 'A DAG of cached stages. See README.md, "Pipeline format".',
  type: 'object',
  additionalProperties: false,
  required: ['stages'],
  properties: {
    name: { type: 'string', description: 'Display name; defaults to the file name.' },
    description: { type: 'string' },
    seed: { type: 'integer', minimum: 0, description: 'Default seed of every stage (default 0).' },
    vars: { type: 'object', description: 'Values referenced as ${vars.name} anywhere in stages.' },
    max_instances: {
      type: 'integer',
      minimum: 1,
      description:
        'The most stage instances the pipeline may expand to, in all and per stage, counting matrix combinations before exclude: (default 1000000). A larger sweep is refused before it is expanded.',
    },
    slurm: {
      type: 'object',
      additionalProperties: false,
      description: 'For `rethink run --executor slurm`: where its jobs go. `--slurm-args` adds to `args`.',
      properties: {
        partition: { type: 'string', minLength: 1, description: 'sbatch --partition of every job.' },
        gpu_partition: { type: 'string', minLength: 1, description: 'The partition of stages that need a GPU (default: partition).' },
        account: { type: 'string', minLength: 1, description: 'sbatch --account to charge.' },
        args: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'More sbatch options, one argument each: ["--qos=high", "--constraint=a100"].' },
      },
    },
    stages: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: STAGE_ID_PATTERN },
      additionalProperties: { $ref: '#/definitions/stage' },
    },
  },
  definitions: {
    stage: {
      type: 'object',
      additionalProperties: false,
      required: ['uses'],
      properties: {
        uses: {
          type: 'string',
          minLength: 1,
          description: 'A built-in plugin name (see `rethink plugins`) or a path to a module, relative to this file (./my-plugin.js).',
        },
        description: { type: 'string' },
        with: { type: 'object', description: "The plugin's params, validated by its schema." },
        inputs: {
          type: 'object',
          description:
            'input name → upstream ref: `stage`, `stage.output`, `stage[*]` (fan-in: every instance), `stage[axis=value]` (a selection); or a list of refs.',
          additionalProperties: {
            oneOf: [
              { type: 'string', pattern: INPUT_REF_PATTERN },
              { type: 'array', items: { type: 'string', pattern: INPUT_REF_PATTERN }, minItems: 1 },
            ],
          },
        },
        matrix: {
          type: 'object',
          description: 'Sweep: axis → list of values; one instance per combination.',
          minProperties: 1,
          propertyNames: { pattern: '^(?!include$|exclude$)[A-Za-z_][A-Za-z0-9_]*$' },
          additionalProperties: { oneOf: [{ type: 'array', items: scalar, minItems: 1 }, interpolation] },
        },
        exclude: {
          type: 'array',
          description: 'Matrix combinations to leave out: each entry matches by the axes it names.',
          items: { type: 'object', additionalProperties: scalar },
        },
        seed: { oneOf: [{ type: 'integer', minimum: 0 }, interpolation], description: "The stage's seed; may be ${matrix.seed}." },
        retries: {
          type: 'integer',
          minimum: 0,
          maximum: 20,
          description: 'Attempts after a failed one (default 0, or run --retries N): for flaky downloads and preempted trainings, which resume from their checkpoints. A user error (a bad checksum) is not retried.',
        },
        timeout: {
          oneOf: [
            { type: 'number', exclusiveMinimum: 0 },
            { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(s|m|h)$' },
          ],
          description: 'How long one attempt may run: seconds, or "90s", "30m", "2h". A longer attempt is stopped and fails (and is retried if retries allow).',
        },
        resources: { $ref: '#/definitions/resources' },
        executor: {
          enum: ['local'],
          description: 'local: run this stage in the coordinator even under a distributed executor (--executor slurm or queue): for cheap fan-in stages such as aggregate, figure and report.',
        },
      },
    },
    // Routing, not computing: none of it is in a stage's key. Literal values (no ${…}), like timeout.
    resources: {
      type: 'object',
      additionalProperties: false,
      description: "What one instance needs where it runs, overriding its plugin's defaults (`rethink plugins`). Not part of the key.",
      properties: {
        // if/then rather than oneOf: a misspelt need gets the enum's "did you mean"; each branch
        // repeats the description, which is the hint of an error inside it.
        gpu: stringOrCount(['none', 'preferred', 'required'], 'none (CPU only), preferred (a GPU if the machine has one), required (only GPU workers and partitions), or a number of GPUs ≥ 1 (implies required).'),
        cores: stringOrCount(['all'], 'Cores one instance needs: a whole number ≥ 1, or all (every core of the machine that runs it).'),
        memory: {
          oneOf: [
            { type: 'integer', minimum: 1 },
            // The look-ahead refuses "0G": a size must have a non-zero digit.
            { type: 'string', pattern: '^(?=[0-9.]*[1-9])[0-9]+(\\.[0-9]+)?[KMGTkmgt]$' },
          ],
          description: 'Memory one instance needs: MiB, or "512M", "16G", "1.5T" (1G = 1024M, as Slurm reads them).',
        },
        time: {
          oneOf: [
            { type: 'number', exclusiveMinimum: 0 },
            { type: 'string', pattern: '^(?=[0-9.]*[1-9])[0-9]+(\\.[0-9]+)?(s|m|h)$' },
          ],
          description: 'Wall time one attempt may take on a cluster (sbatch -t): seconds, or "90m", "2h".',
        },
      },
    },
  },
} as const;
