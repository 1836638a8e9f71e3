export type Provider = 'openai' | 'anthropic' | 'google' | 'openai-compatible';

export type AgentTool =
  | { kind: 'flow'; ref: string; name?: string; description?: string }
  | { kind: 'action'; ref: string; name?: string; description?: string }
  | { kind: 'search'; model: string; k?: number; mode?: 'vector' | 'keyword' | 'hybrid'; name?: string; description?: string }
  | { kind: 'http'; ref?: string; name?: string; description?: string };

export interface Agent {
  id: string;
  name: string;
  description: string;
  provider: Provider;
  model: string;
  secretId: string;
  system: string;
  personality: { empathy: number; confidence: number; style: string };
  memory: 'session' | 'long_term';
  memoryTokens: number;
  tools: AgentTool[];
  maxSteps: number;
  temperature: number | null;
  status: 'active' | 'paused';
}

export type AgentDraft = Omit<Agent, 'id'>;
