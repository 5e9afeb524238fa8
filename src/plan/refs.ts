// Input references: `stage`, `stage.output`, `stage[*]`, `stage[axis=value,…]`, `stage[*].output`.

export interface InputRef {
  readonly stage: string;
  readonly output?: string;
  /** `all`: fan-in; `match`: the instances agreeing on shared axes (plus `where`). */
  readonly select: 'all' | 'match';
  readonly where: Readonly<Record<string, string>>;
}

const REF = /^([A-Za-z_][A-Za-z0-9_-]*)(?:\[([^\]]*)\])?(?:\.([A-Za-z_][A-Za-z0-9_-]*))?$/;

export function parseRef(text: string): InputRef | string {
  const m = REF.exec(text.trim());
  if (!m) return `"${text}" is not an input reference`;
  const [, stage, sel, output] = m;
  const where: Record<string, string> = {};
  let select: InputRef['select'] = 'match';
  if (sel !== undefined) {
    if (sel.trim() === '*') select = 'all';
    else {
      for (const part of sel.split(',')) {
        const eq = part.indexOf('=');
        if (eq <= 0) return `"${text}": selector "${part}" is not axis=value (or use [*])`;
        where[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
      }
      select = 'all';
    }
  }
  return { stage: stage!, ...(output === undefined ? {} : { output }), select, where };
}
