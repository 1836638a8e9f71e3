import type { INodeProperties } from 'n8n-workflow';

export const flowOperations: INodeProperties[] = [
  {
    displayName: 'Operation',
    name: 'operation',
    type: 'options',
    noDataExpression: true,
    displayOptions: { show: { resource: ['flow'] } },
    options: [{ name: 'Run', value: 'run', description: 'Run a flow and wait for its output', action: 'Run a flow' }],
    default: 'run',
  },
];

export const flowFields: INodeProperties[] = [
  {
    displayName: 'Flow',
    name: 'flow',
    type: 'resourceLocator',
    default: { mode: 'list', value: '' },
    required: true,
    description: 'The flow to run',
    modes: [{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'searchFlows', searchable: true } }],
    displayOptions: { show: { resource: ['flow'] } },
  },
  {
    displayName: 'Input',
    name: 'input',
    type: 'json',
    default: '{}',
    description: 'The input of the run, as JSON (the flow reads it as $input)',
    displayOptions: { show: { resource: ['flow'] } },
  },
];
