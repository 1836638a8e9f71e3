/** Data models and agents as they cross HTTP (SPEC §4, §5, §13). The server's DTOs are checked against these. */

export type FieldType = 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'json' | 'array' | 'enum' | 'relation';

/** One field of a model (the server validates the full option set per type). */
export interface ModelField {
  name: string;
  /** What a person called it ("First Name" for first_name); absent when it is the name. */
  label?: string;
  type: FieldType;
  required?: boolean;
  unique?: boolean;
  /** enum */
  values?: string[];
  /** array: the item type */
  items?: string;
  /** relation */
  target?: string;
  kind?: 'many-to-one' | 'one-to-one';
  onDelete?: 'cascade' | 'set null' | 'restrict';
}

export interface EmbeddingSettings {
  enabled: boolean;
  sourceFields?: string[];
  provider: 'openai' | 'openai-compatible' | 'local';
  model?: string;
  dimensions?: number;
  secretId?: string | null;
}

export interface Model {
  id: string;
  name: string;
  label: string;
  description: string;
  fields: ModelField[];
  inverse: { name: string; model: string; field: string; kind: 'one-to-many' | 'one-to-one' }[];
  embedding: EmbeddingSettings | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type AgentProvider = 'openai' | 'anthropic' | 'google' | 'openai-compatible';

export type AgentTool =
  | { kind: 'flow'; ref: string; name?: string; description?: string }
  | { kind: 'action'; ref: string; name?: string; description?: string }
  | { kind: 'search'; model: string; k?: number; mode?: 'vector' | 'keyword' | 'hybrid'; name?: string; description?: string }
  | { kind: 'http'; ref?: string; name?: string; description?: string }
  /** The tools of an external MCP server (Streamable HTTP); `name` prefixes their names, `tools` allow-lists them. */
  | { kind: 'mcp'; url: string; secretId?: string; tools?: string[]; name?: string };

export interface Agent {
  id: string;
  name: string;
  description: string;
  provider: AgentProvider;
  model: string;
  secretId: string;
  system: string;
  personality: { empathy: number; confidence: number; style: string };
  /** Stored for clients that speak the replies: { enabled, voice?, language?, rate? }. */
  voice: Record<string, unknown> | null;
  memory: 'session' | 'long_term';
  memoryTokens: number;
  tools: AgentTool[];
  maxSteps: number;
  temperature: number | null;
  status: 'active' | 'paused';
  slug: string | null;
  createdBy: string | null;
  /** Raised by every change; the ETag, sent back as If-Match. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What deleting records would do (GET /data/{model}/{id}/delete-impact, POST /data/{model}/delete-impact), shared by server and web. */
export interface DeleteImpact {
  model: string;
  /** Asked records that exist (and would be deleted). */
  records: number;
  /** Asked ids with no record (a bulk delete with them is refused). */
  missing: string[];
  removed: { model: string; relation: string; count: number }[];
  setNull: { model: string; relation: string; count: number }[];
  restrict: { model: string; relation: string; count: number }[];
  /** A restrict reference holds: the delete would be refused with RECORD_DELETE_RESTRICTED. */
  blocked: boolean;
  /** The walk stopped at LIMIT records: the counts are lower bounds. */
  truncated: boolean;
}
