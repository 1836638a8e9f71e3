import { z } from 'zod';

const toolName = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/, 'letters, digits, _ and -, starting with a letter')
  .optional();
const toolDescription = z.string().max(2000).optional();

export const toolSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('flow'),
    ref: z.uuid().describe('flow id; its core.input node defines the tool’s parameters'),
    name: toolName,
    description: toolDescription,
  }),
  z.strictObject({
    kind: z.literal('action'),
    ref: z.uuid().describe('action id; the model supplies the remaining parameters'),
    name: toolName,
    description: toolDescription,
  }),
  z.strictObject({
    kind: z.literal('search'),
    model: z.string().min(1).max(63),
    k: z.number().int().min(1).max(50).default(5),
    mode: z.enum(['vector', 'keyword', 'hybrid']).default('hybrid'),
    name: toolName,
    description: toolDescription,
  }),
  z.strictObject({
    kind: z.literal('http'),
    ref: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .describe('only URLs under this base are allowed'),
    name: toolName,
    description: toolDescription,
  }),
  z.strictObject({
    kind: z.literal('mcp'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .describe('the Streamable HTTP endpoint of an MCP server (reached through the outbound guard: private addresses need INFINITY_HTTP_ALLOW)'),
    secretId: z.uuid().optional().describe('a vault secret sent as "Authorization: Bearer <value>" (only to a host the secret allows)'),
    tools: z.array(z.string().min(1).max(128)).max(100).optional().describe('only these tools of the server (by their names there); absent = all of them'),
    name: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,31}$/, 'letters, digits, _ and -, starting with a letter')
      .optional()
      .describe('a prefix for the tools’ names as the model sees them ("crm" → crm_search)'),
  }),
]);
export type AgentTool = z.output<typeof toolSchema>;

export const personalitySchema = z.strictObject({
  empathy: z.number().min(0).max(1).default(0.5),
  confidence: z.number().min(0).max(1).default(0.5),
  style: z.string().trim().max(200).default('neutral'),
});

export const voiceSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    voice: z.string().max(100).optional(),
    language: z.string().max(20).optional(),
    rate: z.number().min(0.25).max(4).optional(),
  })
  .describe('Stored for clients that speak the replies (the server does not synthesize audio)');

const base = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  provider: z.enum(['openai', 'anthropic', 'google', 'openai-compatible']),
  model: z.string().trim().min(1).max(200),
  secretId: z.uuid(),
  system: z.string().max(100_000),
  personality: personalitySchema,
  voice: voiceSchema.nullable(),
  memory: z.enum(['session', 'long_term']),
  memoryTokens: z.number().int().min(200).max(200_000).describe('token budget of the conversation history sent with each message'),
  tools: z.array(toolSchema).max(32),
  maxSteps: z.number().int().min(1).max(20).describe('model ↔ tool round trips per message'),
  temperature: z.number().min(0).max(2).nullable(),
  status: z.enum(['active', 'paused']),
};

export const agentCreateSchema = z.strictObject({
  ...base,
  description: base.description.default(''),
  system: base.system.default(''),
  personality: personalitySchema.default({ empathy: 0.5, confidence: 0.5, style: 'neutral' }),
  voice: base.voice.default(null),
  memory: base.memory.default('session'),
  memoryTokens: base.memoryTokens.default(4000),
  tools: base.tools.default([]),
  maxSteps: base.maxSteps.default(5),
  temperature: base.temperature.default(null),
  status: base.status.default('active'),
});
export type AgentCreate = z.output<typeof agentCreateSchema>;

export const agentPatchSchema = z
  .strictObject(Object.fromEntries(Object.entries(base).map(([k, v]) => [k, v.optional()])) as { [K in keyof typeof base]: z.ZodOptional<(typeof base)[K]> })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'give at least one change');
export type AgentPatch = z.output<typeof agentPatchSchema>;

export const publishAgentSchema = z.strictObject({
  slug: z
    .string()
    .min(3)
    .max(80)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
});
