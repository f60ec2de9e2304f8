import { UnprocessableEntityException } from '@nestjs/common';
import { z } from 'zod';

/** One problem with the request, in FastAPI's 422 shape: where, why, and a code. */
export interface FieldProblem {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

/** 422 `{"detail": [{loc, msg, type}, ...]}`: every problem, each naming its field. */
export class FieldsInvalid extends UnprocessableEntityException {
  constructor(problems: FieldProblem[]) {
    super({ detail: problems });
  }
}

function problemsOf(err: z.ZodError, root: string): FieldProblem[] {
  return err.issues.flatMap((i): FieldProblem[] =>
    i.code === z.ZodIssueCode.unrecognized_keys
      ? i.keys.map((k) => ({ loc: [root, ...i.path, k], msg: 'unknown field', type: 'unknown_field' }))
      : [{ loc: [root, ...i.path], msg: i.message, type: i.code }],
  );
}

export function parseOr422<S extends z.ZodTypeAny>(schema: S, value: unknown, root: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new FieldsInvalid(problemsOf(r.error, root));
  return r.data;
}
