/** Agent shapes come from the shared contracts (what GET /api/v1/agents answers). */
import type { Agent } from '@infinity/contracts';

export type { Agent, AgentProvider as Provider, AgentTool } from '@infinity/contracts';

/** What the builder edits: the fields POST and PATCH take. */
export type AgentDraft = Pick<
  Agent,
  | 'name'
  | 'description'
  | 'provider'
  | 'model'
  | 'secretId'
  | 'system'
  | 'personality'
  | 'memory'
  | 'memoryTokens'
  | 'tools'
  | 'maxSteps'
  | 'temperature'
  | 'status'
>;
