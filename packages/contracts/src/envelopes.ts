import { z } from 'zod';

/** The one error body every failing response carries. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable SCREAMING_SNAKE code, see docs/errors.md'),
    message: z.string().describe('Human sentence saying what is wrong and, where possible, how to fix it'),
    details: z.unknown().optional(),
    requestId: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** One problem with one input field (validation details use this shape). */
export const fieldIssueSchema = z.object({
  field: z.string(),
  code: z.string(),
  message: z.string(),
});
export type FieldIssue = z.infer<typeof fieldIssueSchema>;

export const listMetaSchema = z.object({
  total: z.number().int().nullable(),
  limit: z.number().int(),
  offset: z.number().int(),
  nextCursor: z.string().nullable(),
});

export function dataEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ data: item });
}

export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), meta: listMetaSchema });
}
