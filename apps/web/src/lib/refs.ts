import type { Model } from '@infinity/contracts';
import { useQuery } from '@tanstack/react-query';
import { api } from './api';

/** A choice in a picker: the id (or name) sent to the API, and what people read. */
export interface Option {
  value: string;
  label: string;
}
export interface SecretInfo {
  id: string;
  name: string;
  provider: string;
}

/**
 * The organization's models, secrets, flows, agents and actions as the screens' pickers need them,
 * one cached query each (shared by the flow editor, agent and action builders, the model pages and
 * the command palette).
 */
export const useModels = (enabled = true) =>
  useQuery({ queryKey: ['models'], enabled, queryFn: () => api<{ data: Model[] }>('GET', '/models').then((r) => r.data) });

/** Vault secrets by name and provider (never values); editors and up may list them. */
export const useSecrets = (enabled = true) =>
  useQuery({
    queryKey: ['refs', 'secrets'],
    enabled,
    retry: false,
    queryFn: () => api<{ data: SecretInfo[] }>('GET', '/secrets?limit=200').then((r) => r.data),
  });

const useNamed = (kind: 'flows' | 'agents' | 'actions', enabled: boolean) =>
  useQuery({
    queryKey: ['refs', kind],
    enabled,
    retry: false,
    queryFn: () =>
      api<{ data: { id: string; name: string }[] }>('GET', `/${kind}?limit=200`).then((r) => r.data.map((x): Option => ({ value: x.id, label: x.name }))),
  });
export const useFlowOptions = (enabled = true) => useNamed('flows', enabled);
export const useAgentOptions = (enabled = true) => useNamed('agents', enabled);
export const useActionOptions = (enabled = true) => useNamed('actions', enabled);

export const modelOptions = (models: Model[] | undefined): Option[] => (models ?? []).map((m) => ({ value: m.name, label: m.label || m.name }));
