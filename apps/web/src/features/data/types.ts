export interface FieldDef {
  name: string;
  type: 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime' | 'json' | 'array' | 'enum' | 'relation';
  required?: boolean;
  unique?: boolean;
  values?: string[];
  target?: string;
  kind?: 'many-to-one' | 'one-to-one';
  onDelete?: 'cascade' | 'set null' | 'restrict';
  items?: string;
}

export interface Model {
  name: string;
  label: string;
  description: string;
  fields: FieldDef[];
  version: number;
  embedding: EmbeddingSettings | null;
}

export interface EmbeddingSettings {
  enabled: boolean;
  sourceFields?: string[];
  provider: 'openai' | 'openai-compatible' | 'local';
  model?: string;
  dimensions?: number;
  secretId?: string | null;
}

export type RecordRow = Record<string, unknown> & { id: string };

export const FIELD_TYPES: FieldDef['type'][] = ['string', 'text', 'integer', 'number', 'boolean', 'date', 'datetime', 'json', 'enum', 'relation'];
